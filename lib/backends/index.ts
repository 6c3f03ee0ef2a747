import {resolveCachePath} from './cache-path.js';
import {createKeyvStore} from './keyv-store.js';
import {createMemoryStore} from './memory.js';
import {createMongoStore} from './mongodb.js';
import {createRedisStore} from './redis.js';
import {createSqliteStore} from './sqlite.js';
import {type CacheStore, type StoreBudget, isCacheStore} from './store.js';

/**
 * The settings a store is built from: the session's (`CacheSettings` has them all), declared here
 * so that the stores depend on no policy. `ttlOffset` reaches stores through each record's
 * `deleteAt`, which the cache computes; no store takes it as an option.
 */
export type StoreSettings = {
	/** A built-in name, a branded store, a Keyv instance or adapter: checked here, a TypeError naming it otherwise. */
	readonly backend: unknown;
	readonly cacheName: string;
	/** One server's URL; for Redis, an array names a cluster's nodes. */
	readonly url: string | readonly string[] | undefined;
	readonly ttlOffset: number;
	readonly backendTimeout?: number;
	readonly useCacheDir?: boolean;
	readonly useTemp?: boolean;
	readonly maxEntries?: number | undefined;
	readonly maxBytes?: number | undefined;
	/** Redis only: the memory tier's budget (lib/backends/memory-tier.ts), or undefined for none. */
	readonly memoryTier?: StoreBudget | undefined;
};

/**
 * Build the store a `backend` option names: `'sqlite'`, `'memory'`, `'redis'`, `'mongodb'`, a
 * store branded with `CACHE_STORE` (returned as it is), or a Keyv instance or Keyv store adapter
 * (wrapped by `createKeyvStore`). A `BaseCache` is not a
 * store: the session uses it as it is, before it gets here. A budget (`maxEntries`, `maxBytes`)
 * goes to the SQLite and memory stores, which evict by themselves; any other backend refuses it.
 *
 * Drivers load when a store is built, not when this module is imported: the SQLite store loads
 * better-sqlite3 on opening, the Redis and MongoDB stores load their clients on connecting, so a
 * program on the memory backend loads none of them. A driver that is not installed fails the
 * store's operations with an error naming the package to install.
 */
export function createStore(settings: StoreSettings): CacheStore {
	const {backend, cacheName, maxEntries, maxBytes} = settings;
	const budget = {...(maxEntries === undefined ? {} : {maxEntries}), ...(maxBytes === undefined ? {} : {maxBytes})};
	if (backend !== 'sqlite' && backend !== 'memory') {
		const name = maxEntries === undefined ? (maxBytes === undefined ? undefined : 'maxBytes') : 'maxEntries';
		if (name !== undefined) {
			throw new TypeError(`createStore(): \`${name}\` is only kept by the 'sqlite' and 'memory' backends (Redis: its own maxmemory and an LRU policy; see docs/backends.md, "Size bounds")`);
		}
	}

	switch (backend) {
		case 'sqlite': {
			// useCacheDir / useTemp: the platform's user cache directory, or the temporary one.
			return createSqliteStore(resolveCachePath(cacheName, {useCacheDir: settings.useCacheDir ?? false, useTemp: settings.useTemp ?? false}), budget);
		}

		case 'memory': {
			return createMemoryStore(budget);
		}

		case 'redis': {
			return createRedisStore({url: settings.url, namespace: cacheName, timeout: settings.backendTimeout, memoryTier: settings.memoryTier});
		}

		case 'mongodb': {
			if (typeof settings.url === 'object') {
				throw new TypeError('createStore(): an array of `url`s names a Redis Cluster: backend \'mongodb\' takes one connection URL');
			}

			return createMongoStore({url: settings.url, database: cacheName, timeout: settings.backendTimeout});
		}

		default: {
			// Checked before the shape: a store of ours has get/set/delete/clear as a Keyv adapter does.
			if (isCacheStore(backend)) {
				return backend;
			}

			if (typeof backend !== 'object' || backend === null || typeof (backend as {get?: unknown}).get !== 'function') {
				throw new TypeError(`createStore(): \`backend\` must be 'sqlite', 'memory', 'redis', 'mongodb', a Keyv instance or a Keyv store adapter, got ${typeof backend === 'string' ? JSON.stringify(backend) : typeof backend}`);
			}

			// A Keyv instance (of any copy of the keyv package) or a bare store adapter: createKeyvStore tells them apart.
			return createKeyvStore(backend as Parameters<typeof createKeyvStore>[0], cacheName);
		}
	}
}
