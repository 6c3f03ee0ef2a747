import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {debuglog} from 'node:util';
import type {Collection, Document, MongoClient} from 'mongodb';
import {assertKnownOptions, optionRangeError, optionTypeError} from '../errors.js';
import {CACHE_STORE, type CacheStore, type DeleteFilter, type RecordMeta, type StoreRecord, RECORD_KINDS, checkedMeta, corruptMeta, matchesDeleteFilter} from './store.js';

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

/** A record as a document: `_id` is the cache's key; `deleteAt`, a Date, carries the TTL index. */
type RecordDocument = Omit<RecordMeta, 'key' | 'deleteAt' | 'corrupt'> & {_id: string; deleteAt: Date | null; value: Uint8Array};

type Filter = Record<string, unknown>;

/** Documents a page or a delete handles at once. */
const batchSize = 5000;
/** How long a failed first connection is remembered (operations fail at once meanwhile), ms. */
const retryAfter = 1000;

// Documents that are not records, as recordOf() checks them, for sweeps to remove. `value` is only
// checked for presence: the emulator the specs use has no `$type: 'binData'`.
const malformed: Filter = {$or: [
	{_id: {$not: {$type: 'string'}}},
	{kind: {$nin: RECORD_KINDS}},
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

/** The facts of a document, or undefined when it is not a record of ours. */
function metaOf(document: Document): RecordMeta | undefined {
	const {_id: key, kind, url, createdAt, expires, deleteAt} = document;
	// A record's deleteAt is a Date or null: anything else fails the check as undefined.
	const time = deleteAt instanceof Date ? deleteAt.getTime() : (deleteAt === null ? null : undefined);
	return typeof key === 'string' ? checkedMeta(key, kind, url, createdAt, expires, time) : undefined;
}

/** The record a document holds, or undefined when it is not one of ours. */
function recordOf(document: Document): StoreRecord | undefined {
	const meta = metaOf(document);
	const {value} = document;
	// The client promotes BSON binary to Buffer; a value of any other type is not ours.
	return meta === undefined || !(value instanceof Uint8Array) ? undefined : {...meta, value, fresh: true};
}

function documentOf(record: StoreRecord): RecordDocument {
	const {key, kind, url, createdAt, expires, deleteAt, value} = record;
	return {_id: key, kind, url, createdAt, expires, deleteAt: deleteAt === null ? null : new Date(deleteAt), value};
}

/**
 * The client of one cache, connected on first use. A failed first connection is remembered for
 * {@link retryAfter}; while the driver knows no server, operations fail at once instead of each waiting.
 */
function mongoConnection(url: string, database: string, timeout: number): {collection(): Promise<Collection<RecordDocument>>; close(): Promise<void>} {
	let current: Promise<Collection<RecordDocument>> | undefined;
	let client: MongoClient | undefined;
	let lastError: Error | undefined;
	let failedAt = 0;
	let healthy = false;
	let closed = false;

	async function open(): Promise<Collection<RecordDocument>> {
		let driver: typeof import('mongodb');
		try {
			driver = require('mongodb') as typeof import('mongodb');
		} catch (error) {
			throw new Error('the MongoDB backend needs the package mongodb (npm install mongodb)', {cause: error});
		}

		const opened = new driver.MongoClient(url, {
			serverSelectionTimeoutMS: timeout,
			connectTimeoutMS: timeout,
			heartbeatFrequencyMS: 2000,
			// BSON binary comes back as Buffer, a view the codec reads without copying.
			promoteBuffers: true,
		});
		client = opened;
		opened.on('topologyDescriptionChanged', event => {
			healthy = event.newDescription.hasDataBearingServers;
		});
		try {
			await opened.connect();
			healthy = true;
			const collection = opened.db(database).collection<RecordDocument>(MONGO_COLLECTION);
			await collection.createIndexes([
				{key: {createdAt: 1}, name: 'createdAt'},
				{key: {expires: 1}, name: 'expires'},
				// MongoDB removes a document once its deleteAt has passed (its TTL monitor runs every minute).
				{key: {deleteAt: 1}, name: 'deleteAt', expireAfterSeconds: 0},
			]).catch((error: unknown) => {
				// An index made otherwise by hand, or a user without the right to make one: slower sweeps, not a broken cache.
				debug('mongodb: the indexes of %s.%s could not be made: %s', database, MONGO_COLLECTION, (error as Error).message);
			});
			return collection;
		} catch (error) {
			debug('mongodb: %s', (error as Error).message);
			lastError = error as Error;
			failedAt = Date.now();
			current = undefined;
			client = undefined;
			opened.close().catch(() => undefined);
			throw error;
		}
	}

	return {
		async collection() {
			if (closed) {
				throw new Error('the MongoDB connection is closed');
			}

			if (current === undefined) {
				if (lastError !== undefined && Date.now() - failedAt < retryAfter) {
					throw new Error(`MongoDB is unreachable: ${lastError.message}`);
				}

				current = open();
			}

			const collection = await current;
			if (!healthy) {
				throw new Error('MongoDB is unreachable (the driver is reconnecting)');
			}

			return collection;
		},
		async close() {
			closed = true;
			current = undefined;
			// A client still connecting is closed too: the driver stops its monitors, and the process can exit.
			await client?.close().catch(() => undefined);
			client = undefined;
		},
	};
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

	if (!/^[^/\\. "$*<>:|?\0]+$/.test(database) || Buffer.byteLength(database) > 63) {
		throw new TypeError(`option \`cacheName\` of backend 'mongodb' is the database name and must be 1 to 63 bytes without / \\ . " $ * < > : | ? or spaces, got ${JSON.stringify(database)}`);
	}

	if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
		throw optionTypeError(owner, 'timeout', 'a number of milliseconds', timeout);
	}

	if (!Number.isFinite(timeout) || timeout <= 0) {
		throw optionRangeError(owner, 'timeout', 'a finite number > 0', timeout);
	}

	return {url, database, timeout};
}

/** The MongoDB store, on the official driver; its layout and why: docs/backends.md, "MongoDB". */
export function createMongoStore(options: MongoStoreOptions): CacheStore {
	const {url, database, timeout} = normalizeOptions(options);
	const connection = mongoConnection(url, database, timeout);
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
			// Delete, then insert: a round trip each for the whole batch, where upserts take one per document.
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
				page.push(metaOf(document) ?? corruptMeta(String(document['_id'])));
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

			return (await (await connection.collection()).deleteMany({$or: conditions})).deletedCount;
		},
		async clear() {
			await (await connection.collection()).deleteMany({});
		},
		async close() {
			await connection.close();
		},
	};
}
