import {Buffer} from 'node:buffer';
import http, {type ClientRequest} from 'node:http';
import https from 'node:https';
import {createRequire, syncBuiltinESMExports} from 'node:module';
import {urlToHttpOptions} from 'node:url';
import type * as InterceptorsRoot from '@mswjs/interceptors';
import type * as InterceptorsClientRequest from '@mswjs/interceptors/ClientRequest';
import type * as InterceptorsNode from '@mswjs/interceptors/utils/node';
import {answerResponse, answersWithBody, headerName} from './answer.js';
import {askCache} from './ask-cache.js';
import {doorOpened, isOutsideDoors, outsideDoors} from './bypass.js';
import {httpTarget} from './http-target.js';
import {type HttpRoute, type RequestFunction, connectionOptionsOf, sendOverHttp} from './http-transport.js';
import {preparedRequest} from './prepared-request.js';
import {type TlsMaterial, tlsIdentityOf} from '../tls-identity.js';
import type {DoorOptions, EngineFor, RestoreDoor} from './types.js';

/** The four module functions a client calls; the door layers over them. */
type Entry = {readonly owner: typeof http | typeof https; readonly key: 'request' | 'get'; readonly protocol: 'http:' | 'https:'};
type Layer = readonly Function[];

const entries: readonly Entry[] = [
	{owner: http, key: 'request', protocol: 'http:'},
	{owner: http, key: 'get', protocol: 'http:'},
	{owner: https, key: 'request', protocol: 'https:'},
	{owner: https, key: 'get', protocol: 'https:'},
];

/** What the interceptor's `request` event carries (the same in every copy of @mswjs/interceptors that shares its instance). */
type RequestEvent = {
	request: Request;
	controller: {readyState?: number; respondWith(response: globalThis.Response): void; errorWith(reason?: unknown): void};
};
type Listener = (event: RequestEvent) => Promise<void>;
type EmitterLike = {on(event: 'request', listener: Listener): unknown; removeListener(event: 'request', listener: Listener): unknown; listenerCount(event: 'request'): number};

// The http door in place, so that a second install replaces it instead of stacking on it.
let restoreInstalled: RestoreDoor | undefined;

const require = createRequire(import.meta.url);

// Node's own ClientRequest, from the module nothing patches (nock replaces http.ClientRequest).
const {ClientRequest: NodeClientRequest} = require('node:_http_client') as {ClientRequest: typeof http.ClientRequest};

type Interceptors = {
	ClientRequestInterceptor: typeof InterceptorsClientRequest.ClientRequestInterceptor;
	getRawRequest: typeof InterceptorsRoot.getRawRequest;
	getClientRequestBodyStream: typeof InterceptorsNode.getClientRequestBodyStream;
};

let interceptors: Interceptors | undefined;

/**
 * @mswjs/interceptors, loaded when the door first goes up (~25-100 ms of imports a program that
 * never installs the http door does not pay). Its CommonJS build, loaded synchronously: one copy,
 * so the raw request and body-stream helpers read what its interceptor wrote.
 */
function loadInterceptors(): Interceptors {
	interceptors ??= {
		ClientRequestInterceptor: (require('@mswjs/interceptors/ClientRequest') as typeof InterceptorsClientRequest).ClientRequestInterceptor,
		getRawRequest: (require('@mswjs/interceptors') as typeof InterceptorsRoot).getRawRequest,
		getClientRequestBodyStream: (require('@mswjs/interceptors/utils/node') as typeof InterceptorsNode).getClientRequestBodyStream,
	};
	return interceptors;
}

function rawRequestOf(request: Request): ClientRequest | undefined {
	return loadInterceptors().getRawRequest(request) as ClientRequest | undefined;
}

type Arguments = unknown[];

function nodeHttpRequest(...args: Arguments): ClientRequest {
	return Reflect.construct(NodeClientRequest, args) as ClientRequest;
}

function nodeHttpsRequest(...args: Arguments): ClientRequest {
	// As Node's https.request: the URL's options, then the caller's, with https' default agent.
	let options: Record<string, unknown> = {};
	const rest = [...args];
	if (typeof rest[0] === 'string' || rest[0] instanceof URL) {
		options = {...urlToHttpOptions(new URL(String(rest.shift())))};
	}

	if (rest[0] !== undefined && typeof rest[0] !== 'function') {
		Object.assign(options, rest.shift());
	}

	options['_defaultAgent'] = https.globalAgent;
	return Reflect.construct(NodeClientRequest, [options, ...rest]) as ClientRequest;
}

/**
 * Node's own four functions, whatever the modules hold now. The interceptor wraps these, so a
 * request the door takes gets the door's emulated socket even when another interceptor (nock)
 * sits below: that one then sees only what the door sends, as the origin behind the cache.
 */
const nodeLayer: Layer = [
	nodeHttpRequest,
	function get(...args: Arguments) {
		return nodeHttpRequest(...args).end();
	},
	nodeHttpsRequest,
	function get(...args: Arguments) {
		return nodeHttpsRequest(...args).end();
	},
];

/** True when the call comes from another interceptor layered over the door (nock's agent): that one goes first. */
function fromInterceptorAbove(args: Arguments): boolean {
	const options = args.find(arg => typeof arg === 'object' && arg !== null && !(arg instanceof URL)) as {agent?: unknown} | undefined;
	const agent = options?.agent;
	return agent instanceof http.Agent && /^Mock(Https)?Agent$/.test(agent.constructor.name);
}

function readLayer(): Layer {
	return entries.map(({owner, key}) => owner[key]);
}

function writeLayer(layer: Layer): void {
	for (const [index, {owner, key}] of entries.entries()) {
		(owner as unknown as Record<string, unknown>)[key] = layer[index];
	}

	// `import {request} from 'node:http'` and `import * as http` read the ESM bindings: sync them.
	syncBuiltinESMExports();
}

/**
 * Call `fn` with option objects that have a prototype. Node's `urlToHttpOptions` gives a
 * null-prototype object, which @mswjs/interceptors (0.39 and 0.41) cannot clone when one of its
 * interceptors calls another (nock's inside the door, or the door inside nock's).
 */
function withPlainOptions(fn: Function, name: string): Function {
	const layered = function (this: unknown, ...args: unknown[]): unknown {
		return Reflect.apply(fn, this, args.map(arg => typeof arg === 'object' && arg !== null && !(arg instanceof URL) && Object.getPrototypeOf(arg) === null ? {...arg} : arg));
	};

	Object.defineProperty(layered, 'name', {value: name});
	return layered;
}

function isHandled(controller: RequestEvent['controller']): boolean {
	// RequestController.PENDING is 0; an answered or failed request is someone else's now.
	return typeof controller.readyState === 'number' && controller.readyState !== 0;
}

async function bodyOf(request: Request): Promise<Buffer | undefined> {
	if (request.body !== null) {
		return Buffer.from(await request.arrayBuffer());
	}

	// A GET or HEAD with a body (a search API's, say): the Fetch Request has none, the socket has it.
	if (request.headers.has('transfer-encoding') || Number(request.headers.get('content-length') ?? 0) > 0) {
		const chunks: Buffer[] = [];
		for await (const chunk of loadInterceptors().getClientRequestBodyStream(request)) {
			chunks.push(Buffer.from(chunk as Uint8Array));
		}

		return Buffer.concat(chunks);
	}

	return undefined;
}

/**
 * Tell the client its (emulated) connection is up and its request sent, as soon as the cache takes
 * the request: from then on the cache answers, quickly or after asking the origin. Without this
 * the interceptor connects and confirms the writes only when it answers, so a client's connect
 * and send timeouts (got's `timeout.connect`, `timeout.send`) fire on a slow miss, and its
 * response timeout never starts. (Private members of the interceptor's MockHttpSocket, 0.41.)
 */
function connectEarly(request: Request): void {
	const socket: unknown = rawRequestOf(request)?.socket;
	const mockConnect: unknown = typeof socket === 'object' && socket !== null ? Reflect.get(socket, 'mockConnect') : undefined;
	if (typeof mockConnect !== 'function' || (socket as {connecting?: boolean}).connecting !== true) {
		return;
	}

	Reflect.apply(mockConnect, socket, []);
	// The interceptor connects again when it answers: once is what a real socket does.
	Reflect.set(socket as object, 'mockConnect', () => undefined);
	// The whole request has been read by now: its writes are done (got's `timeout.send` waits for that).
	const flushWriteBuffer: unknown = Reflect.get(socket as object, 'flushWriteBuffer');
	if (typeof flushWriteBuffer === 'function') {
		Reflect.apply(flushWriteBuffer, socket, []);
	}

	// The emulated socket pushes the answer as it comes and has no handle to start reading from:
	// net.Socket's own `_read` would wait for a 'connect' that has been, one listener per read of a
	// body streamed from the origin (a MaxListenersExceededWarning after ten).
	Reflect.set(socket as object, '_read', () => undefined);
}

/**
 * A signal that aborts when the client gives up on its request (destroys it before the answer):
 * the cache then stops waiting for it, and the origin request is cancelled unless others share
 * it. `settled()` stops watching once the answer is there.
 */
function clientAbort(request: Request): {signal: AbortSignal | undefined; settled: () => void} {
	const raw = rawRequestOf(request);
	if (raw === undefined) {
		return {signal: undefined, settled: () => undefined};
	}

	const controller = new AbortController();
	const onClose = (): void => {
		controller.abort(new DOMException('The client closed the request', 'AbortError'));
	};

	raw.once('close', onClose);
	return {
		signal: controller.signal,
		settled() {
			raw.off('close', onClose);
		},
	};
}

/**
 * Say on the client's `IncomingMessage` that it came from the cache, where got (and
 * cacheable-request) read it: `response.fromCache`, so got's `response.isFromCache` is true.
 * Set before any other listener of the response sees it.
 */
function markFromCache(request: Request): void {
	rawRequestOf(request)?.prependOnceListener('response', (response: http.IncomingMessage) => {
		Object.defineProperty(response, 'fromCache', {value: true, enumerable: true, configurable: true, writable: true});
	});
}

/** The TLS options an agent was made with (`options`, public on `https.Agent`), where a client certificate may be. */
function agentOptions(agent: unknown): TlsMaterial | undefined {
	const options: unknown = typeof agent === 'object' && agent !== null ? Reflect.get(agent, 'options') : undefined;
	return typeof options === 'object' && options !== null ? options as TlsMaterial : undefined;
}

/** How the client would have reached the origin: its agent and its socket and TLS options. */
function routeOf(request: Request, below: Layer): HttpRoute {
	const raw = rawRequestOf(request);
	// The interceptor gave the request its own agent, which keeps the client's as `customAgent`.
	const mockAgent: unknown = raw === undefined ? undefined : Reflect.get(raw, 'agent');
	const agent: unknown = typeof mockAgent === 'object' && mockAgent !== null ? Reflect.get(mockAgent, 'customAgent') : undefined;
	const connection: unknown = raw?.socket ? Reflect.get(raw.socket, 'connectionOptions') : undefined;
	const https = new URL(request.url).protocol === 'https:';
	return {
		request: below[https ? 2 : 0] as RequestFunction,
		agent: agent instanceof http.Agent || agent === false ? agent : undefined,
		connection: connectionOptionsOf(typeof connection === 'object' && connection !== null ? connection as Record<string, unknown> : undefined),
	};
}

/**
 * Put a cache in front of `node:http` and `node:https` client requests (`request`, `get`, and
 * so got, axios, node-fetch, superagent…), with @mswjs/interceptors' ClientRequestInterceptor:
 * a request `engineFor` gives a cache to is answered by it through an emulated socket (a hit
 * opens no connection; a miss is sent with the client's own agent and TLS options), the others
 * go on untouched. Returns the function that takes the door down: the module functions are
 * restored as they were, or, when something layered over the door since, the door steps aside
 * inside that layer.
 *
 * @example
 * const restore = installHttpDoor(request => request.method === 'GET' ? cachedSend : undefined);
 * await got('https://api.example.com/items'); // through the cache
 * restore();
 */
export function installHttpDoor(engineFor: EngineFor, options: DoorOptions = {}): RestoreDoor {
	if (typeof engineFor !== 'function') {
		throw new TypeError(`installHttpDoor() takes an engineFor function, got ${typeof engineFor}`);
	}

	restoreInstalled?.();
	const {wants, fromCacheHeader} = options;
	let active = true;
	const below = readLayer();

	const listener: Listener = async ({request, controller}) => {
		if (!active || isOutsideDoors() || isHandled(controller)) {
			return;
		}

		const {method, url} = request;
		// A tunnel, an upgrade or a 100-continue exchange is a conversation, not a cacheable message.
		if (method === 'CONNECT' || request.headers.has('upgrade') || request.headers.has('expect') || (wants !== undefined && !wants(method, url))) {
			return;
		}

		let cached;
		try {
			cached = engineFor(preparedRequest(method, url, request.headers, undefined));
			if (cached === undefined) {
				return;
			}

			// A body is read (and kept in memory) only when the cache keys on it: other bodies stream to the origin.
			const readsBody = cached.readsBody?.(method) ?? true;
			const body = readsBody ? await bodyOf(request) : undefined;
			const streamedBody = readsBody || request.body === null ? undefined : {stream: request.body, length: request.headers.get('content-length') ?? undefined};
			const route = routeOf(request, below);
			// A client certificate authenticates the request as a credential does: part of its identity.
			const tlsIdentity = url.startsWith('https:') ? tlsIdentityOf(route.connection) ?? tlsIdentityOf(agentOptions(route.agent ?? https.globalAgent)) : undefined;
			const prepared = tlsIdentity === undefined ? preparedRequest(method, url, request.headers, body) : {...preparedRequest(method, url, request.headers, body), tlsIdentity};
			connectEarly(request);
			const abort = clientAbort(request);
			const outcome = await askCache(cached, prepared, {followRedirects: false, signal: abort.signal}, async (outgoing, sendOptions) => outsideDoors(async () => sendOverHttp(outgoing, sendOptions, route, outgoing === prepared ? streamedBody : undefined)));
			abort.settled();
			if (isHandled(controller)) {
				outcome.kind === 'answer' && outcome.response.streaming?.abort(new Error('the request was answered elsewhere'));
				return;
			}

			if (outcome.kind === 'answer') {
				const {streaming} = outcome.response;
				if (streaming !== undefined && answersWithBody(outcome.response.status, method === 'HEAD')) {
					// A client that goes away stops the download it no longer reads (a no-op once the body is whole).
					rawRequestOf(request)?.once('close', () => {
						streaming.abort(new DOMException('The client closed the request', 'AbortError'));
					});
				}

				if (outcome.response.fromCache) {
					markFromCache(request);
				}

				controller.respondWith(answerResponse(outcome.response, {head: method === 'HEAD', requestUrl: url, fromCacheHeader: headerName(fromCacheHeader)}));
			} else if (outcome.kind === 'error') {
				controller.errorWith(outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error)));
			}
			// passThrough: returning unanswered lets the interceptor send the request on as it is.
		} catch {
			// Never a failure of ours in the client: unanswered, the request goes on to the network.
		}
	};

	writeLayer(nodeLayer);
	// The interceptor hands each request over as a fetch Request and takes a Response: Node loads
	// those classes (undici, ~50-150 ms) on first use. Loaded now, not in the first request's time.
	void [globalThis.Request, globalThis.Response, globalThis.Headers];
	const {ClientRequestInterceptor} = loadInterceptors();
	const interceptor = new ClientRequestInterceptor();
	interceptor.apply();
	// A copy of the library that shares its instance (MSW's) may have patched node:http first:
	// the listener then joins that instance, which stays its owner's to dispose.
	const owner: object = (globalThis as Record<symbol, object | undefined>)[ClientRequestInterceptor.symbol] ?? interceptor;
	const emitter = Reflect.get(owner, 'emitter') as EmitterLike;
	emitter.on('request', listener);
	const intercepted = owner === interceptor ? readLayer() : below;
	const interceptedClientRequest = http.ClientRequest;
	const top: Layer = entries.map(({key, protocol}, index) => withPlainOptions(function (this: unknown, ...args: unknown[]): unknown {
		let fn = below[index]!;
		if (active && !isOutsideDoors() && !fromInterceptorAbove(args)) {
			const target = wants === undefined ? undefined : httpTarget(args, protocol);
			if (target === undefined || wants!(target.method, target.url)) {
				fn = intercepted[index]!;
			}
		}

		return Reflect.apply(fn, this, args);
	}, key));
	writeLayer(top);

	const closeDoor = doorOpened();
	const restore: RestoreDoor = () => {
		if (!active) {
			return;
		}

		active = false;
		closeDoor();
		emitter.removeListener('request', listener);
		const current = readLayer();
		const currentClientRequest = http.ClientRequest;
		const othersListen = emitter.listenerCount('request') > 0;
		if (owner === interceptor && !othersListen) {
			interceptor.dispose();
			// The interceptor puts back the constructor it found; one replaced since (nock's) stays.
			if (currentClientRequest !== interceptedClientRequest) {
				http.ClientRequest = currentClientRequest;
			}
		}

		// Others listening on this interceptor keep it; what was below comes back otherwise.
		const beneath = owner === interceptor && othersListen ? intercepted : below;
		writeLayer(current.map((fn, index) => fn === top[index] ? beneath[index]! : fn));
		if (restoreInstalled === restore) {
			restoreInstalled = undefined;
		}
	};

	restoreInstalled = restore;
	return restore;
}
