import {answerResponse} from './doors/answer.js';
import {type FetchCacheMode, cacheModeOptions} from './doors/cache-modes.js';
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
	if (body === null || body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
		return body ?? undefined;
	}

	if (body instanceof URLSearchParams) {
		return body.toString();
	}

	return new Uint8Array(await new globalThis.Response(body).arrayBuffer());
}

/** A WHATWG `fetch` over a session (docs/http-caching.md: how `init.cache` modes map to cache options). */
export async function fetchWith(session: Requester, input: string | URL | globalThis.Request, init: FetchInit = {}): Promise<globalThis.Response> {
	const request = input instanceof globalThis.Request ? input : undefined;
	const url = request ? request.url : input as string | URL;
	const method = init.method ?? request?.method ?? 'GET';
	const headers = new Headers(request?.headers);
	for (const [name, value] of new Headers(init.headers)) {
		headers.set(name, value);
	}

	const signal = init.signal ?? request?.signal;
	signal?.throwIfAborted();
	const redirect = init.redirect ?? request?.redirect ?? 'follow';
	const modeOptions = cacheModeOptions(init.cache ?? (request as {cache?: FetchCacheMode} | undefined)?.cache, headers);
	const body = await bodyOf(init.body ?? (request?.body ? await request.arrayBuffer() : undefined));
	const options: RequestOptions = {headers: Object.fromEntries(headers), followRedirects: redirect === 'follow', ...modeOptions};
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

	return answerResponse(response, {head: method.toUpperCase() === 'HEAD', requestUrl: response.history[0]?.url ?? response.url, signal: signal ?? undefined});
}
