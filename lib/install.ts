import type {BaseCache} from './cache/base-cache.js';
import {type CacheState, cachedSend, createCacheState, hasOwnCache, runWithCacheDisabled} from './cache-mixin.js';
import type {PreparedRequest} from './models/request.js';
import type {Response} from './models/response.js';
import type {CacheOptions} from './policy/settings.js';
import {type SendOptions, Session} from './session.js';

let installed: CacheState | undefined;
let originalSend: Session['send'] | undefined;

async function installedSend(this: Session, request: PreparedRequest, options: SendOptions = {}): Promise<Response> {
	const send = originalSend!;
	const state = installed;
	if (state === undefined || hasOwnCache(this)) {
		return send.call(this, request, options);
	}

	return cachedSend(state, request, options, async (r, o) => send.call(this, r, o));
}

function resolveArguments(cacheName: string | CacheOptions | undefined, options: CacheOptions | undefined): CacheOptions {
	if (typeof cacheName === 'object' && cacheName !== null) {
		if (options !== undefined) {
			throw new TypeError('installCache(options) takes no second argument when the first is an options object');
		}

		return cacheName;
	}

	if (cacheName !== undefined && typeof cacheName !== 'string') {
		throw new TypeError(`installCache() cacheName must be a string, got ${typeof cacheName}`);
	}

	return cacheName === undefined ? {...options} : {...options, cacheName};
}

/**
 * Cache every request made through the module-level functions (`get`, `post`, …) and through
 * every plain `Session`, whether created before or after. Returns the cache.
 *
 * @example
 * import {installCache, get} from 'requests-cache';
 * installCache('demo_cache', {expireAfter: 360});
 * const response = await get('https://api.example.com/items'); // cached from now on
 */
export function installCache(cacheName?: string | CacheOptions, options?: CacheOptions): BaseCache {
	const state = createCacheState(resolveArguments(cacheName, options), 'installCache()');
	const previous = installed;
	installed = state;
	originalSend ??= Session.prototype.send;
	// eslint-disable-next-line @typescript-eslint/unbound-method -- restored as it was in uninstallCache()
	Session.prototype.send = installedSend;
	if (previous?.ownsCache) {
		previous.cache.close().catch(() => undefined);
	}

	return state.cache;
}

/** Stop caching plain sessions and restore `Session.prototype.send`; closes the installed cache. */
export async function uninstallCache(): Promise<void> {
	const previous = installed;
	installed = undefined;
	if (originalSend !== undefined) {
		Session.prototype.send = originalSend;
		originalSend = undefined;
	}

	if (previous?.ownsCache) {
		await previous.cache.close();
	}
}

/** True while `installCache()` is in effect. */
export function isInstalled(): boolean {
	return installed !== undefined;
}

/** The installed cache, or undefined. */
export function getCache(): BaseCache | undefined {
	return installed?.cache;
}

/** Clear the installed cache; does nothing when none is installed. */
export async function clear(): Promise<void> {
	await installed?.cache.clear();
}

/** Run `fn` with every cache bypassed (installed and per-session) for the requests it makes. */
export async function disabled<T>(fn: () => T | Promise<T>): Promise<T> {
	return runWithCacheDisabled(undefined, fn);
}

/**
 * Run `fn` with a cache installed, then restore what was installed before (nothing, or the
 * previous cache). The temporary cache is closed afterwards.
 */
export async function enabled<T>(fn: () => T | Promise<T>, cacheName?: string | CacheOptions, options?: CacheOptions): Promise<T> {
	if (typeof fn !== 'function') {
		throw new TypeError(`enabled() takes a function first, got ${typeof fn}`);
	}

	const previous = installed;
	const state = createCacheState(resolveArguments(cacheName, options), 'enabled()');
	installed = state;
	originalSend ??= Session.prototype.send;
	Session.prototype.send = installedSend;
	try {
		return await fn();
	} finally {
		installed = previous;
		if (previous === undefined && originalSend !== undefined) {
			Session.prototype.send = originalSend;
			originalSend = undefined;
		}

		if (state.ownsCache) {
			await state.cache.close();
		}
	}
}
