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

	if (directives.has('no-cache')) {
		return {kind: 'explicit', expires: now};
	}

	const maxAge = seconds(directives, 'max-age');
	if (directives.has('immutable') && (maxAge === undefined || maxAge > 0)) {
		return {kind: 'explicit', expires: null};
	}

	const age = Number.parseInt(headerText(headers['age']) ?? '0', 10);
	const currentAge = Number.isFinite(age) && age > 0 ? age : 0;
	if (maxAge !== undefined) {
		return {kind: 'explicit', expires: now + ((maxAge - currentAge) * 1000)};
	}

	if (directives.has('max-age')) {
		// A malformed max-age makes the response stale (RFC 9111 §4.2.1).
		return {kind: 'explicit', expires: now};
	}

	const expiresHeader = headerText(headers['expires']);
	if (expiresHeader !== undefined) {
		const expires = Date.parse(expiresHeader);
		if (Number.isNaN(expires) || !/[a-z]/i.test(expiresHeader)) {
			return {kind: 'explicit', expires: now};
		}

		const date = Date.parse(headerText(headers['date']) ?? '');
		const lifetime = Number.isNaN(date) ? expires - now : expires - date;
		return {kind: 'explicit', expires: now + lifetime - (currentAge * 1000)};
	}

	return {kind: 'none'};
}

/** Merge the headers of a 304 into the stored ones (RFC 9111 §3.2); framing headers are kept from the stored response. */
export function mergeNotModified(stored: ResponseHeaders, update: ResponseHeaders): {headers: ResponseHeaders; changed: boolean} {
	const keep = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'content-range', 'connection', 'keep-alive']);
	const headers: ResponseHeaders = {...stored};
	let changed = false;
	for (const [name, value] of Object.entries(update)) {
		if (keep.has(name) || name === 'date' || name === 'age') {
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
