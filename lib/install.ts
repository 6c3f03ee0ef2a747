import type {BaseCache} from './cache/base-cache.js';
import {hasOwnCache} from './cache-mixin.js';
import {CacheEngine} from './engine/engine.js';
import {runDisabled, runInstalled, scopedInstall} from './engine/scope.js';
import type {PreparedRequest} from './models/request.js';
import type {Response} from './models/response.js';
import {type CacheOptions, normalizeCacheOptions} from './policy/settings.js';
import {type SendOptions, Session} from './session.js';

/**
 * The one install registry: the program-wide cache, and the session door's original `send` while
 * it is patched (by `installCache()`, or by an `enabled()` call still running).
 */
const registry: {installed: CacheEngine | undefined; enabledRuns: number; originalSend: Session['send'] | undefined} = {
	installed: undefined,
	enabledRuns: 0,
	originalSend: undefined,
};

/** The installed cache for the current async context: an `enabled()` scope's, else the program's. */
export function activeEngine(): CacheEngine | undefined {
	return (scopedInstall() as CacheEngine | undefined) ?? registry.installed;
}

function installedSend(this: Session, request: PreparedRequest, options: SendOptions = {}): Promise<Response> {
	const send = registry.originalSend!;
	const engine = activeEngine();
	if (engine === undefined || hasOwnCache(this)) {
		return send.call(this, request, options);
	}

	return engine.handle(request, options, async (r, o) => send.call(this, r, o));
}

function patchSessions(): void {
	if (registry.originalSend === undefined) {
		// eslint-disable-next-line @typescript-eslint/unbound-method -- restored as it was by unpatchSessions()
		registry.originalSend = Session.prototype.send;
		Session.prototype.send = installedSend;
	}
}

function unpatchSessions(): void {
	if (registry.installed === undefined && registry.enabledRuns === 0 && registry.originalSend !== undefined) {
		Session.prototype.send = registry.originalSend;
		registry.originalSend = undefined;
	}
}

function engineFor(cacheName: string | CacheOptions | undefined, options: CacheOptions | undefined, owner: string): CacheEngine {
	let resolved: CacheOptions;
	if (typeof cacheName === 'object' && cacheName !== null) {
		if (options !== undefined) {
			throw new TypeError(`${owner} takes no second argument when the first is an options object`);
		}

		resolved = cacheName;
	} else if (cacheName !== undefined && typeof cacheName !== 'string') {
		throw new TypeError(`${owner} cacheName must be a string, got ${typeof cacheName}`);
	} else {
		resolved = cacheName === undefined ? {...options} : {...options, cacheName};
	}

	return new CacheEngine(normalizeCacheOptions(resolved, owner));
}

/**
 * Cache every request made through the module-level functions (`get`, `post`, …) and through
 * every plain `Session`, whether created before or after. A second call replaces the first
 * cleanly. Returns the cache.
 *
 * @example
 * import {installCache, get} from 'requests-cache';
 * installCache('demo_cache', {expireAfter: 360});
 * const response = await get('https://api.example.com/items'); // cached from now on
 */
export function installCache(cacheName?: string | CacheOptions, options?: CacheOptions): BaseCache {
	const engine = engineFor(cacheName, options, 'installCache()');
	const previous = registry.installed;
	registry.installed = engine;
	patchSessions();
	// Requests still going on the previous cache finish on it; its store closes after them.
	previous?.close().catch(() => undefined);
	return engine.cache;
}

/** Stop caching plain sessions and restore `Session.prototype.send`; closes the installed cache. */
export async function uninstallCache(): Promise<void> {
	const previous = registry.installed;
	registry.installed = undefined;
	unpatchSessions();
	await previous?.close();
}

/** True while `installCache()` is in effect (or, inside `enabled()`, for the calls it makes). */
export function isInstalled(): boolean {
	return activeEngine() !== undefined;
}

/** The installed cache for the current context (an `enabled()` one inside it), or undefined. */
export function getCache(): BaseCache | undefined {
	return activeEngine()?.cache;
}

/** Clear the installed cache; does nothing when none is installed. */
export async function clear(): Promise<void> {
	await activeEngine()?.cache.clear();
}

/** Run `fn` with every cache bypassed (installed and per-session) for the requests it makes, and only those. */
export async function disabled<T>(fn: () => T | Promise<T>): Promise<T> {
	return runDisabled(undefined, fn, 'disabled()');
}

/**
 * Run `fn` with a cache installed for the requests it makes, and only those (concurrent code
 * outside `fn` is not affected); the temporary cache is closed afterwards.
 */
export async function enabled<T>(fn: () => T | Promise<T>, cacheName?: string | CacheOptions, options?: CacheOptions): Promise<T> {
	if (typeof fn !== 'function') {
		throw new TypeError(`enabled() takes a function first, got ${typeof fn}`);
	}

	const engine = engineFor(cacheName, options, 'enabled()');
	registry.enabledRuns++;
	patchSessions();
	try {
		return await runInstalled(engine, fn);
	} finally {
		registry.enabledRuns--;
		unpatchSessions();
		await engine.close();
	}
}
