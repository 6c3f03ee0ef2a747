import {Buffer} from 'node:buffer';
import type {PreparedRequest} from '../models/request.js';
import {type RedirectHop, Response, type ResponseHeaders} from '../models/response.js';
import {StreamingBody} from '../models/streaming-body.js';
import {answerResponse} from './answer.js';
import {askCache} from './ask-cache.js';
import {checkedAnswer} from './integrity.js';
import {cacheModeOptions} from './cache-modes.js';
import {doorOpened, isOutsideDoors, outsideDoors, replaceDoor} from './bypass.js';
import {preparedRequest} from './prepared-request.js';
import type {DoorOptions, DoorRequestOptions, EngineFor, RestoreDoor, SendOptions} from './types.js';

type Fetch = typeof globalThis.fetch;
/** What the caller's init says about how to send, kept on every request the door sends. */
type Sending = Pick<RequestInit, 'dispatcher' | 'keepalive'>;

const redirectStatuses: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const maxRedirects = 20;
const emptyBody = Buffer.alloc(0);
const bodyHeaders = ['content-type', 'content-encoding', 'content-language', 'content-location'];
const crossOriginHeaders = ['authorization', 'proxy-authorization', 'cookie'];

function fetchError(reason: string): TypeError {
	return new TypeError('fetch failed', {cause: new Error(reason)});
}

function headersOf(headers: Headers): ResponseHeaders {
	const record: ResponseHeaders = Object.fromEntries([...headers].filter(([name]) => name !== 'set-cookie'));
	const cookies = headers.getSetCookie();
	if (cookies.length > 0) {
		record['set-cookie'] = cookies;
	}

	return record;
}

/** The request a redirect leads to, as the Fetch standard rewrites it (RFC 9110 §15.4). */
function redirected(request: PreparedRequest, status: number, location: string): PreparedRequest {
	let url: URL;
	try {
		url = new URL(location, request.url);
	} catch {
		throw fetchError(`invalid redirect location ${JSON.stringify(location)}`);
	}

	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw fetchError('URL scheme must be a HTTP(S) scheme');
	}

	const headers = {...request.headers};
	let {method, body} = request;
	if ((status === 303 && method !== 'GET' && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
		method = 'GET';
		body = undefined;
		for (const name of bodyHeaders) {
			delete headers[name];
		}
	}

	if (url.origin !== new URL(request.url).origin) {
		for (const name of crossOriginHeaders) {
			delete headers[name];
		}
	}

	return {method, url: url.href, headers, body};
}

/** Send with the fetch below the door, following redirects hop by hop so that each is in the history. */
async function sendWithFetch(below: Fetch, sending: Sending, request: PreparedRequest, options: SendOptions, streamedBody?: ReadableStream<Uint8Array>): Promise<Response> {
	const history: RedirectHop[] = [];
	const signals = [options.signal, options.timeout === undefined ? undefined : AbortSignal.timeout(options.timeout)].filter(signal => signal !== undefined);
	const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
	let current = request;
	for (;;) {
		const init: RequestInit = {...sending, method: current.method, headers: current.headers, redirect: 'manual', ...(signal === undefined ? {} : {signal})};
		if (current.body !== undefined) {
			init.body = current.body;
		} else if (current === request && streamedBody !== undefined) {
			// A body the cache does not key on goes to the origin as the caller streams it.
			init.body = streamedBody;
			(init as {duplex?: string}).duplex = 'half';
		}

		const response = await below(current.url, init);
		const headers = headersOf(response.headers);
		const location = response.headers.get('location');
		if (options.followRedirects === false || !redirectStatuses.has(response.status) || location === null) {
			const streaming = response.body === null ? undefined : new StreamingBody(response.body);
			return new Response({status: response.status, reason: response.statusText, headers, url: current.url, body: emptyBody, request, history, streaming});
		}

		// A redirect's own body is nobody's to read.
		await response.body?.cancel().catch(() => undefined);
		if (history.length >= maxRedirects) {
			throw fetchError('redirect count exceeded');
		}

		history.push({status: response.status, url: current.url, headers});
		const next = redirected(current, response.status, location);
		if (current === request && streamedBody !== undefined && next.method === current.method) {
			// Fetch standard, HTTP-redirect fetch: a streamed body cannot be sent again.
			throw fetchError('cannot follow a redirect with a streamed request body');
		}

		current = next;
	}
}

/** The method and URL a fetch call names, read without building a `Request`; undefined when not http(s). */
function fetchTarget(input: unknown, init: RequestInit | undefined): {method: string; url: string} | undefined {
	let url: URL;
	try {
		url = input instanceof Request ? new URL(input.url) : new URL(String(input));
	} catch {
		return undefined;
	}

	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		return undefined;
	}

	return {method: String(init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(), url: url.href};
}

// Where undici (Node's and the npm package) keeps the default dispatcher.
const globalDispatcherSymbol = Symbol.for('undici.globalDispatcher.1');

/** An https request through a dispatcher of its own may present a client certificate we cannot read (docs/security.md, "The doors"). */
function mayCarryClientCertificate(dispatcher: unknown, url: string): boolean {
	return dispatcher !== undefined && dispatcher !== null && url.startsWith('https:') && dispatcher !== (globalThis as Record<symbol, unknown>)[globalDispatcherSymbol];
}

async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
	signal.throwIfAborted();
	let onAbort!: () => void;
	const aborted = new Promise<never>((_resolve, reject) => {
		onAbort = () => {
			reject(signal.reason);
		};

		signal.addEventListener('abort', onAbort, {once: true});
	});
	try {
		return await Promise.race([work, aborted]);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}

async function cachedFetch(below: Fetch, engineFor: EngineFor, options: DoorOptions, input: Parameters<Fetch>[0], init: RequestInit | undefined): Promise<globalThis.Response> {
	const target = fetchTarget(input, init);
	if (target === undefined || (options.wants !== undefined && !options.wants(target.method, target.url)) || mayCarryClientCertificate(init?.dispatcher, target.url)) {
		return below(input, init);
	}

	let request: Request;
	try {
		request = new Request(input, init);
	} catch {
		// Let fetch itself reject, with its own error.
		return below(input, init);
	}

	const extra: RequestInit | undefined = init?.dispatcher === undefined ? undefined : {dispatcher: init.dispatcher};
	const sending: Sending = {...extra};
	if (request.keepalive) {
		sending.keepalive = true;
	}

	if (request.cache === 'no-store') {
		return below(request, extra);
	}

	const headers = new Headers(request.headers);
	const modeOptions = cacheModeOptions(request.cache, headers);
	let cached;
	try {
		cached = engineFor(preparedRequest(request.method, request.url, headers, undefined));
	} catch {
		cached = undefined;
	}

	if (cached === undefined) {
		return below(request, extra);
	}

	// A body is read (and kept in memory) only when the cache keys on it: other bodies stream to the origin.
	const readsBody = cached.readsBody?.(request.method) ?? true;
	const body = request.body !== null && readsBody ? Buffer.from(await request.arrayBuffer()) : undefined;
	const streamedBody = readsBody || request.body === null ? undefined : request.body;
	const prepared = preparedRequest(request.method, request.url, headers, body);
	// `error` and `manual` both ask for the redirect itself: this door follows every hop.
	const doorOptions: DoorRequestOptions = {...modeOptions, followRedirects: request.redirect === 'follow', signal: request.signal};
	const outcome = await untilAborted(askCache(cached, prepared, doorOptions, async (outgoing, sendOptions) => outsideDoors(async () => sendWithFetch(below, sending, outgoing, sendOptions, outgoing === prepared ? streamedBody : undefined))), request.signal);
	switch (outcome.kind) {
		case 'passThrough': {
			// A body read once goes on as a request carrying those bytes.
			return below(request.body === null || !request.bodyUsed ? request : new Request(request, {body: body ?? null}), extra);
		}

		case 'error': {
			throw outcome.error;
		}

		case 'answer': {
			const {response} = outcome;
			if (request.redirect === 'error' && redirectStatuses.has(response.status) && response.headers['location'] !== undefined) {
				throw fetchError('unexpected redirect');
			}

			const answer = answerResponse(response, {head: request.method === 'HEAD', requestUrl: request.url, fromCacheHeader: options.fromCacheHeader, signal: request.signal});
			// On the miss and the hit alike: the door sends (and the cache replays) without it.
			return request.integrity === '' ? answer : checkedAnswer(answer, request.integrity);
		}
	}
}

/**
 * Put a cache in front of the global `fetch`; returns the function that takes the door down (docs/global-install.md).
 *
 * @example
 * const restore = installFetchDoor(request => request.method === 'GET' ? cachedSend : undefined);
 * await fetch('https://api.example.com/items'); // through the cache
 * restore();
 */
export function installFetchDoor(engineFor: EngineFor, options: DoorOptions = {}): RestoreDoor {
	const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
	if (descriptor === undefined || typeof globalThis.fetch !== 'function') {
		throw new TypeError('installFetchDoor(): this runtime has no global fetch to put a cache in front of');
	}

	replaceDoor('fetch');
	const below = globalThis.fetch;
	let active = true;
	const door = async function fetch(input: Parameters<Fetch>[0], init?: RequestInit): Promise<globalThis.Response> {
		if (!active || isOutsideDoors()) {
			return below(input, init);
		}

		return cachedFetch(below, engineFor, options, input, init);
	};

	Object.defineProperty(globalThis, 'fetch', {...descriptor, value: door});
	return doorOpened('fetch', () => {
		active = false;
		// Something that wrapped the door since stays; the door steps aside inside it.
		if (globalThis.fetch === door) {
			Object.defineProperty(globalThis, 'fetch', descriptor);
		}
	});
}
