import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {createClient} from '@redis/client';
import type {TierCounters} from '../../lib/backends/memory-tier.js';
import {storeOf} from '../../lib/cache/base-cache.js';
import {CachedSession} from '../../lib/index.js';
import {Origin} from '../support/origin.js';
import {PrivateRedis, redisProblem, skipOrFail} from '../support/services.js';

const sleep = async (ms: number): Promise<void> => new Promise(resolve => {
	setTimeout(resolve, ms);
});

/**
 * The Redis connection's subscriber (lib/backends/redis-connection.ts): the waits of coalescing
 * and the memory tier's news share one pub/sub connection per store, on a Redis of its own so
 * that every connection it counts is ours.
 */
describe('backends/redis: one subscriber connection', function () {
	this.timeout(30_000);
	let origin: Origin;
	let server: PrivateRedis;
	let admin: ReturnType<typeof createClient>;
	const sessions: CachedSession[] = [];

	before(async function () {
		const problem = await redisProblem();
		if (problem !== undefined) {
			skipOrFail(this, 'the Redis subscriber specs', problem);
		}

		origin = await Origin.start();
		server = await PrivateRedis.start();
		admin = createClient({url: server.url});
		await admin.connect();
	});

	after(async () => {
		await Promise.all(sessions.splice(0).map(async session => session.close()));
		admin?.destroy();
		await server?.stop();
		await origin?.close();
	});

	/** The connections to the server that are in pub/sub mode. */
	async function pubsubConnections(): Promise<number> {
		const list = await admin.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']) as string;
		return list.split('\n').filter(line => line.trim() !== '').length;
	}

	it('serves a coalescing wait and the memory tier on one pub/sub connection, and close() ends it', async () => {
		const cacheName = `subscriber-${randomUUID().slice(0, 8)}`;
		const options = {backend: 'redis', url: server.url, cacheName, expireAfter: 3600} as const;
		const leader = new CachedSession(options);
		const waiter = new CachedSession({...options, memoryTier: {maxEntries: 100}});
		sessions.push(leader, waiter);
		const url = `${origin.url}/slow?ms=600`;
		const led = leader.get(url);
		await sleep(150);
		const [first, waited] = await Promise.all([led, waiter.get(url)]);
		assert.equal(origin.hits('/slow'), 1, 'the waiter waited for the leader instead of asking the origin');
		assert.deepEqual(waited.json(), first.json());
		const tier = (storeOf(waiter.cache) as unknown as {tier: TierCounters}).tier;
		for (let attempt = 0; attempt < 50 && tier.hits === 0; attempt++) {
			// eslint-disable-next-line no-await-in-loop -- until the tier's link is live
			await waiter.get(url);
			// eslint-disable-next-line no-await-in-loop
			await sleep(20);
		}

		assert.ok(tier.hits > 0, 'the memory tier serves hits');
		assert.deepEqual(await admin.sendCommand(['PUBSUB', 'NUMSUB', `${cacheName}:@flights`, `${cacheName}:@changed`]), [`${cacheName}:@flights`, 1, `${cacheName}:@changed`, 1]);
		assert.equal(await pubsubConnections(), 1, 'one subscriber connection for both channels');
		await waiter.close();
		await leader.close();
		await sleep(100);
		assert.equal(await pubsubConnections(), 0);
	});
});
