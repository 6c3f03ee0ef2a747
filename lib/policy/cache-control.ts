import type {ResponseHeaders} from '../models/response.js';

/** Parsed Cache-Control directives: lower-case names, the value (unquoted) or true. */
export type Directives = ReadonlyMap<string, string | true>;

const empty: Directives = new Map();

/** A header's value as one string (repeated fields joined with `, `). */
export function headerText(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Headers parsed lately, by text: a response's Cache-Control is read by several rules on one
 * request, and an API answers with the same few values. Bounded: emptied when full.
 */
const parsed = new Map<string, Directives>();
const parsedLimit = 256;

/** Parse a Cache-Control header (or several, joined). Unknown directives are kept; malformed parts skipped. */
export function parseCacheControl(value: string | string[] | undefined): Directives {
	const text = headerText(value);
	if (text === undefined || text === '') {
		return empty;
	}

	let directives = parsed.get(text);
	if (directives === undefined) {
		directives = parseDirectives(text);
		if (parsed.size >= parsedLimit) {
			parsed.clear();
		}

		parsed.set(text, directives);
	}

	return directives;
}

function parseDirectives(text: string): Directives {
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

/**
 * The greatest delta-seconds value this cache works with: RFC 9111 §1.2.2 says a larger one (or a
 * calculation that overflows) counts as 2^31 s, 68 years, longer than any freshness lifetime.
 * Without the cap `max-age=9999999999999` would put an expiry beyond what a `Date` can hold.
 */
export const MAX_DELTA_SECONDS = 2 ** 31;

/** A delta-seconds text (RFC 9111 §1.2.2: one or more digits) as a number, capped; undefined when not one. */
export function deltaSeconds(text: string): number | undefined {
	return /^\d+$/.test(text) ? Math.min(Number(text), MAX_DELTA_SECONDS) : undefined;
}

/**
 * The `Age` header as whole seconds, as RFC 9111 §5.1 reads it: a list-valued `Age` (a comma
 * list, or the field on several lines, which arrive as an array or joined) uses its first member
 * and discards the rest; a value that is not a non-negative integer (a fraction, a sign, a
 * parameter, letters) is ignored, so the age is 0 as if the field were absent. Capped at
 * {@link MAX_DELTA_SECONDS}.
 */
export function ageOf(headers: ResponseHeaders): number {
	const raw = headers['age'];
	if (raw === undefined) {
		return 0;
	}

	const text = Array.isArray(raw) ? raw[0] ?? '' : raw;
	const comma = text.indexOf(',');
	return deltaSeconds((comma === -1 ? text : text.slice(0, comma)).trim()) ?? 0;
}

/**
 * A directive's value as whole seconds (capped at {@link MAX_DELTA_SECONDS}), or undefined when
 * absent or not a non-negative integer.
 */
export function seconds(directives: Directives, name: string): number | undefined {
	const value = directives.get(name);
	return typeof value === 'string' ? deltaSeconds(value) : undefined;
}

/** True when the response carries a validator (ETag or Last-Modified). */
export function hasValidator(headers: ResponseHeaders): boolean {
	return headers['etag'] !== undefined || headers['last-modified'] !== undefined;
}

/** True when the request carries a validator condition a cache can evaluate (`If-None-Match`, `If-Modified-Since`). */
export function isConditional(request: {readonly headers: Readonly<Record<string, string>>}): boolean {
	return request.headers['if-none-match'] !== undefined || request.headers['if-modified-since'] !== undefined;
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
	const expiresAfter = (lifetime: number): number => now + lifetime - (currentAge * 1000);
	if (maxAge !== undefined) {
		return {kind: 'explicit', expires: expiresAfter(maxAge * 1000)};
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
		return {kind: 'explicit', expires: expiresAfter(lifetime)};
	}

	return {kind: 'none'};
}

/** Status codes RFC 9110 §15.1 defines as heuristically cacheable. */
export const HEURISTICALLY_CACHEABLE_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/**
 * Status codes whose caching requirements this library implements: the final statuses RFC 9110
 * §15 defines, except `206` (ranges are stored apart, never under the resource's key) and `304`
 * (it updates a stored response, it is never stored). A response with `must-understand` is
 * stored only with one of these (RFC 9111 §5.2.2.3).
 */
export const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
	200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 305, 307, 308,
	400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
	500, 501, 502, 503, 504, 505,
]);

/** The share of the time since `Last-Modified` a response is heuristically fresh for (RFC 9111 §4.2.2's typical 10%). */
export const HEURISTIC_FRACTION = 0.1;

/** The longest heuristic freshness lifetime, in ms: one week (a year-old file is not fresh for five weeks). */
export const HEURISTIC_MAX_LIFETIME = 7 * 24 * 60 * 60 * 1000;

/**
 * The heuristic freshness lifetime, in ms, of a response without explicit expiration (RFC 9111
 * §4.2.2): {@link HEURISTIC_FRACTION} of the time between `Last-Modified` and `Date`, at most
 * {@link HEURISTIC_MAX_LIFETIME}. Applies to a heuristically cacheable status, or to any status when
 * the response is marked `public`; undefined otherwise, or without a valid `Last-Modified` earlier
 * than `Date`. `responseTime` stands in for a missing or invalid `Date`.
 */
export function heuristicLifetime(status: number, headers: ResponseHeaders, responseTime: number): number | undefined {
	if (!HEURISTICALLY_CACHEABLE_STATUSES.has(status) && !parseCacheControl(headers['cache-control']).has('public')) {
		return undefined;
	}

	const lastModified = parseHttpDate(headerText(headers['last-modified'])?.trim() ?? '', responseTime);
	if (lastModified === undefined) {
		return undefined;
	}

	const date = parseHttpDate(headerText(headers['date'])?.trim() ?? '', responseTime) ?? responseTime;
	if (lastModified >= date) {
		return undefined;
	}

	return Math.min(HEURISTIC_MAX_LIFETIME, Math.floor((date - lastModified) * HEURISTIC_FRACTION));
}

/**
 * Whether a cache may store a response (RFC 9111 §3), the request aside (its method, its own
 * `no-store` and, for a shared cache, its `Authorization` are the caller's): a final status; with
 * `must-understand`, one of {@link UNDERSTOOD_STATUSES} (and then `no-store` is overridden,
 * §5.2.2.3); otherwise no `no-store`; never a `206` or `304` (see {@link UNDERSTOOD_STATUSES});
 * and something that allows storing it: `public`, `max-age`, `Expires`, a heuristically cacheable
 * status, and `private` for a private cache or `s-maxage` for a `shared` one. A shared cache never
 * stores an unqualified `private` response (§5.2.2.7).
 */
export function mayStore(status: number, headers: ResponseHeaders, shared = false): boolean {
	if (status < 200 || status === 206 || status === 304) {
		return false;
	}

	const directives = parseCacheControl(headers['cache-control']);
	if (directives.has('must-understand')) {
		if (!UNDERSTOOD_STATUSES.has(status)) {
			return false;
		}
	} else if (directives.has('no-store')) {
		return false;
	}

	if (shared && directives.get('private') === true) {
		return false;
	}

	return directives.has('public') || directives.has(shared ? 's-maxage' : 'private') || directives.has('max-age')
		|| headers['expires'] !== undefined || HEURISTICALLY_CACHEABLE_STATUSES.has(status);
}

const hopByHop: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer']);

/**
 * Fields a `304` never changes in the stored response (RFC 9111 §3.2, §4.3.4, as the public suite
 * checks them): those describing the stored bytes rather than the 304 (`Content-Length`,
 * `Content-Encoding`, `Content-Range`, `Content-MD5`), and `ETag`, the validator the stored
 * response was selected by. Hop-by-hop fields are not stored at all ({@link storableHeaders}).
 */
export const NOT_UPDATED_BY_304: ReadonlySet<string> = new Set(['content-length', 'content-encoding', 'content-range', 'content-md5', 'etag']);

/** Fields a 304 updates without the stored response counting as changed: they move on every revalidation. */
const renewedBy304: ReadonlySet<string> = new Set(['date', 'age']);

/**
 * The headers worth storing: without hop-by-hop headers and those the Connection header names
 * (RFC 9111 §3.1), and without the fields a qualified `no-cache="…"` names (§5.2.2.4) or, in a
 * `shared` cache, a qualified `private="…"` (§5.2.2.7). Runs on every miss: the common case
 * (nothing named) parses nothing.
 */
export function storableHeaders(headers: ResponseHeaders, shared = false): ResponseHeaders {
	let named: Set<string> | undefined;
	const connection = headerText(headers['connection']);
	if (connection !== undefined) {
		named = new Set(connection.split(',').map(name => name.trim().toLowerCase()));
	}

	const cacheControl = headerText(headers['cache-control']);
	for (const directive of shared ? ['no-cache', 'private'] : ['no-cache']) {
		const qualified = cacheControl?.includes(`${directive}=`) === true ? parseCacheControl(cacheControl).get(directive) : undefined;
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

/**
 * The stored headers updated from a `304 Not Modified` (RFC 9111 §3.2, §4.3.4): every field the
 * 304 carries replaces the stored one, except {@link NOT_UPDATED_BY_304} and the 304's own
 * hop-by-hop fields. `changed` is false when only `Date` and `Age` moved (nothing worth rewriting
 * beyond the freshness the caller recomputes).
 */
export function mergeNotModified(stored: ResponseHeaders, update: ResponseHeaders): {headers: ResponseHeaders; changed: boolean} {
	const headers: ResponseHeaders = {...stored};
	let changed = false;
	for (const [name, value] of Object.entries(storableHeaders(update))) {
		if (NOT_UPDATED_BY_304.has(name)) {
			continue;
		}

		if (renewedBy304.has(name)) {
			headers[name] = value;
		} else if (JSON.stringify(headers[name]) !== JSON.stringify(value)) {
			headers[name] = value;
			changed = true;
		}
	}

	return {headers, changed};
}
