/**
 * The storage contract: what a backend gives the cache. Stores are passive. They keep records by
 * key and never decide freshness (the policy does); they never parse a record's value (the codec
 * owns it, lib/codec/entry.ts). Each record carries the few facts that bulk operations need as
 * plain fields, so a store can keep them in indexed columns (SQLite), sorted sets (Redis) or
 * document fields (MongoDB) and do maintenance without reading values.
 *
 * What a store can do fast is declared by the methods it has: `deleteWhere` means "delete by
 * creation or expiry time without listing every record". A store that lacks it is swept by
 * `scan()` + `delete()`. A store that keeps itself within a total size declares it with `budget`
 * and says what each `set` evicted ({@link SetResult}).
 */

/** What a record holds: a response, a redirect alias pointing at one, or a Vary index. */
export type RecordKind = 'response' | 'redirect' | 'variants';

/** The facts of a record that maintenance needs, without its value. */
export type RecordMeta = {
	/** The cache's own key (a store adds its prefix or namespace itself, and strips it when listing). */
	readonly key: string;
	readonly kind: RecordKind;
	/** The final URL of the response, secrets redacted ('' when unknown). */
	readonly url: string;
	/** When the response was received, ms since the epoch. */
	readonly createdAt: number;
	/** When the response stops being fresh, ms since the epoch, or null for never. */
	readonly expires: number | null;
	/**
	 * When the store may drop the record by itself (native expiry), ms since the epoch, or null to
	 * keep it until deleted. Later than `expires`: a stale entry can still be revalidated.
	 */
	readonly deleteAt: number | null;
	/** Set when a stored value is not a record of ours: listed so that sweeps and clear() remove it, never counted. */
	readonly corrupt?: true;
};

/** A record as written and read: its facts and the codec's bytes. */
export type StoreRecord = RecordMeta & {
	/** The encoded value (lib/codec/entry.ts). Opaque to the store. */
	readonly value: Uint8Array;
	/**
	 * Set by a store whose `get` made this record for this read (bytes off a socket, a driver's new
	 * buffer): nobody else holds `value`, so the reader may keep parts of it without a copy. A store
	 * that hands the same record out again (memory, SQLite's hot cache) leaves it unset.
	 */
	readonly fresh?: true;
};

/**
 * A total size a store keeps itself within: after a `set` leaves it over either limit, it evicts
 * the least recently used records (a read or a write is a use) until it is within both again.
 * Responses, redirect aliases and Vary indexes are records alike, each counted on its own, and
 * the records of the `set` that went over are never evicted by it.
 */
export type StoreBudget = {
	/** Most records kept; undefined for no limit. */
	readonly maxEntries?: number | undefined;
	/** Most bytes of values kept (the codec's bytes, `value.byteLength`, summed); undefined for no limit. */
	readonly maxBytes?: number | undefined;
};

/** A record a budgeted store evicted: which, and what it was. */
export type EvictedRecord = Pick<RecordMeta, 'key' | 'kind' | 'url'>;

/** What a `set` did besides writing; only a store with a `budget` resolves to one. */
export type SetResult = {
	/** The records evicted to make room, least recently used first (often none). */
	readonly evicted: readonly EvictedRecord[];
};

/** Which records `deleteWhere` removes: created before a time, or expired at a time (either matches). */
export type DeleteFilter = {
	readonly createdBefore?: number;
	readonly expiredAt?: number;
};

/** How a flight (one process asking the origin for a key) ended. */
export type FlightOutcome =
	/** The answer is in the store, or was not storable (a waiter reads the store, and asks the origin itself on a miss). */
	| 'done'
	/** The origin request failed: every waiter asks the origin itself. */
	| 'failed';

/** Where a flight stands: nobody on it (or its lease expired), one process on it, or how it ended. */
export type FlightState = 'free' | 'held' | FlightOutcome;

/**
 * Short leases on names, kept in a shared store, so that processes on the same records send one
 * origin request per key (lib/engine/coalesce.ts). A lease is taken by a token, kept alive by
 * renewing it, and ended with an outcome that waiters hear at once and that stays readable for a
 * while; a lease that is not renewed expires, and then anyone may take it.
 */
export type FlightLease = {
	/** Take the lease on `name` for `ttl` ms, unless a live lease holds it: true when taken. */
	acquire(name: string, token: string, ttl: number): Promise<boolean>;
	/** Extend the lease while `token` still holds it: false when it no longer does. */
	renew(name: string, token: string, ttl: number): Promise<boolean>;
	/** End the flight held by `token` with `outcome`, after every write already handed to the store (`set` called) has landed, and tell every process watching `name`. */
	release(name: string, token: string, outcome: FlightOutcome): Promise<void>;
	/** Where the flight on `name` stands now. */
	state(name: string): Promise<FlightState>;
	/**
	 * Call `listener` when a flight on `name` ends. Resolves, once listening is live, to the
	 * function that stops it; a lost link only delays the news (waiters also look at the state).
	 */
	watch(name: string, listener: (outcome: FlightOutcome) => void): Promise<() => void>;
	/** Stop listening and release connections. Idempotent. */
	close(): Promise<void>;
};

/**
 * The brand of a {@link CacheStore}: a store that carries `[CACHE_STORE]: true` may be given as a
 * session's `backend` as it is. A brand, not the shape: a Keyv store adapter has `get`, `set`,
 * `delete` and `clear` too, and the two read values differently. `Symbol.for`, so that the stores of
 * another copy of this package are recognized as well.
 */
export const CACHE_STORE: unique symbol = Symbol.for('requests-cache.CacheStore');

/**
 * A backend. Keys given to a store are the cache's own, unprefixed; a store keeps its records
 * apart from anything else in the same database (its own table, key prefix or collection) and
 * `clear()` removes only its own.
 */
export type CacheStore = {
	/** Set on every store of this package, and on a store of your own to give it as `backend` (see {@link CACHE_STORE}). */
	readonly [CACHE_STORE]?: true;
	/** A short name for messages and `util.inspect`: 'memory', 'sqlite', 'redis', 'mongodb', 'keyv'. */
	readonly name: string;
	/**
	 * True when operations finish in this process (memory): the cache neither times them out nor
	 * counts them as possibly stalled.
	 */
	readonly local: boolean;
	/**
	 * Where the records live, the same string for every store on the same records ('sqlite:' and
	 * the file's path, 'redis:' and URL and namespace, …). A store with one lets the cache write
	 * behind the request (lib/cache/write-behind.ts): every store of that location in the process
	 * sees a write at once. A store without one (memory, any Keyv store) has its writes awaited.
	 */
	readonly location?: string;
	/** True when writes land in the order `set` is called, without waiting for each other (one Redis server's one connection): writes behind the request are then pipelined. */
	readonly ordered?: boolean;
	/** The record under `key`, or undefined. A record that is not ours reads as undefined. */
	get(key: string): Promise<StoreRecord | undefined>;
	/** The record under `key` when this process holds it already (a memory tier's hit): read at once, never timed out; else `get`. */
	peek?(key: string): StoreRecord | undefined;
	/**
	 * The total size this store keeps itself within, present only on a store that enforces one
	 * (memory and SQLite when given `maxEntries` or `maxBytes`). Such a store evicts on `set` and
	 * resolves `set` to a {@link SetResult}; every other store resolves to undefined.
	 */
	readonly budget?: StoreBudget;
	/** Write records (a response with its aliases or Vary index: one batch, all or none where the store can). */
	set(records: readonly StoreRecord[]): Promise<SetResult | void>;
	/** Delete these keys; resolves to how many existed. */
	delete(keys: readonly string[]): Promise<number>;
	/** Every record's facts, in batches, from a scan that deletions do not disturb. */
	scan(): AsyncIterable<RecordMeta[]>;
	/**
	 * Leases for miss coalescing across processes (`coalesce`): present only on a store that several
	 * processes share (Redis, a SQLite file).
	 */
	readonly lease?: FlightLease | undefined;
	/** Delete by time in one pass, on an index: present only where the store can do it fast. */
	deleteWhere?(filter: DeleteFilter): Promise<number>;
	/** Delete every record of this store, and nothing else. */
	clear(): Promise<void>;
	/** Release connections and files. Idempotent. */
	close(): Promise<void>;
};

/** True when `value` is a store branded with {@link CACHE_STORE}. */
export function isCacheStore(value: unknown): value is CacheStore {
	return typeof value === 'object' && value !== null && (value as {[CACHE_STORE]?: unknown})[CACHE_STORE] === true;
}

/** True when a record falls under a {@link DeleteFilter}. */
export function matchesDeleteFilter(meta: RecordMeta, filter: DeleteFilter): boolean {
	return (filter.createdBefore !== undefined && meta.createdAt < filter.createdBefore)
		|| (filter.expiredAt !== undefined && meta.expires !== null && meta.expires <= filter.expiredAt);
}

/** How a stored value that is not a record of ours is listed: created at 0 and expired, so sweeps remove it. */
export function corruptMeta(key: string): RecordMeta {
	return {key, kind: 'response', url: '', createdAt: 0, expires: 0, deleteAt: 0, corrupt: true};
}
