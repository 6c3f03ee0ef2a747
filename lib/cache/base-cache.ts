import {EventEmitter} from 'node:events';
import {debuglog} from 'node:util';
import {DEFAULT_IGNORED_PARAMETERS, createKey} from '../cache-keys.js';
import {BackendError} from '../errors.js';
import {type PreparedRequest, prepareRequest} from '../models/request.js';
import {Response} from '../models/response.js';
import {type Duration, type ExpireAfter, durationToMs, expiresAt, parseExpireAfter} from '../policy/expiration.js';
import type {CacheStore} from '../backends/store.js';
import {type CachedEntry, type EntryMeta, type StoredValue, fromStored, toJsonSafe} from './entry.js';

const debug = debuglog('requests-cache');

/** Options of a {@link BaseCache}. */
export type BaseCacheOptions = {
	/** The clock, ms since the epoch. @default Date.now */
	clock?: () => number;
	/** Milliseconds a store operation may take on the request path before it counts as failed. @default 5000 */
	timeout?: number;
	/** Throw store errors on the request path instead of reporting them and failing open. @default false */
	strict?: boolean;
};

/** What `delete()` removes; entries matching any of the criteria go. */
export type DeleteOptions = {
	/** Cache keys to delete. */
	keys?: readonly string[];
	/** URLs whose GET responses to delete (matched by key, and by the stored final URL). */
	urls?: readonly string[];
	/** Delete every expired response. */
	expired?: boolean;
	/** Delete entries created before this Date, or older than this age (seconds or a duration). */
	olderThan?: Date | number | Duration;
};

const defaultKeySettings = {ignoredParameters: new Set(DEFAULT_IGNORED_PARAMETERS.map(name => name.toLowerCase())), matchHeaders: false} as const;

/** A copy of headers that shares no array (`set-cookie`) with the original. */
function copyHeaders(headers: CachedEntry['headers']): CachedEntry['headers'] {
	// A spread is the fast copy; only array values (set-cookie) need their own copy.
	const copy = {...headers};
	for (const name in copy) {
		const value = copy[name];
		if (Array.isArray(value)) {
			copy[name] = [...value];
		}
	}

	return copy;
}

/** The `Response` a stored entry stands for, with its own copies of everything mutable. */
export function entryToResponse(entry: CachedEntry, key: string, request: PreparedRequest, copy: boolean): Response {
	const response = new Response({
		status: entry.status,
		reason: entry.reason,
		headers: copy ? copyHeaders(entry.headers) : entry.headers,
		url: entry.url,
		body: copy ? Buffer.from(entry.body) : entry.body,
		request,
		history: entry.history,
	});
	response.fromCache = true;
	response.createdAt = new Date(entry.createdAt);
	response.expires = entry.expires === null ? null : new Date(entry.expires);
	response.cacheKey = key;
	return response;
}

/**
 * The cache on a session (`session.cache`): stores responses and redirect aliases through a
 * {@link CacheStore}, and owns expiry and maintenance. Store failures on the request path are
 * reported as `'error'` events (and the debug log `NODE_DEBUG=requests-cache`) and treated as
 * misses, unless `strict` is set.
 *
 * @example
 * const removed = await session.cache.removeOldEntries(new Date(Date.now() - 3600e3));
 * console.log(removed, await session.cache.urls());
 */
export class BaseCache extends EventEmitter {
	/** The store behind this cache. */
	readonly store: CacheStore;
	/** The clock, ms since the epoch. */
	clock: () => number;
	/** Timeout of store operations on the request path, ms. */
	timeout: number;
	/** Throw store errors on the request path instead of failing open. */
	strict: boolean;
	/** How `contains({url})` and `delete({urls})` build keys; set by the session to its own key settings. */
	keyFor: (request: PreparedRequest) => string = request => createKey(request, defaultKeySettings);

	constructor(store: CacheStore, options: BaseCacheOptions = {}) {
		super();
		this.store = store;
		this.clock = options.clock ?? Date.now;
		this.timeout = options.timeout ?? 5000;
		this.strict = options.strict ?? false;
	}

	/** Report a store failure: throw when strict, else emit `'error'` (if anyone listens) and log. */
	report(operation: string, error: unknown): void {
		const wrapped = error instanceof BackendError ? error : new BackendError(operation, {cause: error});
		if (this.strict) {
			throw wrapped;
		}

		debug('%s', wrapped.message);
		if (this.listenerCount('error') > 0) {
			this.emit('error', wrapped);
		}
	}

	/** Until when (performance.now()) a store that just timed out is not waited for. */
	private stalledUntil = 0;

	/**
	 * Wait for a store operation at most `timeout` ms. After a timeout the store is not waited for
	 * at all during the next `timeout` ms (its operations fail at once), so that a stalled store
	 * costs one request one timeout, not every read and write of every request.
	 */
	private async bounded<T>(operation: string, promise: Promise<T>): Promise<T> {
		if (this.store.local) {
			return promise;
		}

		const stalled = performance.now() < this.stalledUntil;
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_resolve, reject) => {
			timer = setTimeout(() => {
				if (!stalled) {
					this.stalledUntil = performance.now() + this.timeout;
				}

				reject(new BackendError(operation, {cause: new Error(stalled
					? `skipped: the store timed out less than ${this.timeout} ms ago`
					: `timed out after ${this.timeout} ms`)}));
			}, stalled ? 0 : this.timeout);
			timer.unref();
		});
		try {
			return await Promise.race([promise, timeout]);
		} finally {
			clearTimeout(timer);
			// A late rejection of the losing store promise must not go unhandled.
			promise.catch(() => undefined);
		}
	}

	/** Delete an undecodable value (awaited, so the delete cannot land after its replacement is stored). */
	private async drop(key: string, error: unknown): Promise<undefined> {
		debug('dropping undecodable entry %s: %s', key, (error as Error).message);
		await this.store.keyv.delete(key).catch(() => undefined);
		return undefined;
	}

	/** Read and decode one value; a value that does not decode is deleted and reads as missing. */
	async getValue(key: string): Promise<StoredValue | undefined> {
		const {hot} = this.store;
		const generation = hot?.generation();
		if (generation !== undefined) {
			const kept = hot!.get(key);
			if (kept !== undefined) {
				return kept;
			}
		}

		let raw: unknown;
		try {
			const read = this.store.keyv.get(key);
			raw = await (this.store.local ? read : this.bounded('get', read));
		} catch (error) {
			// A value the store's deserializer cannot parse is corrupt data, not a failing store.
			if (error instanceof SyntaxError) {
				return this.drop(key, error);
			}

			throw error;
		}

		if (raw === undefined || raw === null) {
			return undefined;
		}

		try {
			const value = this.store.serializes ? fromStored(raw) : (raw as StoredValue);
			if (generation !== undefined) {
				hot!.set(key, value, generation);
			}

			return value;
		} catch (error) {
			return this.drop(key, error);
		}
	}

	/**
	 * The response entry stored under `key` (following a redirect alias, then a Vary index through
	 * `variantKey`), or undefined. Never throws on the request path unless `strict`: a failing
	 * store reads as a miss.
	 */
	async getEntry(key: string, variantKey?: (primaryKey: string, names: readonly string[]) => string): Promise<{entry: CachedEntry; key: string; primaryKey: string} | undefined> {
		try {
			let value = await this.getValue(key);
			let foundKey = key;
			if (value?.kind === 'redirect') {
				foundKey = value.target;
				value = await this.getValue(value.target);
			}

			const primaryKey = foundKey;
			if (value?.kind === 'variants') {
				if (variantKey === undefined) {
					return undefined;
				}

				foundKey = variantKey(foundKey, value.names);
				value = await this.getValue(foundKey);
			}

			return value?.kind === 'response' ? {entry: value, key: foundKey, primaryKey} : undefined;
		} catch (error) {
			this.report('get', error);
			return undefined;
		}
	}

	/**
	 * Store a response under `key` (or, with `variant`, a Vary index under `key` and the response
	 * under the variant's key), and aliases to `key` for the redirect hops' URLs. Fails open.
	 */
	async saveEntry(
		key: string,
		entry: CachedEntry,
		aliases: ReadonlyArray<{key: string; url: string}> = [],
		variant?: {key: string; names: readonly string[]},
	): Promise<boolean> {
		try {
			const ttl = this.store.ttlFor(entry.expires, this.clock());
			// A store that keeps objects must not share them with the response the caller (and its hooks) still holds.
			const value = this.store.serializes
				? toJsonSafe(entry)
				: {...entry, headers: copyHeaders(entry.headers), history: [...entry.history], body: Buffer.from(entry.body)};
			const {keyv} = this.store;
			const writes: Array<Promise<unknown>> = [];
			if (variant === undefined) {
				writes.push(keyv.set(key, value, ttl));
			} else {
				writes.push(
					keyv.set(variant.key, value, ttl),
					keyv.set(key, {kind: 'variants', v: 1, names: [...variant.names], url: entry.url, createdAt: entry.createdAt, expires: null}),
				);
			}

			for (const alias of aliases) {
				if (alias.key !== key) {
					writes.push(keyv.set(alias.key, {kind: 'redirect', v: 1, target: key, url: alias.url, createdAt: entry.createdAt, expires: entry.expires}, ttl));
				}
			}

			await this.bounded('set', Promise.all(writes));
			return true;
		} catch (error) {
			this.report('set', error);
			return false;
		}
	}

	/** Delete one key on the request path (e.g. after an unsafe method); fails open. */
	async forget(keys: readonly string[]): Promise<void> {
		try {
			await this.bounded('delete', this.store.deleteKeys(keys));
		} catch (error) {
			this.report('delete', error);
		}
	}

	/** Decide whether a stored entry is expired at `now`. */
	isExpired(entry: {expires: number | null}, now = this.clock()): boolean {
		return entry.expires !== null && entry.expires <= now;
	}

	/** Every entry's metadata, in batches; a failing store throws a `BackendError`. */
	async * scan(): AsyncGenerator<EntryMeta[]> {
		try {
			yield * this.store.scan();
		} catch (error) {
			throw error instanceof BackendError ? error : new BackendError('scan', {cause: error});
		}
	}

	private async collect(select: (meta: EntryMeta) => boolean): Promise<string[]> {
		const keys: string[] = [];
		for await (const batch of this.scan()) {
			for (const meta of batch) {
				if (select(meta)) {
					keys.push(meta.key);
				}
			}
		}

		return keys;
	}

	/**
	 * Delete what matches any of the criteria and return how many entries went (redirect aliases
	 * included). Keys are collected first and deleted afterwards, never during the scan.
	 */
	async delete(options: DeleteOptions): Promise<number> {
		if (typeof options !== 'object' || options === null) {
			throw new TypeError('BaseCache.delete() takes an object: {keys, urls, expired, olderThan}');
		}

		const known = new Set(['keys', 'urls', 'expired', 'olderThan']);
		for (const name of Object.keys(options)) {
			if (!known.has(name)) {
				throw new TypeError(`BaseCache.delete(): unknown option \`${name}\``);
			}
		}

		const now = this.clock();
		let createdBefore: number | undefined;
		if (options.olderThan !== undefined) {
			createdBefore = options.olderThan instanceof Date
				? options.olderThan.getTime()
				: now - (typeof options.olderThan === 'number' ? options.olderThan * 1000 : durationToMs(options.olderThan, 'BaseCache.delete()', 'olderThan'));
			if (Number.isNaN(createdBefore)) {
				throw new RangeError('BaseCache.delete() option `olderThan` must be a valid Date, seconds or a duration');
			}
		}

		const expiredAt = options.expired === true ? now : undefined;
		let deleted = 0;
		try {
			if (createdBefore !== undefined || expiredAt !== undefined) {
				if (this.store.deleteWhere) {
					deleted += await this.store.deleteWhere({...(createdBefore === undefined ? {} : {createdBefore}), ...(expiredAt === undefined ? {} : {expiredAt})});
				} else {
					const keys = await this.collect(meta => (createdBefore !== undefined && meta.createdAt < createdBefore)
						|| (expiredAt !== undefined && meta.expires !== null && meta.expires <= expiredAt));
					deleted += await this.store.deleteKeys(keys);
				}
			}

			const keys = new Set(options.keys ?? []);
			for (const url of options.urls ?? []) {
				keys.add(this.keyFor(prepareRequest('GET', url, {}, {}, 'BaseCache.delete()')));
			}

			if (options.urls !== undefined && options.urls.length > 0) {
				const urls = new Set(options.urls.map(url => new URL(url).href));
				for (const key of await this.collect(meta => urls.has(meta.url))) {
					keys.add(key);
				}
			}

			if (keys.size > 0) {
				// Aliases that point at deleted responses would only be dead ends: remove them too.
				const aliasKeys: string[] = [];
				for await (const batch of this.scan()) {
					for (const meta of batch) {
						if (meta.kind === 'redirect' && !keys.has(meta.key)) {
							aliasKeys.push(meta.key);
						}
					}
				}

				const targets = await Promise.all(aliasKeys.map(async key => [key, await this.getValue(key)] as const));
				for (const [key, value] of targets) {
					if (value?.kind === 'redirect' && keys.has(value.target)) {
						keys.add(key);
					}
				}

				deleted += await this.store.deleteKeys([...keys]);
			}
		} catch (error) {
			throw error instanceof BackendError || error instanceof TypeError || error instanceof RangeError ? error : new BackendError('delete', {cause: error});
		}

		return deleted;
	}

	/** Delete entries created before `date`; returns how many were deleted. */
	async removeOldEntries(date: Date): Promise<number> {
		if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
			throw new TypeError('removeOldEntries() takes a valid Date');
		}

		return this.delete({olderThan: date});
	}

	/** Delete expired responses; returns how many were deleted. */
	async removeExpiredResponses(): Promise<number> {
		return this.delete({expired: true});
	}

	/** True when a response is stored under this key, or for this URL and method (GET by default). */
	async contains(keyOrRequest: string | {url: string; method?: string}): Promise<boolean> {
		const key = typeof keyOrRequest === 'string'
			? keyOrRequest
			: this.keyFor(prepareRequest(keyOrRequest.method ?? 'GET', keyOrRequest.url, {}, {}, 'BaseCache.contains()'));
		const value = await this.wrap('contains', this.getValue(key));
		if (value?.kind === 'redirect') {
			const target = await this.wrap('contains', this.getValue(value.target));
			return target?.kind === 'response' || target?.kind === 'variants';
		}

		return value?.kind === 'response' || value?.kind === 'variants';
	}

	/** Delete every entry of this cache (and nothing else sharing the store). */
	async clear(): Promise<void> {
		await this.wrap('clear', this.store.clear());
	}

	/** The final URLs of the stored responses, sorted and unique. */
	async urls(): Promise<string[]> {
		const urls = new Set<string>();
		for await (const batch of this.scan()) {
			for (const meta of batch) {
				if (meta.kind === 'response' && meta.url !== '') {
					urls.add(meta.url);
				}
			}
		}

		return [...urls].sort();
	}

	/** How many responses are stored (redirect aliases not counted). */
	async count(): Promise<number> {
		let count = 0;
		for await (const batch of this.scan()) {
			for (const meta of batch) {
				if (meta.kind === 'response' && meta.corrupt !== true) {
					count++;
				}
			}
		}

		return count;
	}

	/** Every stored response, as a `Response` with `fromCache: true`. */
	async * responses(): AsyncGenerator<Response> {
		const keys = await this.collect(meta => meta.kind === 'response');
		for (const key of keys) {
			// eslint-disable-next-line no-await-in-loop -- one entry in memory at a time
			const value = await this.getValue(key);
			if (value?.kind === 'response') {
				const stored = value.request;
				yield entryToResponse(value, key, {method: stored.method, url: stored.url, headers: stored.headers, body: undefined}, this.store.sharesObjects);
			}
		}
	}

	/** Give every stored response a new expiration, counted from now; returns how many changed. */
	async resetExpiration(expireAfter: ExpireAfter): Promise<number> {
		const expiration = parseExpireAfter(expireAfter, 'BaseCache.resetExpiration()', 'expireAfter');
		const now = this.clock();
		const expires = expiresAt(expiration, now);
		let changed = 0;
		for (const key of await this.collect(() => true)) {
			// eslint-disable-next-line no-await-in-loop -- one entry in memory at a time
			const value = await this.getValue(key);
			if (value === undefined) {
				continue;
			}

			const updated = {...value, expires};
			// eslint-disable-next-line no-await-in-loop
			await this.wrap('set', this.store.keyv.set(key, this.store.serializes ? toJsonSafe(updated) : updated, this.store.ttlFor(expires, now)));
			if (value.kind === 'response') {
				changed++;
			}
		}

		return changed;
	}

	/** Release the store's connections. */
	async close(): Promise<void> {
		this.closing ??= this.wrap('close', this.store.close());
		await this.closing;
	}

	private closing: Promise<void> | undefined;

	private async wrap<T>(operation: string, promise: Promise<T>): Promise<T> {
		try {
			return await promise;
		} catch (error) {
			throw error instanceof BackendError ? error : new BackendError(operation, {cause: error});
		}
	}
}
