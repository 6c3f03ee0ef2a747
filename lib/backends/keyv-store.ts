import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {debuglog} from 'node:util';
import type {Keyv, KeyvEntry, KeyvOptions, KeyvStoreAdapter} from 'keyv';
import {CACHE_STORE, type CacheStore, type RecordKind, type RecordMeta, type StoreRecord, corruptMeta} from './store.js';

const require = createRequire(import.meta.url);
const debug = debuglog('requests-cache');

/** What `createKeyvStore` takes: a Keyv instance, a bare Keyv store adapter, or a Map. */
export type KeyvBackend = Keyv | KeyvStoreAdapter | Map<unknown, unknown>;

/**
 * A record as written through Keyv: plain JSON, since a Keyv store may hold nothing else (the one
 * place where the value travels as base64). `requestsCache` and `namespace` mark it as a record of
 * this cache, so that listings keep only their own even where an adapter's iterator matches more.
 */
type KeyvRecord = {
	requestsCache: 1;
	namespace: string;
	kind: RecordKind;
	url: string;
	createdAt: number;
	expires: number | null;
	deleteAt: number | null;
	value: string;
};

/** Keys deleted at once. */
const deleteBatch = 1000;
const pageSize = 1000;
const kinds: ReadonlySet<string> = new Set<RecordKind>(['response', 'redirect', 'variants']);

/**
 * The namespace for a cache name on a Keyv store adapter. Keyv keys are `<namespace>:<key>`, so a
 * ':' in the namespace would let one cache's prefix start another's (`a:` and `a:b:`); it is
 * written `%3A` (and '%' as `%25`).
 */
export function adapterNamespace(cacheName: string): string {
	return cacheName.replaceAll('%', '%25').replaceAll(':', '%3A');
}

function isKeyv(backend: unknown): backend is Keyv {
	const candidate = backend as Partial<Keyv> | undefined;
	// By shape, not instanceof: the user's Keyv may come from another copy of the package.
	return typeof candidate?.serializeData === 'function' && typeof candidate.deserializeData === 'function' && 'store' in candidate;
}

/** Open stores per adapter: one adapter object may serve one namespace only (Keyv writes its namespace into it). */
const adapterUsers = new WeakMap<object, {namespace: string | undefined; stores: number}>();

/**
 * Open stores per adapter class, and the Keyvs of those already closed. @keyv/postgres and
 * @keyv/mysql keep one connection pool per process, and any adapter's `disconnect()` ends it under
 * all the others; so adapters of a class are disconnected when the last store on one closes.
 */
const openByClass = new Map<unknown, {stores: number; closed: Set<Keyv>}>();

function isTime(value: unknown): value is number {
	return typeof value === 'number' && Number.isFinite(value);
}

/**
 * A store over any Keyv instance or Keyv store adapter (PostgreSQL, MariaDB/MySQL, Redis, MongoDB,
 * SQLite, a Map, …), through Keyv's public API only: `get`, `setMany` with a TTL from each record's
 * `deleteAt`, `delete` by key, and `iterator()` for listings. A bare adapter is wrapped in a Keyv
 * namespaced by the cache name ({@link adapterNamespace}); a Keyv instance lends its store, namespace,
 * serializer, compression and key prefixing to a Keyv of the store's own (which throws errors
 * instead of swallowing them), and is itself left as it is.
 *
 * Listings read every value (a Keyv store has no other way), and keep only records marked with
 * this namespace; the adapter's `clear()` is never called (several match namespaces with unescaped
 * LIKE or regular-expression patterns). Without `deleteWhere`, the cache sweeps by `scan()` and
 * `delete()`.
 */
export function createKeyvStore(backend: KeyvBackend, cacheName: string): CacheStore {
	const {Keyv: KeyvClass} = require('keyv') as typeof import('keyv');
	const source = isKeyv(backend) ? backend : undefined;
	const adapter = (source ? source.store : backend) as object;
	const keyvNamespace = source ? source.namespace : adapterNamespace(cacheName);
	const users = adapterUsers.get(adapter);
	if (users !== undefined && users.namespace !== keyvNamespace) {
		throw new TypeError(`option \`backend\`: this Keyv store adapter already serves the cache namespaced ${JSON.stringify(users.namespace)}; give each cache its own adapter (adapters on one URI share their connection pool), since Keyv writes its namespace into the adapter it wraps`);
	}

	// Options given as undefined are meant: a Keyv without a namespace or a serializer stays so.
	const keyv = new KeyvClass((source
		? {
			store: adapter, namespace: source.namespace, serialize: source.serialize, deserialize: source.deserialize,
			compression: source.compression, useKeyPrefix: source.useKeyPrefix, throwOnErrors: true,
		}
		: {store: adapter, namespace: keyvNamespace, throwOnErrors: true}) as KeyvOptions);
	// The records' marker; '' when the Keyv has no namespace (its keys are then shared with anything else in the store).
	const namespace = keyvNamespace ?? '';
	adapterUsers.set(adapter, {namespace: keyvNamespace, stores: (users?.stores ?? 0) + 1});
	const kind = adapter.constructor;
	const siblings = openByClass.get(kind) ?? {stores: 0, closed: new Set<Keyv>()};
	siblings.stores++;
	openByClass.set(kind, siblings);

	function encode(record: StoreRecord): KeyvRecord {
		const {kind, url, createdAt, expires, deleteAt, value} = record;
		return {requestsCache: 1, namespace, kind, url, createdAt, expires, deleteAt, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')};
	}

	/** 'other' for another namespace's record, 'none' for a value that is no record at all, else the record's facts or corruption. */
	function classify(key: string, stored: unknown): RecordMeta | 'other' | 'none' {
		if (typeof stored !== 'object' || stored === null || (stored as Partial<KeyvRecord>).requestsCache !== 1) {
			return 'none';
		}

		const {namespace: marked, kind, url, createdAt, expires, deleteAt, value} = stored as Partial<KeyvRecord>;
		if (marked !== namespace) {
			return 'other';
		}

		if (typeof kind !== 'string' || !kinds.has(kind) || typeof url !== 'string' || !isTime(createdAt)
			|| !(expires === null || isTime(expires)) || !(deleteAt === null || isTime(deleteAt)) || typeof value !== 'string') {
			return corruptMeta(key);
		}

		return {key, kind: kind as RecordKind, url, createdAt, expires, deleteAt};
	}

	/** True when the value under this cache's own `key` is not a record: it is then listed as corrupt. */
	async function isForeign(key: string): Promise<boolean> {
		// Without a namespace the keys are shared with whatever else the store holds: nothing unmarked is ours.
		if (namespace === '') {
			return false;
		}

		const stored = await keyv.get(key) as unknown;
		if (stored === undefined) {
			return false;
		}

		const found = classify(key, stored);
		return found === 'none' || found === 'other' || found.corrupt === true;
	}

	async function * scan(): AsyncGenerator<RecordMeta[]> {
		const iterate = keyv.iterator as ((...arguments_: unknown[]) => AsyncGenerator<[unknown, unknown]>) | undefined;
		if (typeof iterate !== 'function') {
			throw new TypeError(`this Keyv store (${adapter.constructor.name}) cannot list its records: Keyv has no iterator for it, so count(), urls() and the sweeps are not available`);
		}

		const listed = new Set<string>();
		// Values that are not records of this namespace: the adapter's pattern may have matched another namespace's keys.
		const unmarked = new Set<string>();
		let page: RecordMeta[] = [];
		for await (const [key, stored] of iterate()) {
			if (typeof key !== 'string' || listed.has(key)) {
				continue;
			}

			const found = classify(key, stored);
			if (found === 'none' || found === 'other') {
				unmarked.add(key);
				continue;
			}

			listed.add(key);
			page.push(found);
			if (page.length === pageSize) {
				yield page;
				page = [];
			}
		}

		// Only this cache's exact key decides: what is there is listed as corrupt, so sweeps and clear() remove it.
		for (const key of unmarked) {
			// eslint-disable-next-line no-await-in-loop -- rare: values that are not records
			if (!listed.has(key) && await isForeign(key)) {
				listed.add(key);
				page.push(corruptMeta(key));
			}
		}

		if (page.length > 0) {
			yield page;
		}
	}

	/**
	 * Delete keys a batch at a time: what exists is counted by one `getMany` (a single query on the
	 * SQL adapters), then the batch goes in one `deleteMany`, where a `delete` per key would be two
	 * queries each on @keyv/postgres and @keyv/mysql.
	 */
	async function remove(keys: readonly string[]): Promise<number> {
		const unique = [...new Set(keys)];
		let deleted = 0;
		for (let index = 0; index < unique.length; index += deleteBatch) {
			const batch = unique.slice(index, index + deleteBatch);
			// eslint-disable-next-line no-await-in-loop -- bounded batches, one after another
			const found = await keyv.getMany(batch) as unknown[];
			const existing = batch.filter((_key, position) => found[position] !== undefined && found[position] !== null);
			if (existing.length > 0) {
				// eslint-disable-next-line no-await-in-loop
				await keyv.deleteMany(existing);
			}

			deleted += existing.length;
		}

		return deleted;
	}

	let closed = false;
	return {
		[CACHE_STORE]: true,
		name: 'keyv',
		local: adapter instanceof Map,
		async get(key) {
			const stored = await keyv.get(key) as unknown;
			const found = classify(key, stored);
			if (typeof found === 'string' || found.corrupt === true) {
				return undefined;
			}

			const {value} = stored as KeyvRecord;
			return {...found, value: Buffer.from(value, 'base64'), fresh: true};
		},
		async set(records) {
			if (records.length === 0) {
				return;
			}

			const now = Date.now();
			// Keyv's TTL is relative: the record's own deleteAt, as seen from this process' clock. A record
			// already past it (written with a clock behind this one) gets none: sweeps remove it, as it has expired.
			const entries = records.map((record): KeyvEntry => record.deleteAt === null || record.deleteAt <= now
				? {key: record.key, value: encode(record)}
				: {key: record.key, value: encode(record), ttl: Math.ceil(record.deleteAt - now)});
			await (entries.length === 1 ? keyv.set(entries[0]!.key, entries[0]!.value, entries[0]!.ttl) : keyv.setMany(entries));
		},
		async delete(keys) {
			return remove(keys);
		},
		scan,
		async clear() {
			// Listed first, deleted after: some adapters page their iterator by OFFSET, which deletions would skew.
			const keys: string[] = [];
			for await (const page of scan()) {
				keys.push(...page.map(meta => meta.key));
			}

			await remove(keys);
		},
		async close() {
			if (closed) {
				return;
			}

			closed = true;
			const user = adapterUsers.get(adapter);
			if (user !== undefined && --user.stores === 0) {
				adapterUsers.delete(adapter);
			}

			siblings.closed.add(keyv);
			if (--siblings.stores > 0) {
				return;
			}

			openByClass.delete(kind);
			for (const done of siblings.closed) {
				try {
					// eslint-disable-next-line no-await-in-loop -- one pool after another
					await done.disconnect();
				} catch (error) {
					// A pool shared by several adapters is ended by the first; the others find it ended.
					debug('keyv: disconnect: %s', (error as Error).message);
				}
			}
		},
	};
}
