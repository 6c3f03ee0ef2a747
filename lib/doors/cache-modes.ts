import {DO_NOT_CACHE} from '../policy/expiration.js';
import {ANY_STALE, type CacheRequestOptions, REVALIDATE} from '../policy/request-options.js';

/** The fetch `cache` modes. */
export type FetchCacheMode = 'default' | 'no-store' | 'reload' | 'no-cache' | 'force-cache' | 'only-if-cached';

/** What a fetch `cache` mode asks of the cache, and the request headers fetch itself adds for it. */
export type CacheModePlan = {
	/** The per-request cache options. */
	readonly options: CacheRequestOptions;
	/** Headers added to the request unless it has them (Fetch standard, HTTP-network-or-cache fetch). */
	readonly headers: Readonly<Record<string, string>>;
};

// `no-store` and `reload` tell the caches on the way not to answer either (Fetch standard §4.5, step 8.18-8.19).
const noCacheHeaders = {'cache-control': 'no-cache', pragma: 'no-cache'};

const plans: Readonly<Record<FetchCacheMode, CacheModePlan>> = {
	default: {options: {}, headers: {}},
	// Neither read nor written: the request passes by the cache.
	'no-store': {options: {expireAfter: DO_NOT_CACHE}, headers: noCacheHeaders},
	reload: {options: {forceRefresh: true}, headers: noCacheHeaders},
	// Anything stored must be revalidated first: fetch's own header is not enough (an entry stored
	// this second has age 0, which max-age=0 accepts).
	'no-cache': {options: {[REVALIDATE]: true}, headers: {'cache-control': 'max-age=0'}},
	// Decided by the cache, not asked of the origin: no header is added.
	'force-cache': {options: {[ANY_STALE]: true}, headers: {}},
	'only-if-cached': {options: {onlyIfCached: true}, headers: {}},
};

/**
 * The one table from fetch `cache` modes to the cache, for every WHATWG front door
 * (`session.fetch`, the global fetch door): both send the origin the same headers for a mode.
 */
export function cacheModePlan(mode: string | undefined): CacheModePlan {
	const plan = mode === undefined ? plans.default : (plans as Record<string, CacheModePlan | undefined>)[mode];
	if (plan === undefined) {
		throw new TypeError(`fetch(): unsupported cache mode ${JSON.stringify(mode)}`);
	}

	return plan;
}

/** Add a plan's headers to `headers`, each unless the request has it already. */
export function addModeHeaders(plan: CacheModePlan, has: (name: string) => boolean, set: (name: string, value: string) => void): void {
	for (const name in plan.headers) {
		if (!has(name)) {
			set(name, plan.headers[name]!);
		}
	}
}
