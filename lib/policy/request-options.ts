import {optionTypeError} from '../errors.js';
import {type RequestExpireAfter, parseExpireAfter} from './expiration.js';

/** Cache options accepted per request by a cached session (and by any session after `installCache()`). */
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
};

/** The names of {@link CacheRequestOptions}: lib/cache-mixin.ts declares them to sessions, whose plain transport refuses them, so none is silently dropped. */
export const CACHE_REQUEST_OPTION_NAMES = Object.freeze(['expireAfter', 'refresh', 'forceRefresh', 'onlyIfCached'] as const);

/**
 * Accept a stored response however stale (fetch's `cache: 'force-cache'`). A symbol: set by the
 * `fetch` front door, never sent to an origin, and not a name a caller can mistype.
 */
export const ANY_STALE: unique symbol = Symbol('requests-cache.anyStale');

const booleanOptions = ['refresh', 'forceRefresh', 'onlyIfCached'] as const;

/**
 * Check the per-request cache options' types before the cache is read, naming the option in a
 * `TypeError`/`RangeError` (`refresh: 'yes'`, `forceRefresh: 1`, `onlyIfCached: 'true'`, a bad
 * `expireAfter`). Names other than {@link CACHE_REQUEST_OPTION_NAMES} are left to the caller.
 * @param owner - What to name in the error, such as `'request'` or `'session.get()'`.
 */
export function validateCacheRequestOptions(options: Readonly<Record<string, unknown>>, owner: string): void {
	for (const name of booleanOptions) {
		const value = options[name];
		if (value !== undefined && typeof value !== 'boolean') {
			throw optionTypeError(owner, name, 'a boolean', value);
		}
	}

	const {expireAfter} = options;
	// 'default' (the session's expiration) is the one per-request form parseExpireAfter leaves to the engine.
	if (expireAfter !== undefined && expireAfter !== 'default') {
		parseExpireAfter(expireAfter, owner, 'expireAfter');
	}
}
