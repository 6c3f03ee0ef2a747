/**
 * How the options recognize a `BaseCache` given as `backend` without importing the class: the
 * policy's settings must not import the cache (data flows from the cache to the policy, never
 * back). A symbol on every `BaseCache`; `Symbol.for`, so that another copy of this package's
 * caches are recognized as well. This module imports nothing.
 */
export const BASE_CACHE: unique symbol = Symbol.for('requests-cache.BaseCache');

/** What the options know of a `BaseCache`: that it is one. Every `BaseCache` is assignable to it. */
export type BaseCacheBrand = {readonly [BASE_CACHE]: true};

/** True when `value` is a `BaseCache` (of this or another copy of the package). */
export function isBaseCache(value: unknown): value is BaseCacheBrand {
	return typeof value === 'object' && value !== null && (value as {[BASE_CACHE]?: unknown})[BASE_CACHE] === true;
}
