import {boundedMemo} from '../codec/memo.js';
import type {ResponseHeaders} from '../models/response.js';

/** Parsed Cache-Control directives: lower-case names, the value (unquoted) or true. */
export type Directives = ReadonlyMap<string, string | true>;

const empty: Directives = new Map();

/** A header's value as one string (repeated fields joined with `, `). */
export function headerText(value: string | string[] | undefined): string | undefined {
	return Array.isArray(value) ? value.join(', ') : value;
}

/** Parse a Cache-Control header (or several, joined); unknown directives are kept, malformed parts skipped. */
export function parseCacheControl(value: string | string[] | undefined): Directives {
	const text = headerText(value);
	return text === undefined || text === '' ? empty : parsed(text);
}

// Memoized by text: several rules read one response's Cache-Control, and an API repeats a few values.
const parsed = boundedMemo(256, (text: string): Directives => {
	const directives = new Map<string, string | true>();
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
});

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

/** Parse an HTTP-date (RFC 9110 §5.6.7) in any of its three forms, any letter case; undefined for anything else. */
export function parseHttpDate(value: string, now = Date.now()): number | undefined {
	let match = imfFixdate.exec(value);
	if (match) {
		return utc(Number(match[3]), match[2]!, Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6]));
	}

	match = rfc850.exec(value);
	if (match) {
		// A two-digit year more than 50 years ahead is in the past (RFC 9110 §5.6.7).
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

/** A response header's value as an HTTP-date, or undefined when absent or not one. */
export function dateHeader(headers: ResponseHeaders, name: string, now: number): number | undefined {
	return parseHttpDate(headerText(headers[name])?.trim() ?? '', now);
}

/** The greatest delta-seconds value (RFC 9111 §1.2.2), so that no expiry goes beyond what a `Date` holds. */
export const MAX_DELTA_SECONDS = 2 ** 31;

function deltaSeconds(text: string): number | undefined {
	return /^\d+$/.test(text) ? Math.min(Number(text), MAX_DELTA_SECONDS) : undefined;
}

/** The `Age` header in whole seconds as RFC 9111 §5.1 reads it: a list's first member, 0 when invalid. */
export function ageOf(headers: ResponseHeaders): number {
	const raw = headers['age'];
	const text = (Array.isArray(raw) ? raw[0] : raw) ?? '';
	const comma = text.indexOf(',');
	return deltaSeconds((comma === -1 ? text : text.slice(0, comma)).trim()) ?? 0;
}

/** A directive's value in whole seconds (capped), or undefined when absent or not a delta-seconds. */
export function seconds(directives: Directives, name: string): number | undefined {
	const value = directives.get(name);
	return typeof value === 'string' ? deltaSeconds(value) : undefined;
}

/** True when the response carries a validator (ETag or Last-Modified). */
export function hasValidator(headers: ResponseHeaders): boolean {
	return headers['etag'] !== undefined || headers['last-modified'] !== undefined;
}

/** True when the request carries `If-None-Match` or `If-Modified-Since`. */
export function isConditional(request: {readonly headers: Readonly<Record<string, string>>}): boolean {
	return request.headers['if-none-match'] !== undefined || request.headers['if-modified-since'] !== undefined;
}

/** The headers that make a request conditional on a stored response's validators. */
export function conditionalHeaders(headers: ResponseHeaders): Record<string, string> {
	const conditional: Record<string, string> = {};
	for (const [validator, condition] of [['etag', 'if-none-match'], ['last-modified', 'if-modified-since']] as const) {
		const value = headerText(headers[validator]);
		if (value !== undefined) {
			conditional[condition] = value;
		}
	}

	return conditional;
}

/** What a response's own headers say about storing it, with `cacheControl: true`; `explicit` null: never expires. */
type HeaderFreshness =
	| {readonly kind: 'noStore'}
	| {readonly kind: 'explicit'; readonly expires: number | null}
	| {readonly kind: 'none'};

/** Freshness from response headers, `cacheControl: true` (RFC 9111 §4.2.1; the table in docs/http-caching.md). */
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
	// This project's rule, not RFC 8246's (docs/http-caching.md).
	if (directives.has('immutable') && maxAge !== 0) {
		return {kind: 'explicit', expires: null};
	}

	const currentAge = ageOf(headers);
	const expiresAfter = (lifetime: number): number => now + lifetime - (currentAge * 1000);
	if (maxAge !== undefined) {
		return {kind: 'explicit', expires: expiresAfter(maxAge * 1000)};
	}

	// A malformed max-age makes the response stale (RFC 9111 §4.2.1).
	if (directives.has('max-age')) {
		return {kind: 'explicit', expires: now};
	}

	if (headers['expires'] !== undefined) {
		const expires = dateHeader(headers, 'expires', now);
		if (expires === undefined) {
			return {kind: 'explicit', expires: now};
		}

		return {kind: 'explicit', expires: expiresAfter(expires - (dateHeader(headers, 'date', now) ?? now))};
	}

	return {kind: 'none'};
}

/** Status codes RFC 9110 §15.1 defines as heuristically cacheable. */
export const HEURISTICALLY_CACHEABLE_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/** The statuses whose caching this library understands, for `must-understand` (RFC 9111 §5.2.2.3): RFC 9110's but 206 and 304. */
export const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
	200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 305, 307, 308,
	400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
	500, 501, 502, 503, 504, 505,
]);

/** The share of the time since `Last-Modified` a response is heuristically fresh for (RFC 9111 §4.2.2). */
export const HEURISTIC_FRACTION = 0.1;

/** The longest heuristic freshness lifetime, in ms: one week (a year-old file is not fresh for five weeks). */
export const HEURISTIC_MAX_LIFETIME = 7 * 24 * 60 * 60 * 1000;

/** The heuristic freshness lifetime in ms (RFC 9111 §4.2.2), or undefined when none applies. */
export function heuristicLifetime(status: number, headers: ResponseHeaders, responseTime: number): number | undefined {
	if (!HEURISTICALLY_CACHEABLE_STATUSES.has(status) && !parseCacheControl(headers['cache-control']).has('public')) {
		return undefined;
	}

	const lastModified = dateHeader(headers, 'last-modified', responseTime);
	if (lastModified === undefined) {
		return undefined;
	}

	const date = dateHeader(headers, 'date', responseTime) ?? responseTime;
	if (lastModified >= date) {
		return undefined;
	}

	return Math.min(HEURISTIC_MAX_LIFETIME, Math.floor((date - lastModified) * HEURISTIC_FRACTION));
}

/** Whether a cache may store a response by its status and headers (RFC 9111 §3); the request is the caller's to check. */
export function mayStore(status: number, headers: ResponseHeaders, shared = false): boolean {
	if (status < 200 || status === 206 || status === 304) {
		return false;
	}

	const directives = parseCacheControl(headers['cache-control']);
	// `must-understand` overrides `no-store` for a status it understands (RFC 9111 §5.2.2.3).
	if (directives.has('must-understand') ? !UNDERSTOOD_STATUSES.has(status) : directives.has('no-store')) {
		return false;
	}

	// RFC 9111 §5.2.2.7.
	if (shared && directives.get('private') === true) {
		return false;
	}

	return directives.has('public') || directives.has(shared ? 's-maxage' : 'private') || directives.has('max-age')
		|| headers['expires'] !== undefined || HEURISTICALLY_CACHEABLE_STATUSES.has(status);
}

const hopByHop: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer']);

/** Fields a `304` never changes in the stored response: they describe the stored bytes, or selected it (RFC 9111 §3.2, §4.3.4). */
export const NOT_UPDATED_BY_304: ReadonlySet<string> = new Set(['content-length', 'content-encoding', 'content-range', 'content-md5', 'etag']);

/** Fields a 304 updates without the stored response counting as changed: they move on every revalidation. */
const renewedBy304: ReadonlySet<string> = new Set(['date', 'age']);

/** The headers worth storing: no hop-by-hop field (RFC 9111 §3.1), none a qualified `no-cache` or shared `private` names. */
export function storableHeaders(headers: ResponseHeaders, shared = false): ResponseHeaders {
	// Runs on every miss: the common case (nothing named) parses nothing.
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

/** The stored headers updated from a `304` (RFC 9111 §4.3.4); `changed` is false when only `Date` and `Age` moved. */
export function mergeNotModified(stored: ResponseHeaders, update: ResponseHeaders): {headers: ResponseHeaders; changed: boolean} {
	const headers: ResponseHeaders = {...stored};
	let changed = false;
	for (const [name, value] of Object.entries(storableHeaders(update))) {
		if (NOT_UPDATED_BY_304.has(name)) {
			continue;
		}

		changed ||= !renewedBy304.has(name) && JSON.stringify(headers[name]) !== JSON.stringify(value);
		headers[name] = value;
	}

	return {headers, changed};
}
