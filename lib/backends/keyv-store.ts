import type {Keyv} from 'keyv';
import {BackendError} from '../errors.js';
import {type EntryMeta, fromStored, metaOf} from '../cache/entry.js';
import type {CacheStore} from './store.js';

const batchSize = 1000;

/**
 * A store over any Keyv instance (e.g. with @keyv/postgres, @keyv/mysql, @keyv/valkey). Bulk
 * operations take a full snapshot of the keys through Keyv's iterator before deleting anything,
 * since some adapters' iterators skip rows when rows are deleted during iteration.
 */
export function createKeyvStore(keyv: Keyv, name = 'keyv'): CacheStore {
	keyv.throwOnErrors = true;
	return {
		name,
		keyv,
		serializes: true,
		sharesObjects: false,
		local: false,
		ttlFor: () => undefined,
		async * scan() {
			if (typeof keyv.iterator !== 'function') {
				throw new BackendError('scan', {cause: new Error(`this Keyv store (${keyv.store?.constructor?.name ?? 'unknown'}) cannot list its entries`)});
			}

			const metas: EntryMeta[] = [];
			for await (const [key, value] of keyv.iterator(keyv.namespace) as AsyncIterable<[string, unknown]>) {
				try {
					metas.push(metaOf(key, fromStored(value)));
				} catch {
					// Corrupt entries are listed so that clear() and expiry sweeps can remove them.
					metas.push({key, kind: 'response', url: '', createdAt: 0, expires: 0});
				}
			}

			for (let index = 0; index < metas.length; index += batchSize) {
				yield metas.slice(index, index + batchSize);
			}
		},
		async deleteKeys(keys) {
			let deleted = 0;
			for (let index = 0; index < keys.length; index += batchSize) {
				const slice = keys.slice(index, index + batchSize);
				// eslint-disable-next-line no-await-in-loop -- bounded batches keep the store responsive
				const results = await Promise.all(slice.map(async key => keyv.delete(key)));
				deleted += results.filter(Boolean).length;
			}

			return deleted;
		},
		async clear() {
			await keyv.clear();
		},
		async close() {
			await keyv.disconnect();
		},
	};
}
