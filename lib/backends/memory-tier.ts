import {overBudget} from './budget.js';
import {CACHE_STORE, type CacheStore, type StoreBudget, type StoreRecord} from './store.js';

/** How the processes on one shared store tell each other which keys changed. */
export type InvalidationLink = {
	/** Tell every process (this one too) that these keys changed, or `'*'` for everything. */
	publish(keys: readonly string[] | '*'): Promise<void>;
	/** True while news is being heard: only then may what is kept be served. */
	readonly live: boolean;
	close(): Promise<void>;
};

/** What the tier did since it was opened. */
export type TierCounters = {hits: number; misses: number; dropped: number};

/** Opens a link that tells `changed` the keys any process changed (`'*'` for all), and `reset` whenever news may have been missed. */
export type OpenLink = (changed: (keys: readonly string[] | '*') => void, reset: () => void) => InvalidationLink;

/** A process-local memory tier in front of a shared store, kept coherent by an {@link InvalidationLink} (docs/scaling.md). */
export function createMemoryTier(inner: CacheStore, openLink: OpenLink, budget: StoreBudget): CacheStore & {readonly tier: TierCounters} {
	const kept = new Map<string, StoreRecord>();
	let bytes = 0;
	let generation = 0;
	const counters: TierCounters = {hits: 0, misses: 0, dropped: 0};

	function drop(key: string): void {
		const record = kept.get(key);
		if (record !== undefined) {
			kept.delete(key);
			bytes -= record.value.byteLength;
			counters.dropped++;
		}
	}

	function keep(record: StoreRecord): void {
		drop(record.key);
		// A record bigger than a quarter of the budget would push out too much to be worth it.
		if (budget.maxBytes !== undefined && record.value.byteLength > budget.maxBytes / 4) {
			return;
		}

		kept.set(record.key, record);
		bytes += record.value.byteLength;
		while (kept.size > 0 && overBudget(budget, kept.size, bytes)) {
			drop(kept.keys().next().value!);
		}
	}

	/** News of a change: what is kept of it goes, and reads under way (a generation ago) do not keep what they bring. */
	function forget(keys: readonly string[] | '*'): void {
		generation++;
		if (keys === '*') {
			counters.dropped += kept.size;
			kept.clear();
			bytes = 0;
		} else {
			for (const key of keys) {
				drop(key);
			}
		}
	}

	const link = openLink(forget, () => forget('*'));

	async function changed(keys: readonly string[] | '*'): Promise<void> {
		forget(keys);
		// The store has the change already: a failed publish leaves other processes' copies to the next news or reset.
		await link.publish(keys).catch(() => undefined);
	}

	const tiered: CacheStore & {readonly tier: TierCounters} = {
		[CACHE_STORE]: true,
		name: inner.name,
		local: false,
		...(inner.location === undefined ? {} : {location: inner.location}),
		...(inner.lease === undefined ? {} : {lease: inner.lease}),
		...(inner.ordered === undefined ? {} : {ordered: inner.ordered}),
		tier: counters,
		peek(key) {
			const record = kept.get(key);
			if (record === undefined || !link.live) {
				return undefined;
			}

			// Most recently used last.
			kept.delete(key);
			kept.set(key, record);
			counters.hits++;
			return record;
		},
		async get(key) {
			const record = tiered.peek!(key);
			if (record !== undefined) {
				return record;
			}

			counters.misses++;
			const before = generation;
			const read = await inner.get(key);
			if (read === undefined || !link.live || generation !== before) {
				return read;
			}

			// Kept and handed out again: no reader owns its bytes any more.
			const {fresh: _fresh, ...shared} = read;
			keep(shared);
			return shared;
		},
		async set(records) {
			const result = await inner.set(records);
			await changed(records.map(record => record.key));
			return result;
		},
		async delete(keys) {
			const deleted = await inner.delete(keys);
			await changed(keys);
			return deleted;
		},
		scan: () => inner.scan(),
		async clear() {
			await inner.clear();
			await changed('*');
		},
		async close() {
			forget('*');
			await link.close();
			await inner.close();
		},
	};
	if (inner.deleteWhere !== undefined) {
		const deleteWhere = inner.deleteWhere.bind(inner);
		tiered.deleteWhere = async filter => {
			const deleted = await deleteWhere(filter);
			if (deleted > 0) {
				await changed('*');
			}

			return deleted;
		};
	}

	return tiered;
}
