import type {CacheStore, EvictedRecord, FlightLease, SetResult, StoreRecord} from '../backends/store.js';
import {type CachedEntry, CorruptEntryError, type StoredValue, type VariantIndex, decodeValue, decodedOf, toRecord} from '../codec/entry.js';
import {type CacheStats, emptyStats} from '../diagnostics.js';
import {BackendError} from '../errors.js';
import {groupMemberKeys} from './cache-groups.js';
import {type Writer, flush, handed, queued, writeBehind} from './write-behind.js';

/** A store operation not answered in time (or not waited for, during a pause after one): it may still land. */
class StoreStall extends Error {}

/** Ms a store operation may take on the request path by default: the `backendTimeout` option's default (lib/config/options.ts). */
export const DEFAULT_STORE_TIMEOUT = 1000;

/** The longest pause after repeated store timeouts, ms. */
const maxBackoff = 60_000;

/**
 * A stored response as found: its key, the key it was reached through (before any Vary index),
 * and whether its body is the reader's own (decoded from a fresh record, kept nowhere else): such
 * a body can be served once without a copy.
 */
export type Found = {readonly entry: CachedEntry; readonly key: string; readonly primaryKey: string; readonly owned: boolean};

/**
 * How a request reaches its variant: the primary key and the Vary names give the variant's key
 * (undefined when the request's identity cannot be derived now: then it has no variant).
 */
export type VariantKey = (primaryKey: string, names: readonly string[]) => string | undefined;

/** Where store failures and corrupt values are reported (the cache's `'error'` event). */
export type StorageReports = {
	/** A store failure: throws when the cache is strict, else reports and returns. */
	failure(operation: string, error: unknown): void;
	/** Something worth telling that never fails a request (a corrupt value was dropped). */
	notice(error: Error): void;
	/** Records a budgeted store evicted to make room for a write (already counted in `stats.evicted`). */
	evicted(records: readonly EvictedRecord[]): void;
};

/**
 * The request path's way to a store: reads that decode (once per stored record), writes of a
 * response with its aliases and Vary index, and deletes; each bounded by the backend timeout and
 * failing open. Maintenance (lib/cache/base-cache.ts) goes to the store directly.
 */
export class EntryStorage {
	/** Counters for `session.cache.stats()`, kept by the engine and by this storage. */
	readonly stats: CacheStats = emptyStats();
	readonly #store: CacheStore;
	readonly #timeout: number;
	readonly #reports: StorageReports;
	/** Values decoded from records the store hands out again unchanged (memory, SQLite's hot cache). */
	readonly #decoded = new WeakMap<StoreRecord, StoredValue>();
	/** Until when (performance.now()) a store that just timed out is not waited for. */
	#stalledUntil = 0;
	/**
	 * The store's location, where this process's writes behind requests wait (lib/cache/write-behind.ts):
	 * read first, and waited for, by every cache on it, whether or not it writes behind itself.
	 */
	readonly #location: string | undefined;
	/** True when this cache's own writes go behind the request. */
	readonly #behind: boolean;
	/**
	 * False after a store operation failed, true again after one succeeds: writes go behind the
	 * request only to a store that answers (to one that does not, they fail on the request path,
	 * and nothing is served from a queue the store will never take).
	 */
	#answering = true;
	readonly #writer: Writer;
	/** How long the next skip window lasts: doubled by each timeout in a row, reset by a success. */
	#backoff = 0;
	/** Writes behind requests that timed out, still waiting for the store's answer. */
	readonly #unanswered = new Set<Promise<void>>();

	constructor(store: CacheStore, timeout: number, writeBehind: boolean, reports: StorageReports) {
		this.#store = store;
		this.#timeout = timeout;
		this.#reports = reports;
		this.#backoff = timeout;
		this.#location = store.location;
		// A budgeted store decides what stays when it writes: its writes are awaited, in order.
		this.#behind = writeBehind && store.budget === undefined && store.location !== undefined;
		this.#writer = {
			synchronous: store.local,
			ordered: store.ordered === true,
			write: async records => {
				const landing = store.set(records);
				try {
					this.#countEvicted(await this.#bounded('set', landing));
				} catch (error) {
					this.#answering = false;
					if (error instanceof BackendError && error.cause instanceof StoreStall) {
						// Sent, not answered in time: a stalled store may still take it. Only its answer says whether it was lost.
						this.#follow(landing, records.length);
					} else {
						this.#lose('set', error, records.length);
					}
				}
			},
			abandoned: (unsent, unanswered) => {
				const sent = unanswered === 0 ? '' : `; of them, ${unanswered} were sent without an answer yet and may have reached the store`;
				this.#lose('set', new Error(`the process exited with writes queued${sent} (await session.cache.flush() before process.exit() to keep them)`), unsent + unanswered);
			},
		};
	}

	/** False while the store is failing or stalled (its last operation failed, or it is in a pause after a timeout). */
	get answering(): boolean {
		return this.#answering && performance.now() >= this.#stalledUntil;
	}

	/** The store's flight leases, for miss coalescing across processes (none on a store one process owns). */
	get lease(): FlightLease | undefined {
		return this.#store.lease;
	}

	/** Wait until the writes queued behind requests at this store's location have been handed to the store. */
	async handed(): Promise<void> {
		if (this.#location !== undefined) {
			await handed(this.#location);
		}
	}

	/**
	 * Wait until the writes queued behind requests (by any cache of this store's location) have
	 * been answered by the store; a write a stalled store has not answered is waited for at most
	 * the backend timeout more.
	 */
	async flush(): Promise<void> {
		if (this.#location !== undefined) {
			await flush(this.#location);
		}

		if (this.#unanswered.size > 0) {
			let timer: NodeJS.Timeout | undefined;
			await Promise.race([Promise.all(this.#unanswered), new Promise<void>(resolve => {
				timer = setTimeout(resolve, this.#timeout);
				timer.unref();
			})]);
			clearTimeout(timer);
		}
	}

	/** Report a write behind the request that failed, with how many records it kept out of the store. */
	#lose(operation: string, error: unknown, lost: number): void {
		const cause = error instanceof BackendError ? error.cause ?? error : error;
		try {
			this.#reports.failure(operation, new BackendError(operation, {cause, lost}));
		} catch {
			// Reported: nobody waits for a write behind the request to throw to.
		}
	}

	/** Follow a write that timed out: it is reported only if the store then says it failed. */
	#follow(landing: Promise<SetResult | void>, count: number): void {
		const answered = landing.then(result => {
			this.#countEvicted(result);
		}, (error: unknown) => {
			this.#lose('set', error, count);
		});
		this.#unanswered.add(answered);
		void answered.finally(() => this.#unanswered.delete(answered));
	}

	/**
	 * Wait for a store operation at most `timeout` ms. After a timeout the store is not waited for
	 * at all during a skip window (its operations fail at once), which starts at `timeout` ms and
	 * doubles with each timeout in a row, up to a minute: a stalled store costs one request one
	 * timeout per window, not every read and write of every request.
	 */
	async #bounded<T>(operation: string, promise: Promise<T>): Promise<T> {
		if (this.#store.local) {
			return promise;
		}

		const stalled = performance.now() < this.#stalledUntil;
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_resolve, reject) => {
			timer = setTimeout(() => {
				if (!stalled) {
					this.#stalledUntil = performance.now() + this.#backoff;
					this.#backoff = Math.min(this.#backoff * 2, maxBackoff);
				}

				reject(new BackendError(operation, {cause: new StoreStall(stalled
					? 'skipped: the store timed out a moment ago (it is tried again after a pause)'
					: `timed out after ${this.#timeout} ms`)}));
			}, stalled ? 0 : this.#timeout);
			timer.unref();
		});
		try {
			const result = await Promise.race([promise, timeout]);
			this.#backoff = this.#timeout;
			this.#stalledUntil = 0;
			return result;
		} finally {
			clearTimeout(timer);
			// A late rejection of the losing store promise must not go unhandled.
			promise.catch(() => undefined);
		}
	}

	/** Read and decode one value; a value that does not decode is deleted, reported and reads as missing. */
	async read(key: string): Promise<StoredValue | undefined> {
		return (await this.#read(key))?.value;
	}

	/** {@link read}, and whether the value was decoded from a fresh record (see `StoreRecord.fresh`). */
	async #read(key: string): Promise<{value: StoredValue; fresh: boolean} | undefined> {
		const record = (this.#location === undefined ? undefined : queued(this.#location, key)) ?? this.#store.peek?.(key) ?? await this.#bounded('get', this.#store.get(key));
		if (record === undefined) {
			return undefined;
		}

		const fresh = record.fresh === true;
		const known = fresh ? undefined : this.#decoded.get(record);
		if (known !== undefined) {
			return {value: known, fresh};
		}

		try {
			const value = decodeValue(record.value, record.kind);
			if (!fresh) {
				this.#decoded.set(record, value);
			}

			return {value, fresh};
		} catch (error) {
			if (!(error instanceof CorruptEntryError)) {
				throw error;
			}

			// Awaited, so the delete cannot land after a replacement is stored.
			await this.#bounded('delete', this.#store.delete([key])).catch(() => undefined);
			this.#reports.notice(new BackendError('decode', {cause: new Error(`${error.message} (key ${key}): deleted, the request goes to the origin`)}));
			return undefined;
		}
	}

	/**
	 * The response stored under `key` (following a redirect alias, then a Vary index through
	 * `variantKey`), or undefined. A failing store reads as a miss (unless strict).
	 */
	async lookup(key: string, variantKey: VariantKey, misses?: {vary: boolean}): Promise<Found | undefined> {
		try {
			let read = await this.#read(key);
			let foundKey = key;
			if (read?.value.kind === 'redirect') {
				foundKey = read.value.target;
				read = await this.#read(foundKey);
			}

			const primaryKey = foundKey;
			if (read?.value.kind === 'variants') {
				const variant = variantKey(foundKey, read.value.names);
				if (variant === undefined) {
					return undefined;
				}

				foundKey = variant;
				read = await this.#read(foundKey);
				if (misses !== undefined && read?.value.kind !== 'response') {
					// Something is stored for the URL, but no variant for this request (Cache-Status' vary-miss).
					misses.vary = true;
				}
			}

			this.#answering = true;
			return read?.value.kind === 'response' ? {entry: read.value, key: foundKey, primaryKey, owned: read.fresh} : undefined;
		} catch (error) {
			this.#answering = false;
			this.#reports.failure('get', error);
			return undefined;
		}
	}

	/**
	 * Store a response under `key` (or, with `variant`, a Vary index under `key` and the response
	 * under the variant's key), with aliases to `key` for the redirect hops' URLs. The Vary index
	 * lives as long as its longest-lived variant. Fails open; true when stored.
	 */
	async save(
		key: string,
		entry: CachedEntry,
		deleteAt: number | null,
		aliases: ReadonlyArray<{key: string; url: string}>,
		variant?: {key: string; names: readonly string[]},
	): Promise<boolean> {
		try {
			const records: StoreRecord[] = [];
			const add = (recordKey: string, value: StoredValue, until: number | null): void => {
				const record = toRecord(recordKey, value, until);
				records.push(record);
				// A store that hands this record out again (memory, SQLite's hot cache) is read without a decode.
				this.#decoded.set(record, decodedOf(value, record));
			};

			if (variant === undefined) {
				add(key, entry, deleteAt);
			} else {
				const previous = await this.read(key).catch(() => undefined);
				let {expires} = entry;
				let until = deleteAt;
				if (previous?.kind === 'variants' && expires !== null) {
					expires = previous.expires === null ? null : Math.max(previous.expires, expires);
				}

				if (expires === null) {
					until = null;
				} else if (until !== null && expires > entry.expires!) {
					until += expires - entry.expires!;
				}

				const index: VariantIndex = {kind: 'variants', names: variant.names, url: entry.url, createdAt: entry.createdAt, expires};
				add(variant.key, entry, deleteAt);
				add(key, index, until);
			}

			for (const alias of aliases) {
				if (alias.key !== key) {
					add(alias.key, {kind: 'redirect', target: key, url: alias.url, createdAt: entry.createdAt, expires: entry.expires}, deleteAt);
				}
			}

			if (!this.#behind || !this.#answering) {
				// Awaited: once get() resolves, every session and process on the store sees it. Another
				// cache's queued write of the same key must not land after it.
				if (this.#location !== undefined) {
					await flush(this.#location);
				}

				this.#countEvicted(await this.#bounded('set', this.#store.set(records)));
				this.#answering = true;
			} else {
				// Behind the request: this process sees it at once, the store (and other processes) a turn later.
				writeBehind(this.#location!, this.#writer, records);
			}

			return true;
		} catch (error) {
			this.#answering = false;
			this.#reports.failure('set', error);
			return false;
		}
	}

	/** Count and report what a budgeted store evicted for a write. */
	#countEvicted(result: SetResult | void): void {
		if (result !== undefined && result.evicted.length > 0) {
			this.stats.evicted += result.evicted.length;
			this.#reports.evicted(result.evicted);
		}
	}

	/**
	 * Delete the stored responses of `groups` on `origin` (RFC 9875), on the request path (after
	 * an unsafe request's `Cache-Group-Invalidation`): returns how many went; fails open (0).
	 */
	async invalidateGroups(origin: string, groups: readonly string[]): Promise<number> {
		try {
			await this.flush();
			const keys = await groupMemberKeys(this.#store, origin, groups);
			return keys.length === 0 ? 0 : await this.#bounded('delete', this.#store.delete(keys));
		} catch (error) {
			this.#reports.failure('delete', error);
			return 0;
		}
	}

	/** Delete keys on the request path (after an unsafe method, or an entry that may not be stored); fails open. */
	async forget(keys: readonly string[]): Promise<void> {
		try {
			// A queued write of these keys must not land after their delete.
			await this.flush();
			await this.#bounded('delete', this.#store.delete(keys));
		} catch (error) {
			this.#reports.failure('delete', error);
		}
	}
}
