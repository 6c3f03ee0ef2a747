import type {RecordMeta} from '../backends/store.js';
import {compileUrlPattern} from '../policy/expiration.js';
import {CliError} from './cli-error.js';
import {type EntryRow, isStale} from './entries.js';

/** What `list`, `stats` and `export-har` keep: every given criterion must match. */
export type EntryFilter = {
	/** `--url`: the glob, compiled by the rules of `urlsExpireAfter` patterns. */
	readonly url?: {readonly pattern: string; readonly regex: RegExp};
	/** `--status`: the accepted codes and classes. */
	readonly status?: {readonly text: string; test(status: number): boolean};
	/** `--fresh` or `--stale`. */
	readonly state?: 'fresh' | 'stale';
};

/** The filter options as `parseArgs` gives them. */
export type FilterValues = {
	url?: string | undefined;
	status?: string[] | undefined;
	fresh?: boolean | undefined;
	stale?: boolean | undefined;
};

const schemeRegex = /^[a-z][a-z\d+.-]*:\/\//i;

/**
 * Parse `--status` values: codes (`200`), classes (`2xx`), comma-separated or repeated
 * (`--status 200,304 --status 4xx`).
 */
export function parseStatus(values: readonly string[]): {text: string; test(status: number): boolean} {
	const codes = new Set<number>();
	const classes = new Set<number>();
	for (const part of values.flatMap(value => value.split(',')).map(part => part.trim().toLowerCase())) {
		if (/^[1-9]\d\d$/.test(part)) {
			codes.add(Number(part));
		} else if (/^[1-9]xx$/.test(part)) {
			classes.add(Number(part[0]));
		} else {
			throw new CliError(`--status takes status codes or classes such as 200, 404 or 5xx (comma-separated), got ${JSON.stringify(part)}`);
		}
	}

	return {
		text: values.join(','),
		test: status => codes.has(status) || classes.has(Math.floor(status / 100)),
	};
}

/** Build the filter from the command line; `--fresh` with `--stale` is refused. */
export function parseFilter(values: FilterValues): EntryFilter {
	if (values.fresh === true && values.stale === true) {
		throw new CliError('--fresh and --stale exclude each other');
	}

	if (values.url !== undefined && values.url.trim() === '') {
		throw new CliError('--url must not be empty (use * for every URL)');
	}

	return {
		...(values.url === undefined ? {} : {url: {pattern: values.url, regex: compileUrlPattern(values.url)}}),
		...(values.status === undefined || values.status.length === 0 ? {} : {status: parseStatus(values.status)}),
		...(values.fresh === true ? {state: 'fresh' as const} : (values.stale === true ? {state: 'stale' as const} : {})),
	};
}

/** True when `url` (with or without its scheme) matches a compiled `--url` glob. */
export function urlMatches(regex: RegExp, url: string): boolean {
	return regex.test(url.replace(schemeRegex, ''));
}

/** What can be decided from a record's facts alone, before its value is read. */
export function preselect(filter: EntryFilter, now: number): (meta: RecordMeta) => boolean {
	return meta => filter.state === undefined || (filter.state === 'stale') === isStale(meta.expires, now);
}

/** The whole filter, on a decoded row: the glob matches the final URL or the requested one. */
export function matches(filter: EntryFilter, row: EntryRow): boolean {
	return (filter.url === undefined || urlMatches(filter.url.regex, row.url) || urlMatches(filter.url.regex, row.requestUrl))
		&& (filter.status === undefined || filter.status.test(row.status))
		&& (filter.state === undefined || (filter.state === 'stale') === row.stale);
}
