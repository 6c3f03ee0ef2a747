import type {PreparedRequest, TransportOptions} from '../models/request.js';
import type {Response} from '../models/response.js';
import type {CacheRequestOptions} from '../policy/request-options.js';

/** How a front door sends a request to the origin (node:http's door sends `followRedirects: false`: its client follows them). */
export type SendOptions = TransportOptions;

/** Perform the real request; the response may come before its body (`streaming`). */
export type Send = (request: PreparedRequest, options: SendOptions) => Promise<Response>;

/** What a door asks of the cache for one request: the transport options and the fetch `cache` mode's options. */
export type DoorRequestOptions = SendOptions & CacheRequestOptions;

/** The cache for one request: it serves from the cache or calls `send`, and stores a streamed body once it is whole. */
export type CachedSend = ((request: PreparedRequest, options: DoorRequestOptions, send: Send) => Promise<Response>) & {
	/** Whether the cache reads (keys on) the body of a request with this method; if not, the door streams it unread. @default every body is read */
	readonly readsBody?: ((method: string) => boolean) | undefined;
};

/** Which cache handles a request, asked once per intercepted request; undefined passes it through. */
export type EngineFor = (request: PreparedRequest) => CachedSend | undefined;

/** Options shared by the doors. */
export type DoorOptions = {
	/**
	 * A response header that marks the responses served from the cache (`1`); a function is asked per answer.
	 * @default undefined (no header: a cached response looks exactly like a fresh one)
	 * @example {fromCacheHeader: 'x-from-cache'}
	 */
	fromCacheHeader?: string | (() => string | undefined) | undefined;
	/** A first look from the method and URL alone: `false` lets the request go on untouched. @default every request is intercepted */
	wants?: ((method: string, url: string) => boolean) | undefined;
};

/** Take a door down: later requests are no longer seen; requests in flight finish normally. */
export type RestoreDoor = () => void;
