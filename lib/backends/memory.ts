import type {CacheStore, RecordMeta, StoreRecord} from './store.js';

/**
 * The in-memory backend: a Map of records. A record read back is the very object stored, so the
 * cache decodes each one once and a hit is a map lookup.
 */
export function createMemoryStore(): CacheStore {
	const records = new Map<string, StoreRecord>();
	return {
		name: 'memory',
		local: true,
		async get(key) {
			return records.get(key);
		},
		async set(batch) {
			for (const record of batch) {
				records.set(record.key, record);
			}
		},
		async delete(keys) {
			let deleted = 0;
			for (const key of keys) {
				if (records.delete(key)) {
					deleted++;
				}
			}

			return deleted;
		},
		async * scan() {
			const metas: RecordMeta[] = [];
			for (const {value: _value, ...meta} of records.values()) {
				metas.push(meta);
			}

			yield metas;
		},
		async clear() {
			records.clear();
		},
		async close() {
			// Nothing to release.
		},
	};
}
