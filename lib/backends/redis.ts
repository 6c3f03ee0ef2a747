import {Buffer} from 'node:buffer';
import {debuglog} from 'node:util';
import {assertKnownOptions, optionRangeError, optionTypeError} from '../errors.js';
import {createMemoryTier} from './memory-tier.js';
import {type RedisNode, lazyConnection} from './redis-connection.js';
import {redisLayout} from './redis-layout.js';
import {createRedisInvalidation} from './redis-invalidation.js';
import {createRedisLease} from './redis-lease.js';
import {CACHE_STORE, type CacheStore, type DeleteFilter, type RecordKind, type RecordMeta, type StoreBudget, type StoreRecord, corruptMeta} from './store.js';

const debug = debuglog('requests-cache');

/** Options of the Redis store. */
export type RedisStoreOptions = {
	/**
	 * One server's URL, or a Redis Cluster's node URLs (an array, even of one: any reachable node
	 * names the cluster; the first one's credentials go to every node). @default 'redis://localhost:6379'
	 */
	url?: string | readonly string[] | undefined;
	/**
	 * The cache name: records are `<namespace>::<key>`, indexes `<namespace>:@meta`, `:@created`,
	 * `:@expires`, `:@delete`; on a cluster, `<namespace>:{<bucket>}` instead of `<namespace>` (lib/backends/redis-layout.ts).
	 */
	namespace: string;
	/** Milliseconds a connection attempt may take. @default 5000 */
	timeout?: number | undefined;
	/**
	 * A process-local memory tier in front of Redis within this budget (lib/backends/memory-tier.ts),
	 * kept coherent across processes by pub/sub news of every change. @default undefined (none)
	 */
	memoryTier?: StoreBudget | undefined;
};

const knownOptions: ReadonlySet<string> = new Set(['url', 'namespace', 'timeout', 'memoryTier']);

/** Keys a maintenance command handles at once. */
const batchSize = 1000;

/** The first bytes of every value this store writes: "RCS" and the layout version. */
const frameMagic = Buffer.from('RCS\u0001', 'latin1');
const frameHead = frameMagic.length + 4;

const kinds: ReadonlySet<string> = new Set<RecordKind>(['response', 'redirect', 'variants']);

/**
 * Check a cache name used as a Redis key prefix `<name>::`: one that contains '::' or ends with
 * ':' could be the start of another cache's prefix, and clearing one cache would touch the other.
 */
export function validateRedisNamespace(namespace: string): void {
	if (namespace.includes('::') || namespace.endsWith(':')) {
		throw new TypeError(`option \`cacheName\` of backend 'redis' must not contain '::' or end with ':', got ${JSON.stringify(namespace)}: keys are \`<cacheName>::<key>\`, so such a name would overlap another cache's keys`);
	}
}

function isTime(value: unknown): value is number {
	return typeof value === 'number' && Number.isFinite(value);
}

/** The facts of `key` from their JSON `[kind, url, createdAt, expires, deleteAt]`, or undefined when that is not ours. */
function parseMeta(key: string, text: string): RecordMeta | undefined {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		return undefined;
	}

	if (!Array.isArray(parsed) || parsed.length !== 5) {
		return undefined;
	}

	const [kind, url, createdAt, expires, deleteAt] = parsed as unknown[];
	if (typeof kind !== 'string' || !kinds.has(kind) || typeof url !== 'string' || !isTime(createdAt)
		|| !(expires === null || isTime(expires)) || !(deleteAt === null || isTime(deleteAt))) {
		return undefined;
	}

	return {key, kind: kind as RecordKind, url, createdAt, expires, deleteAt};
}

function metaText(record: RecordMeta): string {
	return JSON.stringify([record.kind, record.url, record.createdAt, record.expires, record.deleteAt]);
}

/** A record as kept in Redis: magic, u32 BE length of its facts' JSON, that JSON, the codec's bytes. */
function encodeFrame(meta: string, value: Uint8Array): Buffer {
	const metaLength = Buffer.byteLength(meta);
	const frame = Buffer.allocUnsafe(frameHead + metaLength + value.byteLength);
	frameMagic.copy(frame, 0);
	frame.writeUInt32BE(metaLength, frameMagic.length);
	frame.write(meta, frameHead, 'utf8');
	frame.set(value, frameHead + metaLength);
	return frame;
}

function decodeFrame(key: string, frame: Buffer): StoreRecord | undefined {
	if (frame.length < frameHead || frame.compare(frameMagic, 0, frameMagic.length, 0, frameMagic.length) !== 0) {
		return undefined;
	}

	const metaEnd = frameHead + frame.readUInt32BE(frameMagic.length);
	if (metaEnd > frame.length) {
		return undefined;
	}

	const meta = parseMeta(key, frame.toString('utf8', frameHead, metaEnd));
	return meta === undefined ? undefined : {...meta, value: frame.subarray(metaEnd), fresh: true};
}

const isRedisUrl = (url: unknown): boolean => typeof url === 'string' && /^rediss?:\/\//i.test(url);

function normalizeOptions(options: RedisStoreOptions): {url: string | readonly string[]; namespace: string; timeout: number; memoryTier: StoreBudget | undefined} {
	const owner = 'createRedisStore';
	if (typeof options !== 'object' || options === null) {
		throw optionTypeError(owner, 'options', 'an object', options);
	}

	assertKnownOptions(owner, options, knownOptions);
	const {url = 'redis://localhost:6379', namespace, timeout = 5000} = options;
	if (Array.isArray(url) ? url.length === 0 || !url.every(isRedisUrl) : !isRedisUrl(url)) {
		throw optionTypeError(owner, 'url', 'a redis:// or rediss:// URL, or an array of them (a cluster\'s nodes)', url);
	}

	if (typeof namespace !== 'string') {
		throw optionTypeError(owner, 'namespace', 'a string', namespace);
	}

	validateRedisNamespace(namespace);
	if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
		throw optionTypeError(owner, 'timeout', 'a number of milliseconds', timeout);
	}

	if (!Number.isFinite(timeout) || timeout <= 0) {
		throw optionRangeError(owner, 'timeout', 'a finite number > 0', timeout);
	}

	const {memoryTier} = options;
	if (memoryTier !== undefined && (typeof memoryTier !== 'object' || memoryTier === null)) {
		throw optionTypeError(owner, 'memoryTier', 'an object {maxEntries, maxBytes}', memoryTier);
	}

	return {url: Array.isArray(url) ? [...url] : url, namespace, timeout, memoryTier};
}

/** How many buckets a maintenance pass works on at once. */
const parallelBuckets = 64;

/** `items` by a number, in the order each number first appears. */
function groupBy<T>(items: readonly T[], of: (item: T) => number): Map<number, T[]> {
	const groups = new Map<number, T[]>();
	for (const item of items) {
		const number = of(item);
		const group = groups.get(number);
		if (group === undefined) {
			groups.set(number, [item]);
		} else {
			group.push(item);
		}
	}

	return groups;
}

/**
 * The Redis store, on the node-redis client (@redis/client, loaded only when this
 * backend is used). Layout, for a cache named `ns`:
 *
 * - `ns::<key>`: the record, one binary string (its facts as a short JSON head, then the codec's
 *   bytes), with Redis' own expiry (`PX`) at the record's `deleteAt`: a hit is one GET;
 * - `ns:@meta`: a hash of every record's facts, so that listings never read values;
 * - `ns:@created`, `ns:@expires`, `ns:@delete`: sorted sets of the keys by creation, expiry and
 *   deletion time, so that `deleteWhere` is a range query, not a scan.
 *
 * On a Redis Cluster (`url` an array), each of these is kept per bucket, `ns:{<bucket>}` in place
 * of `ns` (lib/backends/redis-layout.ts): an entry, its Vary variants and their index entries share
 * a slot, entries spread over the cluster, and maintenance visits every bucket (`clear()` SCANs
 * every master). A redirect alias is a record of its own URL's bucket, written right after the
 * entry it points to.
 *
 * A record and its index entries are written and removed together, in one MULTI. The index
 * entries of records that Redis dropped by itself are trimmed (a range of `ns:@delete`) before
 * each listing or sweep. The client connects on first use, never queues commands while
 * disconnected (a request never waits for a server that is down), and reconnects by itself.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
	const {url, namespace, timeout, memoryTier} = normalizeOptions(options);
	const connection = lazyConnection(url, timeout);
	const layout = redisLayout(namespace, typeof url !== 'string');
	type BucketKeys = {prefix: string; meta: string; sets: [created: string, expires: string, deleted: string]};
	// Made once a bucket: a hit only looks its prefix up.
	const bucketKeys: Array<BucketKeys | undefined> = [];
	const keysFrom = (base: string): BucketKeys => ({prefix: `${base}::`, meta: `${base}:@meta`, sets: [`${base}:@created`, `${base}:@expires`, `${base}:@delete`]});
	const keysOf = (bucket: number): BucketKeys => bucketKeys[bucket] ??= keysFrom(layout.base(bucket));

	const [created, expires, deletion] = [0, 1, 2] as const;
	/** The store's writes begun so far, queued on the connection: on one server, a lease release sent after them runs after them. */
	let sent: Promise<void> = Promise.resolve();
	const lease = createRedisLease(connection.ready, namespace, name => `${layout.base(layout.bucketOf(name))}:@flight:${name}`, async () => sent);

	async function command<T>(arguments_: string[]): Promise<T> {
		const {client} = await connection.ready();
		return client.sendCommand(arguments_) as Promise<T>;
	}

	/** Run `work` on every bucket, {@link parallelBuckets} at a time; resolves to the results in bucket order. */
	async function everyBucket<T>(work: (bucket: number) => Promise<T>): Promise<T[]> {
		const results: T[] = [];
		for (let start = 0; start < layout.buckets; start += parallelBuckets) {
			const chunk = Array.from({length: Math.min(parallelBuckets, layout.buckets - start)}, (_item, index) => start + index);
			// eslint-disable-next-line no-await-in-loop -- a bounded number of buckets at once
			results.push(...await Promise.all(chunk.map(work)));
		}

		return results;
	}

	const sum = (numbers: readonly number[]): number => numbers.reduce((total, number) => total + number, 0);

	/**
	 * Remove at most {@link batchSize} records of one bucket and their index entries, atomically.
	 * Resolves to how many of the records existed, and how many keys left each sorted set.
	 */
	async function removeBatch(bucket: number, keys: readonly string[]): Promise<{existed: number; unindexed: number[]}> {
		const {prefix, meta, sets} = keysOf(bucket);
		const {client} = await connection.ready();
		const multi = client.multi();
		multi.addCommand(['UNLINK', ...keys.map(key => prefix + key)]);
		multi.addCommand(['HDEL', meta, ...keys]);
		for (const set of sets) {
			multi.addCommand(['ZREM', set, ...keys]);
		}

		const [existed = 0, , ...unindexed] = (await multi.exec()).map(Number);
		return {existed, unindexed};
	}

	/** Remove these keys of `bucket` (each key's own bucket when undefined); resolves to how many existed. */
	async function remove(keys: readonly string[], bucket?: number): Promise<number> {
		const groups = bucket === undefined ? groupBy(keys, layout.bucketOf) : new Map([[bucket, [...keys]]]);
		return sum(await Promise.all([...groups].map(async ([group, grouped]) => {
			let existed = 0;
			for (let index = 0; index < grouped.length; index += batchSize) {
				// eslint-disable-next-line no-await-in-loop -- bounded batches, one at a time
				existed += (await removeBatch(group, grouped.slice(index, index + batchSize))).existed;
			}

			return existed;
		})));
	}

	/** Remove every record that a score range of one of a bucket's sorted sets lists; resolves to how many existed. */
	async function removeRange(bucket: number, set: 0 | 1 | 2, min: string, max: string): Promise<number> {
		let existed = 0;
		for (;;) {
			// Each batch leaves the set as it is removed, so the next one is at the front again.
			// eslint-disable-next-line no-await-in-loop
			const keys = await command<string[]>(['ZRANGEBYSCORE', keysOf(bucket).sets[set]!, min, max, 'LIMIT', '0', String(batchSize)]);
			if (keys.length === 0) {
				return existed;
			}

			// eslint-disable-next-line no-await-in-loop
			const result = await removeBatch(bucket, keys);
			existed += result.existed;
			if (result.unindexed[set] === 0) {
				// Nothing left the set (a member that does not survive a trip as text): stop rather than loop.
				debug('redis: %d members of %s could not be removed', keys.length, keysOf(bucket).sets[set]);
				return existed;
			}
		}
	}

	/** Drop the index entries of records that Redis expired by itself (their `deleteAt` has passed). */
	async function trim(): Promise<void> {
		const now = String(Date.now());
		await everyBucket(async bucket => removeRange(bucket, deletion, '-inf', now));
	}

	/** Follow a SCAN-like cursor on `node` to its end, handing each reply's items to `each`. */
	async function follow(node: RedisNode, arguments_: (cursor: string) => string[], each: (items: string[]) => Promise<void> | void): Promise<void> {
		let cursor = '0';
		do {
			// eslint-disable-next-line no-await-in-loop -- a cursor is followed one reply at a time
			const [next, items] = await node.sendCommand(arguments_(cursor)) as [string, string[]];
			cursor = String(next);
			// eslint-disable-next-line no-await-in-loop
			await each(items);
		} while (cursor !== '0');
	}

	const scanMeta = (bucket: number) => (cursor: string): string[] => ['HSCAN', keysOf(bucket).meta, cursor, 'COUNT', String(batchSize)];
	const fieldsOf = (flat: string[]): string[] => flat.filter((_item, index) => index % 2 === 0);
	const router: RedisNode = {sendCommand: async arguments_ => command(arguments_ as string[])};

	/** One MULTI for records of one bucket: one SET a record, then one command per index for them all. */
	async function write(bucket: number, records: readonly StoreRecord[], queued?: () => void): Promise<void> {
		const {prefix, meta: metaKey, sets} = keysOf(bucket);
		const {client} = await connection.ready();
		const multi = client.multi();
		const now = Date.now();
		const metas: string[] = [];
		const createdAt: string[] = [];
		const indexed = {expires: [] as string[], delete: [] as string[]};
		const unindexed = {expires: [] as string[], delete: [] as string[]};
		for (const record of records) {
			const meta = metaText(record);
			const frame = encodeFrame(meta, record.value);
			// Expiry relative to this process' clock, as `deleteAt` is: the server's clock does not matter. A
			// record already past its deleteAt (a clock behind this one) is kept until the next trim instead.
			multi.addCommand(record.deleteAt === null || record.deleteAt <= now
				? ['SET', prefix + record.key, frame]
				: ['SET', prefix + record.key, frame, 'PX', String(Math.ceil(record.deleteAt - now))]);
			metas.push(record.key, meta);
			createdAt.push(String(record.createdAt), record.key);
			for (const [name, time] of [['expires', record.expires], ['delete', record.deleteAt]] as const) {
				if (time === null) {
					unindexed[name].push(record.key);
				} else {
					indexed[name].push(String(time), record.key);
				}
			}
		}

		multi.addCommand(['HSET', metaKey, ...metas]);
		multi.addCommand(['ZADD', sets[created], ...createdAt]);
		for (const [name, set] of [['expires', sets[expires]], ['delete', sets[deletion]]] as const) {
			if (indexed[name].length > 0) {
				multi.addCommand(['ZADD', set, ...indexed[name]]);
			}

			if (unindexed[name].length > 0) {
				multi.addCommand(['ZREM', set, ...unindexed[name]]);
			}
		}

		const landing = multi.exec();
		queued?.();
		await landing;
	}

	const store: CacheStore = {
		[CACHE_STORE]: true,
		name: 'redis',
		local: false,
		location: `redis:${String(url)}#${namespace}`,
		lease,
		ordered: layout.buckets === 1,
		async get(key) {
			const {client, bufferReplies} = await connection.ready();
			const frame = await client.sendCommand(['GET', keysOf(layout.bucketOf(key)).prefix + key], bufferReplies) as Buffer | null;
			return frame === null ? undefined : decodeFrame(key, frame);
		},
		async set(records) {
			// An entry's records share a bucket (one MULTI, all or none); redirect aliases, of other
			// URLs' buckets, follow it, so that an alias never lands before what it points to.
			const [first, ...others] = groupBy(records, record => layout.bucketOf(record.key));
			if (first === undefined) {
				return;
			}

			// One server runs a connection's commands in order; a cluster's nodes do not: there, sent means landed.
			let queued!: () => void;
			const mine = new Promise<void>(resolve => {
				queued = resolve;
			});
			const before = sent;
			sent = (async () => {
				await Promise.all([before, mine]);
			})();
			try {
				await write(...first, others.length === 0 && layout.buckets === 1 ? queued : undefined);
				await Promise.all(others.map(async group => write(...group)));
			} finally {
				queued();
			}
		},
		async delete(keys) {
			return remove(keys);
		},
		async * scan() {
			await trim();
			// HSCAN may return a field twice (while the hash is rehashed): each is listed once.
			const seen = new Set<string>();
			const sizes = await everyBucket(async bucket => command<number>(['HLEN', keysOf(bucket).meta]));
			for (const [bucket, size] of sizes.entries()) {
				if (Number(size) === 0) {
					continue;
				}

				let cursor = '0';
				do {
					// eslint-disable-next-line no-await-in-loop -- a cursor is followed one reply at a time
					const [next, flat] = await command<[string, string[]]>(scanMeta(bucket)(cursor));
					cursor = String(next);
					const batch: RecordMeta[] = [];
					for (let index = 0; index + 1 < flat.length; index += 2) {
						const key = flat[index]!;
						if (!seen.has(key)) {
							seen.add(key);
							batch.push(parseMeta(key, flat[index + 1]!) ?? corruptMeta(key));
						}
					}

					if (batch.length > 0) {
						yield batch;
					}
				} while (cursor !== '0');
			}
		},
		async deleteWhere(filter: DeleteFilter) {
			await trim();
			return sum(await everyBucket(async bucket => {
				let deleted = 0;
				if (filter.createdBefore !== undefined) {
					deleted += await removeRange(bucket, created, '-inf', `(${filter.createdBefore}`);
				}

				if (filter.expiredAt !== undefined) {
					deleted += await removeRange(bucket, expires, '-inf', String(filter.expiredAt));
				}

				return deleted;
			}));
		},
		async clear() {
			// Every value of the cache on every master, indexed or not (one of an older layout, or written by hand)…
			const nodes = await (await connection.ready()).nodes();
			await Promise.all(nodes.map(async node => follow(node, cursor => ['SCAN', cursor, 'MATCH', layout.valuePattern, 'COUNT', String(batchSize)], async names => {
				await Promise.all([...groupBy(names.map(name => layout.parse(name)), ({bucket}) => bucket)].map(async ([bucket, found]) => remove(found.map(({key}) => key), bucket)));
			})));
			// …then the index entries whose value is already gone. Removing during HSCAN skips nothing that stays.
			await everyBucket(async bucket => follow(router, scanMeta(bucket), async flat => {
				await remove(fieldsOf(flat), bucket);
			}));
		},
		async close() {
			await lease.close();
			await connection.close();
		},
	};
	return memoryTier === undefined ? store : createMemoryTier(store, createRedisInvalidation(connection.ready, namespace), memoryTier);
}
