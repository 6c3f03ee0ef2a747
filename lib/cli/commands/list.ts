import {type Command, flag, stringOption} from '../command.js';
import {CliError} from '../cli-error.js';
import type {EntryRow} from '../entries.js';
import {FILTER_OPTIONS, parseFilter, walkMatching} from '../filters.js';
import {formatBytes, formatTime, isoTime, jsonText} from '../format.js';
import {formatTable} from '../table.js';

const sorts: Readonly<Record<string, (a: EntryRow, b: EntryRow) => number>> = {
	created: (a, b) => a.createdAt - b.createdAt,
	url: (a, b) => a.requestUrl.localeCompare(b.requestUrl) || a.method.localeCompare(b.method),
	size: (a, b) => a.size - b.size,
	expires: (a, b) => (a.expires ?? Infinity) - (b.expires ?? Infinity),
	status: (a, b) => a.status - b.status,
};

/** A row for `--json`: its fields in their order, ISO times, `state`, and `variant` only when there is one. */
export function jsonRow({stale, variant, ...row}: EntryRow): Record<string, unknown> {
	return {
		...row,
		createdAt: isoTime(row.createdAt),
		expires: isoTime(row.expires),
		state: stale ? 'stale' : 'fresh',
		...(variant === '' ? {} : {variant}),
	};
}

/** The URL cell: the requested URL, where it led when it was redirected, and which Vary variant it is. */
function urlCell(row: EntryRow): string {
	const url = row.requestUrl === row.url ? row.url : `${row.requestUrl} -> ${row.url}`;
	return row.variant === '' ? url : `${url} [${row.variant}]`;
}

/** `requests-cache list`: the stored responses as a table or JSON. */
export const listCommand: Command = {
	name: 'list',
	summary: 'list stored responses: method, status, size, created, expires, fresh/stale, key, URL',
	usage: '<cache>',
	description: 'List the stored responses (redirect aliases and Vary indexes are counted by `stats`, not listed), oldest first. '
		+ 'A redirected response shows `requested URL -> final URL`, a Vary variant the request header values it was stored for, `[accept-language=fr]`. '
		+ 'Sizes are body bytes. Times are UTC.',
	options: {
		...FILTER_OPTIONS,
		sort: {type: 'string', placeholder: '<field>', description: 'created (default), url, size, expires or status'},
		limit: {type: 'string', placeholder: '<n>', description: 'show the first n after sorting'},
		json: {type: 'boolean', description: 'a JSON array of entries (sizes in bytes, ISO times)'},
	},
	arguments: {min: 0, max: 0},
	examples: [
		'requests-cache list ./http_cache.sqlite',
		'requests-cache list ./http_cache.sqlite --url \'api.example.com/v1/*\' --status 4xx,5xx',
		'requests-cache list \'redis://127.0.0.1:6379/0?cacheName=api_cache\' --stale --json',
	],
	async run({values, opened, now, output}) {
		const filter = parseFilter(values);
		const sortName = stringOption(values, 'sort') ?? 'created';
		const sort = Object.hasOwn(sorts, sortName) ? sorts[sortName] : undefined;
		if (sort === undefined) {
			throw new CliError(`--sort must be one of ${Object.keys(sorts).join(', ')}, got ${JSON.stringify(sortName)}`);
		}

		const limit = stringOption(values, 'limit');
		if (limit !== undefined && (!/^\d+$/.test(limit) || Number(limit) < 1)) {
			throw new CliError(`--limit must be a whole number >= 1, got ${JSON.stringify(limit)}`);
		}

		const rows: EntryRow[] = [];
		await walkMatching(opened.store, filter, now, row => rows.push(row));
		const shown = rows.sort((a, b) => sort(a, b) || a.key.localeCompare(b.key)).slice(0, limit === undefined ? Infinity : Number(limit));
		if (flag(values, 'json')) {
			output.write(jsonText(shown.map(row => jsonRow(row))));
		} else if (shown.length === 0) {
			output.note(`no stored responses${Object.keys(filter).length > 0 ? ' match' : ''} in ${opened.description}`);
		} else {
			output.write(formatTable(
				[{title: 'METHOD'}, {title: 'STATUS', align: 'right'}, {title: 'SIZE', align: 'right'}, {title: 'CREATED'}, {title: 'EXPIRES'}, {title: 'STATE'}, {title: 'KEY'}, {title: 'URL'}],
				shown.map(row => [row.method, String(row.status), formatBytes(row.size), formatTime(row.createdAt), formatTime(row.expires), row.stale ? 'stale' : 'fresh', row.key, urlCell(row)]),
			));
		}

		return 0;
	},
};
