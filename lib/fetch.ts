import {Buffer} from 'node:buffer';
import type {Response} from './models/response.js';
import {ANY_STALE, type CacheRequestOptions} from './policy/request-options.js';
import type {RequestOptions} from './session.js';

/** What `fetchWith` needs of a session. */
export type Requester = {
	request(method: string, url: string | URL, options?: RequestOptions): Promise<Response>;
};

/** The fetch `cache` modes. */
export type FetchCacheMode = 'default' | 'no-store' | 'reload' | 'no-cache' | 'force-cache' | 'only-if-cached';

/** `RequestInit` with its `cache` mode (absent from Node 20's types). */
export type FetchInit = RequestInit & {cache?: FetchCacheMode};

const noBodyStatuses = new Set([101, 103, 204, 205, 304]);

function cacheModeOptions(mode: FetchCacheMode | undefined): CacheRequestOptions & {extraHeaders?: Record<string, string>} {
	switch (mode) {
		case undefined:
		case 'default': {
			return {};
		}

		case 'no-store': {
			return {extraHeaders: {'cache-control': 'no-store'}};
		}

		case 'reload': {
			return {forceRefresh: true};
		}

		case 'no-cache': {
			// As the Fetch standard does: anything stored must be revalidated first.
			return {extraHeaders: {'cache-control': 'max-age=0'}};
		}

		case 'force-cache': {
			// Decided by the cache, not asked of the origin: no header is added.
			return {[ANY_STALE]: true};
		}

		case 'only-if-cached': {
			return {onlyIfCached: true};
		}

		default: {
			throw new TypeError(`fetch(): unsupported cache mode ${JSON.stringify(mode)}`);
		}
	}
}

async function bodyOf(body: RequestInit['body'] | undefined): Promise<string | Uint8Array | undefined> {
	if (body === null || body === undefined) {
		return undefined;
	}

	if (typeof body === 'string' || body instanceof Uint8Array) {
		return body;
	}

	if (body instanceof ArrayBuffer) {
		return new Uint8Array(body);
	}

	if (body instanceof URLSearchParams) {
		return body.toString();
	}

	return new Uint8Array(await new globalThis.Response(body).arrayBuffer());
}

/**
 * A WHATWG `fetch` over a session, so fetch-style code (and fetch-based test suites) can use the
 * cache. `init.cache` maps to the cache: `no-store` and `no-cache` as request Cache-Control,
 * `reload` to `forceRefresh`, `force-cache` to accepting stale entries, `only-if-cached` to
 * `onlyIfCached`. `redirect: 'manual'` returns the redirect itself. Abort signals are honoured
 * before the request starts.
 */
export async function fetchWith(session: Requester, input: string | URL | globalThis.Request, init: FetchInit = {}): Promise<globalThis.Response> {
	const request = input instanceof globalThis.Request ? input : undefined;
	const url = request ? request.url : input as string | URL;
	const method = init.method ?? request?.method ?? 'GET';
	const headers: Record<string, string> = {};
	for (const [name, value] of new Headers(request?.headers)) {
		headers[name] = value;
	}

	for (const [name, value] of new Headers(init.headers)) {
		headers[name] = value;
	}

	const signal = init.signal ?? request?.signal;
	signal?.throwIfAborted();
	const redirect = init.redirect ?? request?.redirect ?? 'follow';
	const {extraHeaders, ...cacheOptions} = cacheModeOptions(init.cache ?? (request ? (request as {cache?: FetchCacheMode}).cache : undefined));
	const body = await bodyOf(init.body ?? (request?.body ? await request.arrayBuffer() : undefined));
	const options: RequestOptions = {headers: {...headers, ...extraHeaders}, followRedirects: redirect === 'follow', ...cacheOptions};
	if (signal !== undefined && signal !== null) {
		options.signal = signal;
	}

	if (body !== undefined) {
		options.body = body;
	}

	const response = await session.request(method, url, options);
	if (redirect === 'error' && response.status >= 300 && response.status < 400 && response.headers['location'] !== undefined) {
		throw new TypeError(`fetch(): redirect to ${String(response.headers['location'])} with redirect: 'error'`);
	}

	const outHeaders = new Headers();
	for (const [name, value] of Object.entries(response.headers)) {
		for (const item of Array.isArray(value) ? value : [value]) {
			outHeaders.append(name, item);
		}
	}

	const status = response.status < 200 ? 200 : response.status;
	// The Response constructor takes 200-599 only, but an origin may send any three-digit code
	// (RFC 9110 section 15): build with 599 (also not ok) and report the code actually received.
	const result = new globalThis.Response(noBodyStatuses.has(status) || method === 'HEAD' ? null : Buffer.from(response.body), {
		status: Math.min(status, 599),
		statusText: response.reason,
		headers: outHeaders,
	});
	Object.defineProperty(result, 'url', {value: response.url});
	if (status > 599) {
		Object.defineProperty(result, 'status', {value: status});
	}

	return result;
}
