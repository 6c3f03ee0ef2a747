import assert from 'node:assert/strict';
import {createRequire} from 'node:module';
import {CachedSession} from '../../lib/cached-session.js';
import {MONGO_COLLECTION} from '../../lib/backends/mongodb.js';
import {Origin} from '../support/origin.js';
import {mongoUrl, skipOrFail} from '../support/services.js';

type Document = Record<string, unknown> & {value: Record<string, unknown>; expiresAt: Date | null};
type Client = {
	connect(): Promise<unknown>;
	close(): Promise<void>;
	db(name: string): {collection(name: string): {findOne(filter: object): Promise<Document | null>; indexes(): Promise<Array<Record<string, unknown>>>}};
};

describe('MongoDB backend specifics', function () {
	this.timeout(30_000);
	const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
	let origin: Origin;
	let url = '';
	let client: Client;
	const sessions: CachedSession[] = [];

	before(async function () {
		try {
			url = (await mongoUrl()).url;
		} catch (error) {
			skipOrFail(this, 'the MongoDB backend specs', `no MongoDB: ${(error as Error).message}`);
		}

		origin = await Origin.start();
		// The driver @keyv/mongo itself uses, to look at what the backend wrote.
		const {MongoClient} = createRequire(createRequire(import.meta.url).resolve('@keyv/mongo'))('mongodb') as {MongoClient: new (url: string, options: object) => Client};
		client = new MongoClient(url, {promoteBuffers: true});
		await client.connect();
	});

	after(async () => {
		for (const session of sessions) {
			// eslint-disable-next-line no-await-in-loop
			await session.cache.clear().catch(() => undefined);
			// eslint-disable-next-line no-await-in-loop
			await session.close().catch(() => undefined);
		}

		await client?.close();
		await origin?.close();
	});

	it('keeps a cache in the database named by cacheName, bodies as binary, with a TTL index and expiresAt ttlOffset after expiry', async () => {
		const cacheName = `rc_layout_${run}`;
		const session = new CachedSession({backend: 'mongodb', url, cacheName, expireAfter: 60, ttlOffset: 100});
		sessions.push(session);
		const started = Date.now();
		const response = await session.get(`${origin.url}/bytes?n=300`);
		const collection = client.db(cacheName).collection(MONGO_COLLECTION);
		const document = await collection.findOne({key: response.cacheKey});
		assert.ok(document, 'the entry is a document of <cacheName>.responses');
		assert.equal(document.value['kind'], 'response');
		assert.equal(document.value['url'], `${origin.url}/bytes?n=300`);
		assert.ok(Buffer.isBuffer(document.value['body']), 'the body is BSON binary, not base64 text');
		assert.deepEqual(document.value['body'], response.body);
		const expiresAt = document.expiresAt!.getTime();
		assert.ok(expiresAt >= started + 160_000 - 50 && expiresAt <= Date.now() + 160_000, `expiresAt is ${expiresAt - started} ms after the request`);
		const indexes = await collection.indexes();
		assert.ok(indexes.some(index => (index['key'] as Record<string, unknown>)['expiresAt'] === 1 && index['expireAfterSeconds'] === 0), JSON.stringify(indexes));
		assert.equal((await session.get(`${origin.url}/bytes?n=300`)).fromCache, true);
	});

	it('rejects a cacheName that cannot be a database name', () => {
		for (const cacheName of ['a.b', 'a/b', 'a b', 'x'.repeat(64)]) {
			assert.throws(() => new CachedSession({backend: 'mongodb', url, cacheName}), (error: unknown) => error instanceof TypeError && /cacheName/.test(error.message), cacheName);
		}
	});
});
