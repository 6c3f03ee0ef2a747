import {createHash, hash} from 'node:crypto';
import type {PreparedRequest} from './models/request.js';

/** Parameters, headers and body fields that are left out of cache keys and redacted before storage. */
export const DEFAULT_IGNORED_PARAMETERS: readonly string[] = Object.freeze([
	'Authorization',
	'Proxy-Authorization',
	'X-API-Key',
	'X-Auth-Token',
	'X-API-Token',
	'X-Access-Token',
	'access_token',
	'api_key',
	'apikey',
]);

/** The value stored in place of a redacted secret. */
export const REDACTED = 'REDACTED';

/** What cache keys are built from, after validation (names lower-case). */
export type KeySettings = {
	readonly ignoredParameters: ReadonlySet<string>;
	readonly matchHeaders: boolean | readonly string[];
};

/** A request as stored beside its response: secrets replaced by {@link REDACTED}. */
export type StoredRequest = {
	method: string;
	url: string;
	headers: Record<string, string>;
	/** The redacted body as UTF-8 text, or null. */
	body: string | null;
};

/** Order query pairs by name, then value (UTF-16 code units, as `<` compares). */
function comparePairs(a: [string, string], b: [string, string]): number {
	return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : (a[1] < b[1] ? -1 : (a[1] > b[1] ? 1 : 0)));
}

function sortedParams(parameters: URLSearchParams, ignored: ReadonlySet<string>, redact: boolean): string {
	const pairs: Array<[string, string]> = [];
	for (const [name, value] of parameters) {
		if (ignored.has(name.toLowerCase())) {
			if (redact) {
				pairs.push([name, REDACTED]);
			}

			continue;
		}

		pairs.push([name, value]);
	}

	if (!redact) {
		pairs.sort(comparePairs);
	}

	return new URLSearchParams(pairs).toString();
}

/** A query segment that form-decoding and form-encoding both leave as it is: `name=value` of safe bytes. */
const plainSegment = /^[\w*.-]+=[\w*.-]*$/;

/**
 * `sortedParams(new URLSearchParams(query), ignored, false)` without building URLSearchParams,
 * for the common query whose segments are all {@link plainSegment}s (there decoding and encoding
 * are the identity); undefined for any other query. Hot: runs on every cache lookup, so a query
 * that is already sorted and has nothing to drop comes back as the very same string.
 */
function plainSortedQuery(query: string, ignored: ReadonlySet<string>): string | undefined {
	const pairs: Array<[string, string]> = [];
	let changed = false;
	for (const segment of query.split('&')) {
		if (!plainSegment.test(segment)) {
			return undefined;
		}

		const equals = segment.indexOf('=');
		const pair: [string, string] = [segment.slice(0, equals), segment.slice(equals + 1)];
		if (ignored.has(pair[0].toLowerCase())) {
			changed = true;
			continue;
		}

		if (!changed && pairs.length > 0 && comparePairs(pairs.at(-1)!, pair) > 0) {
			changed = true;
		}

		pairs.push(pair);
	}

	return changed ? pairs.sort(comparePairs).map(([name, value]) => `${name}=${value}`).join('&') : query;
}

/**
 * Normalize a URL for matching: scheme and host lower-case, default port and fragment dropped,
 * query parameters sorted, ignored parameters removed.
 */
export function normalizeUrl(url: string, ignored: ReadonlySet<string>): string {
	const parsed = new URL(url);
	// Only a '#' in the input makes a fragment; the setter costs a re-serialization.
	if (url.includes('#')) {
		parsed.hash = '';
	}

	const {search} = parsed;
	if (search.length > 1) {
		const current = search.slice(1);
		const query = plainSortedQuery(current, ignored) ?? sortedParams(parsed.searchParams, ignored, false);
		// The setter would re-encode a query that is already in the URL's own encoding: skip it when nothing moved.
		if (query !== current) {
			parsed.search = query;
		}
	}

	return parsed.href;
}

/** The URL with ignored parameters' values replaced by {@link REDACTED} (order kept). */
export function redactUrl(url: string, ignored: ReadonlySet<string>): string {
	const parsed = new URL(url);
	if (parsed.search.length <= 1) {
		return parsed.href;
	}

	let secret = false;
	for (const name of parsed.searchParams.keys()) {
		if (ignored.has(name.toLowerCase())) {
			secret = true;
			break;
		}
	}

	if (secret) {
		parsed.search = sortedParams(parsed.searchParams, ignored, true);
	}

	return parsed.href;
}

function contentType(headers: Readonly<Record<string, string>>): string {
	return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJsonType(type: string): boolean {
	return type === 'application/json' || type.endsWith('+json');
}

/** Recursively sort object keys so that equal JSON documents serialize equally. */
function canonicalJson(value: unknown, ignored: ReadonlySet<string> | undefined): unknown {
	if (Array.isArray(value)) {
		return value.map(item => canonicalJson(item, undefined));
	}

	if (value !== null && typeof value === 'object') {
		const sorted: Record<string, unknown> = {};
		for (const key of Object.keys(value).sort()) {
			// Ignored names are dropped at the top level only, as in requests-cache.
			if (ignored?.has(key.toLowerCase())) {
				continue;
			}

			sorted[key] = canonicalJson((value as Record<string, unknown>)[key], undefined);
		}

		return sorted;
	}

	return value;
}

function normalizeBody(request: PreparedRequest, ignored: ReadonlySet<string>): unknown {
	const {body} = request;
	if (body === undefined || body.length === 0) {
		return null;
	}

	const type = contentType(request.headers);
	if (isJsonType(type)) {
		try {
			return {json: canonicalJson(JSON.parse(body.toString('utf8')), ignored)};
		} catch {
			// Not JSON after all: key on the raw bytes below.
		}
	} else if (type === 'application/x-www-form-urlencoded') {
		return {form: sortedParams(new URLSearchParams(body.toString('utf8')), ignored, false)};
	}

	return {sha256: createHash('sha256').update(body).digest('hex')};
}

function matchedHeaders(request: PreparedRequest, settings: KeySettings): Array<[string, string | null]> {
	const {matchHeaders, ignoredParameters} = settings;
	if (matchHeaders === false) {
		return [];
	}

	const names = matchHeaders === true
		? Object.keys(request.headers).filter(name => !ignoredParameters.has(name)).sort()
		: matchHeaders;
	return names.map(name => [name, request.headers[name] ?? null]);
}

/**
 * The cache key of a request: a SHA-256 over a canonical structure of the method, the normalized
 * URL, the normalized body and the matched headers (never a delimiter-joined string).
 */
export function createKey(request: PreparedRequest, settings: KeySettings): string {
	const canonical = [
		request.method,
		normalizeUrl(request.url, settings.ignoredParameters),
		normalizeBody(request, settings.ignoredParameters),
		matchedHeaders(request, settings),
	];
	// One-shot hash(): a third of createHash()'s cost for an input this small.
	return hash('sha256', JSON.stringify(canonical), 'hex').slice(0, 32);
}

function redactJson(value: unknown, ignored: ReadonlySet<string>): unknown {
	if (Array.isArray(value)) {
		return value.map(item => redactJson(item, ignored));
	}

	if (value !== null && typeof value === 'object') {
		const copy: Record<string, unknown> = {};
		for (const [key, item] of Object.entries(value)) {
			copy[key] = ignored.has(key.toLowerCase()) ? REDACTED : redactJson(item, ignored);
		}

		return copy;
	}

	return value;
}

function redactBody(request: PreparedRequest, ignored: ReadonlySet<string>): string | null {
	const {body} = request;
	if (body === undefined || body.length === 0) {
		return null;
	}

	const type = contentType(request.headers);
	if (isJsonType(type)) {
		try {
			return JSON.stringify(redactJson(JSON.parse(body.toString('utf8')), ignored));
		} catch {
			return null;
		}
	}

	if (type === 'application/x-www-form-urlencoded') {
		return sortedParams(new URLSearchParams(body.toString('utf8')), ignored, true);
	}

	// Opaque bodies may hold anything: keep them out of the store.
	return null;
}

/** The request as it is stored: ignored parameters redacted in the URL, the headers and the body. */
export function redactRequest(request: PreparedRequest, ignored: ReadonlySet<string>): StoredRequest {
	const headers: Record<string, string> = {};
	for (const name in request.headers) {
		headers[name] = ignored.has(name) || name === 'cookie' ? REDACTED : request.headers[name]!;
	}

	return {method: request.method, url: redactUrl(request.url, ignored), headers, body: redactBody(request, ignored)};
}
