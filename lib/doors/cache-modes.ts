import {DO_NOT_CACHE} from '../policy/expiration.js';
import {ANY_STALE, type CacheRequestOptions, REVALIDATE} from '../policy/request-options.js';

/** The fetch `cache` modes. */
export type FetchCacheMode = 'default' | 'no-store' | 'reload' | 'no-cache' | 'force-cache' | 'only-if-cached';

/** What a mode asks of the cache, and the request headers fetch itself adds for it (Fetch standard, HTTP-network-or-cache fetch). */
type CacheModePlan = {readonly options: CacheRequestOptions; readonly headers: Readonly<Record<string, string>>};

// `no-store` and `reload` tell the caches on the way not to answer either (Fetch standard §4.5, step 8.18-8.19).
const noCacheHeaders = {'cache-control': 'no-cache', pragma: 'no-cache'};

const plans: Readonly<Record<FetchCacheMode, CacheModePlan>> = {
	default: {options: {}, headers: {}},
	'no-store': {options: {expireAfter: DO_NOT_CACHE}, headers: noCacheHeaders},
	reload: {options: {forceRefresh: true}, headers: noCacheHeaders},
	// The header alone is not enough: an entry stored this second has age 0, which max-age=0 accepts.
	'no-cache': {options: {[REVALIDATE]: true}, headers: {'cache-control': 'max-age=0'}},
	'force-cache': {options: {[ANY_STALE]: true}, headers: {}},
	'only-if-cached': {options: {onlyIfCached: true}, headers: {}},
};

/**
 * The one table from fetch `cache` modes to the cache, for `session.fetch` and the global fetch
 * door alike: adds the mode's headers the request lacks, returns its cache options.
 */
export function cacheModeOptions(mode: string | undefined, headers: Headers): CacheRequestOptions {
	const plan = mode === undefined ? plans.default : (plans as Record<string, CacheModePlan | undefined>)[mode];
	if (plan === undefined) {
		throw new TypeError(`fetch(): unsupported cache mode ${JSON.stringify(mode)}`);
	}

	for (const [name, value] of Object.entries(plan.headers)) {
		if (!headers.has(name)) {
			headers.set(name, value);
		}
	}

	return plan.options;
}
