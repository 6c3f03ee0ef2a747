import type {CacheStore, EvictedRecord, FlightLease, SetResult, StoreRecord} from '../backends/store.js';
import {type CachedEntry, CorruptEntryError, type StoredValue, decodeValue, decodedOf, toRecord} from '../codec/entry.js';
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

/** A stored response as found, with the key it was reached through (before any Vary index); an `owned` body can be served without a copy. */
export type Found = {readonly entry: CachedEntry; readonly key: string; readonly primaryKey: string; readonly owned: boolean};

/** How a request reaches its variant: its key from the primary key and Vary names (undefined: no identity derivable now). */
export type VariantKey = (primaryKey: string, names: readonly string[]) => string | undefined;

/** Where store failures and corrupt values are reported (the cache's `'error'` event). */
export type StorageReports = {
	/** A store failure: throws when the cache is strict, else reports and returns. */
	failure(operation: string, error: unknown): void;
	/** Something worth telling that never fails a request (a corrupt value was dropped). */
	notice(error: Error): void;
	/** Records a budgeted store evicted for a write (already counted). */
	evicted(records: readonly EvictedRecord[]): void;
};

/** The request path's way to a store: decoding reads, writes, deletes; each bounded by the backend timeout and failing open. */
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
	/** Where this process's writes behind requests wait (lib/cache/write-behind.ts), read first by every cache on it. */
	readonly #location: string | undefined;
	readonly #behind: boolean;
	/** False from a failed store operation to a successful one: only a store that answers is written behind. */
	#answering = true;
	readonly #writer: Writer;
	/** How long the next pause lasts: doubled by each timeout in a row, reset by a success. */
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
						// A stalled store may still take it: only its answer says whether it was lost.
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

	/** Wait until the store answered the writes queued on its location (one a stalled store owes, at most a timeout more). */
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
		const answered = landing.then(result => this.#countEvicted(result), (error: unknown) => this.#lose('set', error, count));
		this.#unanswered.add(answered);
		void answered.finally(() => this.#unanswered.delete(answered));
	}

	/** Wait for a store operation at most `timeout` ms; after a timeout, not at all during a doubling pause (docs/backends.md). */
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

	/** Read and decode one value, and whether from a fresh record; one that does not decode is deleted, reported and missing. */
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

	/** The response stored under `key`, through a redirect alias and a Vary index; a failing store reads as a miss (unless strict). */
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

	/** Store a response under `key` (or its Vary index there and it under `variant`), with redirect aliases; true when stored. */
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

			add(variant?.key ?? key, entry, deleteAt);
			if (variant !== undefined) {
				// The Vary index lives as long as its longest-lived variant.
				const previous = (await this.#read(key).catch(() => undefined))?.value;
				const other = previous?.kind === 'variants' ? previous.expires : entry.expires;
				const expires = other === null || entry.expires === null ? null : Math.max(other, entry.expires);
				const until = expires === null || deleteAt === null ? null : deleteAt + expires - entry.expires!;
				add(key, {kind: 'variants', names: variant.names, url: entry.url, createdAt: entry.createdAt, expires}, until);
			}

			for (const alias of aliases) {
				if (alias.key !== key) {
					add(alias.key, {kind: 'redirect', target: key, url: alias.url, createdAt: entry.createdAt, expires: entry.expires}, deleteAt);
				}
			}

			if (!this.#behind || !this.#answering) {
				// Another cache's queued write of the same key must not land after this one.
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

	#countEvicted(result: SetResult | void): void {
		if (result !== undefined && result.evicted.length > 0) {
			this.stats.evicted += result.evicted.length;
			this.#reports.evicted(result.evicted);
		}
	}

	/** Delete the stored responses of `groups` on `origin` (RFC 9875) on the request path; how many went, or 0 on failure. */
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
