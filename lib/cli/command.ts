import type {OpenedCache} from './open-cache.js';

/** Where a command writes: results (tables, JSON, bodies) to `write`, notes and warnings to `note`. */
export type Output = {
	write(text: string | Uint8Array): void;
	note(text: string): void;
};

/** One option of a command: what `parseArgs` takes, with its help line. */
export type OptionSpec = {
	readonly type: 'string' | 'boolean';
	readonly short?: string;
	readonly multiple?: boolean;
	/** The value's name in help (`<glob>`). */
	readonly placeholder?: string;
	readonly description: string;
};

/** Option values as `parseArgs` gives them. */
export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** What a command runs with; fresh and stale are decided against `now`, when the command started. */
export type CommandContext = {
	readonly values: OptionValues;
	/** The positional arguments after the cache argument. */
	readonly args: readonly string[];
	readonly opened: OpenedCache;
	readonly now: number;
	readonly output: Output;
};

/** A subcommand of the inspector; `run` returns the exit code: 0, or 1 when nothing was found. */
export type Command = {
	readonly name: string;
	readonly summary: string;
	/** The arguments after the command name, for help: `<cache> <key|url>`. */
	readonly usage: string;
	readonly description: string;
	readonly options: Readonly<Record<string, OptionSpec>>;
	/** How many arguments come after the cache. */
	readonly arguments: {readonly min: number; readonly max: number};
	/** True for a command that changes the cache; every other one opens it read-only. */
	readonly writes?: boolean;
	readonly examples: readonly string[];
	run(context: CommandContext): Promise<number>;
};

/** A string option's value (`parseArgs` keeps the last of repeated ones). */
export function stringOption(values: OptionValues, name: string): string | undefined {
	return values[name] as string | undefined;
}

/** A repeatable string option's values. */
export function stringsOption(values: OptionValues, name: string): string[] | undefined {
	return values[name] as string[] | undefined;
}

/** A boolean option's value. */
export function flag(values: OptionValues, name: string): boolean {
	return values[name] === true;
}
