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

function metaOf(record: StoreRecord): RecordMeta {
	return {key: record.key, kind: record.kind, url: record.url, createdAt: record.createdAt, expires: record.expires, deleteAt: record.deleteAt};
}

/**
 * The in-memory backend: a Map of the records as written, in order of use when it has a budget.
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
	// Never copied: an unchanged key reads as the same object, so the cache keeps what it decoded from it.
	readonly #records = new Map<string, StoreRecord>();
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
			// Used now: to the end.
			this.#records.delete(key);
			this.#records.set(key, record);
		}

		return record;
	}

	async set(records: readonly StoreRecord[]): Promise<SetResult | undefined> {
		for (const record of records) {
			// A rewritten key is used now: it goes to the end.
			this.#remove(record.key);
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
			// The records just written are the last ones: from the first of them on there is nothing else.
			if (!overBudget(budget, this.#records.size, this.#bytes) || written.has(key)) {
				break;
			}

			this.#remove(key);
			evicted.push({key, kind: record.kind, url: record.url});
		}

		return evicted;
	}

	async delete(keys: readonly string[]): Promise<number> {
		return keys.filter(key => this.#remove(key)).length;
	}

	// From the live map: a Map iterator skips what is deleted between pages and keeps its place.
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
				this.#remove(key);
				deleted++;
			}
		}

		return deleted;
	}

	/** Remove `key`'s record, if any: true when there was one. */
	#remove(key: string): boolean {
		const record = this.#records.get(key);
		if (record === undefined) {
			return false;
		}

		this.#records.delete(key);
		this.#bytes -= record.value.byteLength;
		return true;
	}

	async clear(): Promise<void> {
		this.#records.clear();
		this.#bytes = 0;
	}

	async close(): Promise<void> {}
}

/** A new, empty {@link MemoryStore}, with a budget if the options set one. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
	return new MemoryStore(options);
}
