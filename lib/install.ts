import type {BaseCache} from './cache/base-cache.js';
import {hasOwnCache} from './cache-mixin.js';
import {outsideDoors} from './doors/bypass.js';
import {installFetchDoor} from './doors/fetch.js';
import {installHttpDoor} from './doors/http.js';
import type {CachedSend, EngineFor, RestoreDoor} from './doors/types.js';
import {createEngine} from './config/assemble.js';
import {CACHE_OPTION_NAMES, type CacheOptions, normalizeCacheOptions} from './config/options.js';
import type {CacheEngine} from './engine/engine.js';
import {isDisabled, runDisabled, runInstalled, scopedInstall} from './engine/scope.js';
import {assertKnownOptions, optionRangeError, optionTypeError} from './errors.js';
import type {PreparedRequest} from './models/request.js';
import type {Response} from './models/response.js';
import {compileUrlPattern, matchesUrlPattern} from './policy/expiration.js';
import {type SendOptions, Session} from './session.js';

/** The front doors `installCache()` can put its cache behind. */
export type Door = 'fetch' | 'http' | 'session';

/** Options of `installCache()` and `enabled()`: the cache options, and which requests go through it. */
export type InstallOptions = CacheOptions & {
	/** The front doors to cache: the global fetch, node:http(s) clients, this library's sessions. @default ['fetch', 'http', 'session'] */
	patch?: readonly Door[];
	/**
	 * Cache only the URLs matching one of these patterns (the `urlsExpireAfter` glob rules); every other request passes untouched.
	 * @default every URL
	 * @example {urls: ['https://api.example.com/*']}
	 */
	urls?: readonly string[];
	/**
	 * Mark responses the fetch and http doors serve from the cache with this header (value `1`).
	 * @default undefined (a cached response looks exactly like one from the network)
	 * @example {fromCacheHeader: 'x-from-cache'}
	 */
	fromCacheHeader?: string;
};

const doorNames: ReadonlySet<Door> = new Set(['fetch', 'http', 'session']);
const doorList = [...doorNames].map(name => `'${name}'`).join(', ');
// Not in the option table (lib/config/options.ts): they choose which requests reach a cache, not how it caches.
const installOptionNames: ReadonlySet<string> = new Set([...CACHE_OPTION_NAMES, 'patch', 'urls', 'fromCacheHeader']);
const headerNameRegex = /^[!#$%&'*+.^_`|~\dA-Za-z-]+$/;

/** One installed cache: the engine (and its handle for the doors) and what reaches it (`urls` undefined: every URL). */
type Installation = {
	readonly engine: CacheEngine;
	readonly cachedSend: CachedSend;
	readonly doors: ReadonlySet<Door>;
	readonly urls: readonly RegExp[] | undefined;
	readonly fromCacheHeader: string | undefined;
};

/** The program-wide installation, those of the `enabled()` calls running, the session door's original `send`, and the doors up. */
const registry = {
	installed: undefined as Installation | undefined,
	enabledRuns: new Set<Installation>(),
	originalSend: undefined as Session['send'] | undefined,
	restoreDoor: new Map<'fetch' | 'http', RestoreDoor>(),
};

/** The installation for the current async context: an `enabled()` scope's, else the program's. */
function activeInstallation(): Installation | undefined {
	return (scopedInstall() as Installation | undefined) ?? registry.installed;
}

function cachesUrl(installation: Installation, url: string): boolean {
	return installation.urls === undefined || installation.urls.some(pattern => matchesUrlPattern(pattern, url));
}

/** The installation that takes a request through `door` here and now, if any. */
function installationFor(door: Door, url: string): Installation | undefined {
	const installation = activeInstallation();
	return installation?.doors.has(door) && !isDisabled(installation.engine) && cachesUrl(installation, url) ? installation : undefined;
}

/** Patch `Session.prototype.send` and put up the fetch and http doors while some installation asks for them; undo the rest. */
function sync(): void {
	const installations = [...registry.enabledRuns, ...(registry.installed === undefined ? [] : [registry.installed])];
	if (installations.length > 0 && registry.originalSend === undefined) {
		// eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was below
		registry.originalSend = Session.prototype.send;
		Session.prototype.send = installedSend;
	} else if (installations.length === 0 && registry.originalSend !== undefined) {
		Session.prototype.send = registry.originalSend;
		registry.originalSend = undefined;
	}

	const wanted = new Set<Door>(installations.flatMap(installation => [...installation.doors]));
	for (const door of ['fetch', 'http'] as const) {
		const restore = registry.restoreDoor.get(door);
		if (wanted.has(door) && restore === undefined) {
			const install = door === 'fetch' ? installFetchDoor : installHttpDoor;
			const engineFor: EngineFor = request => installationFor(door, request.url)?.cachedSend;
			registry.restoreDoor.set(door, install(engineFor, {
				wants: (_method, url) => installationFor(door, url) !== undefined,
				fromCacheHeader: () => activeInstallation()?.fromCacheHeader,
			}));
		} else if (!wanted.has(door) && restore !== undefined) {
			restore();
			registry.restoreDoor.delete(door);
		}
	}
}

function installedSend(this: Session, request: PreparedRequest, options: SendOptions = {}): Promise<Response> {
	// A session's requests are its own (and its cache's, if any): the fetch and http doors step aside.
	const original = registry.originalSend!;
	const send = async (r: PreparedRequest, o: SendOptions): Promise<Response> => outsideDoors(async () => original.call(this, r, o));
	const installation = activeInstallation();
	if (installation === undefined || !installation.doors.has('session') || hasOwnCache(this) || !cachesUrl(installation, request.url)) {
		return send(request, options);
	}

	return installation.engine.handle(request, options, send);
}

/** Validate the options of `installCache()`/`enabled()` and build the installation. */
function installationOf(cacheName: string | InstallOptions | undefined, options: InstallOptions | undefined, owner: string): Installation {
	let resolved: InstallOptions;
	if (typeof cacheName === 'object' && cacheName !== null) {
		if (options !== undefined) {
			throw new TypeError(`${owner} takes no second argument when the first is an options object`);
		}

		resolved = cacheName;
	} else if (cacheName !== undefined && typeof cacheName !== 'string') {
		throw new TypeError(`${owner} cacheName must be a string, got ${typeof cacheName}`);
	} else {
		if (options !== undefined && (typeof options !== 'object' || options === null)) {
			throw optionTypeError(owner, 'options', 'an object', options);
		}

		resolved = cacheName === undefined ? {...options} : {...options, cacheName};
	}

	assertKnownOptions(owner, resolved, installOptionNames);
	const {patch, urls, fromCacheHeader, ...cacheOptions} = resolved;
	if (patch !== undefined && !Array.isArray(patch)) {
		throw optionTypeError(owner, 'patch', `an array of door names (${doorList})`, patch);
	}

	const unknownDoor = (patch as unknown[] | undefined)?.find(door => !doorNames.has(door as Door));
	if (unknownDoor !== undefined) {
		throw new TypeError(`${owner} option \`patch\`: unknown door ${JSON.stringify(unknownDoor)}; the doors are ${doorList}`);
	}

	if (urls !== undefined && (!Array.isArray(urls) || urls.some(url => typeof url !== 'string'))) {
		throw optionTypeError(owner, 'urls', 'an array of URL patterns (strings)', urls);
	}

	const emptyUrl = urls?.find(url => url.trim() === '');
	if (emptyUrl !== undefined) {
		throw optionRangeError(owner, 'urls', 'an array of non-empty URL patterns', emptyUrl);
	}

	if (fromCacheHeader !== undefined && (typeof fromCacheHeader !== 'string' || !headerNameRegex.test(fromCacheHeader))) {
		throw optionTypeError(owner, 'fromCacheHeader', 'a header name such as \'x-from-cache\'', fromCacheHeader);
	}

	const engine = createEngine(normalizeCacheOptions(cacheOptions, owner));
	const handle: CachedSend = async (prepared, sendOptions, send) => engine.handle(prepared, sendOptions, send);
	return {
		engine,
		cachedSend: Object.assign(handle, {readsBody: (method: string) => engine.settings.allowableMethods.has(method)}),
		doors: new Set(patch ?? doorNames),
		urls: urls?.map(url => compileUrlPattern(url)),
		fromCacheHeader: fromCacheHeader?.toLowerCase(),
	};
}

/**
 * Cache every HTTP request the program makes from now on (docs/global-install.md); a second call replaces the first. Returns the cache.
 *
 * @example
 * import {installCache} from 'requests-cache';
 * installCache('demo_cache', {expireAfter: 360});
 * const response = await fetch('https://api.example.com/items'); // cached from now on
 */
export function installCache(cacheName?: string | InstallOptions, options?: InstallOptions): BaseCache {
	const installation = installationOf(cacheName, options, 'installCache()');
	const previous = registry.installed;
	registry.installed = installation;
	sync();
	// Requests still going on the previous cache finish on it; its store closes after them.
	previous?.engine.close().catch(() => undefined);
	return installation.engine.cache;
}

/** Stop caching: restore the global fetch, node:http and `Session.prototype.send`, and close the installed cache. */
export async function uninstallCache(): Promise<void> {
	const previous = registry.installed;
	registry.installed = undefined;
	sync();
	await previous?.engine.close();
}

/** True while `installCache()` is in effect (or, inside `enabled()`, for the calls it makes). */
export function isInstalled(): boolean {
	return activeInstallation() !== undefined;
}

/** The installed cache for the current context (an `enabled()` one inside it), or undefined. */
export function getCache(): BaseCache | undefined {
	return activeInstallation()?.engine.cache;
}

/** Clear the installed cache; does nothing when none is installed. */
export async function clear(): Promise<void> {
	await activeInstallation()?.engine.cache.clear();
}

/** Run `fn` with every cache bypassed (installed and per-session) for the requests it makes, and only those. */
export async function disabled<T>(fn: () => T | Promise<T>): Promise<T> {
	return runDisabled(undefined, fn, 'disabled()');
}

/** Run `fn` with a cache installed for the requests it makes, and only those; the temporary cache is closed afterwards. */
export async function enabled<T>(fn: () => T | Promise<T>, cacheName?: string | InstallOptions, options?: InstallOptions): Promise<T> {
	if (typeof fn !== 'function') {
		throw new TypeError(`enabled() takes a function first, got ${typeof fn}`);
	}

	const installation = installationOf(cacheName, options, 'enabled()');
	registry.enabledRuns.add(installation);
	sync();
	try {
		return await runInstalled(installation, fn);
	} finally {
		registry.enabledRuns.delete(installation);
		sync();
		await installation.engine.close();
	}
}
