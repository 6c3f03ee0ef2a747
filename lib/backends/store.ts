// The storage contract (docs/backends.md, "Writing a store"): stores are passive, keep records by key,
// never decide freshness nor parse a value, and keep each record's facts where maintenance can use them.

/** What a record holds: a response, a redirect alias pointing at one, or a Vary index. */
export type RecordKind = 'response' | 'redirect' | 'variants';

/** Every {@link RecordKind}. */
export const RECORD_KINDS: readonly RecordKind[] = ['response', 'redirect', 'variants'];

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
	/** When the store may drop the record by itself, ms since the epoch (later than `expires`, for revalidation), or null. */
	readonly deleteAt: number | null;
	/** Set when a stored value is not a record of ours: listed so that sweeps and clear() remove it, never counted. */
	readonly corrupt?: true;
};

/** A record as written and read: its facts and the codec's bytes. */
export type StoreRecord = RecordMeta & {
	/** The encoded value (lib/codec/entry.ts). Opaque to the store. */
	readonly value: Uint8Array;
	/** Set when `get` made this record for this one read, so nobody else holds `value` and the reader may keep it without a copy. */
	readonly fresh?: true;
};

/** A total size a store keeps itself within, evicting the least recently used records (never those of the `set` that went over). */
export type StoreBudget = {
	/** Most records kept; undefined for no limit. */
	readonly maxEntries?: number | undefined;
	/** Most bytes of values kept (`value.byteLength` summed); undefined for no limit. */
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

/** How a flight ended: 'done' (the answer is in the store, or was not storable), or 'failed' (every waiter asks the origin itself). */
export type FlightOutcome = 'done' | 'failed';

/** Where a flight stands: nobody on it (or its lease expired), one process on it, or how it ended. */
export type FlightState = 'free' | 'held' | FlightOutcome;

/** Short leases on names in a shared store, so that processes send one origin request per key (lib/engine/coalesce.ts). */
export type FlightLease = {
	/** Take the lease on `name` for `ttl` ms, unless a live lease holds it: true when taken. */
	acquire(name: string, token: string, ttl: number): Promise<boolean>;
	/** Extend the lease while `token` still holds it: false when it no longer does. */
	renew(name: string, token: string, ttl: number): Promise<boolean>;
	/** End the flight held by `token` with `outcome`, after every write already handed to the store (`set` called) has landed, and tell every process watching `name`. */
	release(name: string, token: string, outcome: FlightOutcome): Promise<void>;
	/** Where the flight on `name` stands now. */
	state(name: string): Promise<FlightState>;
	/** Call `listener` when a flight on `name` ends; resolves, once listening, to the function that stops it. */
	watch(name: string, listener: (outcome: FlightOutcome) => void): Promise<() => void>;
	/** Stop listening and release connections. Idempotent. */
	close(): Promise<void>;
};

/**
 * The brand of a {@link CacheStore}: the shape is no test, as a Keyv store adapter has `get`, `set`,
 * `delete` and `clear` too; `Symbol.for`, so that another copy of this package's stores count too.
 */
export const CACHE_STORE: unique symbol = Symbol.for('requests-cache.CacheStore');

/** A backend: it keeps records by the cache's own keys, apart from anything else in its database. */
export type CacheStore = {
	/** Set on every store of this package, and on a store of your own to give it as `backend`. */
	readonly [CACHE_STORE]?: true;
	/** A short name for messages and `util.inspect`: 'memory', 'sqlite', 'redis', 'mongodb', 'keyv'. */
	readonly name: string;
	/** True when operations finish in this process (memory): the cache does not time them out. */
	readonly local: boolean;
	/** Where the records live, the same for every store on them ('sqlite:' and the path, …): writes then go behind the request. */
	readonly location?: string;
	/** True when writes land in the order `set` is called, without waiting for each other (one Redis server's one connection): writes behind the request are then pipelined. */
	readonly ordered?: boolean;
	/** The record under `key`, or undefined. A record that is not ours reads as undefined. */
	get(key: string): Promise<StoreRecord | undefined>;
	/** The record under `key` when this process holds it already (a memory tier's hit): read at once, never timed out; else `get`. */
	peek?(key: string): StoreRecord | undefined;
	/** The total size this store keeps itself within, evicting on `set`, which then resolves to a {@link SetResult}. */
	readonly budget?: StoreBudget;
	/** Write records (a response with its aliases or Vary index: one batch, all or none where the store can). */
	set(records: readonly StoreRecord[]): Promise<SetResult | void>;
	/** Delete these keys; resolves to how many existed. */
	delete(keys: readonly string[]): Promise<number>;
	/** Every record's facts, in batches, from a scan that deletions do not disturb. */
	scan(): AsyncIterable<RecordMeta[]>;
	/** Leases for miss coalescing across processes (`coalesce`), on a store that processes share (Redis, a SQLite file). */
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

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The facts of `key` from values read back from a database, or undefined when they are not a record's. */
export function checkedMeta(key: string, kind: unknown, url: unknown, createdAt: unknown, expires: unknown, deleteAt: unknown): RecordMeta | undefined {
	return RECORD_KINDS.includes(kind as RecordKind) && typeof url === 'string' && isTime(createdAt)
		&& (expires === null || isTime(expires)) && (deleteAt === null || isTime(deleteAt))
		? {key, kind: kind as RecordKind, url, createdAt, expires, deleteAt}
		: undefined;
}
