import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import type {CacheStore, SetResult, StoreBudget, StoreRecord} from '../../lib/backends/store.js';
import {type CachedEntry, toRecord} from '../../lib/codec/entry.js';

/**
 * A backend that keeps a budget (lib/backends/budget.ts), under test at the store level: the
 * suite writes records made by the codec and checks what the store evicted. Each backend's spec
 * file is one call of {@link storeBudgetConformance}.
 */
export type BudgetTarget = {
	readonly name: string;
	/** True when two stores opened under one name share their records (a file). */
	readonly shared: boolean;
	/** A store under `name` (unique to the test) with `budget`, or without one. */
	open(name: string, budget?: StoreBudget): CacheStore;
	/** Records in the scale case, unless REQUESTS_CACHE_SCALE says otherwise. @default 100000 */
	readonly scale?: number;
	/** Release what open() made (files). */
	teardown?(): Promise<void>;
};

/** Figures measured by the scale case in this process, for the docs. */
export const budgetScaleFigures: Array<{backend: string; records: number; unboundedSetUs: number; evictingSetUs: number}> = [];

function entry(key: string, body: Buffer): CachedEntry {
	const url = `https://example.com/${key}`;
	return {
		kind: 'response', status: 200, reason: 'OK', headers: {}, url, history: [],
		request: {method: 'GET', url, headers: {}, body: null}, createdAt: 1_800_000_000_000, expires: null,
		facts: {age: 0, mustRevalidate: false, noCache: false}, body,
	};
}

/** A response record under `key` with a body of `size` bytes. */
function record(key: string, size = 100): StoreRecord {
	return toRecord(key, entry(key, Buffer.alloc(size, key.codePointAt(0))), null);
}

function evictedKeys(result: SetResult | void): string[] {
	assert.ok(result !== undefined, 'a store with a budget resolves set() to what it evicted');
	return result.evicted.map(evicted => evicted.key);
}

async function present(store: CacheStore, keys: readonly string[]): Promise<string[]> {
	const found: string[] = [];
	for (const key of keys) {
		// eslint-disable-next-line no-await-in-loop -- one key after another
		if (await store.get(key) !== undefined) {
			found.push(key);
		}
	}

	return found;
}

/** Write one record a call, in order, and return what each call evicted. */
async function setEach(store: CacheStore, keys: readonly string[], size?: number): Promise<string[][]> {
	const evicted: string[][] = [];
	for (const key of keys) {
		// eslint-disable-next-line no-await-in-loop -- the order of writes is the point
		evicted.push(evictedKeys(await store.set([record(key, size)])));
	}

	return evicted;
}

/** Run the budget cases against `target`. */
export function storeBudgetConformance(target: BudgetTarget): void {
	describe(`store budget: ${target.name}`, function () {
		this.timeout(300_000);
		const opened: CacheStore[] = [];
		let counter = 0;

		function open(label: string, budget?: StoreBudget, name?: string): CacheStore {
			counter++;
			const store = target.open(name ?? `budget_${process.pid}_${counter}_${label}`, budget);
			opened.push(store);
			return store;
		}

		afterEach(async () => {
			for (const store of opened.splice(0)) {
				// eslint-disable-next-line no-await-in-loop -- few stores, each closed in turn
				await store.close();
			}
		});

		after(async () => {
			await target.teardown?.();
		});

		it('declares its budget, and a store without one declares none and resolves set() to undefined', async () => {
			const bounded = open('declared', {maxEntries: 10, maxBytes: 5000});
			assert.deepEqual({...bounded.budget}, {maxEntries: 10, maxBytes: 5000});
			assert.deepEqual(await bounded.set([record('a')]), {evicted: []});
			const unbounded = open('undeclared');
			assert.equal(unbounded.budget, undefined);
			assert.equal(await unbounded.set([record('a')]), undefined);
		});

		it('keeps at most maxEntries records, evicting the least recently written first and saying which', async () => {
			const store = open('entries', {maxEntries: 3});
			assert.deepEqual(await setEach(store, ['a', 'b', 'c', 'd', 'e']), [[], [], [], ['a'], ['b']]);
			assert.deepEqual(await present(store, ['a', 'b', 'c', 'd', 'e']), ['c', 'd', 'e']);
			const result = await store.set([record('f')]);
			assert.deepEqual(result, {evicted: [{key: 'c', kind: 'response', url: 'https://example.com/c'}]});
		});

		it('counts a read as a use: a record read lately outlives older unread ones', async () => {
			const store = open('read', {maxEntries: 3});
			await setEach(store, ['a', 'b', 'c']);
			assert.ok(await store.get('a'));
			assert.deepEqual(await setEach(store, ['d']), [['b']]);
			assert.ok(await store.get('c'));
			assert.deepEqual(await setEach(store, ['e', 'f']), [['a'], ['d']]);
			assert.deepEqual(await present(store, ['a', 'b', 'c', 'd', 'e', 'f']), ['c', 'e', 'f']);
		});

		it('hands out the same record object for an unchanged key while counting its reads', async () => {
			const store = open('identity', {maxEntries: 3});
			await setEach(store, ['a', 'b']);
			const first = await store.get('a');
			assert.ok(first);
			assert.equal(await store.get('a'), first, 'the cache decodes a record once per object');
			assert.deepEqual(await setEach(store, ['c', 'd']), [[], ['b']]);
		});

		it('counts a rewrite as a use, and a rewritten record once', async () => {
			const store = open('rewrite', {maxEntries: 3});
			await setEach(store, ['a', 'b', 'c']);
			assert.deepEqual(await setEach(store, ['a', 'a', 'a']), [[], [], []]);
			assert.deepEqual(await setEach(store, ['d']), [['b']]);
		});

		it('keeps at most maxBytes of values, evicting as many of the oldest as it takes', async () => {
			const size = record('a', 1000).value.byteLength;
			const store = open('bytes', {maxBytes: (size * 3) + 10});
			assert.deepEqual(await setEach(store, ['a', 'b', 'c'], 1000), [[], [], []]);
			assert.deepEqual(await setEach(store, ['d'], 1000), [['a']]);
			// One record as large as three others: three go.
			assert.deepEqual(evictedKeys(await store.set([record('big', (size * 3) - 300)])), ['b', 'c', 'd']);
			assert.deepEqual(await present(store, ['a', 'b', 'c', 'd', 'big']), ['big']);
			// Shrinking a record frees its bytes: two small ones fit beside it again.
			assert.deepEqual(await setEach(store, ['big', 'e', 'f'], 1000), [[], [], []]);
		});

		it('applies both limits when both are set', async () => {
			const size = record('a', 1000).value.byteLength;
			const store = open('both', {maxEntries: 4, maxBytes: (size * 3) + 10});
			assert.deepEqual(await setEach(store, ['a', 'b', 'c', 'd'], 1000), [[], [], [], ['a']]);
			// Small records: bytes evict b at once, then the count evicts one per write.
			assert.deepEqual(await setEach(store, ['e', 'f', 'g', 'h', 'i'], 10), [['b'], [], ['c'], ['d'], ['e']]);
		});

		it('never evicts the records it has just written, even when they alone are over the budget', async () => {
			const store = open('batch', {maxEntries: 2});
			await setEach(store, ['a', 'b']);
			const batch = ['r', 's', 't'].map(key => record(key));
			assert.deepEqual(evictedKeys(await store.set(batch)), ['a', 'b']);
			assert.deepEqual(await present(store, ['a', 'b', 'r', 's', 't']), ['r', 's', 't']);
			// The next write takes the batch's records, the first written first.
			assert.deepEqual(await setEach(store, ['u']), [['r', 's']]);
		});

		it('counts a response, its redirect aliases and its Vary index as records of their own', async () => {
			const store = open('kinds', {maxEntries: 4});
			const response = record('primary');
			const alias = toRecord('alias', {kind: 'redirect', target: 'primary', url: 'https://example.com/alias', createdAt: 1, expires: null}, null);
			const index = toRecord('index', {kind: 'variants', names: ['accept'], url: 'https://example.com/primary', createdAt: 1, expires: null}, null);
			assert.deepEqual(evictedKeys(await store.set([response, alias, index])), []);
			const result = await store.set([record('x'), record('y')]);
			assert.deepEqual(result, {evicted: [{key: 'primary', kind: 'response', url: 'https://example.com/primary'}]});
			assert.deepEqual(evictedKeys(await store.set([record('z')])), ['alias']);
			assert.deepEqual((await store.set([record('w')]))?.evicted, [{key: 'index', kind: 'variants', url: 'https://example.com/primary'}]);
		});

		it('frees room on delete, deleteWhere and clear', async () => {
			const store = open('free', {maxEntries: 3});
			await setEach(store, ['a', 'b', 'c']);
			assert.equal(await store.delete(['a', 'missing']), 1);
			assert.deepEqual(await setEach(store, ['d']), [[]]);
			assert.ok(store.deleteWhere);
			assert.equal(await store.deleteWhere({createdBefore: Number.MAX_SAFE_INTEGER}), 3);
			assert.deepEqual(await setEach(store, ['e', 'f', 'g']), [[], [], []]);
			await store.clear();
			assert.deepEqual(await setEach(store, ['h', 'i', 'j', 'k']), [[], [], [], ['h']]);
		});

		if (target.shared) {
			it('keeps the budget across two stores on one name: the totals are the shared ones', async () => {
				const name = `budget_${process.pid}_shared`;
				const first = open('shared', {maxEntries: 4}, name);
				const second = open('shared', {maxEntries: 4}, name);
				assert.deepEqual(await setEach(first, ['a', 'b', 'c']), [[], [], []]);
				assert.deepEqual(await setEach(second, ['d', 'e']), [[], ['a']]);
				assert.deepEqual(await setEach(first, ['f']), [['b']]);
				// Read through a store without a budget, which counts no uses.
				const reader = open('shared', undefined, name);
				assert.deepEqual(await present(reader, ['a', 'b', 'c', 'd', 'e', 'f']), ['c', 'd', 'e', 'f']);
				// A read by one store counts for the other's next eviction once written: close() writes it.
				assert.ok(await first.get('c'));
				await first.close();
				assert.deepEqual(await setEach(second, ['g']), [['d']]);
				assert.deepEqual(await present(reader, ['c', 'd', 'e', 'f', 'g']), ['c', 'e', 'f', 'g']);
			});
		}

		describe('at scale', () => {
			const total = Number(process.env['REQUESTS_CACHE_SCALE'] ?? target.scale ?? 100_000);

			it(`evicts one record per write in a store full at ${total.toLocaleString('en-US')} records, at about the cost of an unbounded write`, async function () {
				this.timeout(600_000);
				const timeWrites = async (store: CacheStore, label: string): Promise<number> => {
					const records = Array.from({length: total}, (_, index) => record(`${label}${index.toString(36)}`, 200));
					for (let index = 0; index < records.length; index += 5000) {
						// eslint-disable-next-line no-await-in-loop -- bounded batches, one after another
						await store.set(records.slice(index, index + 5000));
					}

					const writes = 2000;
					const started = performance.now();
					for (let index = 0; index < writes; index++) {
						// eslint-disable-next-line no-await-in-loop -- one write after another, as a session makes them
						const result = await store.set([record(`${label}new${index}`, 200)]);
						if (store.budget !== undefined) {
							assert.deepEqual(evictedKeys(result), [`${label}${index.toString(36)}`]);
						}
					}

					return ((performance.now() - started) / writes) * 1000;
				};

				const unboundedSetUs = await timeWrites(open('scale-free'), 'u');
				const evictingSetUs = await timeWrites(open('scale-full', {maxEntries: total}), 'b');
				budgetScaleFigures.push({backend: target.name, records: total, unboundedSetUs, evictingSetUs});
				console.log(`      ${target.name}: a write of one record at ${total.toLocaleString('en-US')} records: ${unboundedSetUs.toFixed(1)} µs unbounded, ${evictingSetUs.toFixed(1)} µs with one eviction`);
				assert.ok(evictingSetUs < (unboundedSetUs * 5) + 200, 'eviction costs about a write, not a scan');
			});
		});
	});
}
