import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {debuglog} from 'node:util';
import {assertKnownOptions, optionRangeError, optionTypeError} from '../errors.js';
import {createMemoryTier} from './memory-tier.js';
import {createRedisInvalidation} from './redis-invalidation.js';
import {createRedisLease} from './redis-lease.js';
import {CACHE_STORE, type CacheStore, type DeleteFilter, type RecordKind, type RecordMeta, type StoreBudget, type StoreRecord, corruptMeta} from './store.js';

const require = createRequire(import.meta.url);
const debug = debuglog('requests-cache');

/** Options of the Redis store. */
export type RedisStoreOptions = {
	/** @default 'redis://localhost:6379' */
	url?: string | undefined;
	/** The cache name: records are `<namespace>::<key>`, indexes `<namespace>:@meta`, `:@created`, `:@expires`, `:@delete`. */
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

type Arguments = ReadonlyArray<string | Buffer>;

/** The part of a node-redis v5 client this store uses. */
type RedisClient = {
	readonly isOpen: boolean;
	readonly isReady: boolean;
	connect(): Promise<unknown>;
	close(): Promise<unknown>;
	destroy(): void;
	ref(): void;
	unref(): void;
	on(event: string, listener: (...arguments_: unknown[]) => void): unknown;
	off(event: string, listener: (...arguments_: unknown[]) => void): unknown;
	sendCommand(arguments_: Arguments, options?: object): Promise<unknown>;
	multi(): {addCommand(arguments_: Arguments): unknown; exec(): Promise<unknown[]>};
};

type RedisModule = {
	createClient(options: object): unknown;
	RESP_TYPES: {BLOB_STRING: number};
};

/** Keys a maintenance command handles at once. */
const batchSize = 1000;

/** The first bytes of every value this store writes: "RCS" and the layout version. */
const frameMagic = Buffer.from('RCS\u0001', 'latin1');
const frameHead = frameMagic.length + 4;

const kinds: ReadonlySet<string> = new Set<RecordKind>(['response', 'redirect', 'variants']);

/** `text` with Redis glob characters escaped, so that a `MATCH` pattern matches it literally. */
export function escapeGlob(text: string): string {
	return text.replaceAll(/[*?[\]\\^]/g, String.raw`\$&`);
}

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

/** A connected client, and the option that makes it reply with bytes. */
type Connected = {client: RedisClient; bufferReplies: object};

/** node-redis (@redis/client, a dependency of this package): loaded when the first connection is made. */
function openClient(url: string, timeout: number): Connected {
	let redis: RedisModule;
	try {
		redis = require('@redis/client') as RedisModule;
	} catch (error) {
		throw new Error('the Redis backend needs the package @redis/client (npm install @redis/client)', {cause: error});
	}

	const client = redis.createClient({
		url,
		// Commands fail at once while disconnected instead of waiting for a reconnection.
		disableOfflineQueue: true,
		socket: {
			connectTimeout: timeout,
			reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
		},
	}) as RedisClient;
	// node-redis emits 'error' for every failed reconnection; without a listener that would crash the process.
	client.on('error', (error: unknown) => {
		debug('redis: %s', (error as Error | undefined)?.message ?? String(error));
	});
	holdWhileBusy(client);
	return {client, bufferReplies: {typeMapping: {[redis.RESP_TYPES.BLOB_STRING]: Buffer}}};
}

/**
 * Let an idle connection never keep the program alive (as Node's own keep-alive sockets): the
 * socket holds the event loop only while a command (or the connection itself) is pending, so
 * `installCache({backend: 'redis'}); await fetch(url)` ends by itself, and a pending read or
 * write is never cut short by the program exiting.
 */
function holdWhileBusy(client: RedisClient): void {
	let pending = 0;
	const hold = async <T>(work: () => Promise<T>): Promise<T> => {
		if (pending++ === 0) {
			client.ref();
		}

		try {
			return await work();
		} finally {
			if (--pending === 0) {
				client.unref();
			}
		}
	};

	client.unref();
	const {connect, sendCommand, multi} = client;
	Object.assign(client, {
		connect: async () => hold(async () => Reflect.apply(connect, client, []) as Promise<unknown>),
		sendCommand: async (...arguments_: Parameters<RedisClient['sendCommand']>) => hold(async () => Reflect.apply(sendCommand, client, arguments_) as Promise<unknown>),
		multi() {
			const transaction = Reflect.apply(multi, client, []) as ReturnType<RedisClient['multi']>;
			const {exec} = transaction;
			transaction.exec = async () => hold(async () => Reflect.apply(exec, transaction, []) as Promise<unknown[]>);
			return transaction;
		},
	});
}

/**
 * A connection that is opened on first use and never waits for a server that is down: the first
 * attempt fails as soon as the connection is refused (or after `timeout`), and from then on
 * commands fail at once while node-redis reconnects in the background.
 */
function lazyConnection(url: string, timeout: number): {ready(): Promise<Connected>; close(): Promise<void>} {
	let connected: Connected | undefined;
	let first: Promise<void> | undefined;
	let settled = false;
	let closed = false;
	const connect = async ({client}: Connected): Promise<void> => new Promise<void>((resolve, reject) => {
		const finish = (error?: unknown): void => {
			clearTimeout(timer);
			client.off('error', finish);
			settled = true;
			if (error === undefined) {
				resolve();
			} else {
				reject(error instanceof Error ? error : new Error(String(error)));
			}
		};

		const timer = setTimeout(() => {
			finish(new Error(`Redis did not answer within ${timeout} ms`));
		}, timeout);
		timer.unref();
		// The first failure ends the wait; node-redis goes on reconnecting in the background.
		client.on('error', finish);
		client.connect().then(() => {
			finish();
		}, finish);
	});

	return {
		async ready() {
			if (connected?.client.isReady) {
				return connected;
			}

			if (closed) {
				throw new Error('the Redis connection is closed');
			}

			connected ??= openClient(url, timeout);
			first ??= connect(connected);
			if (!settled) {
				await first;
				return connected;
			}

			throw new Error('Redis is not connected (reconnecting in the background)');
		},
		async close() {
			closed = true;
			first?.catch(() => undefined);
			const client = connected?.client;
			if (client?.isReady) {
				await client.close();
			} else if (client?.isOpen) {
				// Reconnecting: nothing to flush, and QUIT would wait for a server that is gone.
				client.destroy();
			}
		},
	};
}

function normalizeOptions(options: RedisStoreOptions): {url: string; namespace: string; timeout: number; memoryTier: StoreBudget | undefined} {
	const owner = 'createRedisStore';
	if (typeof options !== 'object' || options === null) {
		throw optionTypeError(owner, 'options', 'an object', options);
	}

	assertKnownOptions(owner, options, knownOptions);
	const {url = 'redis://localhost:6379', namespace, timeout = 5000} = options;
	if (typeof url !== 'string' || !/^rediss?:\/\//i.test(url)) {
		throw optionTypeError(owner, 'url', 'a redis:// or rediss:// URL', url);
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

	return {url, namespace, timeout, memoryTier};
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
 * A record and its index entries are written and removed together, in one MULTI. The index
 * entries of records that Redis dropped by itself are trimmed (a range of `ns:@delete`) before
 * each listing or sweep. The client connects on first use, never queues commands while
 * disconnected (a request never waits for a server that is down), and reconnects by itself.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
	const {url, namespace, timeout, memoryTier} = normalizeOptions(options);
	const connection = lazyConnection(url, timeout);
	const prefix = `${namespace}::`;
	const metaKey = `${namespace}:@meta`;
	const createdKey = `${namespace}:@created`;
	const expiresKey = `${namespace}:@expires`;
	const deleteKey = `${namespace}:@delete`;
	const sets = [createdKey, expiresKey, deleteKey];
	const lease = createRedisLease(connection.ready, namespace);

	async function command<T>(arguments_: string[]): Promise<T> {
		const {client} = await connection.ready();
		return client.sendCommand(arguments_) as Promise<T>;
	}

	/**
	 * Remove at most {@link batchSize} records and their index entries, atomically. Resolves to
	 * how many of the records existed, and how many keys left each sorted set (in `sets` order).
	 */
	async function removeBatch(keys: readonly string[]): Promise<{existed: number; unindexed: number[]}> {
		const {client} = await connection.ready();
		const multi = client.multi();
		multi.addCommand(['UNLINK', ...keys.map(key => prefix + key)]);
		multi.addCommand(['HDEL', metaKey, ...keys]);
		for (const set of sets) {
			multi.addCommand(['ZREM', set, ...keys]);
		}

		const [existed = 0, , ...unindexed] = (await multi.exec()).map(Number);
		return {existed, unindexed};
	}

	async function remove(keys: readonly string[]): Promise<number> {
		let existed = 0;
		for (let index = 0; index < keys.length; index += batchSize) {
			// eslint-disable-next-line no-await-in-loop -- bounded batches, one at a time
			existed += (await removeBatch(keys.slice(index, index + batchSize))).existed;
		}

		return existed;
	}

	/** Remove every record that a score range of sorted set `set` lists; resolves to how many existed. */
	async function removeRange(set: string, min: string, max: string): Promise<number> {
		let existed = 0;
		for (;;) {
			// Each batch leaves the set as it is removed, so the next one is at the front again.
			// eslint-disable-next-line no-await-in-loop
			const keys = await command<string[]>(['ZRANGEBYSCORE', set, min, max, 'LIMIT', '0', String(batchSize)]);
			if (keys.length === 0) {
				return existed;
			}

			// eslint-disable-next-line no-await-in-loop
			const result = await removeBatch(keys);
			existed += result.existed;
			if (result.unindexed[sets.indexOf(set)] === 0) {
				// Nothing left the set (a member that does not survive a trip as text): stop rather than loop.
				debug('redis: %d members of %s could not be removed', keys.length, set);
				return existed;
			}
		}
	}

	/** Drop the index entries of records that Redis expired by itself (their `deleteAt` has passed). */
	async function trim(): Promise<void> {
		await removeRange(deleteKey, '-inf', String(Date.now()));
	}

	/** Follow a SCAN-like cursor to its end, handing each reply's items to `each`. */
	async function follow(arguments_: (cursor: string) => string[], each: (items: string[]) => Promise<void> | void): Promise<void> {
		let cursor = '0';
		do {
			// eslint-disable-next-line no-await-in-loop -- a cursor is followed one reply at a time
			const [next, items] = await command<[string, string[]]>(arguments_(cursor));
			cursor = String(next);
			// eslint-disable-next-line no-await-in-loop
			await each(items);
		} while (cursor !== '0');
	}

	const scanMeta = (cursor: string): string[] => ['HSCAN', metaKey, cursor, 'COUNT', String(batchSize)];
	const fieldsOf = (flat: string[]): string[] => flat.filter((_item, index) => index % 2 === 0);

	const store: CacheStore = {
		[CACHE_STORE]: true,
		name: 'redis',
		local: false,
		location: `redis:${url}#${namespace}`,
		lease,
		async get(key) {
			const {client, bufferReplies} = await connection.ready();
			const frame = await client.sendCommand(['GET', prefix + key], bufferReplies) as Buffer | null;
			return frame === null ? undefined : decodeFrame(key, frame);
		},
		async set(records) {
			if (records.length === 0) {
				return;
			}

			// One SET a record, then one command per index for the whole batch.
			const {client} = await connection.ready();
			const multi = client.multi();
			const now = Date.now();
			const metas: string[] = [];
			const created: string[] = [];
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
				created.push(String(record.createdAt), record.key);
				for (const [name, time] of [['expires', record.expires], ['delete', record.deleteAt]] as const) {
					if (time === null) {
						unindexed[name].push(record.key);
					} else {
						indexed[name].push(String(time), record.key);
					}
				}
			}

			multi.addCommand(['HSET', metaKey, ...metas]);
			multi.addCommand(['ZADD', createdKey, ...created]);
			for (const [name, set] of [['expires', expiresKey], ['delete', deleteKey]] as const) {
				if (indexed[name].length > 0) {
					multi.addCommand(['ZADD', set, ...indexed[name]]);
				}

				if (unindexed[name].length > 0) {
					multi.addCommand(['ZREM', set, ...unindexed[name]]);
				}
			}

			await multi.exec();
		},
		async delete(keys) {
			return remove(keys);
		},
		async * scan() {
			await trim();
			// HSCAN may return a field twice (while the hash is rehashed): each is listed once.
			const seen = new Set<string>();
			let cursor = '0';
			do {
				// eslint-disable-next-line no-await-in-loop -- a cursor is followed one reply at a time
				const [next, flat] = await command<[string, string[]]>(scanMeta(cursor));
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
		},
		async deleteWhere(filter: DeleteFilter) {
			await trim();
			let deleted = 0;
			if (filter.createdBefore !== undefined) {
				deleted += await removeRange(createdKey, '-inf', `(${filter.createdBefore}`);
			}

			if (filter.expiredAt !== undefined) {
				deleted += await removeRange(expiresKey, '-inf', String(filter.expiredAt));
			}

			return deleted;
		},
		async clear() {
			// Every value under the prefix, indexed or not (one of an older layout, or written by hand)…
			await follow(cursor => ['SCAN', cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', String(batchSize)], async keys => {
				await remove(keys.map(key => key.slice(prefix.length)));
			});
			// …then the index entries whose value is already gone. Removing during HSCAN skips nothing that stays.
			await follow(scanMeta, async flat => {
				await remove(fieldsOf(flat));
			});
		},
		async close() {
			await lease.close();
			await connection.close();
		},
	};
	return memoryTier === undefined ? store : createMemoryTier(store, createRedisInvalidation(connection.ready, namespace), memoryTier);
}
