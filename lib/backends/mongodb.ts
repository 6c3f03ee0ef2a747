import {createRequire} from 'node:module';
import {Keyv} from 'keyv';
import type {CacheStore} from './store.js';
import {createKeyvStore} from './keyv-store.js';

const require = createRequire(import.meta.url);

/** Options of the MongoDB backend. */
export type MongoStoreOptions = {
	/** @default 'mongodb://localhost:27017' */
	url?: string | undefined;
	/** The database name. */
	database: string;
	/** Seconds to keep an entry past its expiry, for revalidation. */
	ttlOffset: number;
};

/** The MongoDB backend through @keyv/mongo, loaded only when used. */
export function createMongoStore(options: MongoStoreOptions): CacheStore {
	const {default: KeyvMongo} = require('@keyv/mongo') as typeof import('@keyv/mongo');
	const adapter = new KeyvMongo({url: options.url ?? 'mongodb://localhost:27017', db: options.database});
	const keyv = new Keyv({store: adapter, namespace: 'requests-cache', serialize: JSON.stringify, deserialize: JSON.parse});
	const store = createKeyvStore(keyv, 'mongodb');
	return {
		...store,
		ttlFor: (expires, now) => (expires === null ? undefined : Math.max(1, expires - now + options.ttlOffset * 1000)),
	};
}
