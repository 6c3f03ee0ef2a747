import type {CacheStore, DeleteFilter, RecordMeta, StoreRecord} from './store.js';
import {matchesDeleteFilter} from './store.js';

const batchSize = 5000;

/** A record's facts without its value, for `scan()`. */
function metaOf(record: StoreRecord): RecordMeta {
	return {key: record.key, kind: record.kind, url: record.url, createdAt: record.createdAt, expires: record.expires, deleteAt: record.deleteAt};
}

/**
 * The in-memory backend: a Map of the records as written, private to this store. A hit is one
 * map lookup, and an unchanged key reads as the same record object every time, which lets the
 * cache keep what it decoded from it (decoding by record identity). Records are never copied:
 * the cache does not change a record after writing it.
 *
 * @example
 * const store = new MemoryStore();
 * await store.set([toRecord('key', value, null)]);
 * const record = await store.get('key');
 */
export class MemoryStore implements CacheStore {
	readonly name = 'memory';
	readonly local = true;
	readonly #records = new Map<string, StoreRecord>();

	/** How many records are kept now (aliases and Vary indexes included). */
	get size(): number {
		return this.#records.size;
	}

	async get(key: string): Promise<StoreRecord | undefined> {
		return this.#records.get(key);
	}

	async set(records: readonly StoreRecord[]): Promise<void> {
		for (const record of records) {
			this.#records.set(record.key, record);
		}
	}

	async delete(keys: readonly string[]): Promise<number> {
		let deleted = 0;
		for (const key of keys) {
			if (this.#records.delete(key)) {
				deleted++;
			}
		}

		return deleted;
	}

	/**
	 * Pages of facts, read from the live map: deleting records between pages does not disturb the
	 * scan (a Map iterator skips deleted entries and keeps its place), and a record deleted before
	 * its page is read is not listed.
	 */
	async * scan(): AsyncGenerator<RecordMeta[]> {
		let batch: RecordMeta[] = [];
		for (const record of this.#records.values()) {
			batch.push(metaOf(record));
			if (batch.length === batchSize) {
				yield batch;
				batch = [];
			}
		}

		if (batch.length > 0) {
			yield batch;
		}
	}

	async deleteWhere(filter: DeleteFilter): Promise<number> {
		let deleted = 0;
		for (const [key, record] of this.#records) {
			if (matchesDeleteFilter(record, filter)) {
				this.#records.delete(key);
				deleted++;
			}
		}

		return deleted;
	}

	async clear(): Promise<void> {
		this.#records.clear();
	}

	async close(): Promise<void> {
		// Nothing to release: the records stay readable until the store is dropped.
	}
}

/** A new, empty {@link MemoryStore}. */
export function createMemoryStore(): MemoryStore {
	return new MemoryStore();
}
