import {createRequire} from 'node:module';
import {Keyv} from 'keyv';
import type {CacheStore} from './store.js';
import {createKeyvStore} from './keyv-store.js';

const require = createRequire(import.meta.url);

/** Options of the Redis backend. */
export type RedisStoreOptions = {
	/** @default 'redis://localhost:6379' */
	url?: string | undefined;
	/** The key namespace. */
	namespace: string;
	/** Seconds to keep an entry past its expiry, for revalidation. */
	ttlOffset: number;
};

/** The Redis backend through @keyv/redis, loaded only when used. */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
	const {default: KeyvRedis} = require('@keyv/redis') as typeof import('@keyv/redis');
	const adapter = new KeyvRedis(options.url ?? 'redis://localhost:6379', {namespace: options.namespace});
	// The adapter prefixes keys itself; a Keyv prefix on top would write `ns::ns:key`.
	const keyv = new Keyv({store: adapter, namespace: options.namespace, useKeyPrefix: false, serialize: JSON.stringify, deserialize: JSON.parse});
	const store = createKeyvStore(keyv, 'redis');
	return {
		...store,
		ttlFor: (expires, now) => (expires === null ? undefined : Math.max(1, expires - now + options.ttlOffset * 1000)),
	};
}
