import type {CacheStore} from '../backends/store.js';
import {compileUrlPattern} from '../policy/expiration.js';
import {CliError} from './cli-error.js';
import {type OptionSpec, type OptionValues, flag, stringOption, stringsOption} from './command.js';
import {type EntryRow, isStale, walkEntries} from './entries.js';

/** The filter options of `list` and `export-har`. */
export const FILTER_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
	url: {type: 'string', placeholder: '<glob>', description: 'URLs matching a glob (as urlsExpireAfter patterns: no scheme, * matches anything, a pattern matches what is below it); the requested or the final URL'},
	status: {type: 'string', multiple: true, placeholder: '<codes>', description: 'status codes or classes: 200, 404, 2xx, comma-separated'},
	fresh: {type: 'boolean', description: 'only entries that have not expired'},
	stale: {type: 'boolean', description: 'only expired entries'},
});

/** What the filter options keep: every given criterion must match. */
export type EntryFilter = {
	readonly url?: {readonly regex: RegExp};
	readonly status?: ReturnType<typeof parseStatus>;
	readonly state?: 'fresh' | 'stale';
};

/** Parse `--status` values: codes (`200`) and classes (`2xx`), comma-separated or repeated. */
export function parseStatus(values: readonly string[]): {test(status: number): boolean} {
	const accepted = new Set(values.flatMap(value => value.split(',')).map(part => part.trim().toLowerCase()));
	for (const part of accepted) {
		if (!/^[1-9](?:\d\d|xx)$/.test(part)) {
			throw new CliError(`--status takes status codes or classes such as 200, 404 or 5xx (comma-separated), got ${JSON.stringify(part)}`);
		}
	}

	return {test: status => accepted.has(String(status)) || accepted.has(`${Math.floor(status / 100)}xx`)};
}

/** The filter the options give; `--url` is compiled by the rules of `urlsExpireAfter` patterns. */
export function parseFilter(values: OptionValues): EntryFilter {
	const url = stringOption(values, 'url');
	const status = stringsOption(values, 'status');
	if (flag(values, 'fresh') && flag(values, 'stale')) {
		throw new CliError('--fresh and --stale exclude each other');
	}

	if (url?.trim() === '') {
		throw new CliError('--url must not be empty (use * for every URL)');
	}

	return {
		...(url === undefined ? {} : {url: {regex: compileUrlPattern(url)}}),
		...(status === undefined ? {} : {status: parseStatus(status)}),
		...(flag(values, 'fresh') ? {state: 'fresh' as const} : (flag(values, 'stale') ? {state: 'stale' as const} : {})),
	};
}

/** True when `url`, with or without its scheme, matches a compiled `--url` glob. */
export function urlMatches(regex: RegExp, url: string): boolean {
	return regex.test(url.replace(/^[a-z][a-z\d+.-]*:\/\//i, ''));
}

/** Visit the stored responses `filter` keeps; `--url` may match the final or the requested URL. */
export async function walkMatching(store: CacheStore, filter: EntryFilter, now: number, visit: (row: EntryRow) => void) {
	const state = (stale: boolean): boolean => filter.state === undefined || (filter.state === 'stale') === stale;
	// The state is decided on a record's facts first, so that a value it drops is never read.
	return walkEntries(store, now, meta => state(isStale(meta.expires, now)), row => {
		if (state(row.stale)
			&& (filter.url === undefined || urlMatches(filter.url.regex, row.url) || urlMatches(filter.url.regex, row.requestUrl))
			&& (filter.status === undefined || filter.status.test(row.status))) {
			visit(row);
		}
	});
}
