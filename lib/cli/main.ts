import {parseArgs} from 'node:util';
import {BackendError} from '../errors.js';
import {CliError, reasonOf} from './cli-error.js';
import {type Command, type OptionValues, type Output, stringOption} from './command.js';
import {clearExpiredCommand} from './commands/clear-expired.js';
import {deleteCommand} from './commands/delete.js';
import {exportHarCommand} from './commands/export-har.js';
import {listCommand} from './commands/list.js';
import {showCommand} from './commands/show.js';
import {statsCommand} from './commands/stats.js';
import {GLOBAL_OPTIONS, commandHelp, generalHelp} from './help.js';
import {openCache, parseTarget} from './open-cache.js';
import {packageVersion} from './version.js';

/** The inspector's commands, in the order help lists them. */
const COMMANDS: readonly Command[] = Object.freeze([listCommand, showCommand, statsCommand, deleteCommand, clearExpiredCommand, exportHarCommand]);
const names = COMMANDS.map(command => command.name).join(', ');

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

function parseTimeout(values: OptionValues): number {
	const text = stringOption(values, 'timeout') ?? '5000';
	if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 600_000) {
		throw new CliError(`--timeout must be a whole number of milliseconds from 1 to 600000, got ${JSON.stringify(text)}`);
	}

	return Number(text);
}

/** The command line after the command name, checked against what the command takes. */
function parseCommandLine(command: Command, argv: readonly string[]): {values: OptionValues; positionals: string[]} {
	try {
		// parseArgs ignores the help fields of an OptionSpec.
		const {values, positionals} = parseArgs({args: [...argv], options: {...command.options, ...GLOBAL_OPTIONS}, allowPositionals: true, strict: true});
		return {values: values as OptionValues, positionals};
	} catch (error) {
		// parseArgs' messages name the option; the hint says where to look.
		const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
		throw new CliError(`${command.name}: ${message} (see requests-cache ${command.name} --help)`);
	}
}

/** Run the inspector on a command line (without `node` and the script); returns the exit code, as docs/cli.md lists them. */
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
				throw new CliError(`unknown command ${JSON.stringify(rest[0])}; the commands are ${names}`);
			}

			output.write(topic === undefined ? generalHelp(COMMANDS) : commandHelp(topic));
			return 0;
		}

		const command = COMMANDS.find(candidate => candidate.name === name);
		if (command === undefined) {
			const [hint] = COMMANDS.map(({name: known}) => ({known, edits: distance(name.toLowerCase(), known)})).filter(({edits}) => edits <= 2).sort((a, b) => a.edits - b.edits);
			throw new CliError(`unknown command ${JSON.stringify(name)}${hint === undefined ? '' : ` (did you mean ${hint.known}?)`}; the commands are ${names} (see requests-cache --help)`);
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
		const opened = await openCache(parseTarget(cacheArgument, stringOption(values, 'cache-name')), timeout, command.writes !== true);
		try {
			return await command.run({values, args, opened, now: Date.now(), output});
		} catch (error) {
			// A store failure names the cache; a BackendError's cause says why.
			throw error instanceof CliError ? error : new CliError(`${command.name} failed on ${opened.description}: ${reasonOf(error instanceof BackendError && error.cause !== undefined ? error.cause : error)}`);
		} finally {
			await opened.close().catch(() => undefined);
		}
	} catch (error) {
		// Never a stack trace: the one line a user can act on.
		output.note(`requests-cache: ${error instanceof CliError ? error.message : reasonOf(error)}\n`);
		return 2;
	}
}
