import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {createRedisStore} from '../../lib/backends/redis.js';
import type {CacheStore} from '../../lib/backends/store.js';
import {type CachedEntry, decodeValue, toRecord} from '../../lib/codec/entry.js';
import {scanAll, storedResponse} from '../support/records.js';
import {freePort, redisProblem, redisUrl, skipOrFail} from '../support/services.js';

type Reply = string | number | Buffer | null | Reply[];
type Client = {
	connect(): Promise<unknown>;
	close(): Promise<unknown>;
	sendCommand(arguments_: Array<string | Buffer>, options?: object): Promise<Reply>;
};

/** The node-redis client the store uses, to look at what it wrote. */
const redisModule = createRequire(createRequire(import.meta.url).resolve('@keyv/redis'))('@redis/client') as {
	createClient(options: object): Client;
	RESP_TYPES: {BLOB_STRING: number};
};

const response = storedResponse;

describe('Redis store specifics', function () {
	this.timeout(30_000);
	const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
	let redis: Client;
	const stores: CacheStore[] = [];

	function open(label: string): {store: CacheStore; namespace: string} {
		const namespace = `rc:specifics-${run}-${label}`;
		const store = createRedisStore({url: redisUrl, namespace});
		stores.push(store);
		return {store, namespace};
	}

	before(async function () {
		const problem = await redisProblem();
		if (problem !== undefined) {
			skipOrFail(this, 'the Redis store specs', problem);
		}

		redis = redisModule.createClient({url: redisUrl});
		await redis.connect();
	});

	after(async () => {
		for (const store of stores) {
			// eslint-disable-next-line no-await-in-loop
			await store.clear().catch(() => undefined);
			// eslint-disable-next-line no-await-in-loop
			await store.close();
		}

		await redis?.close();
	});

	it('keeps a record as one binary string `<name>::<key>` expiring at its deleteAt, its facts in `<name>:@meta` and the time indexes', async () => {
		const {store, namespace} = open('layout');
		const now = Date.now();
		const body = Buffer.from(Array.from({length: 3000}, (_, index) => index % 256));
		const fresh = toRecord('fresh', response('https://example.com/fresh', body, now, now + 60_000), now + 160_000);
		const never = toRecord('never', response('https://example.com/never', Buffer.from('x'), now, null), null);
		await store.set([fresh, never]);

		const raw = await redis.sendCommand(['GET', `${namespace}::fresh`], {typeMapping: {[redisModule.RESP_TYPES.BLOB_STRING]: Buffer}}) as Buffer;
		assert.ok(Buffer.isBuffer(raw));
		assert.equal(raw.subarray(0, 4).toString('latin1'), 'RCS\u0001', 'the store\'s frame');
		assert.ok(raw.subarray(raw.length - fresh.value.byteLength).equals(Buffer.from(fresh.value)), 'the codec\'s bytes as they are: no base64, no JSON around them');
		const pttl = Number(await redis.sendCommand(['PTTL', `${namespace}::fresh`]));
		assert.ok(pttl > 159_000 && pttl <= 160_000, `Redis drops it at deleteAt: PTTL ${pttl}`);
		assert.equal(Number(await redis.sendCommand(['PTTL', `${namespace}::never`])), -1, 'a record kept until deleted has no Redis expiry');

		assert.deepEqual(JSON.parse(String(await redis.sendCommand(['HGET', `${namespace}:@meta`, 'fresh']))), ['response', 'https://example.com/fresh', now, now + 60_000, now + 160_000]);
		assert.equal(Number(await redis.sendCommand(['ZSCORE', `${namespace}:@created`, 'fresh'])), now);
		assert.equal(Number(await redis.sendCommand(['ZSCORE', `${namespace}:@expires`, 'fresh'])), now + 60_000);
		assert.equal(Number(await redis.sendCommand(['ZSCORE', `${namespace}:@delete`, 'fresh'])), now + 160_000);
		assert.equal(await redis.sendCommand(['ZSCORE', `${namespace}:@expires`, 'never']), null, 'never expires: not in the expiry index');
		assert.equal(await redis.sendCommand(['ZSCORE', `${namespace}:@delete`, 'never']), null);

		const read = await store.get('fresh');
		assert.ok((decodeValue(read!.value, 'response') as CachedEntry).body.equals(body));
		assert.deepEqual((await redis.sendCommand(['KEYS', `${namespace}*`]) as string[]).sort(), [
			`${namespace}:@created`, `${namespace}:@delete`, `${namespace}:@expires`, `${namespace}:@meta`, `${namespace}::fresh`, `${namespace}::never`,
		].sort());
	});

	it('drops the index entries of records that Redis expired by itself', async () => {
		const {store, namespace} = open('native');
		const now = Date.now();
		await store.set([
			toRecord('short', response('https://example.com/short', Buffer.from('s'), now, now), now + 50),
			toRecord('long', response('https://example.com/long', Buffer.from('l'), now, now), now + 60_000),
		]);
		await new Promise(resolve => {
			setTimeout(resolve, 150);
		});
		assert.equal(await store.get('short'), undefined);
		assert.deepEqual((await scanAll(store)).map(meta => meta.key), ['long']);
		assert.equal(Number(await redis.sendCommand(['HLEN', `${namespace}:@meta`])), 1);
		for (const index of ['created', 'expires', 'delete']) {
			// eslint-disable-next-line no-await-in-loop
			assert.equal(Number(await redis.sendCommand(['ZCARD', `${namespace}:@${index}`])), 1, `${index} index trimmed`);
		}

		assert.equal(await store.deleteWhere!({expiredAt: now}), 1, 'the expired one that was still there');
	});

	it('reads a value it did not write (an older layout) as missing, and clear() removes it', async () => {
		const {store, namespace} = open('foreign');
		await redis.sendCommand(['SET', `${namespace}::old`, '{"value":{"kind":"response","url":"https://example.com/"},"expires":null}']);
		assert.equal(await store.get('old'), undefined);
		assert.deepEqual(await scanAll(store), [], 'outside the indexes: not listed');
		await store.clear();
		assert.equal(Number(await redis.sendCommand(['EXISTS', `${namespace}::old`])), 0);
	});

	it('serves a 100 KB record with one GET', async () => {
		const {store} = open('large');
		const body = Buffer.alloc(100 * 1024, 7);
		await store.set([toRecord('large', response('https://example.com/large', body, Date.now(), null), null)]);
		for (let index = 0; index < 200; index++) {
			// eslint-disable-next-line no-await-in-loop -- warm-up
			await store.get('large');
		}

		const rounds = 1000;
		const started = performance.now();
		for (let index = 0; index < rounds; index++) {
			// eslint-disable-next-line no-await-in-loop -- one read after another, as a request does
			const record = await store.get('large');
			assert.ok(record!.value.byteLength > body.length);
		}

		const micros = (performance.now() - started) / rounds * 1000;
		console.log(`      get of a 100 KB record: ${micros.toFixed(0)} µs`);
		assert.ok((decodeValue((await store.get('large'))!.value, 'response') as CachedEntry).body.equals(body));
	});

	it('rejects a cache name that could overlap another cache\'s keys, and bad options, naming them', () => {
		for (const namespace of ['a::b', 'a:']) {
			assert.throws(() => createRedisStore({url: redisUrl, namespace}), (error: unknown) => error instanceof TypeError && /cacheName/.test(error.message));
		}

		assert.throws(() => createRedisStore({url: 'http://localhost', namespace: 'x'}), {name: 'TypeError', message: /`url`/});
		assert.throws(() => createRedisStore({url: [], namespace: 'x'}), {name: 'TypeError', message: /`url` must be a redis:\/\/ or rediss:\/\/ URL, or an array of them/});
		assert.throws(() => createRedisStore({url: [redisUrl, 'localhost:7002'], namespace: 'x'}), {name: 'TypeError', message: /`url`/});
		assert.throws(() => createRedisStore({url: redisUrl, namespace: 'x', timeout: 0}), {name: 'RangeError', message: /`timeout`/});
		assert.throws(() => createRedisStore({url: redisUrl, namespace: 'x', ttl: 5} as never), {name: 'TypeError', message: /`ttl`/});
	});

	it('never waits for a server that is down: the first call fails when refused, later ones at once', async () => {
		const store = createRedisStore({url: `redis://127.0.0.1:${await freePort()}`, namespace: 'down', timeout: 2000});
		let started = performance.now();
		await assert.rejects(store.get('key'));
		const first = performance.now() - started;
		started = performance.now();
		await assert.rejects(store.set([toRecord('key', response('https://example.com/', Buffer.from('x'), Date.now(), null), null)]));
		const second = performance.now() - started;
		console.log(`      unreachable Redis: first call failed after ${first.toFixed(0)} ms, the next after ${second.toFixed(1)} ms`);
		assert.ok(first < 1000, `refused at once, not after the 2 s timeout: ${first.toFixed(0)} ms`);
		assert.ok(second < 50, `${second.toFixed(1)} ms`);
		started = performance.now();
		await store.close();
		assert.ok(performance.now() - started < 500);
	});
});
