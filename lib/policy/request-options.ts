import type {RequestExpireAfter} from './expiration.js';

/** Cache options accepted per request by a cached session (and by any session after `installCache()`). */
export type CacheRequestOptions = {
	/** Expiration for this response; beats `urlsExpireAfter` and the session's `expireAfter` (docs/expiration.md). */
	expireAfter?: RequestExpireAfter;
	/** Revalidate a cached response that has a validator before using it; without one, serve the cache. */
	refresh?: boolean;
	/** Skip the cache read: always fetch, then store the new response. */
	forceRefresh?: boolean;
	/** Only answer from the cache; without a usable entry, return a synthetic 504 and contact no origin. */
	onlyIfCached?: boolean;
	[ANY_STALE]?: boolean;
	[REVALIDATE]?: boolean;
};

/** The names of {@link CacheRequestOptions}, declared to sessions so that a plain transport refuses them rather than drop them. */
export const CACHE_REQUEST_OPTION_NAMES = Object.freeze(['expireAfter', 'refresh', 'forceRefresh', 'onlyIfCached'] as const);

/** Accept a stored response however stale (fetch's `force-cache`): a symbol, never sent on nor mistyped. */
export const ANY_STALE: unique symbol = Symbol('requests-cache.anyStale');

/** Use nothing stored without asking the origin (fetch's `no-cache`): `max-age=0` alone would serve an entry stored this second. */
export const REVALIDATE: unique symbol = Symbol('requests-cache.revalidate');
