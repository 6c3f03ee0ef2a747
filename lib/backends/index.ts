import {Keyv, type KeyvStoreAdapter} from 'keyv';
import {BaseCache} from '../cache/base-cache.js';
import {createKey} from '../cache-keys.js';
import type {CacheSettings} from '../policy/settings.js';
import {createKeyvStore, keyvForAdapter} from './keyv-store.js';
import {createMemoryStore} from './memory.js';
import {createMongoStore} from './mongodb.js';
import {createRedisStore} from './redis.js';
import {createSqliteStore} from './sqlite.js';
import type {CacheStore} from './store.js';

/** Build the store a `backend` option names. */
export function createStore(settings: Pick<CacheSettings, 'backend' | 'cacheName' | 'url' | 'ttlOffset'> & Partial<Pick<CacheSettings, 'backendTimeout'>>): CacheStore {
	const {backend} = settings;
	switch (backend) {
		case 'sqlite': {
			return createSqliteStore(settings.cacheName);
		}

		case 'memory': {
			return createMemoryStore();
		}

		case 'redis': {
			return createRedisStore({url: settings.url, namespace: settings.cacheName, ttlOffset: settings.ttlOffset, timeout: settings.backendTimeout});
		}

		case 'mongodb': {
			return createMongoStore({url: settings.url, database: settings.cacheName, ttlOffset: settings.ttlOffset, timeout: settings.backendTimeout});
		}

		default: {
			// A Keyv instance (possibly from another copy of the keyv package), used as it is.
			if (backend instanceof Keyv || (typeof backend === 'object' && backend !== null && typeof (backend as unknown as Partial<Keyv>).serializeData === 'function' && 'store' in backend)) {
				return createKeyvStore(backend as Keyv);
			}

			return createKeyvStore(keyvForAdapter(backend as KeyvStoreAdapter, settings.cacheName));
		}
	}
}

/** The {@link BaseCache} for a session's settings: the given one, or one on a new store. */
export function createCache(settings: CacheSettings): BaseCache {
	if (settings.backend instanceof BaseCache) {
		if (settings.onError) {
			settings.backend.on('error', settings.onError);
		}

		return settings.backend;
	}

	const cache = new BaseCache(createStore(settings), {clock: settings.clock, timeout: settings.backendTimeout, strict: settings.strictBackend});
	// contains({url}) and delete({urls}) must build the keys the session builds.
	const {keyFn} = settings;
	cache.keyFor = keyFn ?? (request => createKey(request, settings));
	if (settings.onError) {
		cache.on('error', settings.onError);
	}

	return cache;
}
