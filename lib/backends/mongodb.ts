import {Buffer} from 'node:buffer';
import {EventEmitter} from 'node:events';
import {createRequire} from 'node:module';
import {debuglog} from 'node:util';
import type KeyvMongoClass from '@keyv/mongo';
import {Keyv, type KeyvOptions, type KeyvStoreAdapter, type StoredData} from 'keyv';
import {type EntryMeta, type StoredValue, fromStored} from '../cache/entry.js';
import type {CacheStore} from './store.js';
import {batched, deleteInBatches} from './batches.js';

const require = createRequire(import.meta.url);
const debug = debuglog('requests-cache');

/** Options of the MongoDB backend. */
export type MongoStoreOptions = {
	/** @default 'mongodb://localhost:27017' */
	url?: string | undefined;
	/** The database name (the cache name). */
	database: string;
	/** Seconds to keep an entry past its expiry, for revalidation. */
	ttlOffset: number;
	/** Milliseconds to wait for a server before an operation fails. @default 5000 */
	timeout?: number | undefined;
};

type Connected = Awaited<KeyvMongoClass['connect']>;
type Collection = Connected['store'];

/** The collection of a cache's database that holds its entries. */
export const MONGO_COLLECTION = 'responses';

const batchSize = 5000;
/** How long a failed first connection is remembered before the next attempt, ms. */
const retryAfter = 1000;

/**
 * How an entry is kept in a document's `value`: the metadata as fields (so that maintenance is
 * done by the server, by query), the rest as JSON, and the body as BSON binary (no base64).
 */
type MongoValue = {
	kind: string;
	url: string;
	createdAt: number;
	expires: number | null;
	json: string;
	body?: Buffer | Uint8Array | {buffer: Uint8Array};
	/** Keyv's own expiry, if it set one. */
	keyvExpires?: number | null;
};

function encode(data: {value: StoredValue; expires?: number | undefined}): MongoValue {
	const {value} = data;
	const {body, ...rest} = value.kind === 'response' ? value : {...value, body: undefined};
	return {
		kind: value.kind,
		url: value.url,
		createdAt: value.createdAt,
		expires: value.expires,
		json: JSON.stringify(rest),
		...(body === undefined ? {} : {body}),
		keyvExpires: data.expires ?? null,
	};
}

function toBuffer(body: MongoValue['body']): Buffer | undefined {
	if (body === undefined || body === null) {
		return undefined;
	}

	if (body instanceof Uint8Array) {
		return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
	}

	// A BSON Binary, when the client does not promote buffers.
	const {buffer} = body;
	return Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Decode a document's value; throws `CorruptEntryError` for anything that is not ours. */
function decode(stored: unknown): {value: StoredValue; expires: number | undefined} {
	const value = stored as Partial<MongoValue> | undefined;
	if (typeof value?.json !== 'string') {
		return {value: fromStored(value), expires: undefined};
	}

	const parsed = JSON.parse(value.json) as Record<string, unknown>;
	const body = toBuffer(value.body);
	return {
		value: fromStored(body === undefined ? parsed : {...parsed, body}),
		expires: typeof value.keyvExpires === 'number' ? value.keyvExpires : undefined,
	};
}

/** Check a cache name used as a MongoDB database name. */
export function validateMongoDatabase(name: string): void {
	if (!/^[^/\\. "$*<>:|?\0]+$/.test(name) || Buffer.byteLength(name) > 63) {
		throw new TypeError(`option \`cacheName\` of backend 'mongodb' is the database name and must be 1 to 63 bytes without / \\ . " $ * < > : | ? or spaces, got ${JSON.stringify(name)}`);
	}
}

/**
 * One @keyv/mongo adapter at a time, connected on first use. @keyv/mongo's connect promise never
 * rejects when the server is down (it only emits 'error'): here the first failure rejects, is
 * remembered for a second (operations fail at once meanwhile), and the next operation after that
 * makes a new adapter. Once connected, the driver reconnects by itself; while its topology has
 * no server, operations fail at once instead of waiting for server selection.
 */
class MongoConnection {
	private current: {adapter: KeyvMongoClass; ready: Promise<Connected>} | undefined;
	private failedAt = 0;
	private lastError: Error | undefined;
	private healthy = true;
	private closed = false;

	constructor(private readonly options: {url: string; database: string; timeout: number}) {}

	async get(): Promise<{adapter: KeyvMongoClass; connected: Connected}> {
		if (this.closed) {
			throw new Error('the MongoDB connection is closed');
		}

		if (this.current === undefined) {
			if (this.lastError !== undefined && Date.now() - this.failedAt < retryAfter) {
				throw new Error(`MongoDB is unreachable: ${this.lastError.message}`);
			}

			this.current = this.open();
		}

		const {adapter, ready} = this.current;
		const connected = await ready;
		if (!this.healthy) {
			throw new Error('MongoDB is unreachable (the driver is reconnecting)');
		}

		return {adapter, connected};
	}

	async close(): Promise<void> {
		this.closed = true;
		const current = this.current;
		this.current = undefined;
		if (current !== undefined) {
			// Waits at most for the server selection timeout of a connection still being made.
			const connected = await current.ready.catch(() => undefined);
			await connected?.mongoClient.close();
		}
	}

	private open(): {adapter: KeyvMongoClass; ready: Promise<Connected>} {
		const {default: KeyvMongo} = require('@keyv/mongo') as typeof import('@keyv/mongo');
		const {url, database, timeout} = this.options;
		const adapter = new KeyvMongo({
			url,
			db: database,
			collection: MONGO_COLLECTION,
			// Passed on to the MongoClient: a server that is down fails within the backend timeout.
			serverSelectionTimeoutMS: timeout,
			connectTimeoutMS: timeout,
			heartbeatFrequencyMS: 2000,
			promoteBuffers: true,
		} as unknown as ConstructorParameters<typeof KeyvMongo>[0]);
		const ready = new Promise<Connected>((resolve, reject) => {
			// Without a listener, @keyv/mongo's emit('error') would throw inside its own promise.
			adapter.on('error', (error: unknown) => {
				reject(error instanceof Error ? error : new Error(String(error)));
			});
			adapter.connect.then(resolve, reject);
		});
		ready.then(connected => {
			this.healthy = true;
			connected.mongoClient.on('topologyDescriptionChanged', event => {
				this.healthy = event.newDescription.hasDataBearingServers;
			});
		}, (error: unknown) => {
			debug('mongodb: %s', (error as Error).message);
			this.lastError = error as Error;
			this.failedAt = Date.now();
			this.current = undefined;
		});
		return {adapter, ready};
	}
}

/**
 * The Keyv adapter of the MongoDB backend: @keyv/mongo for the documents (`{key, value,
 * expiresAt}` with its TTL index on `expiresAt`), behind a {@link MongoConnection}, with values
 * kept as {@link MongoValue}.
 */
class MongoAdapter extends EventEmitter implements KeyvStoreAdapter {
	opts: {dialect: string; url: string};
	namespace?: string | undefined;

	constructor(readonly connection: MongoConnection, url: string) {
		super();
		this.opts = {dialect: 'mongo', url};
	}

	async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
		const {adapter} = await this.connection.get();
		const stored = await adapter.get<MongoValue>(key) as unknown;
		if (stored === undefined || stored === null) {
			return undefined;
		}

		try {
			return decode(stored) as StoredData<Value>;
		} catch (error) {
			debug('mongodb: dropping undecodable entry %s: %s', key, (error as Error).message);
			await adapter.delete(key);
			return undefined;
		}
	}

	async set(key: string, value: {value: StoredValue; expires?: number}, ttl?: number): Promise<void> {
		const {adapter} = await this.connection.get();
		await adapter.set(key, encode(value), ttl);
	}

	/** Write many entries: delete then insert, which servers (and emulators) do far faster than upserts. */
	async setMany(entries: Array<{key: string; value: {value: StoredValue; expires?: number}; ttl?: number}>): Promise<void> {
		const {connected} = await this.connection.get();
		const now = Date.now();
		for (let index = 0; index < entries.length; index += batchSize) {
			const slice = entries.slice(index, index + batchSize);
			// eslint-disable-next-line no-await-in-loop -- bounded batches
			await connected.store.deleteMany({key: {$in: slice.map(entry => entry.key)}});
			// eslint-disable-next-line no-await-in-loop
			await connected.store.insertMany(slice.map(({key, value, ttl}) => ({
				key, value: encode(value), expiresAt: typeof ttl === 'number' ? new Date(now + ttl) : null,
			})), {ordered: false});
		}
	}

	async delete(key: string): Promise<boolean> {
		const {adapter} = await this.connection.get();
		return adapter.delete(key);
	}

	async deleteMany(keys: string[]): Promise<boolean> {
		const {connected} = await this.connection.get();
		const result = await connected.store.deleteMany({key: {$in: keys}});
		return result.deletedCount > 0;
	}

	async has(key: string): Promise<boolean> {
		const {connected} = await this.connection.get();
		return (await connected.store.findOne({key: {$eq: key}}, {projection: {_id: 1}})) !== null;
	}

	/** Every entry of this cache: the collection is the cache's own (@keyv/mongo's clear() is not used). */
	async clear(): Promise<void> {
		const {connected} = await this.connection.get();
		await connected.store.deleteMany({});
	}

	async disconnect(): Promise<void> {
		await this.connection.close();
	}
}

function metaOfDocument(document: Record<string, unknown>): EntryMeta {
	const {key, kind, url, createdAt, expires} = document;
	const known = kind === 'response' || kind === 'redirect' || kind === 'variants';
	return {
		key: String(key),
		kind: known ? kind : 'response',
		url: typeof url === 'string' ? url : '',
		// A document that is not ours reads as created at 0 and expired, so sweeps remove it.
		createdAt: known && typeof createdAt === 'number' ? createdAt : 0,
		expires: known ? (typeof expires === 'number' ? expires : null) : 0,
	};
}

/**
 * The MongoDB backend through @keyv/mongo (loaded only when used): the database is the cache
 * name, entries are documents of its `responses` collection, expired by MongoDB's TTL index
 * `ttlOffset` seconds after they go stale. Maintenance runs as server-side queries.
 */
export function createMongoStore(options: MongoStoreOptions): CacheStore {
	validateMongoDatabase(options.database);
	const url = options.url ?? 'mongodb://localhost:27017';
	const timeout = options.timeout ?? 5000;
	const connection = new MongoConnection({url, database: options.database, timeout});
	const adapter = new MongoAdapter(connection, url);
	// Values go to the adapter as objects: it stores metadata as fields and the body as binary.
	const keyv = new Keyv({store: adapter, namespace: undefined, useKeyPrefix: false, serialize: undefined, deserialize: undefined, throwOnErrors: true} as unknown as KeyvOptions);
	const collection = async (): Promise<Collection> => (await connection.get()).connected.store;
	return {
		name: 'mongodb',
		keyv,
		serializes: false,
		sharesObjects: false,
		local: false,
		ttlFor: (expires, now) => (expires === null ? undefined : Math.max(1, Math.ceil(expires - now + options.ttlOffset * 1000))),
		async * scan() {
			const store = await collection();
			const cursor = store.aggregate([
				{$project: {_id: 0, key: 1, kind: '$value.kind', url: '$value.url', createdAt: '$value.createdAt', expires: '$value.expires'}},
			]);
			for await (const documents of batched(cursor, batchSize)) {
				yield documents.map(metaOfDocument);
			}
		},
		async deleteKeys(keys) {
			const store = await collection();
			return deleteInBatches(keys, batchSize, async slice => (await store.deleteMany({key: {$in: slice}})).deletedCount);
		},
		async deleteWhere(filter) {
			const conditions: Array<Record<string, unknown>> = [];
			if (filter.createdBefore !== undefined) {
				conditions.push({'value.createdAt': {$lt: filter.createdBefore}});
			}

			if (filter.expiredAt !== undefined) {
				// A comparison with a number never matches null (never expires).
				conditions.push({'value.expires': {$lte: filter.expiredAt}});
			}

			if (conditions.length === 0) {
				return 0;
			}

			// Documents that are not ours are removed by any sweep.
			conditions.push({'value.kind': {$nin: ['response', 'redirect', 'variants']}});
			const store = await collection();
			const result = await store.deleteMany({$or: conditions});
			return result.deletedCount;
		},
		async clear() {
			await adapter.clear();
		},
		async close() {
			await connection.close();
		},
	};
}
