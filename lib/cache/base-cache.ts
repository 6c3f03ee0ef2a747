import {EventEmitter} from 'node:events';
import {inspect} from 'node:util';
import type {CacheStore, DeleteFilter, RecordMeta} from '../backends/store.js';
import {matchesDeleteFilter} from '../backends/store.js';
import {createKey} from '../cache-keys.js';
import {type StoredValue, decodeValue, toRecord} from '../codec/entry.js';
import {type CacheStats, publish, wanted} from '../diagnostics.js';
import {BackendError, assertKnownOptions} from '../errors.js';
import {type PreparedRequest, prepareRequest} from '../models/request.js';
import type {Response} from '../models/response.js';
import {deleteAtOf} from '../policy/actions.js';
import {type Duration, type ExpireAfter, expiresAt, olderThanCutoff, parseExpireAfter} from '../policy/expiration.js';
import {groupMemberKeys, originOf} from './cache-groups.js';
import {DEFAULT_STORE_TIMEOUT, EntryStorage} from './entry-storage.js';
import {servedResponse} from '../codec/served-response.js';

/** Options of a {@link BaseCache}. */
export type BaseCacheOptions = {
	/** The clock, ms since the epoch. @default Date.now */
	clock?: () => number;
	/** Milliseconds a store operation may take on the request path before it counts as failed (a session's `backendTimeout`). @default 1000 */
	backendTimeout?: number;
	/** Throw store errors on the request path instead of reporting them and failing open (a session's `strictBackend`). @default false */
	strictBackend?: boolean;
	/** @deprecated The old name of `backendTimeout`. */
	timeout?: number;
	/** @deprecated The old name of `strictBackend`. */
	strict?: boolean;
	/** How `contains({url})` and `delete({urls})` build keys. @default the default key settings */
	keyFn?: (request: PreparedRequest) => string;
	/** Seconds a store with native expiry keeps an entry past its expiry (for `resetExpiration`). @default 3600 */
	ttlOffset?: number;
	/** The name shown in diagnostics and `util.inspect`. @default the store's name */
	name?: string;
};

/** What `delete()` removes; entries matching any of the criteria go. */
export type DeleteOptions = {
	/** Cache keys to delete. */
	keys?: readonly string[];
	/** URLs whose GET and HEAD responses to delete (matched by key, and by the stored final URL). */
	urls?: readonly string[];
	/** Delete every expired response. */
	expired?: boolean;
	/** Delete entries created before this Date, or older than this age (seconds or a duration). */
	olderThan?: Date | number | Duration;
};

const defaultKeySettings = {ignoredParameters: new Set<string>(), matchHeaders: false} as const;
const defaultKeyFn = (request: PreparedRequest): string => createKey(request, defaultKeySettings);
const deleteOptionNames: ReadonlySet<string> = new Set(['keys', 'urls', 'expired', 'olderThan']);

/** Package-internal (the composition root, specs, benchmarks): a cache's store and request-path storage. */
export const CACHE_PARTS: unique symbol = Symbol('requests-cache.cacheParts');

/** The store behind a cache (for specs and the inspector). */
export function storeOf(cache: BaseCache): CacheStore {
	return cache[CACHE_PARTS]().store;
}

/** The request-path storage of a cache (for specs and benchmarks). */
export function storageOf(cache: BaseCache): EntryStorage {
	return cache[CACHE_PARTS]().storage;
}

const isResponse = (meta: RecordMeta): boolean => meta.kind === 'response' && meta.corrupt !== true;

/**
 * The cache on a session (`session.cache`): expiry and maintenance over a store (docs/maintenance.md, docs/backends.md).
 *
 * @example
 * const removed = await session.cache.removeOldEntries(new Date(Date.now() - 3600e3));
 * console.log(removed, await session.cache.urls());
 */
export class BaseCache extends EventEmitter {
	readonly #store: CacheStore;
	readonly #clock: () => number;
	readonly #strict: boolean;
	readonly #storage: EntryStorage;
	readonly #ttlOffset: number;
	readonly #name: string;
	#keyFn: (request: PreparedRequest) => string;
	#ownKeyFn: boolean;
	#closing: Promise<void> | undefined;

	constructor(store: CacheStore, options: BaseCacheOptions = {}) {
		super();
		this.#store = store;
		this.#clock = options.clock ?? Date.now;
		this.#strict = options.strictBackend ?? options.strict ?? false;
		this.#ttlOffset = options.ttlOffset ?? 3600;
		this.#name = options.name ?? store.name;
		this.#keyFn = options.keyFn ?? defaultKeyFn;
		this.#ownKeyFn = options.keyFn !== undefined;
		const report = (error: Error, emit: boolean): void => {
			this.#storage.stats.errors++;
			publish({event: 'error', cacheName: this.#name, method: '', url: '', key: '', ms: 0, reason: error.message});
			if (emit && this.listenerCount('error') > 0) {
				this.emit('error', error);
			}
		};

		// A strict cache awaits its writes: their failures are the caller's.
		this.#storage = new EntryStorage(store, options.backendTimeout ?? options.timeout ?? DEFAULT_STORE_TIMEOUT, !this.#strict, {
			failure: (operation, error) => {
				const wrapped = asBackendError(operation, error);
				report(wrapped, !this.#strict);
				if (this.#strict) {
					throw wrapped;
				}
			},
			notice: error => {
				report(error, true);
			},
			evicted: records => {
				if (wanted('evicted')) {
					for (const {key, kind, url} of records) {
						publish({event: 'evicted', cacheName: this.#name, method: '', url, key, ms: 0, reason: `least recently used ${kind}`});
					}
				}
			},
		});
	}

	/** Package-internal: the store and storage; a session's `keyFn` becomes this cache's unless it has its own. */
	[CACHE_PARTS](keyFn?: (request: PreparedRequest) => string): {readonly store: CacheStore; readonly storage: EntryStorage} {
		if (keyFn !== undefined && !this.#ownKeyFn) {
			this.#keyFn = keyFn;
			this.#ownKeyFn = true;
		}

		return {store: this.#store, storage: this.#storage};
	}

	/** Counters since this cache was opened (hits, misses, stores, evictions, errors…), for a service's metrics. */
	stats(): CacheStats {
		const tier = (this.#store as {readonly tier?: {readonly hits: number}}).tier;
		return tier === undefined ? {...this.#storage.stats} : {...this.#storage.stats, tierHits: tier.hits};
	}

	/** The backend's name: 'sqlite', 'memory', 'redis', 'mongodb' or 'keyv'. */
	get backend(): string {
		return this.#store.name;
	}

	/** Visit the facts of every record, after the writes still queued behind requests. */
	async #scan(visit: (meta: RecordMeta) => void): Promise<void> {
		await this.#wrap('scan', (async () => {
			await this.#storage.flush();
			for await (const batch of this.#store.scan()) {
				for (const meta of batch) {
					visit(meta);
				}
			}
		})());
	}

	/** The keys of the records `select` picks: collected first, read or deleted afterwards, never during the scan. */
	async #collect(select: (meta: RecordMeta) => boolean): Promise<string[]> {
		const keys: string[] = [];
		await this.#scan(meta => {
			if (select(meta)) {
				keys.push(meta.key);
			}
		});
		return keys;
	}

	/** The value stored under `key`; undefined when there is none or it does not decode. */
	async #value(key: string): Promise<StoredValue | undefined> {
		const record = await this.#store.get(key);
		return record === undefined ? undefined : safeDecode(record.value);
	}

	async #deleteWhere(filter: DeleteFilter): Promise<number> {
		return this.#store.deleteWhere?.(filter) ?? this.#store.delete(await this.#collect(meta => meta.corrupt === true || matchesDeleteFilter(meta, filter)));
	}

	/** Delete what matches any of the criteria; how many entries went (redirect aliases and Vary indexes included). */
	async delete(options: DeleteOptions): Promise<number> {
		if (typeof options !== 'object' || options === null) {
			throw new TypeError('BaseCache.delete() takes an object: {keys, urls, expired, olderThan}');
		}

		assertKnownOptions('BaseCache.delete()', options, deleteOptionNames);
		const now = this.#clock();
		const createdBefore = options.olderThan === undefined ? undefined : olderThanCutoff(options.olderThan, now, 'BaseCache.delete()', 'olderThan');
		const keys = new Set(options.keys ?? []);
		for (const url of options.urls ?? []) {
			for (const method of ['GET', 'HEAD']) {
				keys.add(this.#keyFn(prepareRequest(method, url, {}, {}, 'BaseCache.delete()')));
			}
		}

		return this.#wrap('delete', (async () => {
			let deleted = 0;
			await this.#storage.flush();
			if (createdBefore !== undefined || options.expired === true) {
				deleted += await this.#deleteWhere({...(createdBefore === undefined ? {} : {createdBefore}), ...(options.expired === true ? {expiredAt: now} : {})});
			}

			if (options.urls !== undefined && options.urls.length > 0) {
				const urls = new Set(options.urls.map(url => new URL(url).href));
				for (const key of await this.#collect(meta => urls.has(meta.url))) {
					keys.add(key);
				}
			}

			if (keys.size > 0) {
				// Aliases that point at deleted responses would only be dead ends: remove them too.
				for (const key of await this.#collect(meta => meta.kind === 'redirect' && !keys.has(meta.key))) {
					// eslint-disable-next-line no-await-in-loop -- few aliases; one value in memory at a time
					const alias = await this.#value(key);
					if (alias?.kind === 'redirect' && keys.has(alias.target)) {
						keys.add(key);
					}
				}

				deleted += await this.#store.delete([...keys]);
			}

			return deleted;
		})());
	}

	/**
	 * Delete the stored responses of Cache Groups (RFC 9875) on `origin`, as a `Cache-Group-Invalidation` would; how many went.
	 *
	 * @example
	 * await session.cache.invalidateGroups(['articles'], {origin: 'https://api.example.com'});
	 */
	async invalidateGroups(groups: readonly string[], options: {origin: string}): Promise<number> {
		if (!Array.isArray(groups) || groups.length === 0 || !groups.every(group => typeof group === 'string')) {
			throw new TypeError(`BaseCache.invalidateGroups() takes a non-empty array of group names (strings) first, got ${JSON.stringify(groups)}`);
		}

		const origin = typeof options === 'object' && options !== null && typeof options.origin === 'string' ? originOf(options.origin) : undefined;
		if (origin === undefined) {
			throw new TypeError('BaseCache.invalidateGroups() option `origin` must be an absolute URL or origin, such as \'https://api.example.com\' (groups are scoped to an origin)');
		}

		return this.#wrap('delete', (async () => {
			await this.#storage.flush();
			const keys = await groupMemberKeys(this.#store, origin, groups);
			return keys.length === 0 ? 0 : this.#store.delete(keys);
		})());
	}

	/** Delete entries created before `date`; returns how many were deleted. */
	async removeOldEntries(date: Date): Promise<number> {
		if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
			throw new TypeError('removeOldEntries() takes a valid Date');
		}

		return this.delete({olderThan: date});
	}

	/** Delete expired responses (and unreadable entries); returns how many were deleted. */
	async removeExpiredResponses(): Promise<number> {
		return this.delete({expired: true});
	}

	/** True when a response is stored under this key, or for this URL and method (GET by default). */
	async contains(keyOrRequest: string | {url: string; method?: string}): Promise<boolean> {
		const key = typeof keyOrRequest === 'string'
			? keyOrRequest
			: this.#keyFn(prepareRequest(keyOrRequest.method ?? 'GET', keyOrRequest.url, {}, {}, 'BaseCache.contains()'));
		await this.#wrap('contains', this.#storage.flush());
		let record = await this.#wrap('contains', this.#store.get(key));
		if (record?.kind === 'redirect') {
			const alias = safeDecode(record.value);
			record = alias?.kind === 'redirect' ? await this.#wrap('contains', this.#store.get(alias.target)) : undefined;
		}

		return record?.kind === 'response' || record?.kind === 'variants';
	}

	/** Delete every entry of this cache (and nothing else sharing the store). */
	async clear(): Promise<void> {
		await this.#wrap('clear', this.#storage.flush());
		await this.#wrap('clear', this.#store.clear());
	}

	/** The final URLs of the stored responses, sorted and unique. */
	async urls(): Promise<string[]> {
		const urls = new Set<string>();
		await this.#scan(meta => {
			if (isResponse(meta) && meta.url !== '') {
				urls.add(meta.url);
			}
		});
		return [...urls].sort();
	}

	/** How many responses are stored (redirect aliases, Vary indexes and unreadable entries not counted). */
	async count(): Promise<number> {
		let count = 0;
		await this.#scan(meta => {
			count += isResponse(meta) ? 1 : 0;
		});
		return count;
	}

	/** Every stored response, as a `Response` with `fromCache: true` (one in memory at a time). */
	async * responses(): AsyncGenerator<Response> {
		for (const key of await this.#collect(isResponse)) {
			// eslint-disable-next-line no-await-in-loop -- one entry in memory at a time
			const value = await this.#wrap('get', this.#value(key));
			if (value?.kind === 'response') {
				yield servedResponse(value, key, {now: this.#clock()});
			}
		}
	}

	/** Give every stored response a new expiration, counted from now; returns how many changed. */
	async resetExpiration(expireAfter: ExpireAfter): Promise<number> {
		const expiration = parseExpireAfter(expireAfter, 'BaseCache.resetExpiration()', 'expireAfter');
		const expires = expiresAt(expiration, this.#clock());
		const deleteAt = deleteAtOf(expires, {ttlOffset: this.#ttlOffset});
		let changed = 0;
		for (const key of await this.#collect(meta => meta.corrupt !== true)) {
			// eslint-disable-next-line no-await-in-loop -- one entry in memory at a time
			const value = await this.#wrap('get', this.#value(key));
			if (value !== undefined) {
				await this.#wrap('set', this.#store.set([toRecord(key, {...value, expires}, deleteAt)]));
				changed += value.kind === 'response' ? 1 : 0;
			}
		}

		return changed;
	}

	/**
	 * Wait until the responses written behind requests are in the store: call it before `process.exit()` (docs/backends.md).
	 *
	 * @example
	 * await Promise.all(urls.map(async url => session.get(url)));
	 * await session.cache.flush();
	 * process.exit(0);
	 */
	async flush(): Promise<void> {
		await this.#storage.flush();
	}

	/** Release the store's connections. */
	async close(): Promise<void> {
		this.#closing ??= this.#wrap('close', this.#storage.flush().then(async () => this.#store.close()));
		await this.#closing;
	}

	[inspect.custom](): string {
		return `BaseCache <${this.#store.name} ${JSON.stringify(this.#name)}> ${JSON.stringify(this.stats())}`;
	}

	async #wrap<T>(operation: string, promise: Promise<T>): Promise<T> {
		try {
			return await promise;
		} catch (error) {
			throw asBackendError(operation, error);
		}
	}
}

function asBackendError(operation: string, error: unknown): BackendError {
	return error instanceof BackendError ? error : new BackendError(operation, {cause: error});
}

function safeDecode(bytes: Uint8Array): StoredValue | undefined {
	try {
		return decodeValue(bytes);
	} catch {
		return undefined;
	}
}
