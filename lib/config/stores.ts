import {resolveCachePath} from '../backends/cache-path.js';
import {createKeyvStore} from '../backends/keyv-store.js';
import {createMemoryStore} from '../backends/memory.js';
import {createMongoStore} from '../backends/mongodb.js';
import {createRedisStore} from '../backends/redis.js';
import {createSqliteStore} from '../backends/sqlite.js';
import {type CacheStore, isCacheStore} from '../backends/store.js';
import type {CacheConfig} from './options.js';

/** The options only some built-in stores take; every other cache option applies to every backend. */
export type StoreOption = 'useCacheDir' | 'useTemp' | 'url' | 'maxEntries' | 'maxBytes' | 'memoryTier';

/** A built-in store: the options it takes, the URL schemes that name it (for the CLI), and how to make it. */
export type StoreEntry = {
	readonly options: readonly StoreOption[];
	readonly schemes: readonly string[];
	/** Said after "only applies to backend …" when this store refuses an option. */
	readonly refusal?: Partial<Record<StoreOption, string>>;
	create(config: CacheConfig): CacheStore;
};

const budgetOf = ({maxEntries, maxBytes}: CacheConfig) => ({...(maxEntries === undefined ? {} : {maxEntries}), ...(maxBytes === undefined ? {} : {maxBytes})});
const noBudget = ': bound Redis itself with `maxmemory` and `maxmemory-policy allkeys-lru` (or `volatile-lru`), see docs/backends.md, "Size bounds"';

/** The store registry: each built-in `backend`, its options and how its store is made (drivers load then, not on import). */
export const STORES: Readonly<Record<'sqlite' | 'memory' | 'redis' | 'mongodb', StoreEntry>> = Object.freeze({
	sqlite: {
		options: ['useCacheDir', 'useTemp', 'maxEntries', 'maxBytes'], schemes: [],
		create: config => createSqliteStore(resolveCachePath(config.cacheName, config), budgetOf(config)),
	},
	memory: {options: ['maxEntries', 'maxBytes'], schemes: [], create: config => createMemoryStore(budgetOf(config))},
	redis: {
		options: ['url', 'memoryTier'], schemes: ['redis', 'rediss'], refusal: {maxEntries: noBudget, maxBytes: noBudget},
		create: config => createRedisStore({url: config.url, namespace: config.cacheName, timeout: config.backendTimeout, memoryTier: config.memoryTier}),
	},
	mongodb: {
		options: ['url'], schemes: ['mongodb', 'mongodb+srv'],
		// One URL: the options refuse a list (a Redis Cluster's) for MongoDB.
		create: config => createMongoStore({url: config.url as string | undefined, database: config.cacheName, timeout: config.backendTimeout}),
	},
});

/** The built-in backends by name. */
export type BackendName = keyof typeof STORES;

/** True for a built-in backend's name. */
export function isBackendName(value: unknown): value is BackendName {
	return typeof value === 'string' && Object.hasOwn(STORES, value);
}

/** The store the settings ask for: a built-in one by name, a given store as it is, a Keyv wrapped (a `BaseCache` is none). */
export function storeFor(config: CacheConfig): CacheStore {
	const {backend} = config;
	if (isBackendName(backend)) {
		return STORES[backend].create(config);
	}

	// Checked before the shape: a store of ours has get/set/delete/clear as a Keyv adapter does.
	return isCacheStore(backend) ? backend : createKeyvStore(backend as Parameters<typeof createKeyvStore>[0], config.cacheName);
}
