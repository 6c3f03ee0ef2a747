import type {RequestExpireAfter} from './expiration.js';

/**
 * Cache options accepted per request by a cached session (and by any session after `installCache()`);
 * checked and resolved where they are read, by `planRequest()` (lib/policy/actions.ts).
 */
export type CacheRequestOptions = {
	/**
	 * Expiration for this response; beats `urlsExpireAfter` and the session's `expireAfter`. `null`
	 * never expires; `'default'` takes the session's (or the installed cache's) `expireAfter`.
	 */
	expireAfter?: RequestExpireAfter;
	/** Revalidate a cached response that has a validator before using it; without one, serve the cache. */
	refresh?: boolean;
	/** Skip the cache read: always fetch, then store the new response. */
	forceRefresh?: boolean;
	/** Only answer from the cache; without a usable entry, return a synthetic 504 and contact no origin. */
	onlyIfCached?: boolean;
	/** Accept a stored response however stale (set by `session.fetch` for `cache: 'force-cache'`). */
	[ANY_STALE]?: boolean;
	/** Use nothing stored without the origin's word (set by the fetch doors for `cache: 'no-cache'`). */
	[REVALIDATE]?: boolean;
};

/** The names of {@link CacheRequestOptions}: lib/cache-mixin.ts declares them to sessions, whose plain transport refuses them, so none is silently dropped. */
export const CACHE_REQUEST_OPTION_NAMES = Object.freeze(['expireAfter', 'refresh', 'forceRefresh', 'onlyIfCached'] as const);

/**
 * Accept a stored response however stale (fetch's `cache: 'force-cache'`). A symbol: set by the
 * `fetch` front door, never sent to an origin, and not a name a caller can mistype.
 */
export const ANY_STALE: unique symbol = Symbol('requests-cache.anyStale');

/**
 * Use nothing stored without asking the origin first (fetch's `cache: 'no-cache'`), whatever its
 * age: fetch's `max-age=0` alone lets an entry stored this second be served. With 'rfc9111', a
 * fresh `immutable` response is still served, as on a reload (RFC 8246).
 */
export const REVALIDATE: unique symbol = Symbol('requests-cache.revalidate');
