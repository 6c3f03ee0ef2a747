import type {ResponseHeaders} from '../models/response.js';

/** Parsed Cache-Control directives: lower-case names, the value (unquoted) or true. */
export type Directives = ReadonlyMap<string, string | true>;

const empty: Directives = new Map();

function headerText(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value.join(', ') : value;
}

/** Parse a Cache-Control header (or several, joined). Unknown directives are kept; malformed parts skipped. */
export function parseCacheControl(value: string | string[] | undefined): Directives {
	const text = headerText(value);
	if (text === undefined || text === '') {
		return empty;
	}

	const directives = new Map<string, string | true>();
	// Split on commas outside quotes.
	for (const part of text.match(/(?:[^,"]+|"[^"]*")+/g) ?? []) {
		const [rawName, ...rest] = part.split('=');
		const name = rawName!.trim().toLowerCase();
		if (name === '' || directives.has(name)) {
			continue;
		}

		const rawValue = rest.join('=').trim();
		directives.set(name, rest.length === 0 ? true : rawValue.replace(/^"(.*)"$/, '$1'));
	}

	return directives;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const imfFixdate = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/i;
const rfc850 = /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/i;
const asctime = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ( \d|\d{2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

function utc(year: number, month: string, day: number, hour: number, minute: number, second: number): number | undefined {
	if (hour > 23 || minute > 59 || second > 60 || day < 1 || day > 31) {
		return undefined;
	}

	const time = Date.UTC(year, months.findIndex(name => name.toLowerCase() === month.toLowerCase()), day, hour, minute, Math.min(second, 59));
	return new Date(time).getUTCDate() === day ? time : undefined;
}

/**
 * Parse an HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, or the obsolete RFC 850 and asctime forms.
 * Letter case is forgiven; anything else (what `Date.parse` would guess at) is undefined. A two-digit RFC 850 year more
 * than 50 years ahead is taken as the most recent past year with those digits.
 */
export function parseHttpDate(value: string, now = Date.now()): number | undefined {
	let match = imfFixdate.exec(value);
	if (match) {
		return utc(Number(match[3]), match[2]!, Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
	}

	match = rfc850.exec(value);
	if (match) {
		const thisYear = new Date(now).getUTCFullYear();
		let year = (Math.floor(thisYear / 100) * 100) + Number(match[3]);
		if (year > thisYear + 50) {
			year -= 100;
		}

		return utc(year, match[2]!, Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
	}

	match = asctime.exec(value);
	if (match) {
		return utc(Number(match[6]), match[1]!, Number(match[2]!.trim()), Number(match[3]), Number(match[4]), Number(match[5]));
	}

	return undefined;
}

/** The Age header as whole seconds (RFC 9111 §5.1: a non-negative integer; anything else is ignored). */
export function ageOf(headers: ResponseHeaders): number {
	const raw = headers['age'];
	// Only the first value counts when there are several (`Age: 7200, 0` is 7200 seconds old).
	const text = (Array.isArray(raw) ? raw[0] : raw)?.split(',')[0]!.trim();
	return text !== undefined && /^\d+$/.test(text) ? Number(text) : 0;
}

/** A directive's value as whole seconds, or undefined when absent or not a non-negative integer. */
export function seconds(directives: Directives, name: string): number | undefined {
	const value = directives.get(name);
	if (typeof value !== 'string' || !/^\d+$/.test(value)) {
		return undefined;
	}

	return Number(value);
}

/** True when the response carries a validator (ETag or Last-Modified). */
export function hasValidator(headers: ResponseHeaders): boolean {
	return headers['etag'] !== undefined || headers['last-modified'] !== undefined;
}

/** The headers that make a request conditional on a stored response's validators. */
export function conditionalHeaders(headers: ResponseHeaders): Record<string, string> {
	const conditional: Record<string, string> = {};
	const etag = headerText(headers['etag']);
	const lastModified = headerText(headers['last-modified']);
	if (etag !== undefined) {
		conditional['if-none-match'] = etag;
	}

	if (lastModified !== undefined) {
		conditional['if-modified-since'] = lastModified;
	}

	return conditional;
}

/** What a response's own headers say about storing it, in `cacheControl` mode. */
export type HeaderFreshness =
	/** `no-store`: do not store. */
	| {readonly kind: 'noStore'}
	/** Explicit freshness: expires at `expires` (null: never, for `immutable`). */
	| {readonly kind: 'explicit'; readonly expires: number | null}
	/** The headers say nothing: use the configured expiration. */
	| {readonly kind: 'none'};

/**
 * Freshness from response headers (RFC 9111 §4.2.1, private cache): `no-store` is not stored;
 * `immutable` never expires; `no-cache` is stale at once; `max-age` (less `Age`) beats `Expires`;
 * an `Expires` that is not a valid HTTP date (`0`, `-1`, garbage) means already expired.
 */
export function headerFreshness(headers: ResponseHeaders, now: number): HeaderFreshness {
	const directives = parseCacheControl(headers['cache-control']);
	if (directives.has('no-store')) {
		return {kind: 'noStore'};
	}

	// A qualified no-cache="field" only forbids reusing those fields (they are not stored).
	if (directives.get('no-cache') === true) {
		return {kind: 'explicit', expires: now};
	}

	const maxAge = seconds(directives, 'max-age');
	// As the project defines it, immutable never expires, whatever max-age says (RFC 8246 would
	// only skip revalidation within max-age; see docs/http-caching.md).
	if (directives.has('immutable') && maxAge !== 0) {
		return {kind: 'explicit', expires: null};
	}

	const currentAge = ageOf(headers);
	if (maxAge !== undefined) {
		return {kind: 'explicit', expires: now + ((maxAge - currentAge) * 1000)};
	}

	if (directives.has('max-age')) {
		// A malformed max-age makes the response stale (RFC 9111 §4.2.1).
		return {kind: 'explicit', expires: now};
	}

	const expiresHeader = headerText(headers['expires']);
	if (expiresHeader !== undefined) {
		const expires = parseHttpDate(expiresHeader.trim(), now);
		if (expires === undefined) {
			return {kind: 'explicit', expires: now};
		}

		const date = parseHttpDate(headerText(headers['date'])?.trim() ?? '', now);
		const lifetime = date === undefined ? expires - now : expires - date;
		return {kind: 'explicit', expires: now + lifetime - (currentAge * 1000)};
	}

	return {kind: 'none'};
}

const hopByHop: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer']);
const notModifiedKeeps: ReadonlySet<string> = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'content-range', 'connection', 'keep-alive']);

/**
 * The headers worth storing: without hop-by-hop headers and those the Connection header names
 * (RFC 9111 §3.1), and without the fields a qualified `no-cache="…"` names. Runs on every miss:
 * the common case (nothing named) parses nothing.
 */
export function storableHeaders(headers: ResponseHeaders): ResponseHeaders {
	let named: Set<string> | undefined;
	const connection = headerText(headers['connection']);
	if (connection !== undefined) {
		named = new Set(connection.split(',').map(name => name.trim().toLowerCase()));
	}

	const cacheControl = headerText(headers['cache-control']);
	if (cacheControl?.includes('no-cache=') === true) {
		const qualified = parseCacheControl(cacheControl).get('no-cache');
		if (typeof qualified === 'string') {
			named ??= new Set();
			for (const name of qualified.split(',')) {
				named.add(name.trim().toLowerCase());
			}
		}
	}

	let kept: ResponseHeaders | undefined;
	for (const name in headers) {
		if (hopByHop.has(name) || named?.has(name) === true) {
			kept ??= {...headers};
			delete kept[name];
		}
	}

	return kept ?? headers;
}

/** Merge the headers of a 304 into the stored ones (RFC 9111 §3.2); framing headers are kept from the stored response. */
export function mergeNotModified(stored: ResponseHeaders, update: ResponseHeaders): {headers: ResponseHeaders; changed: boolean} {
	const headers: ResponseHeaders = {...stored};
	let changed = false;
	for (const [name, value] of Object.entries(update)) {
		if (notModifiedKeeps.has(name) || name === 'date' || name === 'age') {
			if (name === 'date' || name === 'age') {
				headers[name] = value;
			}

			continue;
		}

		if (JSON.stringify(headers[name]) !== JSON.stringify(value)) {
			headers[name] = value;
			changed = true;
		}
	}

	return {headers, changed};
}
