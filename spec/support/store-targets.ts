import {createRequire} from 'node:module';
import KeyvMysql from '@keyv/mysql';
import KeyvPostgres from '@keyv/postgres';
import {Keyv} from 'keyv';
import {adapterNamespace, createKeyvStore} from '../../lib/backends/keyv-store.js';
import {MONGO_COLLECTION, createMongoStore} from '../../lib/backends/mongodb.js';
import {createRedisStore} from '../../lib/backends/redis.js';
import type {StoreTarget} from '../backends/store-conformance.js';
import {redisCluster} from './redis-cluster.js';
import {mongoUrl, mysqlExecute, mysqlUrl, postgresExecute, postgresUrl, redisProblem, redisUrl, tcpProblem} from './services.js';

/**
 * The network stores and the generic Keyv store, as targets of the store conformance suite
 * (spec/backends/store-conformance.ts): each spec file `store-<name>.spec.ts` is one call.
 */

const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const iterationLimit = 1000;

/**
 * Redis at REDIS_URL. No `injectForeign`: a value under `<name>::` that the store did not write
 * is outside its indexes, so it reads as missing and only clear() removes it (docs/backends.md).
 */
export function redisStoreTarget(): StoreTarget {
	return {
		name: 'redis',
		shared: true,
		prepare: async () => redisProblem(),
		open: name => createRedisStore({url: redisUrl, namespace: name}),
	};
}

/** A Redis Cluster of three masters (spec/support/redis-cluster.ts): REDIS_CLUSTER_URLS, or one started for this run. */
export function redisClusterStoreTarget(): StoreTarget {
	let urls: string[] = [];
	return {
		name: 'redis cluster',
		shared: true,
		async prepare() {
			const cluster = await redisCluster();
			urls = cluster.problem === undefined ? cluster.urls : [];
			return cluster.problem;
		},
		open: name => createRedisStore({url: urls, namespace: name}),
	};
}

type MongoClient = {
	connect(): Promise<unknown>;
	close(): Promise<void>;
	db(name: string): {collection(name: string): {replaceOne(filter: object, document: object, options: object): Promise<unknown>}};
};

/**
 * MongoDB at MONGODB_URL, or the jongodb emulator (spec/support/services.ts), whose inserts take
 * time proportional to the collection's size: 10,000 records in the scale case there.
 */
export function mongoStoreTarget(): StoreTarget {
	let url = '';
	let client: MongoClient | undefined;
	return {
		name: process.env['MONGODB_URL'] ? 'mongodb' : 'mongodb (jongodb emulator)',
		shared: true,
		scale: process.env['MONGODB_URL'] ? 100_000 : 10_000,
		async prepare() {
			try {
				({url} = await mongoUrl());
			} catch (error) {
				return `no MongoDB: ${(error as Error).message}`;
			}

			// The driver the store itself uses, to write what the store did not.
			const {MongoClient} = createRequire(createRequire(import.meta.url).resolve('@keyv/mongo'))('mongodb') as {MongoClient: new (url: string) => MongoClient};
			client = new MongoClient(url);
			await client.connect();
			return undefined;
		},
		open: name => createMongoStore({url, database: name}),
		async injectForeign(name, key) {
			// Another program's document in the cache's collection: no kind, times as text, no binary value.
			await client!.db(name).collection(MONGO_COLLECTION).replaceOne({_id: key}, {_id: key, note: 'not a record', createdAt: 'yesterday', value: 'text'}, {upsert: true});
		},
		async teardown() {
			await client?.close();
		},
	};
}

/** Keyv's own default store, a Map: each store its own (a Keyv over a Map lives in one process). */
export function keyvMapStoreTarget(): StoreTarget {
	const maps = new Map<string, Map<unknown, unknown>>();
	const mapOf = (name: string): Map<unknown, unknown> => {
		if (!maps.has(name)) {
			maps.set(name, new Map());
		}

		return maps.get(name)!;
	};

	return {
		name: 'keyv (Map)',
		shared: false,
		open: name => createKeyvStore(new Keyv({store: mapOf(name), namespace: name}), name),
		async injectForeign(name, key) {
			// Another user of the same Keyv namespace: a value that is not a record.
			await new Keyv({store: mapOf(name), namespace: name}).set(key, {note: 'not a record'});
		},
	};
}

/**
 * A Keyv SQL adapter given as `backend`, one table per run, one adapter per store (as a user
 * makes them; they share the adapter's connection pool), with `iterationLimit: 1000` as
 * docs/backends.md advises: by default both adapters read 10 rows a query, and @keyv/mysql's
 * iterator recurses once a page, which overflows the stack before 100,000 rows.
 */
function sqlAdapterTarget(options: {
	name: string;
	table: string;
	prepare(): Promise<string | undefined>;
	adapter(): object;
	teardown(): Promise<void>;
}): StoreTarget {
	return {
		name: options.name,
		shared: true,
		prepare: options.prepare,
		open: name => createKeyvStore(options.adapter() as Keyv, name),
		async injectForeign(name, key) {
			// Another program's value in the cache's namespace, through Keyv.
			// (Not disconnected: that would end the pool the stores share; they end it when the last closes.)
			await new Keyv({store: options.adapter(), namespace: adapterNamespace(name)}).set(key, {note: 'not a record'});
		},
		teardown: options.teardown,
	};
}

/** PostgreSQL through @keyv/postgres at POSTGRES_URL. */
export function postgresStoreTarget(): StoreTarget {
	const table = `requests_cache_store_${run}`;
	return sqlAdapterTarget({
		name: 'keyv (@keyv/postgres)',
		table,
		async prepare() {
			const problem = await tcpProblem(postgresUrl, 5432);
			if (problem !== undefined) {
				return problem;
			}

			try {
				await postgresExecute(postgresUrl, `CREATE TABLE IF NOT EXISTS ${table} (key VARCHAR(255) PRIMARY KEY, value TEXT)`);
				return undefined;
			} catch (error) {
				return `PostgreSQL at ${postgresUrl} refused: ${(error as Error).message}`;
			}
		},
		adapter: () => new KeyvPostgres({uri: postgresUrl, table, iterationLimit}),
		async teardown() {
			await postgresExecute(postgresUrl, `DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
		},
	});
}

/**
 * MariaDB (or MySQL) through @keyv/mysql at MYSQL_URL, on a table made as docs/backends.md says.
 * @keyv/mysql sends a value twice in one statement, so the server's max_allowed_packet is raised
 * to 64 MB for the 10 MB case (the 16 MB default takes values up to about 5 MB, after base64).
 */
export function mysqlStoreTarget(): StoreTarget {
	const table = `requests_cache_store_${run}`;
	return sqlAdapterTarget({
		name: 'keyv (@keyv/mysql)',
		table,
		async prepare() {
			const problem = await tcpProblem(mysqlUrl, 3306);
			if (problem !== undefined) {
				return problem;
			}

			try {
				await mysqlExecute(mysqlUrl, `CREATE TABLE IF NOT EXISTS ${table} (id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY, value LONGTEXT)`);
				await mysqlExecute(mysqlUrl, 'SET GLOBAL max_allowed_packet = GREATEST(@@GLOBAL.max_allowed_packet, 67108864)');
				return undefined;
			} catch (error) {
				return `MariaDB at ${mysqlUrl} refused: ${(error as Error).message}`;
			}
		},
		adapter: () => new KeyvMysql({uri: mysqlUrl, table, iterationLimit}),
		async teardown() {
			await mysqlExecute(mysqlUrl, `DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
		},
	});
}
