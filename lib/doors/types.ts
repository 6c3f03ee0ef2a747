import type {PreparedRequest} from '../models/request.js';
import type {Response} from '../models/response.js';

/** How a front door sends a request to the origin. */
export type SendOptions = {
	/** Timeout of the whole request in milliseconds. @default undefined (none) */
	timeout?: number;
	/** Follow redirects. A door that lets its client follow them (node:http) sends `false`. */
	followRedirects?: boolean;
};

/** Perform the real request for a prepared request and buffer its response (the body decoded). */
export type Send = (request: PreparedRequest, options: SendOptions) => Promise<Response>;

/**
 * What a door asks of the cache for one request: the transport options plus the per-request
 * cache options a client can express (the global fetch's `cache` modes).
 */
export type DoorRequestOptions = SendOptions & {
	/** Ignore what is stored, send, and store the answer (fetch `cache: 'reload'`). */
	forceRefresh?: boolean;
	/** Answer from the cache only; a 504 when nothing usable is stored (fetch `cache: 'only-if-cached'`). */
	onlyIfCached?: boolean;
};

/** The cache for one request: handle it (serving from the cache, or calling send), or undefined to pass it through untouched. */
export type CachedSend = (request: PreparedRequest, options: DoorRequestOptions, send: Send) => Promise<Response>;

/** Which cache handles a request, asked once per intercepted request; undefined passes it through. */
export type EngineFor = (request: PreparedRequest) => CachedSend | undefined;

/** Options shared by the doors. */
export type DoorOptions = {
	/**
	 * A response header that marks the responses served from the cache (`1`), so a program can
	 * tell them apart; absent on responses from the network.
	 * @default undefined (no header: a cached response looks exactly like a fresh one)
	 * @example {fromCacheHeader: 'x-from-cache'}
	 */
	fromCacheHeader?: string | undefined;
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
