/**
 * The `fleet` scenario of `npm run bench` (issue 19): processes behind one cache.
 *
 * - cold: 4 processes ask for the same 200 cold URLs at once, against a 100 ms origin, on one
 *   Redis and on one SQLite file, with `coalesce` on and off (off is what every release before
 *   did): origin requests per key, and the waiters' latency against the leaders' (p99).
 * - killed: the same with a 1 s origin; the first process starts alone and leads every flight, the
 *   others join once the origin has all its requests, and 300 ms later it is killed (SIGKILL):
 *   origin requests per key, and whether every request of the others was answered.
 * - hits: hit throughput of one process with `coalesce` on and off (rounds interleaved, best of each):
 *   a hit must not pay for coalescing.
 * - tier (Redis): hits with a memory tier against the memory backend and Redis alone, and how soon
 *   a write in one process is served by another's tier (p99 over 1,000 writes).
 *
 * The processes are spec/support/fleet-worker.ts, run from the TypeScript sources through tsx.
 * Alone: `node --import tsx bench/fleet.ts` (BENCH_REDIS_URL picks the Redis, default 127.0.0.1:6379).
 */
import path from 'node:path';
import {randomUUID} from 'node:crypto';
import {Buffer} from 'node:buffer';
import {createClient} from '@redis/client';
import {createRedisStore} from '../lib/backends/redis.js';
import type {StoreRecord} from '../lib/backends/store.js';
import {CachedSession} from '../lib/index.js';
import {FleetOrigin, type Round, startWorker, total} from '../spec/support/fleet.js';
import {removeDir, tempDir} from '../spec/support/temp-dir.js';
import {format, quantile} from './stats.js';

/** A target's verdict, as bench/run.ts prints them. */
export type FleetTarget = {target: string; met: boolean | undefined; figures: string};

type Store = 'redis' | 'sqlite';

function storeConfig(store: Store, redisUrl: string, dir: string): Record<string, unknown> {
	const cacheName = `fleet-${randomUUID().slice(0, 8)}`;
	return store === 'redis' ? {backend: 'redis', url: redisUrl, cacheName} : {backend: 'sqlite', cacheName: path.join(dir, cacheName)};
}

const sleep = async (ms: number): Promise<void> => new Promise(resolve => {
	setTimeout(resolve, ms);
});

/**
 * 4 processes ask for `urls` at once. With `kill`, the first starts alone and leads every flight;
 * once the origin has all of them, the others start, and `afterMs` later the leader is killed.
 */
async function fleetRound(origin: FleetOrigin, config: Record<string, unknown>, urls: string[], kill?: {afterMs: number}): Promise<{rounds: Round[]; originPerKey: number; unanswered: number}> {
	const workers = Array.from({length: 4}, () => startWorker({...config, urls, warmup: `${origin.url}/ok/warmup`}));
	await Promise.all(workers.map(async worker => worker.ready));
	const originHits = (): number => urls.reduce((sum, url) => sum + origin.hits(new URL(url).pathname + new URL(url).search), 0);
	let survivors: Array<Promise<Round>>;
	if (kill === undefined) {
		survivors = workers.map(async worker => worker.go());
	} else {
		void workers[0]!.go();
		while (originHits() < urls.length) {
			// eslint-disable-next-line no-await-in-loop -- until the leader's requests are all in flight
			await sleep(5);
		}

		survivors = workers.slice(1).map(async worker => worker.go());
		await sleep(kill.afterMs);
		workers[0]!.kill('SIGKILL');
	}

	const rounds = await Promise.all(survivors);
	await Promise.all(workers.slice(kill === undefined ? 0 : 1).map(async worker => worker.done));
	const hits = urls.map(url => origin.hits(new URL(url).pathname + new URL(url).search));
	return {
		rounds,
		originPerKey: hits.reduce((sum, count) => sum + count, 0) / urls.length,
		unanswered: rounds.flatMap(round => round.results).filter(result => result.status !== 200).length,
	};
}

/** One request; resolves whether it was served from the cache. */
type Get = (url: string) => Promise<boolean>;

const sessionGet = (session: CachedSession): Get => async url => (await session.get(url)).fromCache;

async function hitsPerSecond(get: Get, urls: readonly string[], ms: number): Promise<number> {
	let count = 0;
	const end = performance.now() + ms;
	while (performance.now() < end) {
		// eslint-disable-next-line no-await-in-loop -- sequential hits, as the hits-1k scenario
		if (!await get(urls[count % urls.length]!)) {
			throw new Error(`not a hit: ${urls[count % urls.length]!}`);
		}

		count++;
	}

	return count / (ms / 1000);
}

/**
 * Hit throughput with coalescing on and off, rounds interleaved, best of each; and of a second
 * session with it on (`control`): on/control is what this machine's noise alone makes of two
 * identical sessions, the yardstick for on/off.
 */
async function hitThroughput(origin: FleetOrigin, store: Store, redisUrl: string, dir: string, rounds: number): Promise<{on: number; off: number; control: number}> {
	const config = storeConfig(store, redisUrl, dir) as {backend: Store; cacheName: string; url?: string};
	const urls = Array.from({length: 100}, (_, index) => `${origin.url}/ok/hits-${index}?ms=0`);
	// Filled by another session: no measured one starts with records of its own writes.
	const primer = new CachedSession({...config, expireAfter: 3600});
	for (const url of urls) {
		// eslint-disable-next-line no-await-in-loop
		await primer.get(url);
	}

	await primer.close();
	const sessions = {
		on: new CachedSession({...config, expireAfter: 3600}),
		off: new CachedSession({...config, expireAfter: 3600, coalesce: false}),
		control: new CachedSession({...config, expireAfter: 3600}),
	};
	const order = ['on', 'off', 'control'] as const;
	try {
		for (const which of order) {
			// eslint-disable-next-line no-await-in-loop
			await hitsPerSecond(sessionGet(sessions[which]), urls, 1000);
		}

		const best = {on: 0, off: 0, control: 0};
		for (let round = 0; round < rounds; round++) {
			// Rotate which goes first: none always gets the warmer machine.
			for (const which of [...order.slice(round % 3), ...order.slice(0, round % 3)]) {
				// eslint-disable-next-line no-await-in-loop
				best[which] = Math.max(best[which], await hitsPerSecond(sessionGet(sessions[which]), urls, 400));
			}
		}

		// The best round of each: on a shared machine, other work only ever slows a round down.
		return best;
	} finally {
		await Promise.all(Object.values(sessions).map(async session => session.close()));
	}
}

/** The hit clients of the tier measurement, in the order of their rounds. */
const tierClients = ['memory', 'tier', 'redis', 'undiciTracking', 'undici'] as const;
type TierClient = typeof tierClients[number];

/** undici's cache interceptor on undici-cache-redis (the peer), with or without its tracking tier. */
async function undiciRedis(redisUrl: string, keyPrefix: string, tracking: boolean): Promise<{get: Get; close: () => Promise<void>}> {
	const [{Agent, interceptors, request, cacheStores: {MemoryCacheStore}}, {RedisCacheStore}] = await Promise.all([import('undici'), import('undici-cache-redis')]);
	const {hostname, port} = new URL(redisUrl);
	const store = new RedisCacheStore({clientOpts: {host: hostname, port: Number(port || 6379), keyPrefix}, tracking, maxCount: 1000});
	// Its own copy of undici's store types, stricter than undici 7.30's (exactOptionalPropertyTypes).
	const agent = new Agent().compose(interceptors.cache({store: store as unknown as InstanceType<typeof MemoryCacheStore>}));
	return {
		async get(url) {
			const response = await request(url, {dispatcher: agent});
			await response.body.arrayBuffer();
			// undici adds an Age header to what it serves from its cache; the origin sends none.
			return response.headers['age'] !== undefined;
		},
		async close() {
			await agent.close();
			await store.close();
		},
	};
}

/**
 * Hits of one process, best of interleaved rounds: the memory backend, Redis with a memory tier,
 * Redis alone, and the peer (undici + undici-cache-redis) with and without its tracking tier. The
 * origin sends `max-age` (undici stores nothing without it); 100 URLs of 1 KB-ish JSON.
 */
export async function tierHits(origin: FleetOrigin, redisUrl: string, rounds: number): Promise<Record<TierClient, number> & {redisKeys: number}> {
	const cacheName = `tier-${randomUUID().slice(0, 8)}`;
	const sessions = {
		memory: new CachedSession({backend: 'memory', expireAfter: 3600}),
		tier: new CachedSession({backend: 'redis', url: redisUrl, cacheName, expireAfter: 3600, memoryTier: {maxEntries: 1000}}),
		redis: new CachedSession({backend: 'redis', url: redisUrl, cacheName, expireAfter: 3600}),
	};
	const peers = {
		undiciTracking: await undiciRedis(redisUrl, `${cacheName}-undici:`, true),
		undici: await undiciRedis(redisUrl, `${cacheName}-undici:`, false),
	};
	const gets: Record<TierClient, Get> = {memory: sessionGet(sessions.memory), tier: sessionGet(sessions.tier), redis: sessionGet(sessions.redis), undiciTracking: peers.undiciTracking.get, undici: peers.undici.get};
	const urls = Array.from({length: 100}, (_, index) => `${origin.url}/ok/tier-${cacheName}-${index}?ms=0&maxAge=3600`);
	try {
		for (const url of urls) {
			// eslint-disable-next-line no-await-in-loop
			await Promise.all([sessions.memory.get(url), sessions.tier.get(url), peers.undiciTracking.get(url)]);
		}

		await sessions.tier.cache.flush();
		// undici-cache-redis writes when the body stream ends, without a way to wait for it.
		await sleep(200);
		// Every URL read once by each: the tiers (ours, the peer's tracking one) keep what they read.
		for (const url of urls) {
			for (const which of tierClients) {
				// eslint-disable-next-line no-await-in-loop
				await gets[which](url);
			}
		}

		const best = {memory: 0, tier: 0, redis: 0, undiciTracking: 0, undici: 0};
		for (const which of tierClients) {
			// eslint-disable-next-line no-await-in-loop
			await hitsPerSecond(gets[which], urls, 1000);
		}

		for (let round = 0; round < rounds; round++) {
			for (const which of round % 2 === 0 ? tierClients : [...tierClients].reverse()) {
				// eslint-disable-next-line no-await-in-loop
				best[which] = Math.max(best[which], await hitsPerSecond(gets[which], urls, 400));
			}
		}

		// The peer's lookups SCAN the keyspace: how many keys it scanned matters.
		const client = await createClient({url: redisUrl}).connect();
		const redisKeys = await client.dbSize();
		client.destroy();
		return {...best, redisKeys};
	} finally {
		await Promise.all([...Object.values(sessions).map(async session => session.close()), ...Object.values(peers).map(async peer => peer.close())]);
	}
}

/**
 * How long after a write lands in Redis another store's tier serves it: two tiered stores with
 * connections of their own, as two processes have (sessions in one process would see each other's
 * writes through the process's write-behind queue, which measures nothing). Milliseconds, sorted.
 */
export async function tierPropagation(redisUrl: string, writes: number): Promise<number[]> {
	const namespace = `tier-${randomUUID().slice(0, 8)}`;
	const writer = createRedisStore({url: redisUrl, namespace, memoryTier: {maxEntries: 1000}});
	const reader = createRedisStore({url: redisUrl, namespace, memoryTier: {maxEntries: 1000}});
	const record = (index: number): StoreRecord => ({key: 'propagation', kind: 'response', url: '', createdAt: Date.now(), expires: null, deleteAt: null, value: Buffer.from(`version ${index}`)});
	const latencies: number[] = [];
	try {
		await writer.set([record(-1)]);
		// The reader's link subscribes on first use: read until its tier serves the record.
		for (let attempt = 0; attempt < 100 && (reader as unknown as {tier: {hits: number}}).tier.hits === 0; attempt++) {
			// eslint-disable-next-line no-await-in-loop
			await reader.get('propagation');
			// eslint-disable-next-line no-await-in-loop
			await sleep(10);
		}

		for (let index = 0; index < writes; index++) {
			const expected = `version ${index}`;
			const started = performance.now();
			// eslint-disable-next-line no-await-in-loop
			await writer.set([record(index)]);
			// eslint-disable-next-line no-await-in-loop
			while (Buffer.from((await reader.get('propagation'))?.value ?? []).toString() !== expected && performance.now() - started < 5000) {
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => {
					setImmediate(resolve);
				});
			}

			latencies.push(performance.now() - started);
		}

		return latencies.sort((x, y) => x - y);
	} finally {
		await writer.clear();
		await writer.close();
		await reader.close();
	}
}

/** Run the scenario; returns the verdicts and the figures behind them. */
export async function fleetScenario(options: {redisUrl: string | undefined; quick: boolean}): Promise<{targets: FleetTarget[]; figures: Record<string, unknown>}> {
	const origin = await FleetOrigin.start();
	const dir = tempDir('bench-fleet');
	const targets: FleetTarget[] = [];
	const figures: Record<string, unknown> = {};
	const keys = options.quick ? 50 : 200;
	const stores: Store[] = options.redisUrl === undefined ? ['sqlite'] : ['redis', 'sqlite'];
	const redisUrl = options.redisUrl ?? '';
	try {
		for (const store of stores) {
			const urlsOf = (label: string, ms: number): string[] => Array.from({length: keys}, (_, index) => `${origin.url}/ok/${label}-${store}-${randomUUID().slice(0, 6)}-${index}?ms=${ms}`);
			// eslint-disable-next-line no-await-in-loop -- one fleet at a time
			const off = await fleetRound(origin, {...storeConfig(store, redisUrl, dir), coalesce: false}, urlsOf('off', 100));
			// eslint-disable-next-line no-await-in-loop
			const on = await fleetRound(origin, storeConfig(store, redisUrl, dir), urlsOf('on', 100));
			const results = on.rounds.flatMap(round => round.results);
			const sorted = (values: number[]): number[] => values.sort((a, b) => a - b);
			const leaderP99 = quantile(sorted(results.filter(result => !result.fromCache).map(result => result.ms)), 0.99);
			const waiterP99 = quantile(sorted(results.filter(result => result.fromCache).map(result => result.ms)), 0.99);
			figures[`cold-${store}`] = {offPerKey: off.originPerKey, onPerKey: on.originPerKey, leaderP99, waiterP99, coalesced: total(on.rounds, 'coalesced'), hits: total(on.rounds, 'hits'), unanswered: on.unanswered};
			targets.push({
				target: `${store}: 4 processes × the same ${keys} cold URLs, 100 ms origin: origin requests per key ≤ 1.05`,
				met: on.originPerKey <= 1.05 && on.unanswered === 0,
				figures: `${format(on.originPerKey)} per key with coalesce (${format(off.originPerKey)} without, in the same run); ${total(on.rounds, 'coalesced')} requests waited and were served, ${on.unanswered} unanswered`,
			});
			targets.push({
				target: `${store}: no waiter slower than the leaders + 50 ms (p99)`,
				met: waiterP99 <= leaderP99 + 50,
				figures: `waiters p99 ${format(waiterP99)} ms, leaders p99 ${format(leaderP99)} ms`,
			});

			// eslint-disable-next-line no-await-in-loop
			const killed = await fleetRound(origin, storeConfig(store, redisUrl, dir), urlsOf('killed', 1000), {afterMs: 300});
			figures[`killed-${store}`] = {perKey: killed.originPerKey, unanswered: killed.unanswered, takeovers: total(killed.rounds, 'takeovers')};
			targets.push({
				target: `${store}: the leader process killed mid-flight: every other request answered, ≤ 2 origin requests per key`,
				met: killed.unanswered === 0 && killed.originPerKey <= 2,
				figures: `${format(killed.originPerKey)} per key, ${killed.unanswered} unanswered, ${total(killed.rounds, 'takeovers')} flights taken over (the default lease, 2 s)`,
			});

			// eslint-disable-next-line no-await-in-loop
			const hits = await hitThroughput(origin, store, redisUrl, dir, options.quick ? 3 : 9);
			const ratio = hits.on / hits.off;
			figures[`hits-${store}`] = hits;
			targets.push({
				target: `${store}: hit throughput with coalesce on within 5% of off`,
				met: ratio >= 0.95,
				figures: `${format(hits.on)} vs ${format(hits.off)} hits/s = ${format(ratio)}x; two sessions both on, the noise alone: ${format(hits.on / hits.control)}x (one process, sequential, best of interleaved rounds)`,
			});
		}
		if (options.redisUrl !== undefined) {
			const hits = await tierHits(origin, redisUrl, options.quick ? 3 : 7);
			figures['tier-hits'] = hits;
			targets.push({
				target: 'memory tier: hits ≥ 0.8x the memory backend\'s',
				met: hits.tier >= 0.8 * hits.memory,
				figures: `${format(hits.tier)} vs memory ${format(hits.memory)} hits/s = ${format(hits.tier / hits.memory)}x; Redis alone ${format(hits.redis)} hits/s (one process, sequential, best of interleaved rounds)`,
			});
			targets.push({
				target: 'peer: undici + undici-cache-redis on hits, same run, same Redis (no target: a comparison)',
				met: undefined,
				figures: `with its tracking tier ${format(hits.undiciTracking)} hits/s (${format(hits.undiciTracking / hits.tier)}x our memory tier's), without ${format(hits.undici)} hits/s (${format(hits.undici / hits.redis)}x our Redis alone's; its lookups SCAN ${hits.redisKeys} keys)`,
			});
			const latencies = await tierPropagation(redisUrl, options.quick ? 100 : 1000);
			const p99 = quantile(latencies, 0.99);
			figures['tier-propagation'] = {p50: quantile(latencies, 0.5), p99, max: latencies.at(-1)};
			targets.push({
				target: `memory tier: a write in one process served by another's tier within 100 ms (p99 over ${latencies.length} writes)`,
				met: p99 <= 100,
				figures: `p50 ${format(quantile(latencies, 0.5))} ms, p99 ${format(p99)} ms, max ${format(latencies.at(-1))} ms (from the start of the write to the other store's first read of it, store level)`,
			});
		}
	} finally {
		await origin.close();
		removeDir(dir);
	}

	return {targets, figures};
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const {targets, figures} = await fleetScenario({redisUrl: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379', quick: process.env['BENCH_QUICK'] === '1'});
	console.log(JSON.stringify(figures, null, 2));
	for (const target of targets) {
		console.log(`| ${target.met === undefined ? '—' : (target.met ? 'met' : '**missed**')} | ${target.target} | ${target.figures} |`);
	}
}
