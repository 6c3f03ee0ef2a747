/**
 * What a budget costs a hit, and a write that evicts: session hits on memory and SQLite with and
 * without `maxEntries`, and store-level reads. Short runs, best of three, on the shared machine.
 *
 *   node --import tsx bench/size-bounds-hits.ts
 */
import path from 'node:path';
import {MemoryStore} from '../lib/backends/memory.js';
import {SqliteStore} from '../lib/backends/sqlite.js';
import type {CacheStore} from '../lib/backends/store.js';
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
} finally {
	await origin.close();
	removeDir(dir);
}
