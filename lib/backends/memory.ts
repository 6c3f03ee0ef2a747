import {assertKnownOptions, optionTypeError} from '../errors.js';
import {BUDGET_OPTION_NAMES, type BudgetOptions, normalizeBudget, overBudget} from './budget.js';
import type {CacheStore, DeleteFilter, EvictedRecord, RecordMeta, SetResult, StoreBudget, StoreRecord} from './store.js';
import {CACHE_STORE, matchesDeleteFilter} from './store.js';

/** Options of the memory backend: an optional budget (least recently used records go first). */
export type MemoryStoreOptions = BudgetOptions;

const owner = 'MemoryStore';
const knownOptions: ReadonlySet<string> = new Set(BUDGET_OPTION_NAMES);
const noEvictions: SetResult = Object.freeze({evicted: Object.freeze([])});

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
 * With a budget (`maxEntries`, `maxBytes`), the map's order is the order of use: a read or a
 * write moves a key to the end, and a write that leaves the store over budget evicts from the
 * front, never the records it wrote. The byte total is kept as records come and go, so a check
 * costs nothing.
 *
 * @example
 * const store = new MemoryStore({maxEntries: 10_000});
 * await store.set([toRecord('key', value, null)]);
 * const record = await store.get('key');
 */
export class MemoryStore implements CacheStore {
	readonly [CACHE_STORE] = true as const;
	readonly name = 'memory';
	readonly local = true;
	readonly budget?: StoreBudget;
	readonly #records = new Map<string, StoreRecord>();
	/** Value bytes of every record kept. */
	#bytes = 0;

	/** A store without a limit, or within `maxEntries` records and `maxBytes` value bytes; throws for invalid options. */
	constructor(options: MemoryStoreOptions = {}) {
		if (typeof options !== 'object' || options === null) {
			throw optionTypeError(owner, 'options', 'an object', options);
		}

		assertKnownOptions(owner, options, knownOptions);
		const budget = normalizeBudget(owner, options);
		if (budget !== undefined) {
			this.budget = budget;
		}
	}

	/** How many records are kept now (aliases and Vary indexes included). */
	get size(): number {
		return this.#records.size;
	}

	/** Value bytes kept now. */
	get bytes(): number {
		return this.#bytes;
	}

	async get(key: string): Promise<StoreRecord | undefined> {
		const record = this.#records.get(key);
		if (record !== undefined && this.budget !== undefined) {
			// Used now: to the end, the same object (the cache decodes by record identity).
			this.#records.delete(key);
			this.#records.set(key, record);
		}

		return record;
	}

	async set(records: readonly StoreRecord[]): Promise<SetResult | undefined> {
		for (const record of records) {
			const previous = this.#records.get(record.key);
			if (previous !== undefined) {
				this.#bytes -= previous.value.byteLength;
				// A rewritten key is used now: it goes to the end.
				this.#records.delete(record.key);
			}

			this.#records.set(record.key, record);
			this.#bytes += record.value.byteLength;
		}

		const {budget} = this;
		if (budget === undefined) {
			return undefined;
		}

		if (!overBudget(budget, this.#records.size, this.#bytes)) {
			return noEvictions;
		}

		return {evicted: this.#evict(budget, new Set(records.map(record => record.key)))};
	}

	/** Evict from the front (least recently used) until within `budget`, stopping at the records just written. */
	#evict(budget: StoreBudget, written: ReadonlySet<string>): EvictedRecord[] {
		const evicted: EvictedRecord[] = [];
		for (const [key, record] of this.#records) {
			if (!overBudget(budget, this.#records.size, this.#bytes) || written.has(key)) {
				// The records just written are the last ones: from here on there is nothing else.
				break;
			}

			this.#records.delete(key);
			this.#bytes -= record.value.byteLength;
			evicted.push({key, kind: record.kind, url: record.url});
		}

		return evicted;
	}

	async delete(keys: readonly string[]): Promise<number> {
		let deleted = 0;
		for (const key of keys) {
			const record = this.#records.get(key);
			if (record !== undefined) {
				this.#records.delete(key);
				this.#bytes -= record.value.byteLength;
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
				this.#bytes -= record.value.byteLength;
				deleted++;
			}
		}

		return deleted;
	}

	async clear(): Promise<void> {
		this.#records.clear();
		this.#bytes = 0;
	}

	async close(): Promise<void> {
		// Nothing to release: the records stay readable until the store is dropped.
	}
}

/** A new, empty {@link MemoryStore}, with a budget if the options set one. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
	return new MemoryStore(options);
}
