import {Keyv, type KeyvStoreAdapter} from 'keyv';
import {BackendError} from '../errors.js';
import type {EntryMeta} from '../cache/entry.js';
import {isMysqlAdapter, mysqlBulkOperations} from './mysql.js';
import {isPostgresAdapter, postgresBulkOperations} from './postgres.js';
import {type RedisCommands, redisBulkOperations, serializeMetaFirst, validateRedisNamespace} from './redis.js';
import type {CacheStore} from './store.js';
import {batched, decodeMeta, deleteInBatches} from './batches.js';

const batchSize = 1000;

/**
 * Open stores by shared connection pool. @keyv/postgres and @keyv/mysql keep one pool per process
 * (per URI), and an adapter's disconnect() ends it under every other adapter on that URI: the
 * pool is only ended when the last store on it closes.
 */
const pools = new Map<string, number>();

type Bulk = Pick<CacheStore, 'scan' | 'deleteKeys' | 'deleteWhere' | 'clear'>;

type RedisAdapterLike = {
	opts: {dialect?: string};
	namespace?: string | undefined;
	keyPrefixSeparator: string;
	getClient(): Promise<unknown>;
	isCluster?(): boolean;
};

type MongoAdapterLike = {
	opts: {collection?: string; useGridFS?: boolean};
	connect: Promise<{store: {
		find(filter: object, options?: object): AsyncIterable<Record<string, unknown>>;
		deleteMany(filter: object): Promise<{deletedCount: number}>;
	};}>;
};

function isRedisAdapter(adapter: unknown): adapter is RedisAdapterLike {
	const candidate = adapter as Partial<RedisAdapterLike> | undefined;
	return candidate?.opts?.dialect === 'redis' && typeof candidate.getClient === 'function' && typeof candidate.keyPrefixSeparator === 'string';
}

function isMongoAdapter(adapter: unknown): adapter is MongoAdapterLike {
	const candidate = adapter as Partial<MongoAdapterLike> | undefined;
	return typeof candidate?.connect?.then === 'function' && typeof candidate.opts?.collection === 'string' && candidate.opts.useGridFS !== true;
}

/** The smallest string greater than every string that starts with `prefix` (for range queries). */
export function prefixEnd(prefix: string): string {
	return prefix.slice(0, -1) + String.fromCodePoint(prefix.codePointAt(prefix.length - 1)! + 1);
}

/**
 * The Keyv namespace for a cache name on a Keyv store adapter. Keyv keys are `<namespace>:<key>`,
 * so a ':' in the namespace would let one cache's prefix start another's (`a:` and `a:b:`); it
 * is written `%3A` (and '%' as `%25`).
 */
export function adapterNamespace(cacheName: string): string {
	return cacheName.replaceAll('%', '%25').replaceAll(':', '%3A');
}

/**
 * A Keyv instance for a bare Keyv store adapter given as `backend`, namespaced by the cache name.
 * @keyv/redis prefixes keys itself (`<namespace>::<key>`), so Keyv's own prefix is left off there.
 */
export function keyvForAdapter(adapter: KeyvStoreAdapter, cacheName: string): Keyv {
	if (isRedisAdapter(adapter)) {
		validateRedisNamespace(cacheName);
		return new Keyv({store: adapter, namespace: cacheName, useKeyPrefix: false, serialize: serializeMetaFirst, deserialize: JSON.parse});
	}

	return new Keyv({store: adapter, namespace: adapterNamespace(cacheName), serialize: JSON.stringify, deserialize: JSON.parse});
}

/** Bulk operations through the adapter's iterator: correct for any iterable adapter, but slow. */
function genericBulk(adapter: KeyvStoreAdapter, prefix: string, decode: (raw: unknown) => Promise<unknown>, storedKey: (key: string) => string): Bulk {
	/** The adapter's rows as [stored key, raw value]: a Map (Keyv's default store) is read directly. */
	function rows(): AsyncIterable<[string, unknown]> | Iterable<[string, unknown]> {
		if (adapter instanceof Map) {
			return [...(adapter as Map<string, unknown>).entries()];
		}

		if (typeof adapter.iterator !== 'function') {
			throw new BackendError('scan', {cause: new Error(`this Keyv store (${adapter.constructor?.name ?? 'unknown'}) cannot list its entries`)});
		}

		return adapter.iterator((adapter as {namespace?: string}).namespace) as AsyncIterable<[string, unknown]>;
	}

	async function * scan(): AsyncGenerator<EntryMeta[]> {
		// A full snapshot first: some adapters page with OFFSET, and would skip rows if anything
		// (Keyv's iterator deletes what it finds expired) deleted during the walk.
		const metas: EntryMeta[] = [];
		for await (const [stored, raw] of rows()) {
			// Adapters match the namespace with unescaped LIKE or regex patterns: check it here.
			if (typeof stored !== 'string' || !stored.startsWith(prefix)) {
				continue;
			}

			// Corrupt entries are listed too, so that clear() and expiry sweeps can remove them.
			metas.push(await decodeMeta(stored.slice(prefix.length), raw, decode));
		}

		yield * batched(metas, batchSize);
	}

	async function deleteKeys(keys: readonly string[]): Promise<number> {
		return deleteInBatches(keys, batchSize, async slice => {
			const results = await Promise.all(slice.map(async key => adapter.delete(storedKey(key))));
			return results.filter(Boolean).length;
		});
	}

	return {
		scan,
		deleteKeys,
		async clear() {
			// Not the adapter's clear(): several match the namespace with unescaped LIKE or regex patterns.
			const keys: string[] = [];
			for await (const batch of scan()) {
				keys.push(...batch.map(meta => meta.key));
			}

			await deleteKeys(keys);
		},
	};
}

/** Bulk operations for a Keyv over @keyv/mongo: key ranges instead of its unescaped regexes. */
function mongoBulk(adapter: MongoAdapterLike, prefix: string, decode: (raw: unknown) => Promise<unknown>): Bulk {
	const inCache = prefix === '' ? {} : {key: {$gte: prefix, $lt: prefixEnd(prefix)}};
	// @keyv/mongo's connect promise never rejects when the server is down: bounded here.
	const store = async (): Promise<Awaited<MongoAdapterLike['connect']>['store']> => {
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_resolve, reject) => {
			timer = setTimeout(() => {
				reject(new Error('MongoDB did not connect within 30 s'));
			}, 30_000);
			timer.unref();
		});
		try {
			return (await Promise.race([adapter.connect, timeout])).store;
		} finally {
			clearTimeout(timer);
		}
	};

	return {
		async * scan() {
			const documents = (await store()).find(inCache, {projection: {_id: 0, key: 1, value: 1}});
			for await (const page of batched(documents, batchSize)) {
				yield await Promise.all(page.map(async document => decodeMeta(String(document['key']).slice(prefix.length), document['value'], decode)));
			}
		},
		async deleteKeys(keys) {
			const collection = await store();
			return deleteInBatches(keys, batchSize, async slice => (await collection.deleteMany({key: {$in: slice.map(key => prefix + key)}})).deletedCount);
		},
		async clear() {
			await (await store()).deleteMany(inCache);
		},
	};
}

/**
 * A store over any Keyv instance or store adapter (e.g. @keyv/postgres, @keyv/mysql, @keyv/redis,
 * @keyv/mongo, @keyv/valkey). Where the adapter exposes its connection, bulk operations are done
 * the store's own way (see postgres.ts, mysql.ts, redis.ts); otherwise through the adapter's
 * iterator, from a full snapshot taken before anything is deleted, and only on keys that carry
 * this cache's prefix.
 */
export function createKeyvStore(keyv: Keyv, name = 'keyv'): CacheStore {
	keyv.throwOnErrors = true;
	const adapter = keyv.store as KeyvStoreAdapter;
	const namespace = keyv.namespace;
	const keyvPrefix = keyv.useKeyPrefix && namespace ? `${namespace}:` : '';
	// As Keyv does it: a key that already starts with the prefix is not prefixed again.
	const storedKey = (key: string): string => (keyvPrefix !== '' && key.startsWith(keyvPrefix) ? key : keyvPrefix + key);
	// Keyv's own deserializer (and decompression), for values read around Keyv.
	const decode = async (raw: unknown): Promise<unknown> => (typeof raw === 'string' ? keyv.deserializeData(raw) : raw);
	let bulk: Bulk;
	let kind = name;
	let pool: string | undefined;
	if (isRedisAdapter(adapter) && adapter.isCluster?.() !== true) {
		const adapterPrefix = adapter.namespace ? `${adapter.namespace}${adapter.keyPrefixSeparator}` : '';
		const prefix = adapterPrefix + keyvPrefix;
		if (prefix === '') {
			throw new TypeError('a Keyv over @keyv/redis needs a namespace: without one, clear() would remove every key of the database');
		}

		bulk = redisBulkOperations(async () => await adapter.getClient() as RedisCommands, prefix, decode);
		kind = 'redis';
	} else if (isPostgresAdapter(adapter)) {
		bulk = postgresBulkOperations(adapter, keyvPrefix, decode);
		kind = 'postgres';
		pool = `postgres ${String((adapter.opts as {uri?: unknown}).uri)}`;
	} else if (isMysqlAdapter(adapter)) {
		bulk = mysqlBulkOperations(adapter, keyvPrefix, decode);
		kind = 'mysql';
		pool = `mysql ${String((adapter.opts as {uri?: unknown}).uri)}`;
	} else if (isMongoAdapter(adapter)) {
		bulk = mongoBulk(adapter, keyvPrefix, decode);
		kind = 'mongodb';
	} else {
		bulk = genericBulk(adapter, keyvPrefix, decode, storedKey);
	}

	if (pool !== undefined) {
		pools.set(pool, (pools.get(pool) ?? 0) + 1);
	}

	let closed = false;
	return {
		name: kind,
		keyv,
		serializes: true,
		sharesObjects: false,
		local: false,
		ttlFor: () => undefined,
		...bulk,
		async close() {
			if (closed) {
				return;
			}

			closed = true;
			if (pool !== undefined) {
				const users = (pools.get(pool) ?? 1) - 1;
				if (users > 0) {
					pools.set(pool, users);
					return;
				}

				pools.delete(pool);
			}

			await keyv.disconnect();
		},
	};
}
