import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {MONGO_COLLECTION, createMongoStore} from '../../lib/backends/mongodb.js';
import type {CacheStore} from '../../lib/backends/store.js';
import {type CachedEntry, toRecord} from '../../lib/codec/entry.js';
import {scanAll, storedResponse} from '../support/records.js';
import {freePort, mongoUrl, skipOrFail} from '../support/services.js';

type Document = Record<string, unknown>;
type Collection = {
	findOne(filter: object): Promise<Document | null>;
	insertOne(document: Document): Promise<unknown>;
	indexes(): Promise<Document[]>;
	deleteMany(filter: object): Promise<unknown>;
};
type Client = {
	connect(): Promise<unknown>;
	close(): Promise<void>;
	db(name: string): {collection(name: string): Collection};
};

function response(url: string, createdAt: number, expires: number | null, body = Buffer.from(url)): CachedEntry {
	return storedResponse(url, body, createdAt, expires);
}

describe('MongoDB store specifics', function () {
	this.timeout(30_000);
	const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
	let url = '';
	let client: Client;
	const stores: CacheStore[] = [];

	function open(label: string): {store: CacheStore; database: string} {
		const database = `rc_specifics_${run}_${label}`;
		const store = createMongoStore({url, database});
		stores.push(store);
		return {store, database};
	}

	before(async function () {
		try {
			url = (await mongoUrl()).url;
		} catch (error) {
			skipOrFail(this, 'the MongoDB store specs', `no MongoDB: ${(error as Error).message}`);
		}

		// The driver the store itself uses, to look at what it wrote.
		const {MongoClient} = createRequire(createRequire(import.meta.url).resolve('@keyv/mongo'))('mongodb') as {MongoClient: new (url: string, options: object) => Client};
		client = new MongoClient(url, {promoteBuffers: true});
		await client.connect();
	});

	after(async () => {
		for (const store of stores) {
			// eslint-disable-next-line no-await-in-loop
			await store.clear().catch(() => undefined);
			// eslint-disable-next-line no-await-in-loop
			await store.close();
		}

		await client?.close();
	});

	it('keeps a record as a document of `<cacheName>.records`: facts as fields, the value as binary, deleteAt as a Date under a TTL index', async () => {
		const {store, database} = open('layout');
		const now = Date.now();
		const record = toRecord('key', response('https://example.com/layout', now, now + 60_000, Buffer.from([0, 1, 2, 255])), now + 160_000);
		await store.set([record]);
		const collection = client.db(database).collection(MONGO_COLLECTION);
		const document = await collection.findOne({_id: 'key'});
		assert.ok(document, 'the record is the document whose _id is its key');
		const {value, ...facts} = document;
		assert.deepEqual(facts, {_id: 'key', kind: 'response', url: 'https://example.com/layout', createdAt: now, expires: now + 60_000, deleteAt: new Date(now + 160_000)});
		assert.ok(Buffer.isBuffer(value) && value.equals(Buffer.from(record.value)), 'the codec\'s bytes as BSON binary, not base64 text');
		const indexes = await collection.indexes();
		const keyed = (field: string): Document | undefined => indexes.find(index => Object.keys(index['key'] as object).join() === field);
		assert.ok(keyed('createdAt'), JSON.stringify(indexes));
		assert.ok(keyed('expires'), JSON.stringify(indexes));
		assert.equal(keyed('deleteAt')?.['expireAfterSeconds'], 0, 'MongoDB drops a record once its deleteAt has passed');
	});

	it('never lists or counts documents that are not its records: another collection\'s are not seen, its own collection\'s are corrupt', async () => {
		const {store, database} = open('foreign');
		const now = Date.now();
		await store.set([toRecord('mine', response('https://example.com/mine', now, null), null)]);
		const db = client.db(database);
		await db.collection('other').insertOne({_id: 'theirs', kind: 'response', url: 'https://example.com/theirs', createdAt: now, expires: null, deleteAt: null, value: Buffer.from('x')});
		await db.collection(MONGO_COLLECTION).insertOne({note: 'a document with an ObjectId and no record fields'});
		const listed = await scanAll(store);
		assert.deepEqual(listed.filter(meta => meta.corrupt !== true).map(meta => meta.key), ['mine'], 'only its record is a record');
		assert.equal(listed.filter(meta => meta.corrupt === true).length, 1, 'the malformed one of its collection is listed as corrupt');
		assert.equal(await store.deleteWhere!({expiredAt: now}), 1, 'and swept by any sweep');
		assert.ok(await db.collection('other').findOne({_id: 'theirs'}), 'another collection is left alone');
		await db.collection('other').deleteMany({});
	});

	it('rejects a cache name that cannot be a database name, and bad options, naming them', () => {
		for (const database of ['a.b', 'a/b', 'a b', 'x'.repeat(64), '']) {
			assert.throws(() => createMongoStore({url, database}), (error: unknown) => error instanceof TypeError && /cacheName/.test(error.message), database);
		}

		assert.throws(() => createMongoStore({url: 'redis://localhost', database: 'x'}), {name: 'TypeError', message: /`url`/});
		assert.throws(() => createMongoStore({url, database: 'x', timeout: -1}), {name: 'RangeError', message: /`timeout`/});
		assert.throws(() => createMongoStore({url, database: 'x', collection: 'y'} as never), {name: 'TypeError', message: /`collection`/});
	});

	it('fails within the timeout on a server that is down, then at once, and closes at once', async () => {
		const store = createMongoStore({url: `mongodb://127.0.0.1:${await freePort()}`, database: 'down', timeout: 600});
		let started = performance.now();
		await assert.rejects(store.get('key'));
		const first = performance.now() - started;
		started = performance.now();
		await assert.rejects(store.scan()[Symbol.asyncIterator]().next());
		const second = performance.now() - started;
		console.log(`      unreachable MongoDB (timeout 600 ms): first call failed after ${first.toFixed(0)} ms, the next after ${second.toFixed(1)} ms`);
		assert.ok(first < 2000, `${first.toFixed(0)} ms`);
		assert.ok(second < 50, `a known-down server fails at once: ${second.toFixed(1)} ms`);
		started = performance.now();
		await store.close();
		assert.ok(performance.now() - started < 1000);
	});
});
