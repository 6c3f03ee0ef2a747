import {answerResponse} from './doors/answer.js';
import {type FetchCacheMode, addModeHeaders, cacheModePlan} from './doors/cache-modes.js';
import type {Response} from './models/response.js';
import type {RequestOptions} from './session.js';

/** What `fetchWith` needs of a session. */
export type Requester = {
	request(method: string, url: string | URL, options?: RequestOptions): Promise<Response>;
};

export type {FetchCacheMode} from './doors/cache-modes.js';

/** `RequestInit` with its `cache` mode (absent from Node 20's types). */
export type FetchInit = RequestInit & {cache?: FetchCacheMode};

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
	// The same table as the global fetch door's: the origin sees the same headers for a mode.
	const plan = cacheModePlan(init.cache ?? (request ? (request as {cache?: FetchCacheMode}).cache : undefined));
	addModeHeaders(plan, name => headers[name] !== undefined, (name, value) => {
		headers[name] = value;
	});
	const body = await bodyOf(init.body ?? (request?.body ? await request.arrayBuffer() : undefined));
	const options: RequestOptions = {headers, followRedirects: redirect === 'follow', ...plan.options};
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

	// The same Response builder as the doors': status and reason, every header, the URL list.
	return answerResponse(response, {head: method.toUpperCase() === 'HEAD', requestUrl: response.history[0]?.url ?? response.url, signal: signal ?? undefined});
}
