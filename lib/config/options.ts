import type {Keyv, KeyvStoreAdapter} from 'keyv';
import {budgetLimit} from '../backends/budget.js';
import {type CacheStore, type StoreBudget, isCacheStore} from '../backends/store.js';
import {BaseCache} from '../cache/base-cache.js';
import {DEFAULT_STORE_TIMEOUT} from '../cache/entry-storage.js';
import {DEFAULT_IGNORED_PARAMETERS, isCredentialName} from '../cache-keys.js';
import {assertKnownOptions, optionRangeError, optionTypeError} from '../errors.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response} from '../models/response.js';
import {DEFAULT_CACHE_STATUS_NAME, isCacheStatusName} from '../policy/cache-status.js';
import {type Duration, type ExpireAfter, NEVER_EXPIRE, durationToMs, parseExpireAfter, parseUrlsExpireAfter} from '../policy/expiration.js';
import type {CacheSettings, CoalesceSettings} from '../policy/settings.js';
import {type BackendName, STORES, type StoreOption, isBackendName} from './stores.js';

/** A backend: a name, a store (ours or one branded with `CACHE_STORE`), a Keyv instance or store adapter, or a {@link BaseCache}. */
export type BackendOption = BackendName | CacheStore | Keyv | KeyvStoreAdapter | BaseCache;

/** What a check knows: whose option it is (for the message), its name, and all the options given. */
type At = {readonly owner: string; readonly name: string; readonly options: Readonly<Record<string, unknown>>};
/** Validate one option's value (its default when not given) into its setting; throws naming the option. */
type Check<Out> = (value: unknown, at: At) => Out;
/** One row of the table: the value the option takes (`In`), its default, its check, the setting it gives (`Out`). */
type Option<In, Out, Default> = {readonly fallback: Default; readonly check: Check<Out>; readonly in?: In};

const option = <In, Out>(fallback: In, check: Check<Out>): Option<In, Out, In> => ({fallback, check});
const optional = <In, Out>(check: Check<Out>): Option<In, Out, undefined> => ({fallback: undefined, check});
const fail = ({owner, name}: At, expected: string, value: unknown): never => {
	throw optionTypeError(owner, name, expected, value);
};

const outOfRange = ({owner, name}: At, expected: string, value: unknown): never => {
	throw optionRangeError(owner, name, expected, value);
};

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const bool: Check<boolean> = (value, at) => typeof value === 'boolean' ? value : fail(at, 'a boolean', value);
const fn = <F>(): Check<F | undefined> => (value, at) => value === undefined || typeof value === 'function' ? value as F | undefined : fail(at, 'a function', value);
const strings: Check<string[]> = (value, at) => Array.isArray(value) && value.every(item => typeof item === 'string' && item !== '') ? value as string[] : fail(at, 'an array of non-empty strings', value);
const lowerCase = (names: readonly string[]): string[] => names.map(name => name.toLowerCase());
const budget: Check<number | undefined> = (value, at) => budgetLimit(at.owner, at.name, value);
const number = (least: number, orMore: boolean): Check<number> => (value, at) => {
	if (typeof value !== 'number' || Number.isNaN(value)) {
		return fail(at, 'a number', value);
	}

	return Number.isFinite(value) && (orMore ? value >= least : value > least) ? value : outOfRange(at, `a finite number ${orMore ? '>=' : '>'} ${least}`, value);
};

/** Only the given names in an object option (`coalesce`, `memoryTier`). */
const fields = (value: unknown, at: At, names: readonly string[], expected: string): Record<string, unknown> => {
	if (!isObject(value)) {
		return fail(at, expected, value);
	}

	assertKnownOptions(`${at.owner} option \`${at.name}\``, value, new Set(names));
	return value;
};

/** A stale window in ms: 0 when off, Infinity for `true`. */
const staleWindow: Check<number> = (value, at) => {
	if (typeof value === 'boolean') {
		return value ? Number.POSITIVE_INFINITY : 0;
	}

	if (typeof value === 'number') {
		return Number.isFinite(value) && value >= 0 ? value * 1000 : outOfRange(at, 'true, false, a number of seconds >= 0 or a duration', value);
	}

	return isObject(value) ? durationToMs(value as Duration, at.owner, at.name) : fail(at, 'true, false, a number of seconds or a duration', value);
};

/** Which backends take a store option, for the message that refuses it elsewhere. */
const takers = (name: StoreOption): string => Object.entries(STORES).filter(([, store]) => store.options.includes(name)).map(([backend]) => `'${backend}'`).join(' or ');
const backendKinds = `one of ${Object.keys(STORES).map(name => `'${name}'`).join(', ')}, a CacheStore, a Keyv instance, a Keyv store adapter or a BaseCache`;

/** THE OPTION TABLE: each cache option's name, default, check and doc; everything else derives from it. Checks run in order. */
const TABLE = {
	/** The SQLite file (`<cacheName>.sqlite`), the Redis key prefix, the MongoDB database or a Keyv namespace. @default 'http_cache' */
	cacheName: option<string, string>('http_cache', (value, at) => typeof value === 'string' && value.trim() !== '' ? value : fail(at, 'a non-empty string', value)),
	/** Where responses are stored: a name of the store registry (lib/config/stores.ts), a store, a Keyv or a BaseCache. @default 'sqlite' */
	backend: option<BackendOption, BackendOption>('sqlite', (value, at) => isBackendName(value) || value instanceof BaseCache || isCacheStore(value)
		|| (isObject(value) && typeof value['get'] === 'function' && typeof value['set'] === 'function') ? value as BackendOption : fail(at, backendKinds, value)),
	/** Connection URL of `'redis'` (default `redis://localhost:6379`) or `'mongodb'` (default `mongodb://localhost:27017`); a Redis Cluster's node URLs as an array. */
	url: optional<string | readonly string[], string | readonly string[] | undefined>((value, at) => {
		const isUrl = (url: unknown): url is string => typeof url === 'string' && /^[a-z][a-z\d+.-]*:\/\//i.test(url);
		if (value === undefined || isUrl(value)) {
			return value;
		}

		if (!Array.isArray(value) || value.length === 0 || !value.every(isUrl)) {
			return fail(at, 'a connection URL such as redis://localhost:6379, or an array of a Redis Cluster\'s node URLs', value);
		}

		if (at.options['backend'] !== 'redis') {
			throw new TypeError(`${at.owner} option \`url\` only applies to backend ${takers('url')} (an array of URLs, a Redis Cluster, to 'redis' only)`);
		}

		return Object.freeze([...value as string[]]);
	}),
	/** SQLite: a relative `cacheName` is a file in the user cache directory (lib/backends/cache-path.ts). @default false */
	useCacheDir: option<boolean, boolean>(false, bool),
	/** SQLite: a relative `cacheName` is a file in the temporary directory. @default false */
	useTemp: option<boolean, boolean>(false, (value, at) => {
		if (bool(value, at) && at.options['useCacheDir'] === true) {
			throw new TypeError(`${at.owner} options \`useCacheDir\` and \`useTemp\` cannot be combined: choose one directory`);
		}

		return value as boolean;
	}),
	/** How long responses stay fresh: seconds, a Date, a duration, or a constant (docs/expiration.md). @default NEVER_EXPIRE */
	expireAfter: option<ExpireAfter, CacheSettings['expireAfter']>(NEVER_EXPIRE, (value, at) => parseExpireAfter(value, at.owner, at.name)),
	/** Per-URL expiration, `{'api.example.com/*': 60, '*': DO_NOT_CACHE}`: the first match wins. @default {} */
	urlsExpireAfter: option<Record<string, ExpireAfter>, CacheSettings['urlsExpireAfter']>({}, (value, at) => Object.freeze(parseUrlsExpireAfter(value, at.owner, at.name))),
	/** Status codes that are stored. @default [200] */
	allowableCodes: option<readonly number[], ReadonlySet<number>>([200], (value, at) => {
		const codes = Array.isArray(value) && value.every(code => Number.isInteger(code)) ? value as number[] : fail(at, 'an array of integer status codes', value);
		const wrong = codes.find(code => code < 100 || code > 599);
		return wrong === undefined ? new Set(codes) : outOfRange(at, 'status codes from 100 to 599', wrong);
	}),
	/** Methods that are stored. @default ['GET', 'HEAD'] */
	allowableMethods: option<readonly string[], ReadonlySet<string>>(['GET', 'HEAD'], (value, at) => new Set(strings(value, at).map(method => method.toUpperCase()))),
	/** Headers, query parameters and body fields left out of the key and redacted (built-in credential names need no listing). @default [] */
	ignoredParameters: option<readonly string[], ReadonlySet<string>>([], (value, at) => {
		const names = new Set(lowerCase(strings(value, at)));
		// The idiom of earlier versions' docs, which now reads as "share every credential": refused, not guessed at.
		return DEFAULT_IGNORED_PARAMETERS.every(name => names.has(name.toLowerCase()))
			? outOfRange(at, 'your own names only: the built-in credential names are always redacted, and a name listed here is shared between users (to share every credential on purpose, use `shareCredentials: true`)', '[...DEFAULT_IGNORED_PARAMETERS, …]')
			: names;
	}),
	/** Let requests with other credentials share responses: `true`, or built-in credential names. Risk: one user served another's answer. @default false */
	shareCredentials: option<boolean | readonly string[], boolean | ReadonlySet<string>>(false, (value, at) => {
		if (typeof value === 'boolean') {
			return value;
		}

		const names = lowerCase(strings(value, at));
		const wrong = names.find(name => !isCredentialName(name));
		return wrong === undefined ? new Set(names) : outOfRange(at, 'true, false or built-in credential names (from DEFAULT_IGNORED_PARAMETERS)', wrong);
	}),
	/** Request headers that are part of the key: false (none), true (all), or names. @default false */
	matchHeaders: option<boolean | readonly string[], boolean | readonly string[]>(false, (value, at) => typeof value === 'boolean' ? value : Object.freeze(lowerCase(strings(value, at)))),
	/** Return false to keep a response out of the cache. */
	filterFn: optional<(response: Response) => boolean, ((response: Response) => boolean) | undefined>(fn()),
	/** Replace key creation: return the key for a request. */
	keyFn: optional<(request: PreparedRequest) => string, ((request: PreparedRequest) => string) | undefined>(fn()),
	/** Serve what is cached, store nothing new. @default false */
	readOnly: option<boolean, boolean>(false, bool),
	/** Honour HTTP caching headers: `true` (requests-cache's rules) or `'rfc9111'` (an RFC 9111 cache; docs/http-caching.md). @default false */
	cacheControl: option<boolean | 'rfc9111', boolean | 'rfc9111'>(false, (value, at) => typeof value === 'boolean' || value === 'rfc9111' ? value : fail(at, 'true, false or \'rfc9111\'', value)),
	/** With `cacheControl: 'rfc9111'`: an RFC 9111 *shared* cache, for many users (docs/http-caching.md). @default false */
	shared: option<boolean, boolean>(false, (value, at) => {
		const cacheControl = at.options['cacheControl'] ?? false;
		if (bool(value, at) && cacheControl !== 'rfc9111') {
			throw new TypeError(`${at.owner} option \`shared\` only applies with \`cacheControl: 'rfc9111'\` (an RFC 9111 shared cache); \`cacheControl: ${JSON.stringify(cacheControl)}\` has no private/shared distinction`);
		}

		return value as boolean;
	}),
	/** Store `Set-Cookie` and replay it to every caller. Risk: one user's session cookie handed to another. @default false (true with `'rfc9111'` unless `shared`) */
	storeCookies: option<boolean, boolean>(false, (value, at) => at.options['storeCookies'] === undefined
		// A private RFC 9111 cache, as browsers have it, stores Set-Cookie (docs/security.md).
		? at.options['cacheControl'] === 'rfc9111' && at.options['shared'] !== true
		: bool(value, at)),
	/** Add a `Cache-Status` field (RFC 9211) to every answer: `true`, or the cache's name in it (docs/observability.md). @default false */
	cacheStatus: option<boolean | string, string | undefined>(false, (value, at) => {
		if (typeof value === 'boolean') {
			return value ? DEFAULT_CACHE_STATUS_NAME : undefined;
		}

		return typeof value === 'string'
			? (isCacheStatusName(value) ? value : outOfRange(at, 'a non-empty cache name of printable ASCII characters (RFC 9211 names caches with Structured Field strings)', value))
			: fail(at, 'true, false or a cache name', value);
	}),
	/** Revalidate fresh entries that have a validator on every use. @default false */
	alwaysRevalidate: option<boolean, boolean>(false, bool),
	/** Serve a stale entry when refreshing it fails: true, or the longest staleness. @default false */
	staleIfError: option<boolean | number | Duration, number>(false, staleWindow),
	/** Serve a stale entry at once and refresh it in the background: true, or the longest staleness. @default false */
	staleWhileRevalidate: option<boolean | number | Duration, number>(false, staleWindow),
	/** Seconds stores with native expiry (Redis, MongoDB) keep expired entries, for revalidation. @default 3600 */
	ttlOffset: option<number, number>(3600, number(0, true)),
	/** Ms a store operation may take on the request path before it counts as failed (also Redis' and MongoDB's connection timeout). @default 1000 */
	backendTimeout: option<number, number>(DEFAULT_STORE_TIMEOUT, number(0, false)),
	/** Throw store errors instead of failing open (serving from the origin, reporting on `'error'`). @default false */
	strictBackend: option<boolean, boolean>(false, bool),
	/** Called with each store error when failing open (as `session.cache.on('error', fn)`). */
	onError: optional<(error: Error) => void, ((error: Error) => void) | undefined>(fn()),
	/** The clock, ms since the epoch; tests inject a fake one. @default Date.now */
	clock: option<() => number, () => number>(Date.now, (value, at) => fn<() => number>()(value, at)!),
	/** Most records kept (`'sqlite'`, `'memory'`): a write over it evicts the least recently used. @default no limit */
	maxEntries: optional<number, number | undefined>(budget),
	/** Most bytes of stored values kept (`'sqlite'`, `'memory'`): a write over it evicts the least recently used. @default no limit */
	maxBytes: optional<number, number | undefined>(budget),
	/** Largest body stored, bytes: a larger response is returned, not stored. @default 50 MiB, or `maxBytes` when smaller */
	maxEntrySize: option<number, number>(50 * 1024 * 1024, (value, at) => {
		const size = number(0, true)(value, at);
		const maxBytes = at.options['maxBytes'] as number | undefined;
		if (maxBytes === undefined || size <= maxBytes) {
			return size;
		}

		return at.options['maxEntrySize'] === undefined ? maxBytes : outOfRange(at, `at most \`maxBytes\` (${maxBytes}): a response larger than the whole budget could not be kept`, size);
	}),
	/** Miss coalescing across processes on a shared store: `false`, or `{lease, wait}` in ms (docs/scaling.md). @default true ({lease: 2000, wait: 30000}) */
	coalesce: option<boolean | {lease?: number; wait?: number}, CoalesceSettings | false>(true, (value, at) => {
		if (typeof value === 'boolean') {
			return value && Object.freeze({lease: 2000, wait: 30_000});
		}

		const {lease = 2000, wait = 30_000} = fields(value, at, ['lease', 'wait'], 'true, false or {lease, wait} in milliseconds');
		return Object.freeze({lease: number(10, true)(lease, {...at, name: 'coalesce.lease'}), wait: number(0, true)(wait, {...at, name: 'coalesce.wait'})});
	}),
	/** Redis: keep recently read records in this process too, within this budget, coherent across processes (docs/scaling.md). @default none; `{}` is 64 MiB */
	memoryTier: optional<{maxEntries?: number; maxBytes?: number}, StoreBudget | undefined>((value, at) => {
		if (value === undefined) {
			return undefined;
		}

		const {maxEntries, maxBytes} = fields(value, at, ['maxEntries', 'maxBytes'], 'an object {maxEntries, maxBytes}');
		const entries = budget(maxEntries, {...at, name: 'memoryTier.maxEntries'});
		const bytes = budget(maxBytes, {...at, name: 'memoryTier.maxBytes'});
		return Object.freeze({maxEntries: entries, maxBytes: entries === undefined && bytes === undefined ? 64 * 1024 * 1024 : bytes});
	}),
};

type Table = typeof TABLE;

/** Options of a cached session (`CachedSession`, `CacheMixin(...)`), of `installCache()` and of `createStore()`: one per row of the option table. */
export type CacheOptions = {-readonly [Name in keyof Table]?: (Table[Name] extends Option<infer In, unknown, unknown> ? In : never) | undefined};

/** Validated, frozen configuration: the settings the policy and engine read, and which store to build. */
export type CacheConfig = {readonly [Name in keyof Table]: ReturnType<Table[Name]['check']>};

/** The option names a cache owns; everything else goes to the session class being extended. */
export const CACHE_OPTION_NAMES: ReadonlySet<string> = new Set(Object.keys(TABLE));

/** The defaults, frozen (an option without a default is off). */
export const DEFAULT_CACHE_OPTIONS = Object.freeze(Object.fromEntries(Object.entries(TABLE).map(([name, {fallback}]) => [name, fallback]))) as {
	readonly [Name in keyof Table]: Table[Name]['fallback'];
};

const storeOptions = new Set(Object.values(STORES).flatMap(store => store.options));

/** Validate cache options once, into the frozen configuration; a bad one throws a `TypeError`/`RangeError` naming it. */
export function normalizeCacheOptions(options: CacheOptions = {}, owner = 'CachedSession'): CacheConfig {
	if (!isObject(options)) {
		return fail({owner, name: 'options', options: {}}, 'an object', options);
	}

	assertKnownOptions(owner, options, CACHE_OPTION_NAMES);
	const given = options as Readonly<Record<string, unknown>>;
	const config: Record<string, unknown> = {};
	for (const [name, {fallback, check}] of Object.entries(TABLE)) {
		config[name] = (check as Check<unknown>)(given[name] ?? fallback, {owner, name, options: given});
	}

	const {backend} = config as CacheConfig;
	for (const name of storeOptions) {
		// A default (`useTemp: false`) fits any backend.
		if (given[name] !== undefined && given[name] !== TABLE[name].fallback && !(isBackendName(backend) && STORES[backend].options.includes(name))) {
			const why = isBackendName(backend) ? STORES[backend].refusal?.[name] ?? '' : `: a store, Keyv or BaseCache given as \`backend\` takes its own (as in \`new SqliteStore(name, {${name}})\`)`;
			throw new TypeError(`${owner} option \`${name}\` only applies to backend ${takers(name)}${why}`);
		}
	}

	// A BaseCache was built with its own store timeout and strictness: taking the session's here would be a silent no-op.
	for (const name of ['backendTimeout', 'strictBackend']) {
		if (backend instanceof BaseCache && given[name] !== undefined) {
			throw new TypeError(`${owner} option \`${name}\` cannot be given with a BaseCache as \`backend\`: give it to the BaseCache, as in \`new BaseCache(store, {${name}: …})\``);
		}
	}

	return Object.freeze(config) as CacheConfig;
}

const looseCacheOptionNames: ReadonlySet<string> = new Set([...CACHE_OPTION_NAMES].map(name => name.toLowerCase()));

/** Split constructor options into the cache's own and the rest (for the base class). */
export function splitCacheOptions(options: unknown): [CacheOptions, unknown] {
	if (!isObject(options)) {
		return [{}, options];
	}

	const cache: Record<string, unknown> = {};
	const rest: Record<string, unknown> = {};
	for (const [name, value] of Object.entries(options)) {
		// A near miss of a cache option (`expire_after`) is reported by the cache, with a hint, not by the base.
		const own = CACHE_OPTION_NAMES.has(name) || looseCacheOptionNames.has(name.toLowerCase().replaceAll('_', ''));
		(own ? cache : rest)[name] = value;
	}

	return [cache as CacheOptions, rest];
}
