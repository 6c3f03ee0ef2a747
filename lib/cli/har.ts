import {Buffer} from 'node:buffer';
import {Cookie} from 'tough-cookie';
import {REDACTED} from '../cache-keys.js';
import {type CachedEntry, isTimeInRange} from '../codec/entry.js';
import type {ResponseHeaders} from '../models/response.js';
import {decodeBody, headerValue, mediaTypeOf} from './body.js';
import type {EntryRow} from './entries.js';
import {invalidTime, isoTime} from './format.js';

/*
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the parts a cache can fill. What a
 * cache does not know is given the values the spec reserves for "unknown": -1 for sizes and the
 * optional timings, 0 for the required timings.
 */

/** A name/value pair (`headers`, `queryString`). */
export type HarNameValue = {name: string; value: string};

/** A cookie sent or set. */
export type HarCookie = {name: string; value: string; path?: string; domain?: string; expires?: string; httpOnly?: boolean; secure?: boolean; comment?: string};

/** A request body. */
export type HarPostData = {mimeType: string; params: HarNameValue[]; text: string};

export type HarRequest = {
	method: string;
	url: string;
	httpVersion: string;
	cookies: HarCookie[];
	headers: HarNameValue[];
	queryString: HarNameValue[];
	postData?: HarPostData;
	headersSize: number;
	bodySize: number;
};

/** A response body: `text` as is, or base64 with `encoding: 'base64'`. */
export type HarContent = {size: number; mimeType: string; text?: string; encoding?: 'base64'; comment?: string};

export type HarResponse = {
	status: number;
	statusText: string;
	httpVersion: string;
	cookies: HarCookie[];
	headers: HarNameValue[];
	content: HarContent;
	redirectURL: string;
	headersSize: number;
	bodySize: number;
};

export type HarTimings = {blocked: number; dns: number; connect: number; send: number; wait: number; receive: number; ssl: number};

/** Facts of the cache entry, as a custom field (HAR allows fields that start with `_`). */
export type HarCacheFacts = {key: string; createdAt: string; expires: string | null; stale: boolean; redirectHop?: number};

export type HarEntry = {
	startedDateTime: string;
	time: number;
	request: HarRequest;
	response: HarResponse;
	cache: Record<string, never>;
	timings: HarTimings;
	comment: string;
	_requestsCache: HarCacheFacts;
};

/** `log.creator`. */
export type HarCreator = {name: string; version: string};

/** The log's fields before `entries`, which are written one by one. */
export type HarLogHead = {version: '1.2'; creator: HarCreator; pages: []; comment: string};

// A cache does not know which HTTP version carried a response; HTTP/1.1 is what got speaks by default.
const httpVersion = 'HTTP/1.1';
const timings: HarTimings = Object.freeze({blocked: -1, dns: -1, connect: -1, send: 0, wait: 0, receive: 0, ssl: -1});

/** Headers as HAR pairs; a repeated header (`set-cookie`) gives one pair per value. */
export function harHeaders(headers: ResponseHeaders | Record<string, string>): HarNameValue[] {
	return Object.entries(headers).flatMap(([name, value]) => (typeof value === 'string' ? [{name, value}] : value.map(item => ({name, value: item}))));
}

function setCookies(headers: ResponseHeaders, receivedAt: number): HarCookie[] {
	const value = headers['set-cookie'];
	const lines = value === undefined ? [] : (typeof value === 'string' ? [value] : value);
	const cookies: HarCookie[] = [];
	for (const line of lines) {
		const cookie = Cookie.parse(line, {loose: true});
		if (cookie === undefined) {
			continue;
		}

		cookies.push({
			name: cookie.key,
			value: cookie.value,
			...(cookie.path ? {path: cookie.path} : {}),
			...(cookie.domain ? {domain: cookie.domain} : {}),
			...expiresOf(cookie, receivedAt),
			...(cookie.httpOnly ? {httpOnly: true} : {}),
			...(cookie.secure ? {secure: true} : {}),
		});
	}

	return cookies;
}

/**
 * When a cookie expires, as ISO 8601: its Max-Age counted from when it was received wins over
 * Expires. A time no Date holds (a huge Max-Age) is left out of `expires`, which HAR requires to
 * be a date, and marked in the cookie's comment.
 */
function expiresOf(cookie: Cookie, receivedAt: number): Pick<HarCookie, 'expires' | 'comment'> {
	let ms: number | undefined;
	if (typeof cookie.maxAge === 'number' && Number.isFinite(cookie.maxAge)) {
		ms = receivedAt + (cookie.maxAge * 1000);
	} else if (cookie.expires instanceof Date) {
		ms = cookie.expires.getTime();
	}

	if (ms === undefined) {
		return {};
	}

	return isTimeInRange(ms) ? {expires: new Date(ms).toISOString()} : {comment: `expires: ${invalidTime(ms)}`};
}

function requestCookies(headers: Record<string, string>): HarCookie[] {
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

function queryString(url: string): HarNameValue[] {
	try {
		return [...new URL(url).searchParams].map(([name, value]) => ({name, value}));
	} catch {
		return [];
	}
}

/** The URL without its fragment, as HAR wants it. */
function withoutFragment(url: string): string {
	const hash = url.indexOf('#');
	return hash === -1 ? url : url.slice(0, hash);
}

function harRequest(method: string, url: string, headers: Record<string, string>, body: string | null): HarRequest {
	const request: HarRequest = {
		method,
		url: withoutFragment(url),
		httpVersion,
		cookies: requestCookies(headers),
		headers: harHeaders(headers),
		queryString: queryString(url),
		headersSize: -1,
		bodySize: body === null ? 0 : Buffer.byteLength(body),
	};
	if (body !== null) {
		const mimeType = headerValue(headers, 'content-type') ?? 'application/octet-stream';
		const parameters = /^application\/x-www-form-urlencoded\b/i.test(mimeType)
			? [...new URLSearchParams(body)].map(([name, value]) => ({name, value}))
			: [];
		request.postData = {mimeType, params: parameters, text: body};
	}

	return request;
}

function harContent(entry: CachedEntry): HarContent {
	const type = mediaTypeOf(entry.headers);
	const mimeType = type.raw === '' ? 'application/octet-stream' : type.raw;
	const view = decodeBody(entry.body, type);
	if (view.kind === 'text') {
		return {size: entry.body.byteLength, mimeType, text: view.text};
	}

	return {size: entry.body.byteLength, mimeType, text: Buffer.from(entry.body.buffer, entry.body.byteOffset, entry.body.byteLength).toString('base64'), encoding: 'base64', comment: view.reason};
}

function resolve(location: string, base: string): string {
	try {
		return new URL(location, base).href;
	} catch {
		return location;
	}
}

/** The method of the request that follows a redirect (what got does: 303, and 301/302 after a POST, become GET). */
function nextMethod(method: string, status: number): string {
	return status === 303 || ((status === 301 || status === 302) && method === 'POST') ? (method === 'HEAD' ? 'HEAD' : 'GET') : method;
}

/**
 * The HAR entries of one stored response: one per redirect hop it went through (status, headers and
 * the Location it pointed to; their requests are rebuilt from the stored one, as a client follows
 * redirects), then the final response with its body (text, or base64 when it does not decode as
 * its declared charset). Timings are not stored: every entry starts when the response was stored
 * and takes 0 ms.
 */
export function harEntries(row: EntryRow, entry: CachedEntry): HarEntry[] {
	// HAR requires a date: a stored time out of range starts at the epoch, and the facts mark it.
	const startedDateTime = new Date(isTimeInRange(entry.createdAt) ? entry.createdAt : 0).toISOString();
	const facts = {key: row.key, createdAt: isoTime(entry.createdAt)!, expires: isoTime(entry.expires), stale: row.stale};
	const entries: HarEntry[] = [];
	let {method} = entry.request;
	let body = entry.request.body;
	for (const [index, hop] of entry.history.entries()) {
		const next = entry.history[index + 1]?.url ?? entry.url;
		const location = headerValue(hop.headers, 'location');
		entries.push({
			startedDateTime,
			time: 0,
			request: harRequest(method, index === 0 ? entry.request.url : hop.url, entry.request.headers, body),
			response: {
				status: hop.status,
				statusText: '',
				httpVersion,
				cookies: setCookies(hop.headers, entry.createdAt),
				headers: harHeaders(hop.headers),
				content: {size: 0, mimeType: mediaTypeOf(hop.headers).raw || 'x-unknown'},
				redirectURL: location === undefined ? next : resolve(location, hop.url),
				headersSize: -1,
				bodySize: -1,
			},
			cache: {},
			timings: {...timings},
			comment: `requests-cache redirect hop ${index + 1} of ${entry.history.length}, key ${row.key}`,
			_requestsCache: {...facts, redirectHop: index + 1},
		});
		const following = nextMethod(method, hop.status);
		if (following !== method) {
			body = null;
		}

		method = following;
	}

	const content = harContent(entry);
	const location = headerValue(entry.headers, 'location');
	entries.push({
		startedDateTime,
		time: 0,
		request: harRequest(method, entry.history.length === 0 ? entry.request.url : entry.url, entry.request.headers, body),
		response: {
			status: entry.status,
			statusText: entry.reason,
			httpVersion,
			cookies: setCookies(entry.headers, entry.createdAt),
			headers: harHeaders(entry.headers),
			content,
			redirectURL: location === undefined ? '' : resolve(location, entry.url),
			headersSize: -1,
			bodySize: entry.body.byteLength,
		},
		cache: {},
		timings: {...timings},
		comment: `requests-cache key ${row.key}, ${row.stale ? 'stale' : 'fresh'}`,
		_requestsCache: facts,
	});
	return entries;
}

/** The fields of `log` that come before its entries. */
export function harLogHead(creator: HarCreator, description: string): HarLogHead {
	return {version: '1.2', creator, pages: [], comment: `exported from ${description}`};
}
