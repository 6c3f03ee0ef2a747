import type {CacheSettings} from '../policy/settings.js';
import {createMemoryStore} from './memory.js';
import type {CacheStore} from './store.js';

/** Build the store a `backend` option names. */
export function createStore(settings: Pick<CacheSettings, 'backend' | 'cacheName' | 'url' | 'ttlOffset'> & Partial<Pick<CacheSettings, 'backendTimeout'>>): CacheStore {
	if (settings.backend === 'memory') {
		return createMemoryStore();
	}

	throw new TypeError(`backend ${String(settings.backend)}: being moved to the new store contract`);
}
