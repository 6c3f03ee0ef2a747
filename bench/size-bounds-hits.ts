/**
 * What a budget costs: session hits on memory and SQLite with and without `maxEntries`, store-level
 * reads (best of three), then at 100,000 records (records made beforehand, so the codec is not
 * timed): a write without a budget, with one and room to spare, with one that evicts a record per
 * write; and for SQLite deleteWhere of a third and clear().
 *
 *   node --import tsx bench/size-bounds-hits.ts [records]
 */
import {Buffer} from 'node:buffer';
import path from 'node:path';
import {MemoryStore} from '../lib/backends/memory.js';
import {SqliteStore} from '../lib/backends/sqlite.js';
import type {CacheStore, StoreRecord} from '../lib/backends/store.js';
import {toRecord} from '../lib/codec/entry.js';
import {CachedSession} from '../lib/index.js';
import {Origin} from '../spec/support/origin.js';
import {removeDir, tempDir} from '../spec/support/temp-dir.js';

const dir = tempDir('bench-budget');
const origin = await Origin.start();

async function best(run: () => Promise<number>): Promise<number> {
	const times: number[] = [];
	for (let index = 0; index < 3; index++) {
		// eslint-disable-next-line no-await-in-loop -- runs one after another
		times.push(await run());
	}

	return Math.min(...times);
}

async function sessionHits(backend: 'memory' | 'sqlite', budget: boolean): Promise<number> {
	const session = new CachedSession({backend, cacheName: path.join(dir, `hits-${backend}-${budget}`), ...(budget ? {maxEntries: 1000} : {})});
	const urls = Array.from({length: 100}, (_, index) => `${origin.url}/json?item=${index}`);
	for (const url of urls) {
		// eslint-disable-next-line no-await-in-loop
		await session.get(url);
	}

	const perHit = await best(async () => {
		const hits = 20_000;
		const started = performance.now();
		for (let index = 0; index < hits; index++) {
			// eslint-disable-next-line no-await-in-loop -- one request after another
			await session.get(urls[index % urls.length]!);
		}

		return ((performance.now() - started) / hits) * 1000;
	});
	await session.close();
	return perHit;
}

async function storeReads(store: CacheStore): Promise<number> {
	const records = Array.from({length: 100}, (_, index) => toRecord(`k${index}`, {kind: 'redirect', target: 't', url: `https://example.com/${index}`, createdAt: 1, expires: null}, null));
	await store.set(records);
	const perRead = await best(async () => {
		const reads = 200_000;
		const started = performance.now();
		for (let index = 0; index < reads; index++) {
			// eslint-disable-next-line no-await-in-loop
			await store.get(`k${index % 100}`);
		}

		return ((performance.now() - started) / reads) * 1000;
	});
	await store.close();
	return perRead;
}

const scale = Number(process.argv[2] ?? 100_000);

function response(key: string, createdAt: number): StoreRecord {
	const url = `https://example.com/${key}`;
	return toRecord(key, {
		kind: 'response', status: 200, reason: 'OK', headers: {}, url, history: [], request: {method: 'GET', url, headers: {}, body: null},
		createdAt, expires: null, facts: {age: 0, mustRevalidate: false, noCache: false}, body: Buffer.alloc(200, 1),
	}, null);
}

/** µs per one-record write into a store holding `scale` records; then, for SQLite, the sweeps. */
async function atScale(label: string, open: () => CacheStore): Promise<string> {
	const store = open();
	const records = Array.from({length: scale}, (_, index) => response(`${label}${index}`, index % 3 === 0 ? 1 : 2));
	const writes = Array.from({length: 2000}, (_, index) => response(`${label}new${index}`, 2));
	for (let index = 0; index < records.length; index += 5000) {
		// eslint-disable-next-line no-await-in-loop
		await store.set(records.slice(index, index + 5000));
	}

	let started = performance.now();
	for (const record of writes) {
		// eslint-disable-next-line no-await-in-loop -- one write after another
		await store.set([record]);
	}

	const perWrite = ((performance.now() - started) / writes.length) * 1000;
	let sweeps = '';
	if (store.name === 'sqlite') {
		started = performance.now();
		const deleted = await store.deleteWhere!({createdBefore: 2});
		const deleteMs = performance.now() - started;
		started = performance.now();
		await store.clear();
		sweeps = `; deleteWhere of ${deleted}: ${deleteMs.toFixed(0)} ms; clear(): ${(performance.now() - started).toFixed(0)} ms`;
	}

	await store.close();
	return `${perWrite.toFixed(1)} µs a write${sweeps}`;
}

try {
	for (const backend of ['memory', 'sqlite'] as const) {
		const without = await sessionHits(backend, false);
		const withBudget = await sessionHits(backend, true);
		console.log(`session hit, ${backend}: ${without.toFixed(2)} µs without a budget, ${withBudget.toFixed(2)} µs with maxEntries`);
	}

	const memory = [await storeReads(new MemoryStore()), await storeReads(new MemoryStore({maxEntries: 1000}))];
	console.log(`store get, memory: ${memory[0]!.toFixed(3)} µs without a budget, ${memory[1]!.toFixed(3)} µs with one`);
	const sqlite = [await storeReads(new SqliteStore(path.join(dir, 'reads-free'))), await storeReads(new SqliteStore(path.join(dir, 'reads-budget'), {maxEntries: 1000}))];
	console.log(`store get, sqlite (hot cache): ${sqlite[0]!.toFixed(3)} µs without a budget, ${sqlite[1]!.toFixed(3)} µs with one`);
	for (const [backend, make] of [
		['memory', (budget: object) => new MemoryStore(budget)],
		['sqlite', (budget: object) => new SqliteStore(path.join(dir, `scale-${Object.values(budget).join('-')}`), budget)],
	] as const) {
		console.log(`${backend} at ${scale.toLocaleString('en-US')} records, no budget: ${await atScale('u', () => make({}))}`);
		console.log(`${backend} at ${scale.toLocaleString('en-US')} records, budget with room: ${await atScale('r', () => make({maxEntries: scale * 10}))}`);
		console.log(`${backend} at ${scale.toLocaleString('en-US')} records, full (one eviction a write): ${await atScale('f', () => make({maxEntries: scale}))}`);
	}
} finally {
	await origin.close();
	removeDir(dir);
}
