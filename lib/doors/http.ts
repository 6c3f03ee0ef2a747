import {Buffer} from 'node:buffer';
import http, {type ClientRequest} from 'node:http';
import https from 'node:https';
import {createRequire, syncBuiltinESMExports} from 'node:module';
import {urlToHttpOptions} from 'node:url';
import type * as InterceptorsRoot from '@mswjs/interceptors';
import type * as InterceptorsClientRequest from '@mswjs/interceptors/ClientRequest';
import type * as InterceptorsNode from '@mswjs/interceptors/utils/node';
import {answerResponse, answersWithBody} from './answer.js';
import {askCache} from './ask-cache.js';
import {doorOpened, isOutsideDoors, outsideDoors, replaceDoor} from './bypass.js';
import {httpTarget} from './http-target.js';
import {type HttpRoute, type RequestFunction, connectionOptionsOf, sendOverHttp} from './http-transport.js';
import {preparedRequest} from './prepared-request.js';
import {type TlsMaterial, tlsIdentityOf} from '../tls-identity.js';
import type {DoorOptions, EngineFor, RestoreDoor} from './types.js';

type Layer = readonly Function[];

/** The four module functions a client calls; the door layers over them. */
const entries = [
	{owner: http, key: 'request', protocol: 'http:'},
	{owner: http, key: 'get', protocol: 'http:'},
	{owner: https, key: 'request', protocol: 'https:'},
	{owner: https, key: 'get', protocol: 'https:'},
] as const;

/** What the interceptor's `request` event carries (the same in every copy of @mswjs/interceptors that shares its instance). */
type RequestEvent = {
	request: Request;
	controller: {readyState?: number; respondWith(response: globalThis.Response): void; errorWith(reason?: unknown): void};
};
type Listener = (event: RequestEvent) => Promise<void>;
type EmitterLike = {on(event: 'request', listener: Listener): unknown; removeListener(event: 'request', listener: Listener): unknown; listenerCount(event: 'request'): number};

const require = createRequire(import.meta.url);

// Node's own ClientRequest, which nock does not replace: docs/architecture.md, "Private internals we rely on" (#1).
const {ClientRequest: NodeClientRequest} = require('node:_http_client') as {ClientRequest: typeof http.ClientRequest};

type Interceptors = {
	ClientRequestInterceptor: typeof InterceptorsClientRequest.ClientRequestInterceptor;
	getRawRequest: typeof InterceptorsRoot.getRawRequest;
	getClientRequestBodyStream: typeof InterceptorsNode.getClientRequestBodyStream;
};

let interceptors: Interceptors | undefined;

/**
 * @mswjs/interceptors, loaded when the door first goes up (~25-100 ms of imports), from its
 * CommonJS build: one copy, so its helpers read what its interceptor wrote.
 */
function loadInterceptors(): Interceptors {
	interceptors ??= {
		ClientRequestInterceptor: (require('@mswjs/interceptors/ClientRequest') as typeof InterceptorsClientRequest).ClientRequestInterceptor,
		getRawRequest: (require('@mswjs/interceptors') as typeof InterceptorsRoot).getRawRequest,
		getClientRequestBodyStream: (require('@mswjs/interceptors/utils/node') as typeof InterceptorsNode).getClientRequestBodyStream,
	};
	return interceptors;
}

function nodeHttpRequest(...args: unknown[]): ClientRequest {
	return Reflect.construct(NodeClientRequest, args) as ClientRequest;
}

/** `https.request` past the patched module, with https' default agent (docs/architecture.md, "Private internals we rely on", #2). */
function nodeHttpsRequest(...args: unknown[]): ClientRequest {
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

// Wrapped by the interceptor: a request the door takes gets its emulated socket even with nock below, which plays the origin.
const nodeLayer: Layer = [
	nodeHttpRequest,
	function get(...args: unknown[]) {
		return nodeHttpRequest(...args).end();
	},
	nodeHttpsRequest,
	function get(...args: unknown[]) {
		return nodeHttpsRequest(...args).end();
	},
];

/** True when the call comes from another interceptor layered over the door (nock's agent): that one goes first. */
function fromInterceptorAbove(args: unknown[]): boolean {
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

	// `import {request} from 'node:http'` and `import * as http` read the ESM bindings.
	syncBuiltinESMExports();
}

/** `value[name]`, when value is an object. */
function propertyOf(value: unknown, name: string): unknown {
	return typeof value === 'object' && value !== null ? Reflect.get(value, name) : undefined;
}

function isHandled(controller: RequestEvent['controller']): boolean {
	// RequestController.PENDING is 0; an answered or failed request is someone else's now.
	return typeof controller.readyState === 'number' && controller.readyState !== 0;
}

async function bodyOf(request: Request): Promise<Buffer | undefined> {
	if (request.body !== null) {
		return Buffer.from(await request.arrayBuffer());
	}

	// A GET or HEAD with a body: the Fetch Request has none, the socket has it.
	if (request.headers.has('transfer-encoding') || Number(request.headers.get('content-length') ?? 0) > 0) {
		const chunks: Buffer[] = [];
		for await (const chunk of loadInterceptors().getClientRequestBodyStream(request)) {
			chunks.push(Buffer.from(chunk as Uint8Array));
		}

		return Buffer.concat(chunks);
	}

	return undefined;
}

/** Connect the emulated socket and confirm the writes at once, so the client's timeouts keep their meaning (docs/architecture.md, "Private internals we rely on", #3, #4, #9). */
function connectEarly(raw: ClientRequest | undefined): void {
	const socket: unknown = raw?.socket;
	const mockConnect = propertyOf(socket, 'mockConnect');
	if (typeof mockConnect !== 'function' || (socket as {connecting?: boolean}).connecting !== true) {
		return;
	}

	Reflect.apply(mockConnect, socket, []);
	// The interceptor connects again when it answers: once is what a real socket does.
	Reflect.set(socket as object, 'mockConnect', () => undefined);
	const flushWriteBuffer = propertyOf(socket, 'flushWriteBuffer');
	if (typeof flushWriteBuffer === 'function') {
		Reflect.apply(flushWriteBuffer, socket, []);
	}

	Reflect.set(socket as object, '_read', () => undefined);
}

function clientClosed(): DOMException {
	return new DOMException('The client closed the request', 'AbortError');
}

/** How the client would have reached the origin: its agent, socket and TLS options (docs/architecture.md, "Private internals we rely on", #5, #6). */
function routeOf(url: string, raw: ClientRequest | undefined, below: Layer): HttpRoute {
	const agent = propertyOf(propertyOf(raw, 'agent'), 'customAgent');
	const connection = propertyOf(raw?.socket, 'connectionOptions');
	return {
		request: below[url.startsWith('https:') ? 2 : 0] as RequestFunction,
		agent: agent instanceof http.Agent || agent === false ? agent : undefined,
		connection: connectionOptionsOf(typeof connection === 'object' && connection !== null ? connection as Record<string, unknown> : undefined),
	};
}

/**
 * Put a cache in front of `node:http` and `node:https` client requests (got, axios, node-fetch…)
 * with @mswjs/interceptors; returns the function that takes the door down (docs/global-install.md).
 *
 * @example
 * const restore = installHttpDoor(request => request.method === 'GET' ? cachedSend : undefined);
 * await got('https://api.example.com/items'); // through the cache
 * restore();
 */
export function installHttpDoor(engineFor: EngineFor, options: DoorOptions = {}): RestoreDoor {
	replaceDoor('http');
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

		try {
			const cached = engineFor(preparedRequest(method, url, request.headers, undefined));
			if (cached === undefined) {
				return;
			}

			// A body is read (and kept in memory) only when the cache keys on it: other bodies stream to the origin.
			const readsBody = cached.readsBody?.(method) ?? true;
			const body = readsBody ? await bodyOf(request) : undefined;
			const streamedBody = readsBody || request.body === null ? undefined : {stream: request.body, length: request.headers.get('content-length') ?? undefined};
			const raw = loadInterceptors().getRawRequest(request) as ClientRequest | undefined;
			const route = routeOf(url, raw, below);
			// The agent's `options` (public on `https.Agent`) may hold a client certificate too.
			const tlsIdentity = url.startsWith('https:') ? tlsIdentityOf(route.connection) ?? tlsIdentityOf(propertyOf(route.agent ?? https.globalAgent, 'options') as TlsMaterial | undefined) : undefined;
			const prepared = preparedRequest(method, url, request.headers, body, tlsIdentity);
			connectEarly(raw);
			// A client that destroys its request before the answer stops the cache waiting for it.
			const abort = new AbortController();
			const onClose = (): void => {
				abort.abort(clientClosed());
			};

			raw?.once('close', onClose);
			const outcome = await askCache(cached, prepared, {followRedirects: false, signal: raw && abort.signal}, async (outgoing, sendOptions) => outsideDoors(async () => sendOverHttp(outgoing, sendOptions, route, outgoing === prepared ? streamedBody : undefined)));
			raw?.off('close', onClose);
			if (isHandled(controller)) {
				outcome.kind === 'answer' && outcome.response.streaming?.abort(new Error('the request was answered elsewhere'));
				return;
			}

			if (outcome.kind === 'answer') {
				const {streaming} = outcome.response;
				if (streaming !== undefined && answersWithBody(outcome.response.status, method === 'HEAD')) {
					// A client that goes away stops the download it no longer reads (a no-op once the body is whole).
					raw?.once('close', () => {
						streaming.abort(clientClosed());
					});
				}

				if (outcome.response.fromCache) {
					// Where got reads `isFromCache`; set before any other listener sees the response.
					raw?.prependOnceListener('response', (response: http.IncomingMessage) => {
						Object.defineProperty(response, 'fromCache', {value: true, enumerable: true, configurable: true, writable: true});
					});
				}

				controller.respondWith(answerResponse(outcome.response, {head: method === 'HEAD', requestUrl: url, fromCacheHeader}));
			} else if (outcome.kind === 'error') {
				controller.errorWith(outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error)));
			}
			// passThrough: returning unanswered lets the interceptor send the request on as it is.
		} catch {
			// Never a failure of ours in the client: unanswered, the request goes on to the network.
		}
	};

	writeLayer(nodeLayer);
	// Node loads the fetch classes the interceptor uses (undici, ~50-150 ms) on first use: now, not in the first request's time.
	void [globalThis.Request, globalThis.Response, globalThis.Headers];
	const {ClientRequestInterceptor} = loadInterceptors();
	const interceptor = new ClientRequestInterceptor();
	interceptor.apply();
	// Join an instance another copy (MSW's) applied first: docs/architecture.md, "Private internals we rely on" (#7).
	const owner: object = (globalThis as Record<symbol, object | undefined>)[ClientRequestInterceptor.symbol] ?? interceptor;
	const emitter = Reflect.get(owner, 'emitter') as EmitterLike;
	emitter.on('request', listener);
	const intercepted = owner === interceptor ? readLayer() : below;
	const interceptedClientRequest = http.ClientRequest;
	const top: Layer = entries.map(({key, protocol}, index) => {
		const layered = function (this: unknown, ...given: unknown[]): unknown {
			// @mswjs/interceptors (0.39, 0.41) cannot clone `urlToHttpOptions`' null-prototype objects when one of its interceptors calls another.
			const args = given.map(arg => typeof arg === 'object' && arg !== null && !(arg instanceof URL) && Object.getPrototypeOf(arg) === null ? {...arg} : arg);
			let fn = below[index]!;
			if (active && !isOutsideDoors() && !fromInterceptorAbove(args)) {
				const target = wants === undefined ? undefined : httpTarget(args, protocol);
				if (target === undefined || wants!(target.method, target.url)) {
					fn = intercepted[index]!;
				}
			}

			return Reflect.apply(fn, this, args);
		};

		return Object.defineProperty(layered, 'name', {value: key});
	});
	writeLayer(top);

	return doorOpened('http', () => {
		active = false;
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

		// When others still listen on this interceptor it stays; else what was below comes back.
		const beneath = owner === interceptor && othersListen ? intercepted : below;
		writeLayer(current.map((fn, index) => fn === top[index] ? beneath[index]! : fn));
	});
}
