import type {ExpireAfter} from './expiration.js';

import {optionTypeError} from '../errors.js';
import {parseExpireAfter} from './expiration.js';

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
	// 'default' (the session's expiration) and null (never) are the per-request forms parseExpireAfter leaves to the engine.
	if (expireAfter !== undefined && expireAfter !== 'default' && expireAfter !== null) {
		parseExpireAfter(expireAfter, owner, 'expireAfter');
	}
}
