import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {debuglog} from 'node:util';
import {assertKnownOptions, optionRangeError, optionTypeError} from '../errors.js';
import {CACHE_STORE, type CacheStore, type DeleteFilter, type RecordKind, type RecordMeta, type StoreRecord, corruptMeta, matchesDeleteFilter} from './store.js';

const require = createRequire(import.meta.url);
const debug = debuglog('requests-cache');

/** Options of the MongoDB store. */
export type MongoStoreOptions = {
	/** @default 'mongodb://localhost:27017' */
	url?: string | undefined;
	/** The database (the cache name); records are the documents of its {@link MONGO_COLLECTION} collection. */
	database: string;
	/** Milliseconds to wait for a server (server selection, connection) before an operation fails. @default 5000 */
	timeout?: number | undefined;
};

const knownOptions: ReadonlySet<string> = new Set(['url', 'database', 'timeout']);

/** The collection of a cache's database that holds its records. */
export const MONGO_COLLECTION = 'records';

/** A record as a document. `_id` is the cache's key; `deleteAt` carries the TTL index. */
type RecordDocument = {
	_id: string;
	kind: RecordKind;
	url: string;
	createdAt: number;
	expires: number | null;
	deleteAt: Date | null;
	value: Uint8Array;
};

type Filter = Record<string, unknown>;

/** The part of the driver's `Collection` this store uses. */
type Collection = {
	findOne(filter: Filter): Promise<Record<string, unknown> | null>;
	find(filter: Filter, options: object): AsyncIterable<Record<string, unknown>>;
	insertMany(documents: RecordDocument[], options: object): Promise<unknown>;
	bulkWrite(operations: object[], options: object): Promise<unknown>;
	deleteMany(filter: Filter): Promise<{deletedCount: number}>;
	createIndexes(indexes: object[]): Promise<unknown>;
};

type MongoClient = {
	connect(): Promise<unknown>;
	close(): Promise<void>;
	db(name: string): {collection(name: string): Collection};
	on(event: 'topologyDescriptionChanged', listener: (event: {newDescription: {hasDataBearingServers: boolean}}) => void): unknown;
};

type MongoModule = {MongoClient: new (url: string, options: object) => MongoClient};

/** Documents a page or a delete handles at once. */
const batchSize = 5000;
/** How long a failed first connection is remembered (operations fail at once meanwhile), ms. */
const retryAfter = 1000;

const kinds: readonly RecordKind[] = ['response', 'redirect', 'variants'];

/**
 * Documents of the collection that are not records (another program's, or a layout this store
 * did not write): the server-side form of {@link recordOf}'s checks, so that sweeps remove them.
 * (`value` is only checked for presence: the emulator the specs use has no `$type: 'binData'`.)
 */
const malformed: Filter = {$or: [
	{_id: {$not: {$type: 'string'}}},
	{kind: {$nin: kinds}},
	{url: {$not: {$type: 'string'}}},
	{createdAt: {$not: {$type: 'number'}}},
	{$nor: [{expires: {$type: 'number'}}, {expires: {$type: 'null'}}]},
	{$nor: [{deleteAt: {$type: 'date'}}, {deleteAt: {$type: 'null'}}]},
	{value: {$exists: false}},
]};

/** True for a write that failed (in part) because a document with its `_id` exists: E11000. */
function isDuplicateKey(error: unknown): boolean {
	const {code, writeErrors} = error as {code?: unknown; writeErrors?: Array<{code?: unknown}>};
	return code === 11_000 || (Array.isArray(writeErrors) && writeErrors.length > 0 && writeErrors.every(item => item.code === 11_000));
}

/** Check a cache name used as a MongoDB database name. */
export function validateMongoDatabase(name: string): void {
	if (!/^[^/\\. "$*<>:|?\0]+$/.test(name) || Buffer.byteLength(name) > 63) {
		throw new TypeError(`option \`cacheName\` of backend 'mongodb' is the database name and must be 1 to 63 bytes without / \\ . " $ * < > : | ? or spaces, got ${JSON.stringify(name)}`);
	}
}

function isTime(value: unknown): value is number {
	return typeof value === 'number' && Number.isFinite(value);
}

/** The facts of a document, or undefined when it is not a record of ours. */
function metaOf(document: Record<string, unknown>): RecordMeta | undefined {
	const {_id: key, kind, url, createdAt, expires, deleteAt} = document;
	if (typeof key !== 'string' || !kinds.includes(kind as RecordKind) || typeof url !== 'string' || !isTime(createdAt)
		|| !(expires === null || isTime(expires)) || !(deleteAt === null || (deleteAt instanceof Date && isTime(deleteAt.getTime())))) {
		return undefined;
	}

	return {key, kind: kind as RecordKind, url, createdAt, expires, deleteAt: deleteAt === null ? null : deleteAt.getTime()};
}

/** The record a document holds, or undefined when it is not one of ours. */
function recordOf(document: Record<string, unknown>): StoreRecord | undefined {
	const meta = metaOf(document);
	const {value} = document;
	// The client promotes BSON binary to Buffer; a value of any other type is not ours.
	return meta === undefined || !(value instanceof Uint8Array) ? undefined : {...meta, value, fresh: true};
}

function documentOf(record: StoreRecord): RecordDocument {
	const {key, kind, url, createdAt, expires, deleteAt, value} = record;
	return {_id: key, kind, url, createdAt, expires, deleteAt: deleteAt === null ? null : new Date(deleteAt), value};
}

/** The listing of a document: its facts, or {@link corruptMeta} for one that is not a record. */
function listingOf(document: Record<string, unknown>): RecordMeta {
	return metaOf(document) ?? corruptMeta(typeof document['_id'] === 'string' ? document['_id'] : String(document['_id']));
}

/**
 * The client of one cache, connected on first use. A server that is down fails the first
 * operation within `timeout` (server selection); that failure is remembered for a second, during
 * which operations fail at once, and the next operation after it tries a new client. Once
 * connected, the driver reconnects by itself; while it knows no server, operations fail at once
 * instead of each waiting for server selection.
 */
class MongoConnection {
	readonly #url: string;
	readonly #database: string;
	readonly #timeout: number;
	#current: Promise<Collection> | undefined;
	readonly #clients = new Set<MongoClient>();
	#lastError: Error | undefined;
	#failedAt = 0;
	#healthy = false;
	#closed = false;

	constructor(url: string, database: string, timeout: number) {
		this.#url = url;
		this.#database = database;
		this.#timeout = timeout;
	}

	async collection(): Promise<Collection> {
		if (this.#closed) {
			throw new Error('the MongoDB connection is closed');
		}

		if (this.#current === undefined) {
			if (this.#lastError !== undefined && Date.now() - this.#failedAt < retryAfter) {
				throw new Error(`MongoDB is unreachable: ${this.#lastError.message}`);
			}

			this.#current = this.#open();
		}

		const collection = await this.#current;
		if (!this.#healthy) {
			throw new Error('MongoDB is unreachable (the driver is reconnecting)');
		}

		return collection;
	}

	async close(): Promise<void> {
		this.#closed = true;
		this.#current = undefined;
		// A client still connecting is closed too: the driver stops its monitors, and the process can exit.
		await Promise.all([...this.#clients].map(async client => client.close().catch(() => undefined)));
		this.#clients.clear();
	}

	async #open(): Promise<Collection> {
		let driver: MongoModule;
		try {
			driver = require('mongodb') as MongoModule;
		} catch (error) {
			throw new Error('the MongoDB backend needs the package mongodb (npm install mongodb)', {cause: error});
		}

		const client = new driver.MongoClient(this.#url, {
			serverSelectionTimeoutMS: this.#timeout,
			connectTimeoutMS: this.#timeout,
			heartbeatFrequencyMS: 2000,
			// BSON binary comes back as Buffer, a view the codec reads without copying.
			promoteBuffers: true,
		});
		this.#clients.add(client);
		client.on('topologyDescriptionChanged', event => {
			this.#healthy = event.newDescription.hasDataBearingServers;
		});
		try {
			await client.connect();
			this.#healthy = true;
			const collection = client.db(this.#database).collection(MONGO_COLLECTION);
			await collection.createIndexes([
				{key: {createdAt: 1}, name: 'createdAt'},
				{key: {expires: 1}, name: 'expires'},
				// MongoDB removes a document once its deleteAt has passed (its TTL monitor runs every minute).
				{key: {deleteAt: 1}, name: 'deleteAt', expireAfterSeconds: 0},
			]).catch((error: unknown) => {
				// An index made otherwise by hand, or a user without the right to make one: slower sweeps, not a broken cache.
				debug('mongodb: the indexes of %s.%s could not be made: %s', this.#database, MONGO_COLLECTION, (error as Error).message);
			});
			return collection;
		} catch (error) {
			debug('mongodb: %s', (error as Error).message);
			this.#lastError = error as Error;
			this.#failedAt = Date.now();
			this.#current = undefined;
			this.#clients.delete(client);
			client.close().catch(() => undefined);
			throw error;
		}
	}
}

function normalizeOptions(options: MongoStoreOptions): {url: string; database: string; timeout: number} {
	const owner = 'createMongoStore';
	if (typeof options !== 'object' || options === null) {
		throw optionTypeError(owner, 'options', 'an object', options);
	}

	assertKnownOptions(owner, options, knownOptions);
	const {url = 'mongodb://localhost:27017', database, timeout = 5000} = options;
	if (typeof url !== 'string' || !/^mongodb(\+srv)?:\/\//i.test(url)) {
		throw optionTypeError(owner, 'url', 'a mongodb:// or mongodb+srv:// URL', url);
	}

	if (typeof database !== 'string') {
		throw optionTypeError(owner, 'database', 'a string', database);
	}

	validateMongoDatabase(database);
	if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
		throw optionTypeError(owner, 'timeout', 'a number of milliseconds', timeout);
	}

	if (!Number.isFinite(timeout) || timeout <= 0) {
		throw optionRangeError(owner, 'timeout', 'a finite number > 0', timeout);
	}

	return {url, database, timeout};
}

/**
 * The MongoDB store, on the official driver (mongodb, loaded when the first connection
 * is made). The database is the cache name; each record is a document of its `records`
 * collection: `{_id: key, kind, url, createdAt, expires, deleteAt: Date, value: Binary}`, with
 * indexes on `createdAt` and `expires` (so `deleteWhere` is one indexed `deleteMany`) and a TTL
 * index on `deleteAt` (MongoDB drops a record by itself once it has passed). Documents of the
 * collection that are not records are listed as corrupt, read as missing, and swept.
 */
export function createMongoStore(options: MongoStoreOptions): CacheStore {
	const {url, database, timeout} = normalizeOptions(options);
	const connection = new MongoConnection(url, database, timeout);
	return {
		[CACHE_STORE]: true,
		name: 'mongodb',
		local: false,
		location: `mongodb:${url}#${database}`,
		async get(key) {
			const document = await (await connection.collection()).findOne({_id: key});
			return document === null ? undefined : recordOf(document);
		},
		async set(records) {
			if (records.length === 0) {
				return;
			}

			const collection = await connection.collection();
			// The last record of a key wins, as it would with one write after another.
			const documents = [...new Map(records.map(record => [record.key, documentOf(record)])).values()];
			// Delete, then insert: one round trip each for the whole batch, where upserts are a round
			// trip each on MongoDB and take time in the collection's size on the emulator the specs use.
			await collection.deleteMany({_id: {$in: documents.map(document => document._id)}});
			try {
				await collection.insertMany(documents, {ordered: false});
			} catch (error) {
				// A writer of the same key between the two: replace its documents (and insert the rest).
				if (!isDuplicateKey(error)) {
					throw error;
				}

				await collection.bulkWrite(documents.map(document => ({replaceOne: {filter: {_id: document._id}, replacement: document, upsert: true}})), {ordered: false});
			}
		},
		async delete(keys) {
			const collection = await connection.collection();
			let deleted = 0;
			for (let index = 0; index < keys.length; index += batchSize) {
				// eslint-disable-next-line no-await-in-loop -- bounded batches, one at a time
				deleted += (await collection.deleteMany({_id: {$in: keys.slice(index, index + batchSize)}})).deletedCount;
			}

			return deleted;
		},
		async * scan() {
			const collection = await connection.collection();
			// In _id order, on its index: documents deleted meanwhile never make the cursor skip others.
			const cursor = collection.find({}, {projection: {value: 0}, sort: {_id: 1}, batchSize});
			let page: RecordMeta[] = [];
			for await (const document of cursor) {
				page.push(listingOf(document));
				if (page.length === batchSize) {
					yield page;
					page = [];
				}
			}

			if (page.length > 0) {
				yield page;
			}
		},
		async deleteWhere(filter: DeleteFilter) {
			const conditions: Filter[] = [];
			if (filter.createdBefore !== undefined) {
				conditions.push({createdAt: {$lt: filter.createdBefore}});
			}

			if (filter.expiredAt !== undefined) {
				// A comparison with a number never matches null (never expires).
				conditions.push({expires: {$lte: filter.expiredAt}});
			}

			// Documents that are not records are listed as created at 0 and expired: the same filter takes them.
			if (matchesDeleteFilter(corruptMeta(''), filter)) {
				conditions.push(malformed);
			}

			if (conditions.length === 0) {
				return 0;
			}

			const collection = await connection.collection();
			return (await collection.deleteMany({$or: conditions})).deletedCount;
		},
		async clear() {
			await (await connection.collection()).deleteMany({});
		},
		async close() {
			await connection.close();
		},
	};
}
