import type {PreparedRequest, TransportOptions} from '../models/request.js';
import type {Response} from '../models/response.js';
import type {CacheRequestOptions} from '../policy/request-options.js';

/**
 * How a front door sends a request to the origin: timeout, redirects (a door whose client follows
 * them itself, node:http, sends `false`), and the signal that cancels it.
 */
export type SendOptions = TransportOptions;

/**
 * Perform the real request for a prepared request. The response may come before its body
 * (`streaming`: the bytes as they arrive), or buffered with its body decoded.
 */
export type Send = (request: PreparedRequest, options: SendOptions) => Promise<Response>;

/**
 * What a door asks of the cache for one request: the transport options plus the per-request
 * cache options a client can express (the global fetch's `cache` modes).
 */
export type DoorRequestOptions = SendOptions & CacheRequestOptions;

/**
 * The cache for one request: handle it (serving from the cache, or calling send), or undefined
 * to pass it through untouched. `send` may answer before the body has arrived (a `Response`
 * with `streaming`): the cache hands such a response back at once and stores it, when it may,
 * once the body is whole.
 */
export type CachedSend = ((request: PreparedRequest, options: DoorRequestOptions, send: Send) => Promise<Response>) & {
	/**
	 * Whether the cache reads the body of a request with this method (it keys on it): when it
	 * does not, the door streams the body to the origin unread, and the prepared request has none.
	 * @default every body is read
	 */
	readonly readsBody?: ((method: string) => boolean) | undefined;
};

/** Which cache handles a request, asked once per intercepted request; undefined passes it through. */
export type EngineFor = (request: PreparedRequest) => CachedSend | undefined;

/** Options shared by the doors. */
export type DoorOptions = {
	/**
	 * A response header that marks the responses served from the cache (`1`), so a program can
	 * tell them apart; absent on responses from the network. A function is asked per answer (in
	 * the request's async context).
	 * @default undefined (no header: a cached response looks exactly like a fresh one)
	 * @example {fromCacheHeader: 'x-from-cache'}
	 */
	fromCacheHeader?: string | (() => string | undefined) | undefined;
	/**
	 * A first look at a request before it is intercepted, from its method and URL alone: `false`
	 * lets it go on untouched, at no cost (for `node:http`, without the socket emulation a
	 * request pays once intercepted). Scope and URL filters belong here; `engineFor` has the final say.
	 * @default every request is intercepted and shown to `engineFor`
	 */
	wants?: ((method: string, url: string) => boolean) | undefined;
};

/** Take a door down: later requests are no longer seen; requests in flight finish normally. */
export type RestoreDoor = () => void;
