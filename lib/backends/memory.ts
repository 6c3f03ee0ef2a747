import {Keyv, type KeyvOptions} from 'keyv';
import type {EntryMeta, StoredValue} from '../cache/entry.js';
import {metaOf} from '../cache/entry.js';
import type {CacheStore} from './store.js';
import {batched} from './batches.js';

const batchSize = 5000;

/**
 * The in-memory backend: Keyv over a Map, with no serialization at all, so a hit is a map
 * lookup. The cache copies bodies and headers it hands out, so callers cannot change the cache.
 */
export function createMemoryStore(map: Map<string, unknown> = new Map()): CacheStore {
	// Keyv skips (de)serialization when these are explicitly undefined, which its types do not express.
	const keyv = new Keyv({store: map, namespace: 'requests-cache', serialize: undefined, deserialize: undefined, throwOnErrors: true} as unknown as KeyvOptions);
	const prefix = 'requests-cache:';
	return {
		name: 'memory',
		keyv,
		serializes: false,
		sharesObjects: true,
		local: true,
		ttlFor: () => undefined,
		async * scan() {
			const metas: EntryMeta[] = [];
			for (const [prefixed, data] of map) {
				if (prefixed.startsWith(prefix)) {
					metas.push(metaOf(prefixed.slice(prefix.length), (data as {value: StoredValue}).value));
				}
			}

			yield * batched(metas, batchSize);
		},
		async deleteKeys(keys) {
			let deleted = 0;
			for (const key of keys) {
				if (map.delete(prefix + key)) {
					deleted++;
				}
			}

			return deleted;
		},
		async clear() {
			for (const key of map.keys()) {
				if (key.startsWith(prefix)) {
					map.delete(key);
				}
			}
		},
		async close() {
			// Nothing to release.
		},
	};
}
