import assert from 'node:assert/strict';
import KeyvRedis, {createClient} from '@keyv/redis';
import {Keyv} from 'keyv';
import {CachedSession} from '../../lib/cached-session.js';
import {Origin} from '../support/origin.js';
import {redisProblem, redisUrl, skipOrFail} from '../support/services.js';

type Commands = {sendCommand(args: string[]): Promise<unknown>};

describe('Redis backend specifics', function () {
	this.timeout(30_000);
	const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
	let origin: Origin;
	let redis: Commands & {connect(): Promise<unknown>; close(): Promise<unknown>};
	const sessions: CachedSession[] = [];

	async function keys(pattern: string): Promise<string[]> {
		return (await redis.sendCommand(['KEYS', pattern]) as string[]).sort();
	}

	before(async function () {
		const problem = await redisProblem();
		if (problem !== undefined) {
			skipOrFail(this, 'the Redis backend specs', problem);
		}

		origin = await Origin.start();
		redis = createClient({url: redisUrl}) as unknown as typeof redis;
		await redis.connect();
	});

	after(async () => {
		for (const session of sessions) {
			// eslint-disable-next-line no-await-in-loop
			await session.cache.clear().catch(() => undefined);
			// eslint-disable-next-line no-await-in-loop
			await session.close().catch(() => undefined);
		}

		await redis?.close();
		await origin?.close();
	});

	it("stores keys as `<cacheName>::<key>`, with Redis' own expiry ttlOffset seconds after the entry's", async () => {
		const cacheName = `rc:layout-${run}`;
		const session = new CachedSession({backend: 'redis', url: redisUrl, cacheName, expireAfter: 60, ttlOffset: 100});
		sessions.push(session);
		const response = await session.get(`${origin.url}/json?layout=1`);
		const stored = await keys(`${cacheName}*`);
		assert.deepEqual(stored, [`${cacheName}::${response.cacheKey}`]);
		const ttl = Number(await redis.sendCommand(['PTTL', stored[0]!]));
		// 60 s fresh + 100 s grace, less the few ms since.
		assert.ok(ttl > 159_000 && ttl <= 160_000, `PTTL ${ttl}`);
		const never = await session.get(`${origin.url}/json?layout=2`, {expireAfter: -1});
		assert.equal(Number(await redis.sendCommand(['PTTL', `${cacheName}::${never.cacheKey}`])), -1, 'an entry that never expires has no Redis expiry');
	});

	it('rejects a cacheName that could overlap another cache’s keys', () => {
		for (const cacheName of ['a::b', 'a:']) {
			assert.throws(() => new CachedSession({backend: 'redis', url: redisUrl, cacheName}), (error: unknown) => error instanceof TypeError && /cacheName/.test(error.message));
		}
	});

	it('takes a bare @keyv/redis adapter, with one prefix (no `ns::ns:key`)', async () => {
		const cacheName = `rc:adapter-${run}`;
		const session = new CachedSession({backend: new KeyvRedis(redisUrl), cacheName});
		sessions.push(session);
		const response = await session.get(`${origin.url}/json?adapter=1`);
		assert.deepEqual(await keys(`${cacheName}*`), [`${cacheName}::${response.cacheKey}`]);
		assert.equal((await session.get(`${origin.url}/json?adapter=1`)).fromCache, true);
		assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?adapter=1`]);
	});

	it("takes the user's own Keyv (its key layout kept) and client", async () => {
		const namespace = `rc-own-${run}`;
		const client = createClient({url: redisUrl});
		const keyv = new Keyv(new KeyvRedis(client), {namespace});
		const session = new CachedSession({backend: keyv});
		sessions.push(session);
		const response = await session.get(`${origin.url}/json?own=1`);
		assert.deepEqual(await keys(`${namespace}*`), [`${namespace}::${namespace}:${response.cacheKey}`]);
		assert.equal((await session.get(`${origin.url}/json?own=1`)).fromCache, true);
		assert.equal(await session.cache.count(), 1);
		assert.equal(await session.cache.removeOldEntries(new Date(Date.now() + 1000)), 1);
		assert.equal(await session.cache.count(), 0);
	});
});
