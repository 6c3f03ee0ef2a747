import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {CachedSession} from '../../lib/index.js';
import {storeOf} from '../../lib/cache/base-cache.js';
import type {TierCounters} from '../../lib/backends/memory-tier.js';
import {Origin} from '../support/origin.js';
import {PrivateRedis, redisProblem, redisUrl, skipOrFail} from '../support/services.js';

const sleep = async (ms: number): Promise<void> => new Promise(resolve => {
	setTimeout(resolve, ms);
});

function tierOf(session: CachedSession): TierCounters {
	return (storeOf(session.cache) as unknown as {tier: TierCounters}).tier;
}

/**
 * The memory tier in front of Redis (lib/backends/memory-tier.ts): two sessions with stores of
 * their own (as two processes have), on a real Redis; what one changes the other's tier drops.
 */
describe('backends/redis: the memory tier', function () {
	this.timeout(30_000);
	let origin: Origin;
	const sessions: CachedSession[] = [];

	function open(url: string, cacheName: string): CachedSession {
		const session = new CachedSession({backend: 'redis', url, cacheName, expireAfter: 3600, cacheControl: true, memoryTier: {maxEntries: 100}});
		sessions.push(session);
		return session;
	}

	/** Read until the tier serves it (its link subscribes on first use). */
	async function warm(session: CachedSession, url: string): Promise<void> {
		for (let attempt = 0; attempt < 50 && tierOf(session).hits === 0; attempt++) {
			// eslint-disable-next-line no-await-in-loop
			await session.get(url);
			// eslint-disable-next-line no-await-in-loop
			await sleep(20);
		}

		assert.ok(tierOf(session).hits > 0, 'served from the tier');
		assert.equal(session.cache.stats().tierHits, tierOf(session).hits);
	}

	before(async function () {
		const problem = await redisProblem();
		if (problem !== undefined) {
			skipOrFail(this, 'the memory tier specs', problem);
		}

		origin = await Origin.start();
	});

	afterEach(async () => {
		await Promise.all(sessions.splice(0).map(async session => session.close()));
	});

	after(async () => {
		await origin?.close();
	});

	it('serves hits from process memory, and a write in another process is seen within 100 ms', async () => {
		const cacheName = `tier-${randomUUID().slice(0, 8)}`;
		const a = open(redisUrl, cacheName);
		const b = open(redisUrl, cacheName);
		const url = `${origin.url}/json?tier=write`;
		const first = await a.get(url);
		await a.cache.flush();
		await warm(a, url);
		const hits = origin.hits('/json');
		const kept = await a.get(url);
		assert.equal(kept.fromCache, true);
		assert.equal(origin.hits('/json'), hits);
		const written = await b.get(url, {forceRefresh: true});
		await b.cache.flush();
		assert.notDeepEqual(written.json(), first.json());
		await sleep(100);
		assert.deepEqual((await a.get(url)).json(), written.json(), 'A sees B\'s write');
	});

	it('drops what a POST in another process invalidated, and everything after clear()', async () => {
		const cacheName = `tier-${randomUUID().slice(0, 8)}`;
		const a = open(redisUrl, cacheName);
		const b = open(redisUrl, cacheName);
		const url = `${origin.url}/json?tier=post`;
		const other = `${origin.url}/json?tier=clear`;
		await a.get(url);
		await a.get(other);
		await a.cache.flush();
		await warm(a, url);
		await b.post(url);
		await sleep(100);
		assert.equal((await a.get(url)).fromCache, false, 'invalidated by B\'s POST');
		await a.cache.flush();
		await b.cache.clear();
		await sleep(100);
		assert.equal((await a.get(other)).fromCache, false, 'cleared by B');
	});

	it('serves nothing from the tier while Redis is gone, and starts empty when a new Redis comes back', async () => {
		const server = await PrivateRedis.start();
		try {
			const a = open(server.url, `tier-${randomUUID().slice(0, 8)}`);
			const url = `${origin.url}/json?tier=restart`;
			await a.get(url);
			await a.cache.flush();
			await warm(a, url);
			await server.stop();
			await sleep(200);
			const hits = origin.hits('/json');
			assert.equal((await a.get(url)).fromCache, false, 'not from the tier while the link is down');
			assert.equal(origin.hits('/json'), hits + 1);
			await server.start();
			// node-redis reconnects within 2 s.
			await sleep(2500);
			assert.equal((await a.get(url)).fromCache, false, 'the new Redis is empty, and so is the tier');
		} finally {
			await server.stop();
		}
	});

	it('is refused on a backend other than Redis, naming the option', () => {
		assert.throws(() => new CachedSession({backend: 'memory', memoryTier: {maxEntries: 10}}), /memoryTier/);
		assert.throws(() => new CachedSession({backend: 'redis', memoryTier: {maxEntries: 0}}), RangeError);
	});
});
