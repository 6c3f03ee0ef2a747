import type {OpenedCache} from './open-cache.js';

/** Where a command writes: stdout for results, stderr for notes. */
export type Output = {
	/** Results (tables, JSON, bodies). */
	write(text: string | Uint8Array): void;
	/** Notes and warnings, never part of the results. */
	note(text: string): void;
};

/** One option of a command, as `parseArgs` takes it, with its help line. */
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

/** What a command runs with: its parsed options, its arguments after the cache, the open cache. */
export type CommandContext = {
	readonly values: OptionValues;
	/** The positional arguments after the cache argument. */
	readonly args: readonly string[];
	readonly opened: OpenedCache;
	/** The time the command started, ms since the epoch: fresh and stale are decided against it. */
	readonly now: number;
	readonly output: Output;
};

/** A subcommand of the inspector. */
export type Command = {
	readonly name: string;
	/** One line for the command list. */
	readonly summary: string;
	/** The arguments after the command name, for help: `<cache> <key|url>`. */
	readonly usage: string;
	/** A paragraph for `<command> --help`. */
	readonly description: string;
	readonly options: Readonly<Record<string, OptionSpec>>;
	/** How many arguments come after the cache. */
	readonly arguments: {readonly min: number; readonly max: number};
	/** True for a command that changes the cache; every other one opens it read-only. */
	readonly writes?: boolean;
	readonly examples: readonly string[];
	/** Returns the exit code: 0, or 1 when nothing was found. */
	run(context: CommandContext): Promise<number>;
};

/** A string option's value (the last one when repeated). */
export function stringOption(values: OptionValues, name: string): string | undefined {
	const value = values[name];
	if (Array.isArray(value)) {
		const last = value.at(-1);
		return typeof last === 'string' ? last : undefined;
	}

	return typeof value === 'string' ? value : undefined;
}

/** A repeatable string option's values. */
export function stringsOption(values: OptionValues, name: string): string[] | undefined {
	const value = values[name];
	if (value === undefined) {
		return undefined;
	}

	return (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string');
}

/** A boolean option's value. */
export function flag(values: OptionValues, name: string): boolean {
	return values[name] === true;
}
