import {overBudget} from './budget.js';
import {CACHE_STORE, type CacheStore, type StoreBudget, type StoreRecord} from './store.js';

/**
 * How the processes on one shared store tell each other what changed: every write and delete is
 * published, and every process drops what it keeps of those keys.
 */
export type InvalidationLink = {
	/** Tell every process (this one too) that these keys changed, or `'*'` for everything. */
	publish(keys: readonly string[] | '*'): Promise<void>;
	/**
	 * Listen: `changed` gets the keys another process (or this one) changed, `'*'` for all;
	 * `reset` is called whenever news may have been missed (the link dropped or came back).
	 */
	listen(changed: (keys: readonly string[] | '*') => void, reset: () => void): void;
	/** True while news is being heard: only then may what is kept be served. */
	readonly live: boolean;
	close(): Promise<void>;
};

/** What the tier did since it was opened. */
export type TierCounters = {hits: number; misses: number; dropped: number};

/**
 * A process-local memory tier in front of a shared store (Redis): a read served from it costs a
 * map lookup; a write or delete anywhere is published on the {@link InvalidationLink} and every
 * process drops its copy, so the next read goes to the store. While the link is down nothing is
 * served from the tier, and everything in it is dropped when it comes back (news may have been
 * missed, as when Redis restarts). Bounded by its own budget, least recently used first.
 *
 * A read that raced a change (its answer left the store before the change's news arrived) is
 * served but not kept: every piece of news bumps a generation, and a read keeps its record only
 * when the generation did not move while it waited.
 */
export function createMemoryTier(inner: CacheStore, link: InvalidationLink, budget: StoreBudget): CacheStore & {readonly tier: TierCounters} {
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

	function dropAll(): void {
		counters.dropped += kept.size;
		kept.clear();
		bytes = 0;
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

	/** News of a change: what is kept of it goes, and reads under way do not keep what they bring. */
	function forget(keys: readonly string[] | '*'): void {
		generation++;
		if (keys === '*') {
			dropAll();
		} else {
			for (const key of keys) {
				drop(key);
			}
		}
	}

	link.listen(forget, () => {
		forget('*');
	});

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
		scan: async function * () {
			yield * inner.scan();
		},
		async clear() {
			await inner.clear();
			await changed('*');
		},
		async close() {
			dropAll();
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
