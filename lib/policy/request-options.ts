import type {ExpireAfter} from './expiration.js';

/** Cache options accepted per request by a cached session (and by any session after `installCache()`). */
export type CacheRequestOptions = {
	/** Expiration for this response; beats `urlsExpireAfter` and the session's `expireAfter`. */
	expireAfter?: ExpireAfter;
	/** Revalidate a cached response that has a validator before using it; without one, serve the cache. */
	refresh?: boolean;
	/** Skip the cache read: always fetch, then store the new response. */
	forceRefresh?: boolean;
	/** Only answer from the cache; without a usable entry, return a synthetic 504 and contact no origin. */
	onlyIfCached?: boolean;
};

/** The names of {@link CacheRequestOptions}, checked by the plain transport so none is silently dropped. */
export const CACHE_REQUEST_OPTION_NAMES = Object.freeze(['expireAfter', 'refresh', 'forceRefresh', 'onlyIfCached'] as const);
