import type {Keyv, KeyvStoreAdapter} from 'keyv';
import {DEFAULT_IGNORED_PARAMETERS, type KeySettings, isCredentialName} from '../cache-keys.js';
import {assertKnownOptions, optionRangeError, optionTypeError} from '../errors.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response} from '../models/response.js';
import {type BaseCacheBrand, isBaseCache} from '../base-cache-brand.js';
import {budgetLimit} from '../backends/budget.js';
import {type CacheStore, type StoreBudget, isCacheStore} from '../backends/store.js';
import {
	type Duration, type Expiration, type ExpireAfter, NEVER, type UrlExpirationRules,
	durationToMs, parseExpireAfter, parseUrlsExpireAfter,
} from './expiration.js';
import {DEFAULT_CACHE_STATUS_NAME, isCacheStatusName} from './cache-status.js';

/** The built-in backends by name. */
export type BackendName = 'sqlite' | 'memory' | 'redis' | 'mongodb';

/**
 * A backend: a name, a store of this package (`new MemoryStore()`, `new SqliteStore(name)`) or of
 * your own branded with `CACHE_STORE`, a Keyv instance, a Keyv store adapter, or a ready {@link BaseCache}.
 */
export type BackendOption = BackendName | CacheStore | Keyv | KeyvStoreAdapter | BaseCacheBrand;

/** Options of a cached session (`CachedSession`, `CacheMixin(...)`) and of `installCache()`. */
export type CacheOptions = {
	/**
	 * The cache's name: the SQLite file (`<cacheName>.sqlite`, parent directories created), the
	 * Redis key prefix (`<cacheName>::<key>`), the MongoDB database, or the Keyv namespace of a
	 * store adapter given as `backend` (see docs/backends.md).
	 * @default 'http_cache'
	 */
	cacheName?: string;
	/**
	 * SQLite only: a relative `cacheName` is a file in the user cache directory's `requests-cache`
	 * folder (`~/.cache/requests-cache` on Linux; see `lib/backends/cache-path.ts`). @default false
	 */
	useCacheDir?: boolean;
	/** SQLite only: a relative `cacheName` is a file in the temporary directory (`os.tmpdir()`). @default false */
	useTemp?: boolean;
	/** Where responses are stored. @default 'sqlite' */
	backend?: BackendOption;
	/**
	 * Connection URL for `'redis'` (default `redis://localhost:6379`) or `'mongodb'` (default
	 * `mongodb://localhost:27017`); for a Redis Cluster, its nodes' URLs as an array.
	 */
	url?: string | readonly string[];
	/** How long responses stay fresh. Seconds, a Date, a duration, or a constant. @default NEVER_EXPIRE */
	expireAfter?: ExpireAfter;
	/** Per-URL expiration: `{'api.example.com/*': 60, '*': DO_NOT_CACHE}`; the first match wins. */
	urlsExpireAfter?: Record<string, ExpireAfter>;
	/** Status codes that are stored. @default [200] */
	allowableCodes?: readonly number[];
	/** Methods that are stored. @default ['GET', 'HEAD'] */
	allowableMethods?: readonly string[];
	/**
	 * Headers, query parameters and body fields left out of the key and redacted in storage
	 * (requests-cache's `ignored_parameters`): requests differing only there share an entry, also
	 * for a built-in credential name you list (`['token']`). The built-in credential names
	 * (`DEFAULT_IGNORED_PARAMETERS`) need no listing: they are always redacted, and keyed per
	 * credential unless listed here or in `shareCredentials` (docs/security.md).
	 * @default [] (your names only)
	 * @example ['timestamp', 'token']
	 */
	ignoredParameters?: readonly string[];
	/**
	 * Let requests with different credentials (Authorization, API keys, URL userinfo, a client
	 * certificate…) share cached responses: `true` for all, or a list of built-in credential names.
	 * Risk: one user is served what the origin sent another. Only for origins whose answers do not
	 * depend on who asks (`Cache-Control: private` responses are still never shared). Cookies are
	 * never part of the key, so `'cookie'` here changes nothing.
	 * @default false
	 */
	shareCredentials?: boolean | readonly string[];
	/**
	 * Store `Set-Cookie` response headers, and so replay them to every caller that gets the cached
	 * response. Risk: one user's session cookie handed to another.
	 * @default false; true with `cacheControl: 'rfc9111'` unless `shared` (a one-user cache, as a browser's)
	 */
	storeCookies?: boolean;
	/** Request headers that are part of the key: false (none), true (all), or a list of names. @default false */
	matchHeaders?: boolean | readonly string[];
	/** Return false to keep a response out of the cache. */
	filterFn?: (response: Response) => boolean;
	/** Replace key creation: return the key for a request. */
	keyFn?: (request: PreparedRequest) => string;
	/** Serve what is cached but store nothing new. @default false */
	readOnly?: boolean;
	/**
	 * Honour HTTP caching headers. `true`: requests-cache's rules (response `Cache-Control` and
	 * `Expires` win; a response that says nothing falls back to `expireAfter`). `'rfc9111'`: behave
	 * as an RFC 9111 private cache (a browser's HTTP cache): freshness from `Cache-Control`,
	 * `Expires`, `Age` and `Date`, heuristic freshness, the statuses the RFC allows stored,
	 * `expireAfter` only as a cap; see docs/http-caching.md.
	 * @default false
	 */
	cacheControl?: boolean | 'rfc9111';
	/**
	 * With `cacheControl: 'rfc9111'`: behave as an RFC 9111 *shared* cache instead of a private
	 * one, for a cache that answers many users (a service, a fleet of workers on one Redis):
	 * `s-maxage` and `proxy-revalidate` apply, `private` responses are not stored, a response to a
	 * request with `Authorization` is stored only with `public`, `s-maxage` or `must-revalidate`,
	 * and cookies keep the security defaults (`storeCookies: false`, cookies keyed per user).
	 * See docs/http-caching.md.
	 * @default false
	 */
	shared?: boolean;
	/**
	 * Add a `Cache-Status` field (RFC 9211) to every response this cache answers, saying how it
	 * handled the request (`hit`, `fwd=uri-miss`, `fwd-status`, `ttl`, `stored`, `collapsed`…),
	 * after any `Cache-Status` the origin or a proxy sent. `true` names this cache
	 * `'requests-cache'` in the field; a string names it so (printable ASCII). See
	 * docs/observability.md.
	 * @default false
	 */
	cacheStatus?: boolean | string;
	/** Revalidate fresh entries that have a validator on every use. @default false */
	alwaysRevalidate?: boolean;
	/** Serve a stale entry when refreshing it fails: true, or the longest staleness allowed. @default false */
	staleIfError?: boolean | number | Duration;
	/** Serve a stale entry at once and refresh it in the background: true, or the longest staleness. @default false */
	staleWhileRevalidate?: boolean | number | Duration;
	/** Seconds to keep expired entries in stores with native expiry (Redis, MongoDB), for revalidation. @default 3600 */
	ttlOffset?: number;
	/**
	 * Milliseconds a store operation may take on the request path before it counts as failed (then
	 * the store is not waited for during as long again, and twice as long after each timeout in a
	 * row, up to a minute); also Redis' and MongoDB's connection timeout. A healthy local Redis
	 * answers in well under a millisecond: the default leaves room for a remote one.
	 * @default 1000
	 */
	backendTimeout?: number;
	/** Throw store errors instead of failing open (serving from the origin and reporting on `'error'`). @default false */
	strictBackend?: boolean;
	/** Called with each store error when failing open (same as `session.cache.on('error', fn)`). */
	onError?: (error: Error) => void;
	/** The clock, in milliseconds since the epoch; tests inject a fake one. @default Date.now */
	clock?: () => number;
	/**
	 * Largest body, in bytes, that is stored: a larger response is returned to the caller and not
	 * stored (reported as a `bypass` decision). At most `maxBytes` when that is set.
	 * @default 52428800 (50 MiB), or `maxBytes` when that is smaller
	 */
	maxEntrySize?: number;
	/**
	 * Most records the cache keeps (a response, each redirect alias and each Vary index count one);
	 * a write that goes over evicts the least recently used (a hit is a use). For `'sqlite'` and
	 * `'memory'`; bound Redis with its own `maxmemory` (docs/backends.md, "Size bounds").
	 * @default undefined (no limit)
	 * @example {maxEntries: 10_000}
	 */
	maxEntries?: number;
	/**
	 * Most bytes of stored values the cache keeps (bodies plus some hundred bytes of head each; not
	 * the file size); a write that goes over evicts the least recently used. For `'sqlite'` and `'memory'`.
	 * @default undefined (no limit)
	 * @example {maxBytes: 512 * 1024 * 1024}
	 */
	maxBytes?: number;
	/**
	 * Miss coalescing across processes on a shared store (Redis, a SQLite file): on a miss, one
	 * process takes a short lease on the request's flight and asks the origin; the same request in
	 * other processes waits for it and is served from the store (docs/scaling.md). A hit costs
	 * nothing more. `false` turns it off; an object tunes it: `lease`, ms a leader's lease lasts
	 * without renewal (a dead leader is taken over after about this long), `wait`, the most ms a
	 * request waits for another process (less when its own `timeout` is shorter) before asking the
	 * origin itself. No effect on stores one process owns (memory, Keyv, a BaseCache's own store
	 * without leases), where in-process flights already share one origin request.
	 * @default true (`{lease: 2000, wait: 30000}`)
	 * @example {coalesce: {lease: 5000, wait: 10_000}}
	 */
	coalesce?: boolean | {lease?: number; wait?: number};
	/**
	 * Redis only: keep recently read records in this process too, within this budget, so that a hit
	 * costs a map lookup instead of a round trip. Kept coherent across processes: every write,
	 * delete, invalidation, `clear()` and maintenance is published on Redis and each process drops
	 * its copies; while that link is down nothing is served from the tier, and it starts empty when
	 * the link comes back (docs/scaling.md).
	 * @default undefined (no tier); `{}` means `{maxBytes: 64 MiB}`
	 * @example {memoryTier: {maxEntries: 10_000, maxBytes: 128 * 1024 * 1024}}
	 */
	memoryTier?: {maxEntries?: number; maxBytes?: number};
};

/** How miss coalescing across processes is tuned (the `coalesce` option, validated; lib/engine/coalesce.ts). */
export type CoalesceSettings = {
	/** How long a leader's lease lasts without renewal, ms: a dead leader is taken over after about this long. */
	readonly lease: number;
	/** The longest a request waits for another process's flight, ms (less when its own `timeout` is shorter). */
	readonly wait: number;
};

/** Validated, frozen settings of a cached session. */
export type CacheSettings = KeySettings & {
	readonly cacheName: string;
	readonly shareCredentials: boolean | ReadonlySet<string>;
	readonly storeCookies: boolean;
	readonly useCacheDir: boolean;
	readonly useTemp: boolean;
	readonly backend: BackendOption;
	readonly url: string | readonly string[] | undefined;
	readonly expireAfter: Expiration;
	readonly urlsExpireAfter: UrlExpirationRules;
	readonly allowableCodes: ReadonlySet<number>;
	readonly allowableMethods: ReadonlySet<string>;
	readonly filterFn: ((response: Response) => boolean) | undefined;
	readonly keyFn: ((request: PreparedRequest) => string) | undefined;
	readonly readOnly: boolean;
	readonly cacheControl: boolean | 'rfc9111';
	/** An RFC 9111 shared cache (only with `cacheControl: 'rfc9111'`). */
	readonly shared: boolean;
	/** The cache's name in `Cache-Status`, or undefined when the field is off. */
	readonly cacheStatus: string | undefined;
	readonly alwaysRevalidate: boolean;
	/** Longest staleness in ms (Infinity for `true`), or 0 when off. */
	readonly staleIfError: number;
	readonly staleWhileRevalidate: number;
	readonly ttlOffset: number;
	readonly backendTimeout: number;
	readonly strictBackend: boolean;
	readonly onError: ((error: Error) => void) | undefined;
	readonly clock: () => number;
	readonly maxEntrySize: number;
	/** Undefined for no limit. */
	readonly maxEntries: number | undefined;
	/** Undefined for no limit. */
	readonly maxBytes: number | undefined;
	/** False when off. */
	readonly coalesce: CoalesceSettings | false;
	/** The memory tier's budget in front of Redis, or undefined for none. */
	readonly memoryTier: StoreBudget | undefined;
};

/** The option names a cache owns; everything else goes to the session class being extended. */
export const CACHE_OPTION_NAMES: ReadonlySet<string> = new Set([
	'cacheName', 'useCacheDir', 'useTemp', 'backend', 'url', 'expireAfter', 'urlsExpireAfter', 'allowableCodes', 'allowableMethods',
	'ignoredParameters', 'shareCredentials', 'storeCookies', 'matchHeaders', 'filterFn', 'keyFn', 'readOnly', 'cacheControl', 'shared', 'cacheStatus', 'alwaysRevalidate',
	'staleIfError', 'staleWhileRevalidate', 'ttlOffset', 'backendTimeout', 'strictBackend', 'onError', 'clock',
	'maxEntrySize', 'maxEntries', 'maxBytes', 'coalesce', 'memoryTier',
]);

/** Defaults, frozen. */
export const DEFAULT_CACHE_OPTIONS = Object.freeze({
	cacheName: 'http_cache',
	useCacheDir: false,
	useTemp: false,
	backend: 'sqlite' as BackendName,
	allowableCodes: Object.freeze([200]),
	allowableMethods: Object.freeze(['GET', 'HEAD']),
	ignoredParameters: Object.freeze([]) as readonly string[],
	shareCredentials: false,
	storeCookies: false,
	matchHeaders: false,
	readOnly: false,
	cacheControl: false,
	shared: false,
	cacheStatus: false,
	alwaysRevalidate: false,
	ttlOffset: 3600,
	backendTimeout: 1000,
	strictBackend: false,
	maxEntrySize: 50 * 1024 * 1024,
	coalesce: Object.freeze({lease: 2000, wait: 30_000}),
});

const backendNames = new Set(['sqlite', 'memory', 'redis', 'mongodb']);

function bool(owner: string, name: string, value: unknown, fallback: boolean): boolean {
	if (value === undefined) {
		return fallback;
	}

	if (typeof value !== 'boolean') {
		throw optionTypeError(owner, name, 'a boolean', value);
	}

	return value;
}

function cacheControlMode(owner: string, value: unknown): boolean | 'rfc9111' {
	if (value === undefined) {
		return false;
	}

	if (typeof value !== 'boolean' && value !== 'rfc9111') {
		throw optionTypeError(owner, 'cacheControl', 'true, false or \'rfc9111\'', value);
	}

	return value;
}

/** The name `Cache-Status` gives this cache, or undefined when it is off. */
function cacheStatusName(owner: string, value: unknown): string | undefined {
	if (value === undefined || value === false) {
		return undefined;
	}

	if (value === true) {
		return DEFAULT_CACHE_STATUS_NAME;
	}

	if (typeof value !== 'string') {
		throw optionTypeError(owner, 'cacheStatus', 'true, false or a cache name', value);
	}

	if (!isCacheStatusName(value)) {
		throw optionRangeError(owner, 'cacheStatus', 'a non-empty cache name of printable ASCII characters (RFC 9211 names caches with Structured Field strings)', value);
	}

	return value;
}

/** `shared` names a kind of RFC 9111 cache: it means nothing without `cacheControl: 'rfc9111'`. */
function sharedMode(owner: string, value: unknown, cacheControl: boolean | 'rfc9111'): boolean {
	const shared = bool(owner, 'shared', value, false);
	if (shared && cacheControl !== 'rfc9111') {
		throw new TypeError(`${owner} option \`shared\` only applies with \`cacheControl: 'rfc9111'\` (an RFC 9111 shared cache); \`cacheControl: ${JSON.stringify(cacheControl)}\` has no private/shared distinction`);
	}

	return shared;
}

function fn<T>(owner: string, name: string, value: unknown): T | undefined {
	if (value === undefined) {
		return undefined;
	}

	if (typeof value !== 'function') {
		throw optionTypeError(owner, name, 'a function', value);
	}

	return value as T;
}

function stringList(owner: string, name: string, value: unknown): string[] {
	if (!Array.isArray(value) || value.some(item => typeof item !== 'string' || item === '')) {
		throw optionTypeError(owner, name, 'an array of non-empty strings', value);
	}

	return value as string[];
}

function staleWindow(owner: string, name: string, value: unknown): number {
	if (value === undefined || value === false) {
		return 0;
	}

	if (value === true) {
		return Number.POSITIVE_INFINITY;
	}

	if (typeof value === 'number') {
		if (!Number.isFinite(value) || value < 0) {
			throw optionRangeError(owner, name, 'true, false, a number of seconds >= 0 or a duration', value);
		}

		return value * 1000;
	}

	if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
		return durationToMs(value as Duration, owner, name);
	}

	throw optionTypeError(owner, name, 'true, false, a number of seconds or a duration', value);
}

const coalesceNames: ReadonlySet<string> = new Set(['lease', 'wait']);

function coalesceSettings(owner: string, value: unknown): CoalesceSettings | false {
	if (value === undefined || value === true) {
		return DEFAULT_CACHE_OPTIONS.coalesce;
	}

	if (value === false) {
		return false;
	}

	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw optionTypeError(owner, 'coalesce', 'true, false or {lease, wait} in milliseconds', value);
	}

	assertKnownOptions(`${owner} option \`coalesce\``, value, coalesceNames);
	const {lease = DEFAULT_CACHE_OPTIONS.coalesce.lease, wait = DEFAULT_CACHE_OPTIONS.coalesce.wait} = value as {lease?: unknown; wait?: unknown};
	for (const [name, ms, least] of [['lease', lease, 10], ['wait', wait, 0]] as const) {
		if (typeof ms !== 'number' || Number.isNaN(ms)) {
			throw optionTypeError(owner, `coalesce.${name}`, 'a number of milliseconds', ms);
		}

		if (!Number.isFinite(ms) || ms < least) {
			throw optionRangeError(owner, `coalesce.${name}`, `a finite number of milliseconds >= ${least}`, ms);
		}
	}

	return Object.freeze({lease: lease as number, wait: wait as number});
}

const tierNames: ReadonlySet<string> = new Set(['maxEntries', 'maxBytes']);

function memoryTierBudget(owner: string, value: unknown, backend: BackendOption): StoreBudget | undefined {
	if (value === undefined) {
		return undefined;
	}

	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw optionTypeError(owner, 'memoryTier', 'an object {maxEntries, maxBytes}', value);
	}

	if (backend !== 'redis') {
		throw new TypeError(`${owner} option \`memoryTier\` only applies to backend 'redis' (the other stores are in this process or on its disk already)`);
	}

	assertKnownOptions(`${owner} option \`memoryTier\``, value, tierNames);
	const {maxEntries, maxBytes} = value as {maxEntries?: unknown; maxBytes?: unknown};
	const entries = budgetLimit(owner, 'memoryTier.maxEntries', maxEntries);
	const bytes = budgetLimit(owner, 'memoryTier.maxBytes', maxBytes);
	return Object.freeze({maxEntries: entries, maxBytes: entries === undefined && bytes === undefined ? 64 * 1024 * 1024 : bytes});
}

/** Why a budget cannot be given with `backend` (the end of a sentence that starts with the option's name). */
function budgetRefusal(backend: BackendOption): string {
	if (backend === 'redis') {
		return 'is not supported with backend \'redis\': bound Redis itself with `maxmemory` and `maxmemory-policy allkeys-lru` (or `volatile-lru`), see docs/backends.md, "Size bounds"';
	}

	if (isBaseCache(backend) || isCacheStore(backend)) {
		const [what, whose] = isBaseCache(backend) ? ['BaseCache', 'its store'] : ['store', 'the store'];
		return `cannot be given with a ${what} as \`backend\`: give ${whose} the budget, as in \`new SqliteStore(name, {maxEntries})\``;
	}

	const name = typeof backend === 'string' ? `backend '${backend}'` : 'a Keyv backend';
	return `is not supported with ${name}: only the 'sqlite' and 'memory' backends keep a budget`;
}

function isBackendObject(value: unknown): boolean {
	return isBaseCache(value) || (typeof value === 'object' && value !== null
		&& typeof (value as {get?: unknown}).get === 'function'
		&& typeof (value as {set?: unknown}).set === 'function');
}

/**
 * Validate cache options once, at construction: unknown names, wrong types and impossible values
 * throw a `TypeError`/`RangeError` naming the option. Returns frozen settings.
 */
export function normalizeCacheOptions(options: CacheOptions = {}, owner = 'CachedSession'): CacheSettings {
	if (typeof options !== 'object' || options === null) {
		throw optionTypeError(owner, 'options', 'an object', options);
	}

	assertKnownOptions(owner, options, CACHE_OPTION_NAMES);
	const cacheName = options.cacheName ?? DEFAULT_CACHE_OPTIONS.cacheName;
	if (typeof cacheName !== 'string' || cacheName.trim() === '') {
		throw optionTypeError(owner, 'cacheName', 'a non-empty string', cacheName);
	}

	const backend = options.backend ?? DEFAULT_CACHE_OPTIONS.backend;
	if (typeof backend === 'string' ? !backendNames.has(backend) : !isBackendObject(backend)) {
		throw optionTypeError(owner, 'backend', `one of ${[...backendNames].map(n => `'${n}'`).join(', ')}, a CacheStore, a Keyv instance, a Keyv store adapter or a BaseCache`, backend);
	}

	// A BaseCache was built with its own timeout and strictness: taking the session's here would be a silent no-op.
	for (const [name, own] of [['backendTimeout', 'timeout'], ['strictBackend', 'strict']] as const) {
		if (isBaseCache(backend) && options[name] !== undefined) {
			throw new TypeError(`${owner} option \`${name}\` cannot be given with a BaseCache as \`backend\`: give it to the BaseCache, as in \`new BaseCache(store, {${own}: ...})\``);
		}
	}

	const isUrl = (url: unknown): boolean => typeof url === 'string' && /^[a-z][a-z\d+.-]*:\/\//i.test(url);
	if (options.url !== undefined && !(Array.isArray(options.url) ? options.url.length > 0 && options.url.every(isUrl) : isUrl(options.url))) {
		throw optionTypeError(owner, 'url', 'a connection URL such as redis://localhost:6379, or an array of a Redis Cluster\'s node URLs', options.url);
	}

	if (options.url !== undefined && backend !== 'redis' && (backend !== 'mongodb' || typeof options.url !== 'string')) {
		throw new TypeError(`${owner} option \`url\` only applies to backend 'redis' or 'mongodb' (an array of URLs, a Redis Cluster, to 'redis' only)`);
	}

	const useCacheDir = bool(owner, 'useCacheDir', options.useCacheDir, DEFAULT_CACHE_OPTIONS.useCacheDir);
	const useTemp = bool(owner, 'useTemp', options.useTemp, DEFAULT_CACHE_OPTIONS.useTemp);
	if (useCacheDir && useTemp) {
		throw new TypeError(`${owner} options \`useCacheDir\` and \`useTemp\` cannot be combined: choose one directory`);
	}

	if ((useCacheDir || useTemp) && backend !== 'sqlite') {
		throw new TypeError(`${owner} option \`${useCacheDir ? 'useCacheDir' : 'useTemp'}\` only applies to backend 'sqlite' (a file)`);
	}

	const allowableCodes = options.allowableCodes ?? DEFAULT_CACHE_OPTIONS.allowableCodes;
	if (!Array.isArray(allowableCodes) || allowableCodes.some(code => !Number.isInteger(code))) {
		throw optionTypeError(owner, 'allowableCodes', 'an array of integer status codes', allowableCodes);
	}

	for (const code of allowableCodes) {
		if (code < 100 || code > 599) {
			throw optionRangeError(owner, 'allowableCodes', 'status codes from 100 to 599', code);
		}
	}

	const allowableMethods = stringList(owner, 'allowableMethods', options.allowableMethods ?? DEFAULT_CACHE_OPTIONS.allowableMethods);
	const ignoredParameters = stringList(owner, 'ignoredParameters', options.ignoredParameters ?? DEFAULT_CACHE_OPTIONS.ignoredParameters);
	// The idiom of earlier versions' docs, which now reads as "share every credential": refused, not guessed at.
	if (DEFAULT_IGNORED_PARAMETERS.every(name => ignoredParameters.some(listed => listed.toLowerCase() === name.toLowerCase()))) {
		throw optionRangeError(owner, 'ignoredParameters', 'your own names only: the built-in credential names are always redacted, and a name listed here is shared between users (to share every credential on purpose, use `shareCredentials: true`)', '[...DEFAULT_IGNORED_PARAMETERS, …]');
	}

	// 'rfc9111' is a private (one-user) cache as the RFC and browsers have it: Set-Cookie is
	// stored, unless the options say otherwise (docs/security.md); a shared one keeps the default.
	const privateCache = options.cacheControl === 'rfc9111' && options.shared !== true;
	const shareCredentials = options.shareCredentials ?? DEFAULT_CACHE_OPTIONS.shareCredentials;
	if (typeof shareCredentials !== 'boolean') {
		for (const name of stringList(owner, 'shareCredentials', shareCredentials)) {
			if (!isCredentialName(name)) {
				throw optionRangeError(owner, 'shareCredentials', `true, false or built-in credential names (from DEFAULT_IGNORED_PARAMETERS)`, name);
			}
		}
	}

	const matchHeaders = options.matchHeaders ?? DEFAULT_CACHE_OPTIONS.matchHeaders;
	if (typeof matchHeaders !== 'boolean') {
		stringList(owner, 'matchHeaders', matchHeaders);
	}

	const positive = (name: 'ttlOffset' | 'backendTimeout' | 'maxEntrySize', fallback: number, allowZero: boolean): number => {
		const value = options[name] ?? fallback;
		if (typeof value !== 'number' || Number.isNaN(value)) {
			throw optionTypeError(owner, name, 'a number', value);
		}

		if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
			throw optionRangeError(owner, name, allowZero ? 'a finite number >= 0' : 'a finite number > 0', value);
		}

		return value;
	};

	const maxEntries = budgetLimit(owner, 'maxEntries', options.maxEntries);
	const maxBytes = budgetLimit(owner, 'maxBytes', options.maxBytes);
	for (const [name, value] of [['maxEntries', maxEntries], ['maxBytes', maxBytes]] as const) {
		if (value !== undefined && backend !== 'sqlite' && backend !== 'memory') {
			throw new TypeError(`${owner} option \`${name}\` ${budgetRefusal(backend)}`);
		}
	}

	let maxEntrySize = positive('maxEntrySize', DEFAULT_CACHE_OPTIONS.maxEntrySize, true);
	if (maxBytes !== undefined) {
		if (options.maxEntrySize === undefined) {
			maxEntrySize = Math.min(maxEntrySize, maxBytes);
		} else if (maxEntrySize > maxBytes) {
			throw optionRangeError(owner, 'maxEntrySize', `at most \`maxBytes\` (${maxBytes}): a response larger than the whole budget could not be kept`, maxEntrySize);
		}
	}

	const ignored = new Set(ignoredParameters.map(name => name.toLowerCase()));
	return Object.freeze({
		cacheName,
		useCacheDir,
		useTemp,
		backend,
		url: typeof options.url === 'object' ? Object.freeze([...options.url]) : options.url,
		expireAfter: options.expireAfter === undefined ? NEVER : parseExpireAfter(options.expireAfter, owner, 'expireAfter'),
		urlsExpireAfter: Object.freeze(options.urlsExpireAfter === undefined ? [] : parseUrlsExpireAfter(options.urlsExpireAfter, owner, 'urlsExpireAfter')),
		allowableCodes: new Set(allowableCodes),
		allowableMethods: new Set(allowableMethods.map(method => method.toUpperCase())),
		ignoredParameters: ignored,
		shareCredentials: typeof shareCredentials === 'boolean' ? shareCredentials : new Set(shareCredentials.map(name => name.toLowerCase())),
		storeCookies: bool(owner, 'storeCookies', options.storeCookies, privateCache),
		matchHeaders: typeof matchHeaders === 'boolean' ? matchHeaders : Object.freeze(matchHeaders.map(name => name.toLowerCase())),
		filterFn: fn<(response: Response) => boolean>(owner, 'filterFn', options.filterFn),
		keyFn: fn<(request: PreparedRequest) => string>(owner, 'keyFn', options.keyFn),
		readOnly: bool(owner, 'readOnly', options.readOnly, false),
		cacheControl: cacheControlMode(owner, options.cacheControl),
		shared: sharedMode(owner, options.shared, cacheControlMode(owner, options.cacheControl)),
		cacheStatus: cacheStatusName(owner, options.cacheStatus),
		alwaysRevalidate: bool(owner, 'alwaysRevalidate', options.alwaysRevalidate, false),
		staleIfError: staleWindow(owner, 'staleIfError', options.staleIfError),
		staleWhileRevalidate: staleWindow(owner, 'staleWhileRevalidate', options.staleWhileRevalidate),
		ttlOffset: positive('ttlOffset', DEFAULT_CACHE_OPTIONS.ttlOffset, true),
		backendTimeout: positive('backendTimeout', DEFAULT_CACHE_OPTIONS.backendTimeout, false),
		strictBackend: bool(owner, 'strictBackend', options.strictBackend, false),
		onError: fn<(error: Error) => void>(owner, 'onError', options.onError),
		clock: fn<() => number>(owner, 'clock', options.clock) ?? Date.now,
		maxEntrySize,
		maxEntries,
		maxBytes,
		coalesce: coalesceSettings(owner, options.coalesce),
		memoryTier: memoryTierBudget(owner, options.memoryTier, backend),
	});
}

const looseCacheOptionNames: ReadonlySet<string> = new Set([...CACHE_OPTION_NAMES].map(name => name.toLowerCase()));

/** Split constructor options into the cache's own and the rest (for the base class). */
export function splitCacheOptions(options: unknown): [CacheOptions, unknown] {
	if (options === undefined || options === null || typeof options !== 'object') {
		return [{}, options];
	}

	const cache: Record<string, unknown> = {};
	const rest: Record<string, unknown> = {};
	for (const [name, value] of Object.entries(options)) {
		// A near miss of a cache option (`expire_after`) is reported by the cache, with a hint, not by the base.
		if (CACHE_OPTION_NAMES.has(name) || looseCacheOptionNames.has(name.toLowerCase().replaceAll('_', ''))) {
			cache[name] = value;
		} else {
			rest[name] = value;
		}
	}

	return [cache as CacheOptions, rest];
}
