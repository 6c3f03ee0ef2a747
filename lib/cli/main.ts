import {parseArgs} from 'node:util';
import {BackendError} from '../errors.js';
import {CliError, reasonOf} from './cli-error.js';
import {type Command, type OptionSpec, type OptionValues, type Output, stringOption} from './command.js';
import {clearExpiredCommand} from './commands/clear-expired.js';
import {deleteCommand} from './commands/delete.js';
import {exportHarCommand} from './commands/export-har.js';
import {listCommand} from './commands/list.js';
import {showCommand} from './commands/show.js';
import {statsCommand} from './commands/stats.js';
import {GLOBAL_OPTIONS, commandHelp, generalHelp} from './help.js';
import {type OpenedCache, openCache, parseTarget} from './open-cache.js';
import {packageVersion} from './version.js';

/** The inspector's commands, in the order help lists them. */
export const COMMANDS: readonly Command[] = Object.freeze([listCommand, showCommand, statsCommand, deleteCommand, clearExpiredCommand, exportHarCommand]);

type ParseOptions = Record<string, {type: 'string' | 'boolean'; short?: string; multiple?: boolean}>;

function parseOptions(options: Readonly<Record<string, OptionSpec>>): ParseOptions {
	return Object.fromEntries(Object.entries(options).map(([name, spec]) => [name, {
		type: spec.type,
		...(spec.short === undefined ? {} : {short: spec.short}),
		...(spec.multiple === true ? {multiple: true} : {}),
	}]));
}

/** Edit distance, for "did you mean": a typo is one or two edits away. */
function distance(a: string, b: string): number {
	let previous = Array.from({length: b.length + 1}, (_, index) => index);
	for (let i = 1; i <= a.length; i++) {
		const current = [i];
		for (let j = 1; j <= b.length; j++) {
			current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
		}

		previous = current;
	}

	return previous[b.length]!;
}

function closest(name: string): string | undefined {
	const candidates = COMMANDS.map(command => ({name: command.name, distance: distance(name.toLowerCase(), command.name)})).sort((a, b) => a.distance - b.distance);
	return candidates[0] !== undefined && candidates[0].distance <= 2 ? candidates[0].name : undefined;
}

function parseTimeout(values: OptionValues): number {
	const text = stringOption(values, 'timeout');
	if (text === undefined) {
		return 5000;
	}

	const timeout = Number(text);
	if (!/^\d+$/.test(text) || timeout < 1 || timeout > 600_000) {
		throw new CliError(`--timeout must be a whole number of milliseconds from 1 to 600000, got ${JSON.stringify(text)}`);
	}

	return timeout;
}

/** The command line after the command name, checked against what the command takes. */
function parseCommandLine(command: Command, argv: readonly string[]): {values: OptionValues; positionals: string[]} {
	try {
		const {values, positionals} = parseArgs({
			args: [...argv],
			options: parseOptions({...command.options, ...GLOBAL_OPTIONS}),
			allowPositionals: true,
			strict: true,
		});
		return {values: values as OptionValues, positionals};
	} catch (error) {
		// parseArgs' messages name the option; the hint says where to look.
		const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
		throw new CliError(`${command.name}: ${message} (see requests-cache ${command.name} --help)`);
	}
}

/** Run a command on its open cache, turning store failures into one line that names the cache. */
async function runOn(command: Command, values: OptionValues, args: string[], opened: OpenedCache, output: Output): Promise<number> {
	try {
		return await command.run({values, args, opened, now: Date.now(), output});
	} catch (error) {
		if (error instanceof CliError) {
			throw error;
		}

		const failure = error instanceof BackendError && error.cause !== undefined ? error.cause : error;
		throw new CliError(`${command.name} failed on ${opened.description}: ${reasonOf(failure)}`);
	}
}

/**
 * Run the inspector with a command line (without `node` and the script) and return the exit
 * code: 0 done, 1 nothing found (`show`), 2 an error, reported as one line on stderr.
 */
export async function main(argv: readonly string[], output: Output): Promise<number> {
	try {
		const [name, ...rest] = argv;
		if (name === undefined) {
			output.note(generalHelp(COMMANDS));
			return 2;
		}

		if (name === '--help' || name === '-h') {
			output.write(generalHelp(COMMANDS));
			return 0;
		}

		if (name === '--version' || name === '-v') {
			output.write(`${packageVersion()}\n`);
			return 0;
		}

		if (name === 'help') {
			const topic = COMMANDS.find(command => command.name === rest[0]);
			if (rest[0] !== undefined && topic === undefined) {
				throw new CliError(`unknown command ${JSON.stringify(rest[0])}; the commands are ${COMMANDS.map(command => command.name).join(', ')}`);
			}

			output.write(topic === undefined ? generalHelp(COMMANDS) : commandHelp(topic));
			return 0;
		}

		const command = COMMANDS.find(candidate => candidate.name === name);
		if (command === undefined) {
			const hint = closest(name);
			throw new CliError(`unknown command ${JSON.stringify(name)}${hint === undefined ? '' : ` (did you mean ${hint}?)`}; the commands are ${COMMANDS.map(item => item.name).join(', ')} (see requests-cache --help)`);
		}

		const {values, positionals} = parseCommandLine(command, rest);
		if (values['help'] === true) {
			output.write(commandHelp(command));
			return 0;
		}

		const [cacheArgument, ...args] = positionals;
		if (cacheArgument === undefined || cacheArgument === '') {
			throw new CliError(`${command.name}: missing the cache: requests-cache ${command.name} ${command.usage} (a SQLite file or a redis:// or mongodb:// URL)`);
		}

		if (args.length < command.arguments.min || args.length > command.arguments.max) {
			const extra = args.length > command.arguments.max ? `unexpected argument ${JSON.stringify(args[command.arguments.max])}` : 'missing an argument';
			throw new CliError(`${command.name}: ${extra}: requests-cache ${command.name} ${command.usage}`);
		}

		const timeout = parseTimeout(values);
		const target = parseTarget(cacheArgument, stringOption(values, 'cache-name'));
		const opened = await openCache(target, timeout, command.writes !== true);
		try {
			return await runOn(command, values, args, opened, output);
		} finally {
			await opened.close().catch(() => undefined);
		}
	} catch (error) {
		if (error instanceof CliError) {
			output.note(`requests-cache: ${error.message}\n`);
			return error.exitCode;
		}

		// Never a stack trace: the one line a user can act on.
		output.note(`requests-cache: ${reasonOf(error)}\n`);
		return 2;
	}
}
