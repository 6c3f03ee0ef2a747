import type {Command, OptionSpec} from './command.js';

/** Options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
	'cache-name': {type: 'string', placeholder: '<name>', description: 'the cache name on a redis:// or mongodb:// server (default: ?cacheName= in the URL, else http_cache)'},
	timeout: {type: 'string', placeholder: '<ms>', description: 'how long to wait for a server, in milliseconds (default 5000)'},
	help: {type: 'boolean', short: 'h', description: 'show this help'},
});

const cacheArgument = `<cache> is a SQLite file (./http_cache.sqlite) or a server URL:
  redis://127.0.0.1:6379/0?cacheName=http_cache, mongodb://127.0.0.1:27017/?cacheName=http_cache`;

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
	const rows = Object.entries(options).map(([name, spec]) => {
		const left = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${spec.placeholder === undefined ? '' : ` ${spec.placeholder}`}`;
		return [left, spec.description + (spec.multiple === true ? ' (repeatable)' : '')] as const;
	});
	const width = Math.max(...rows.map(([left]) => left.length));
	return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

/** Break a paragraph into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string {
	const lines: string[] = [];
	let line = '';
	for (const word of text.split(' ')) {
		if (line !== '' && line.length + 1 + word.length > width) {
			lines.push(line);
			line = word;
		} else {
			line = line === '' ? word : `${line} ${word}`;
		}
	}

	return [...lines, line].join('\n');
}

/** `requests-cache <command> --help`. */
export function commandHelp(command: Command): string {
	return [
		`Usage: requests-cache ${command.name} ${command.usage} [options]`,
		'',
		wrap(command.description, 100),
		'',
		cacheArgument,
		'',
		'Options:',
		...optionLines({...command.options, ...GLOBAL_OPTIONS}),
		'',
		'Examples:',
		...command.examples.map(example => `  ${example}`),
		'',
	].join('\n');
}

/** `requests-cache --help`. */
export function generalHelp(commands: readonly Command[]): string {
	const width = Math.max(...commands.map(command => command.name.length));
	return [
		'Usage: requests-cache <command> <cache> [arguments] [options]',
		'',
		'Inspect and maintain a requests-cache cache.',
		'',
		'Commands:',
		...commands.map(command => `  ${command.name.padEnd(width)}  ${command.summary}`),
		'',
		cacheArgument,
		'',
		'Run `requests-cache <command> --help` for a command\'s options.',
		'Exit codes: 0 done, 1 nothing found (show), 2 error (bad command line, cache cannot be opened or reached).',
		'',
	].join('\n');
}
