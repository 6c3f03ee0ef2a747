import type {Keyv} from 'keyv';
import type {EntryMeta} from '../cache/entry.js';
import type {WalHotCache} from './wal-hot-cache.js';

/**
 * What a backend gives the cache: a Keyv instance for reads and writes by key, and the bulk
 * operations Keyv lacks (or gets wrong at scale) done the store's own way. Stores are passive:
 * freshness is decided by the policy code, never here. Keys are the cache's own, unprefixed.
 */
export type CacheStore = {
	/** A short name for messages: 'memory', 'sqlite', 'redis', 'mongodb', 'keyv'. */
	readonly name: string;
	readonly keyv: Keyv;
	/** True when values are JSON-encoded by the store (bodies go in as base64); false for in-memory objects. */
	readonly serializes: boolean;
	/** True when a value read back is the very object stored (the cache then copies what it hands out). */
	readonly sharesObjects: boolean;
	/** An in-process copy of recently read entries that is kept exactly as current as the store (SQLite). */
	readonly hot?: WalHotCache | undefined;
	/** True when operations are synchronous in effect and need no timeout. */
	readonly local: boolean;
	/**
	 * Milliseconds the store itself should keep an entry that expires at `expires` (native expiry),
	 * or undefined to keep it until deleted.
	 */
	ttlFor(expires: number | null, now: number): number | undefined;
	/** Every entry's metadata, in batches, from a scan that deletions do not disturb. */
	scan(): AsyncIterable<EntryMeta[]>;
	/** Delete these keys; resolves to how many existed. */
	deleteKeys(keys: readonly string[]): Promise<number>;
	/** Delete entries created before a time, or expired at a time, in one pass where the store can. */
	deleteWhere?(filter: {createdBefore?: number; expiredAt?: number}): Promise<number>;
	/** Delete every entry of this cache, and nothing else. */
	clear(): Promise<void>;
	/** Release connections. */
	close(): Promise<void>;
};

/** Keyv's own key prefix for a namespace. */
export function keyvPrefix(keyv: Keyv): string {
	return keyv.namespace ? `${keyv.namespace}:` : '';
}
