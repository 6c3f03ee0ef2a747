import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {debuglog} from 'node:util';
import type {Keyv, KeyvEntry, KeyvOptions, KeyvStoreAdapter} from 'keyv';
import {CACHE_STORE, type CacheStore, type RecordMeta, type StoreRecord, checkedMeta, corruptMeta} from './store.js';

const require = createRequire(import.meta.url);
const debug = debuglog('requests-cache');

/** What `createKeyvStore` takes: a Keyv instance, a bare Keyv store adapter, or a Map. */
export type KeyvBackend = Keyv | KeyvStoreAdapter | Map<unknown, unknown>;

/** A record as written through Keyv: plain JSON with a base64 value, marked with its cache's namespace. */
type KeyvRecord = Omit<RecordMeta, 'key' | 'corrupt'> & {requestsCache: 1; namespace: string; value: string};

/** Keys deleted, and records listed, at once. */
const batchSize = 1000;

/** The namespace for a cache name on a Keyv store adapter, ':' escaped: else `a:` would start `a:b:`'s keys. */
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

/** Open stores per adapter class, and the Keyvs of those closed: disconnected with the last one, as they may share a pool. */
const openByClass = new Map<unknown, {stores: number; closed: Set<Keyv>}>();

/** A store over any Keyv instance or Keyv store adapter, through Keyv's public API only (docs/backends.md, "Your own Keyv store"). */
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

		const meta = typeof value === 'string' ? checkedMeta(key, kind, url, createdAt, expires, deleteAt) : undefined;
		return meta ?? corruptMeta(key);
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
			if (page.length === batchSize) {
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

	/** Delete keys a batch at a time, counted by one `getMany`: a `delete` per key is two queries on the SQL adapters. */
	async function remove(keys: readonly string[]): Promise<number> {
		const unique = [...new Set(keys)];
		let deleted = 0;
		for (let index = 0; index < unique.length; index += batchSize) {
			const batch = unique.slice(index, index + batchSize);
			const found = await keyv.getMany(batch) as unknown[];
			const existing = batch.filter((_key, position) => found[position] !== undefined && found[position] !== null);
			if (existing.length > 0) {
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
			// Relative to this process' clock, as `deleteAt` is; one already past it (a clock behind this one) is left to the sweeps.
			const entries = records.map((record): KeyvEntry => record.deleteAt === null || record.deleteAt <= now
				? {key: record.key, value: encode(record)}
				: {key: record.key, value: encode(record), ttl: Math.ceil(record.deleteAt - now)});
			await (entries.length === 1 ? keyv.set(entries[0]!.key, entries[0]!.value, entries[0]!.ttl) : keyv.setMany(entries));
		},
		delete: remove,
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
					await done.disconnect();
				} catch (error) {
					// A pool shared by several adapters is ended by the first; the others find it ended.
					debug('keyv: disconnect: %s', (error as Error).message);
				}
			}
		},
	};
}
