import {Buffer} from 'node:buffer';
import {inspect} from 'node:util';
import {HTTPError} from '../errors.js';
import {decodeBody} from './charset.js';
import type {PreparedRequest} from './request.js';
import type {StreamingBody} from './streaming-body.js';

/** Response headers: lower-case names; `set-cookie` may repeat. */
export type ResponseHeaders = Record<string, string | string[]>;

/** One redirect hop that led to the final response. */
export type RedirectHop = {
	readonly status: number;
	readonly url: string;
	readonly headers: ResponseHeaders;
};

/** What a {@link Response} is built from. */
export type ResponseInit = {
	status: number;
	reason?: string | undefined;
	headers: ResponseHeaders;
	url: string;
	body: Buffer;
	request: PreparedRequest;
	history?: readonly RedirectHop[] | undefined;
	/** The last hop's request headers, when redirects were followed (see {@link Response.lastHopHeaders}). */
	lastHopHeaders?: Readonly<Record<string, string>> | undefined;
	/** Where the response came from; set by the cache engine. */
	cache?: CacheFacts | undefined;
	/** The body still arriving (a front door's answer from the origin): `body` is then empty. */
	streaming?: StreamingBody | undefined;
};

/** A response's cache facts, in one place: what the cache engine knows of where it came from. */
export type CacheFacts = {
	readonly fromCache: boolean;
	readonly createdAt: Date;
	readonly expires: Date | null;
	readonly isExpired: boolean;
	readonly revalidated: boolean;
	readonly cacheKey: string;
};

/** The same response with other cache facts (a new object sharing the fields; for the cache engine). */
export function withCacheFacts(response: Response, facts: CacheFacts): Response {
	const {status, reason, headers, url, body, request, history, lastHopHeaders, streaming} = response;
	return new Response({status, reason, headers, url, body, request, history, lastHopHeaders, cache: facts, streaming});
}

/**
 * An HTTP response, from the origin or the cache; 4xx and 5xx are returned, not thrown ({@link Response.raiseForStatus}).
 *
 * @example
 * const response = await session.get('https://api.example.com/users', {params: {page: 2}});
 * response.raiseForStatus();
 * console.log(response.fromCache, response.json());
 */
export class Response {
	/** The status code. */
	status: number;
	/** The status line's reason phrase (may be empty). */
	reason: string;
	/** Headers, lower-case names. */
	headers: ResponseHeaders;
	/** The final URL, after redirects. */
	url: string;
	/** The body bytes, decompressed. */
	body: Buffer;
	/** The request that produced this response. */
	request: PreparedRequest;
	/** The redirect hops, in order, that led here (empty when there was no redirect). */
	history: readonly RedirectHop[];
	/** The body still arriving, for a front door that answers as the bytes come (`body` is then empty); sessions never see one. */
	readonly streaming: StreamingBody | undefined;
	/** After redirects, the headers the last hop's request was sent with (the jar's cookies, a hook's headers; docs/security.md). */
	readonly lastHopHeaders: Readonly<Record<string, string>> | undefined;
	readonly #cache: CacheFacts;

	constructor(init: ResponseInit) {
		this.status = init.status;
		this.reason = init.reason ?? '';
		this.headers = init.headers;
		this.url = init.url;
		this.body = init.body;
		this.request = init.request;
		this.history = init.history ?? [];
		this.lastHopHeaders = init.lastHopHeaders;
		this.#cache = init.cache ?? {fromCache: false, createdAt: new Date(), expires: null, isExpired: false, revalidated: false, cacheKey: ''};
		this.streaming = init.streaming;
	}

	/** True when served from the cache (including a 304 revalidation). */
	get fromCache(): boolean {
		return this.#cache.fromCache;
	}

	/** When the response was received from the origin (for a cached response: when it was stored). */
	get createdAt(): Date {
		return this.#cache.createdAt;
	}

	/** When the response expires, or null if it never does (or was not cached). */
	get expires(): Date | null {
		return this.#cache.expires;
	}

	/** True when a cached response was served past its expiry (e.g. by `staleIfError`). */
	get isExpired(): boolean {
		return this.#cache.isExpired;
	}

	/** True when a cached response was confirmed by the origin with a 304. */
	get revalidated(): boolean {
		return this.#cache.revalidated;
	}

	/** The cache key of this request ('' when the request was not cacheable). */
	get cacheKey(): string {
		return this.#cache.cacheKey;
	}

	/** A copy that shares nothing mutable with this one (headers, repeated headers, body), cache facts included. */
	clone(): Response {
		const {status, reason, url, request, history, lastHopHeaders} = this;
		const headers = Object.fromEntries(Object.entries(this.headers).map(([name, value]) => [name, Array.isArray(value) ? [...value] : value]));
		// Callers sharing one origin request each read the bytes as they arrive.
		return new Response({status, reason, headers, url, body: Buffer.from(this.body), request, history, lastHopHeaders, cache: this.#cache, streaming: this.streaming?.branch()});
	}

	/** What the REPL and `console.log` show: status, method, URL, where it came from and its expiry. */
	[inspect.custom](): string {
		const facts = this.#cache;
		const from = facts.fromCache ? `fromCache${facts.revalidated ? ' revalidated' : ''}${facts.isExpired ? ' stale' : ''}` : 'from origin';
		const expires = facts.expires === null ? '' : ` expires=${facts.expires.toISOString()}`;
		return `<Response [${this.status}] ${this.request.method} ${this.url} ${from} ${this.body.length} bytes${expires}>`;
	}

	/** True for a status below 400. */
	get ok(): boolean {
		return this.status < 400;
	}

	/** The body as text, in its declared charset (any WHATWG Encoding label; a byte order mark wins; else UTF-8). */
	text(): string {
		return decodeBody(this.body, this.headers['content-type']);
	}

	/** The body parsed as JSON; a `SyntaxError` names the URL when it is not JSON. */
	json<T = unknown>(): T {
		try {
			return JSON.parse(this.text()) as T;
		} catch (error) {
			throw new SyntaxError(`Response body from ${this.url} is not valid JSON: ${(error as Error).message}`, {cause: error});
		}
	}

	/** Throw an {@link HTTPError} carrying this response if the status is 4xx or 5xx. */
	raiseForStatus(): this {
		if (this.status >= 400) {
			throw new HTTPError(this);
		}

		return this;
	}
}
