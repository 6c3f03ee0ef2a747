import {Buffer} from 'node:buffer';
import {Cookie} from 'tough-cookie';
import {REDACTED} from '../cache-keys.js';
import {type CachedEntry, isTimeInRange} from '../codec/entry.js';
import type {ResponseHeaders} from '../models/response.js';
import {decodeBody, headerValue, mediaTypeOf} from './body.js';
import type {EntryRow} from './entries.js';
import {invalidTime, isoTime} from './format.js';
import {packageVersion} from './version.js';

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the parts a cache can fill. What a cache does
// not know gets the spec's values for "unknown": -1 for sizes and the optional timings, 0 for the required ones.

// A cache does not know which HTTP version carried a response; HTTP/1.1 is what got speaks by default.
const httpVersion = 'HTTP/1.1';
const timings = Object.freeze({blocked: -1, dns: -1, connect: -1, send: 0, wait: 0, receive: 0, ssl: -1});

function pairs(entries: Iterable<[string, string]>): Array<{name: string; value: string}> {
	return [...entries].map(([name, value]) => ({name, value}));
}

/** Headers as HAR pairs; a repeated header (`set-cookie`) gives one pair per value. */
function harHeaders(headers: ResponseHeaders): Array<{name: string; value: string}> {
	return Object.entries(headers).flatMap(([name, value]) => pairs([value].flat().map(item => [name, item])));
}

/** When a cookie expires (Max-Age from `receivedAt` wins); one no Date holds is told in `comment`: HAR's `expires` is a date. */
function expiresOf(cookie: Cookie, receivedAt: number): {expires?: string; comment?: string} {
	const maxAge = typeof cookie.maxAge === 'number' && Number.isFinite(cookie.maxAge) ? cookie.maxAge : undefined;
	const ms = maxAge === undefined ? (cookie.expires instanceof Date ? cookie.expires.getTime() : undefined) : receivedAt + (maxAge * 1000);
	if (ms === undefined) {
		return {};
	}

	return isTimeInRange(ms) ? {expires: new Date(ms).toISOString()} : {comment: `expires: ${invalidTime(ms)}`};
}

/** The cookies a response's Set-Cookie headers set (those that parse). */
function setCookies(headers: ResponseHeaders, receivedAt: number) {
	return [headers['set-cookie'] ?? []].flat().flatMap(line => {
		const cookie = Cookie.parse(line, {loose: true});
		return cookie === undefined ? [] : [{
			name: cookie.key,
			value: cookie.value,
			...(cookie.path ? {path: cookie.path} : {}),
			...(cookie.domain ? {domain: cookie.domain} : {}),
			...expiresOf(cookie, receivedAt),
			...(cookie.httpOnly ? {httpOnly: true} : {}),
			...(cookie.secure ? {secure: true} : {}),
		}];
	});
}

function requestCookies(headers: Record<string, string>): Array<{name: string; value: string}> {
	const header = headerValue(headers, 'cookie');
	// A redacted Cookie header (a secret the cache does not store) has no cookies to list.
	if (header === undefined || header === REDACTED) {
		return [];
	}

	return header.split(';').map(part => part.trim()).filter(part => part !== '').map(part => {
		const equals = part.indexOf('=');
		return equals === -1 ? {name: part, value: ''} : {name: part.slice(0, equals), value: part.slice(equals + 1)};
	});
}

function harRequest(method: string, url: string, headers: Record<string, string>, body: string | null) {
	const mimeType = headerValue(headers, 'content-type') ?? 'application/octet-stream';
	const form = body !== null && /^application\/x-www-form-urlencoded\b/i.test(mimeType);
	return {
		method,
		url: url.split('#', 1)[0]!,
		httpVersion,
		cookies: requestCookies(headers),
		headers: harHeaders(headers),
		queryString: URL.canParse(url) ? pairs(new URL(url).searchParams) : [],
		headersSize: -1,
		bodySize: body === null ? 0 : Buffer.byteLength(body),
		...(body === null ? {} : {postData: {mimeType, params: form ? pairs(new URLSearchParams(body)) : [], text: body}}),
	};
}

/** The response body: text when it decodes as its declared charset (as `show` decides), else base64. */
function harContent(entry: CachedEntry) {
	const type = mediaTypeOf(entry.headers);
	const mimeType = type.raw === '' ? 'application/octet-stream' : type.raw;
	const view = decodeBody(entry.body, type);
	return view.kind === 'text'
		? {size: entry.body.byteLength, mimeType, text: view.text}
		: {size: entry.body.byteLength, mimeType, text: entry.body.toString('base64'), encoding: 'base64', comment: view.reason};
}

function resolve(location: string, base: string): string {
	return URL.canParse(location, base) ? new URL(location, base).href : location;
}

/** The method of the request that follows a redirect (what got does: 303, and 301/302 after a POST, become GET). */
function nextMethod(method: string, status: number): string {
	return status === 303 || ((status === 301 || status === 302) && method === 'POST') ? (method === 'HEAD' ? 'HEAD' : 'GET') : method;
}

/** The HAR entries of one stored response: one per redirect hop, then the response (docs/cli.md, "export-har"). */
export function harEntries(row: EntryRow, entry: CachedEntry) {
	// HAR requires a date: a stored time out of range starts at the epoch, and the facts mark it.
	const startedDateTime = new Date(isTimeInRange(entry.createdAt) ? entry.createdAt : 0).toISOString();
	const facts = {key: row.key, createdAt: isoTime(entry.createdAt)!, expires: isoTime(entry.expires), stale: row.stale};
	const steps = [...entry.history, entry];
	const entries = [];
	let {method, body} = entry.request;
	for (const [index, step] of steps.entries()) {
		const hop = step !== entry;
		const location = headerValue(step.headers, 'location');
		entries.push({
			startedDateTime,
			time: 0,
			request: harRequest(method, index === 0 ? entry.request.url : step.url, entry.request.headers, body),
			response: {
				status: step.status,
				statusText: hop ? '' : entry.reason,
				httpVersion,
				cookies: setCookies(step.headers, entry.createdAt),
				headers: harHeaders(step.headers),
				content: hop ? {size: 0, mimeType: mediaTypeOf(step.headers).raw || 'x-unknown'} : harContent(entry),
				redirectURL: location === undefined ? (hop ? steps[index + 1]!.url : '') : resolve(location, step.url),
				headersSize: -1,
				bodySize: hop ? -1 : entry.body.byteLength,
			},
			cache: {},
			timings: {...timings},
			comment: hop ? `requests-cache redirect hop ${index + 1} of ${entry.history.length}, key ${row.key}` : `requests-cache key ${row.key}, ${row.stale ? 'stale' : 'fresh'}`,
			_requestsCache: hop ? {...facts, redirectHop: index + 1} : facts,
		});
		const following = nextMethod(method, step.status);
		body = following === method ? body : null;
		method = following;
	}

	return entries;
}

/** The fields of `log` that come before its entries. */
export function harLogHead(description: string) {
	return {version: '1.2', creator: {name: 'requests-cache', version: packageVersion()}, pages: [], comment: `exported from ${description}`};
}
