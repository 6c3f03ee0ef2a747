/**
 * A hit loop to profile, and a cost breakdown of the steps of a hit, in one process (the origin
 * is in-process here: a hit never reaches it, and the script checks that).
 *
 *   [BENCH_BODY_BYTES=n] node --import tsx bench/profile-hit.ts [memory|sqlite|sqlite-nohot|redis] [hits] [loop]
 *   node --cpu-prof --cpu-prof-dir=.tmp/prof --import tsx bench/profile-hit.ts memory 300000 loop
 *
 * The breakdown times each step of `session.get()` on a hit in isolation, with the same inputs
 * the real hit gives it, so that the expensive steps stand out; `loop` skips it (for profiles).
 * Like `npm run bench`, it runs lib/ compiled to JavaScript unless BENCH_SOURCE=ts, or the
 * compiled copy in BENCH_LIB_DIR (for A/B experiments on a patched copy).
 */
import {rmSync} from 'node:fs';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {compileLibrary} from './compile-library.js';
import {loadLibrary, loadModule} from './library.js';

const backend = process.argv[2] ?? 'memory';
const hits = Number(process.argv[3] ?? 200_000);
const breakdown = process.argv[4] !== 'loop';
/** Body size in bytes (1 KB by default; BENCH_BODY_BYTES=102400 for the 100 KB case). */
const bodyBytes = Number(process.env['BENCH_BODY_BYTES'] ?? 1024);
const givenLibDir = process.env['BENCH_LIB_DIR'];
const libDir = givenLibDir
	? path.resolve(givenLibDir)
	: (process.env['BENCH_SOURCE'] === 'ts' ? undefined : compileLibrary(path.resolve(`.tmp/bench/lib-profile-${process.pid}`)));
const {BaseCache, CachedSession, createKey, createSqliteStore, decodeValue, prepareRequest, storeOf} = await loadLibrary(libDir);
// Package-internal steps of a hit, timed one by one below.
const {storageOf} = await loadModule<typeof import('../lib/cache/base-cache.js')>(libDir, 'cache/base-cache');
const {decideLookup, planRequest} = await loadModule<typeof import('../lib/policy/actions.js')>(libDir, 'policy/actions');
const {servedResponse} = await loadModule<typeof import('../lib/codec/served-response.js')>(libDir, 'codec/served-response');
if (!['memory', 'sqlite', 'sqlite-nohot', 'redis'].includes(backend)) {
	throw new TypeError(`backend must be memory, sqlite, sqlite-nohot or redis (127.0.0.1:6379), got ${backend}`);
}

let originHits = 0;
const body = Buffer.alloc(bodyBytes, 'x');
const server = createServer((_request, response) => {
	originHits++;
	response.writeHead(200, {'content-type': 'application/json', 'cache-control': 'public, max-age=3600', 'content-length': body.length}).end(body);
});
await new Promise<void>(resolve => {
	server.listen(0, '127.0.0.1', resolve);
});
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/json?a=1&b=2`;
const file = path.resolve(`.tmp/bench/profile-${process.pid}.sqlite`);
const session = backend === 'memory' || backend === 'redis'
	? new CachedSession({backend, cacheName: `rc-profile-hit-${process.pid}`, expireAfter: 3600})
	: new CachedSession({backend: new BaseCache(createSqliteStore(file, backend === 'sqlite-nohot' ? {hotCacheBytes: 0} : {})), expireAfter: 3600});

await session.get(url);
// A network store's write leaves the request's path: wait until it is in the store, so that the
// hits below are the store's and not the pending write's.
if (!(await session.cache.contains({url}))) {
	throw new Error('the primed response is not in the store');
}

const before = originHits;

let cpuPerHit = 0;
async function loop(count: number): Promise<number> {
	const cpu = process.cpuUsage();
	const start = performance.now();
	for (let index = 0; index < count; index++) {
		// eslint-disable-next-line no-await-in-loop -- sequential hits
		const response = await session.get(url);
		if (!response.fromCache) {
			throw new Error('not a hit');
		}
	}

	const used = process.cpuUsage(cpu);
	cpuPerHit = (used.user + used.system) / count;
	return (performance.now() - start) / count * 1000;
}

await loop(Math.min(20_000, hits));
const perHit = await loop(hits);
if (originHits !== before) {
	throw new Error(`${originHits - before} requests reached the origin during the hit loop`);
}

console.log(`${backend}${libDir === undefined ? ' (TypeScript sources)' : ''}: ${perHit.toFixed(2)} µs per hit (${Math.round(1e6 / perHit)} hits/s; ${cpuPerHit.toFixed(2)} µs of CPU) over ${hits} hits`);

/** Microseconds per call of `fn`, best of 5 batches. */
async function time(name: string, fn: () => unknown, count = 50_000): Promise<number> {
	let best = Number.POSITIVE_INFINITY;
	for (let batch = 0; batch < 5; batch++) {
		const start = performance.now();
		for (let index = 0; index < count; index++) {
			const result = fn();
			if (result instanceof Promise) {
				// eslint-disable-next-line no-await-in-loop
				await result;
			}
		}

		best = Math.min(best, (performance.now() - start) / count * 1000);
	}

	console.log(`  ${name.padEnd(48)} ${best.toFixed(2).padStart(7)} µs`);
	return best;
}

if (breakdown) {
	await steps();
}

async function steps(): Promise<void> {
	const prepared = prepareRequest('GET', url, {}, session.headers);
	const key = createKey(prepared, session.settings);
	const storage = storageOf(session.cache);
	const store = storeOf(session.cache);
	const noVariant = (): string => {
		throw new Error('no Vary in this benchmark');
	};

	const found = await storage.lookup(key, noVariant);
	const record = await store.get(key);
	if (found === undefined || record === undefined) {
		throw new Error('the primed entry is not in the cache');
	}

	const plan = planRequest(prepared, {}, session.settings);
	if (plan.kind !== 'lookup') {
		throw new Error('the request is not cacheable');
	}

	const now = Date.now();
	console.log('step costs (best of 5 batches):');
	await time('session.get(url) (the whole hit)', async () => session.get(url), 20_000);
	await time('prepareRequest', () => prepareRequest('GET', url, {}, session.headers));
	await time('createKey', () => createKey(prepared, session.settings));
	await time('planRequest (policy)', () => planRequest(prepared, {}, session.settings));
	await time('storage.lookup(key) (store.get + decoded value)', async () => storage.lookup(key, noVariant), 20_000);
	await time('store.get(key)', async () => store.get(key), 20_000);
	await time('decodeValue (once per record read from the file)', () => decodeValue(record.value, record.kind), 20_000);
	await time('decideLookup (policy)', () => decideLookup(plan, found.entry, session.settings, now));
	await time('servedResponse (copies of body and headers)', () => servedResponse(found.entry, key, {now, url}));
	await time('new URL(url)', () => new URL(url));
	await time('an awaited resolved promise', async () => Promise.resolve(1));
}

if (backend === 'redis') {
	await session.cache.clear();
}

await session.close();
server.close();
for (const suffix of ['', '-wal', '-shm']) {
	rmSync(file + suffix, {force: true});
}

if (libDir !== undefined && !givenLibDir) {
	rmSync(libDir, {recursive: true, force: true});
}
