import {createRequire} from 'node:module';
import {debuglog} from 'node:util';
import {Keyv} from 'keyv';
import type {EntryMeta} from '../cache/entry.js';
import type {CacheStore} from './store.js';
import {corruptMeta, decodeMeta, deleteInBatches} from './batches.js';

const require = createRequire(import.meta.url);
const debug = debuglog('requests-cache');

/** Options of the Redis backend. */
export type RedisStoreOptions = {
	/** @default 'redis://localhost:6379' */
	url?: string | undefined;
	/** The key namespace (the cache name): keys are `<namespace>::<key>`. */
	namespace: string;
	/** Seconds to keep an entry past its expiry, for revalidation. */
	ttlOffset: number;
	/** Milliseconds a connection attempt may take. @default 5000 */
	timeout?: number | undefined;
};

/** The part of a node-redis client (v4 or v5) the bulk operations use. */
export type RedisCommands = {
	sendCommand(args: string[]): Promise<unknown>;
};

type RedisClient = RedisCommands & {
	readonly isOpen: boolean;
	readonly isReady: boolean;
	connect(): Promise<unknown>;
	close(): Promise<unknown>;
	destroy(): void;
	on(event: string, listener: (...args: unknown[]) => void): unknown;
	off(event: string, listener: (...args: unknown[]) => void): unknown;
};

const batchSize = 1000;

/**
 * Reads the metadata of a batch of entries inside Redis, so that scans never move bodies over
 * the network. Values that are not Keyv's JSON (a compressing or custom serializer) come back
 * as '!' and are decoded by the caller instead.
 */
const metaScript = `
local out = {}
for i, key in ipairs(KEYS) do
	local raw = redis.call('GET', key)
	if not raw then
		out[i] = ''
	else
		local kind, url, created, expires = string.match(raw, '^{"value":{"kind":"(%a+)","url":"(.-)","createdAt":(%d+),"expires":(%w+)[,}]')
		if kind then
			out[i] = '["' .. kind .. '","' .. url .. '",' .. created .. ',' .. expires .. ']'
		else
			local ok, data = pcall(cjson.decode, raw)
			if ok and type(data) == 'table' and type(data.value) == 'table' and type(data.value.kind) == 'string' then
				local v = data.value
				out[i] = cjson.encode({v.kind, v.url or '', v.createdAt or 0, v.expires})
			else
				out[i] = '!'
			end
		end
	end
end
return out`;

/**
 * Deletes, inside Redis, the entries of a batch created before ARGV[1] or expired at ARGV[2]
 * (either may be ''). Returns the number deleted, then the keys it could not decode.
 */
const deleteScript = `
local createdBefore = tonumber(ARGV[1])
local expiredAt = tonumber(ARGV[2])
local deleted = 0
local undecoded = {}
for _, key in ipairs(KEYS) do
	local raw = redis.call('GET', key)
	if raw then
		local decoded, created, expires = false, nil, nil
		local c, e = string.match(raw, '^{"value":{"kind":"%a+","url":".-","createdAt":(%d+),"expires":(%w+)[,}]')
		if c then
			decoded, created, expires = true, tonumber(c), tonumber(e)
		else
			local ok, data = pcall(cjson.decode, raw)
			if ok and type(data) == 'table' and type(data.value) == 'table' and type(data.value.kind) == 'string' then
				decoded, created, expires = true, tonumber(data.value.createdAt) or 0, tonumber(data.value.expires)
			end
		end
		if not decoded then
			undecoded[#undecoded + 1] = key
		elseif (createdBefore and created < createdBefore) or (expiredAt and expires and expires <= expiredAt) then
			deleted = deleted + redis.call('UNLINK', key)
		end
	end
end
return {deleted, undecoded}`;

/** `pattern` with Redis glob characters escaped, so that a namespace matches only itself. */
export function escapeGlob(text: string): string {
	return text.replaceAll(/[*?[\]\\^]/g, String.raw`\$&`);
}

function metaFromScript(key: string, encoded: string): EntryMeta | undefined {
	try {
		const [kind, url, createdAt, expires] = JSON.parse(encoded) as unknown[];
		if ((kind === 'response' || kind === 'redirect' || kind === 'variants') && typeof url === 'string' && typeof createdAt === 'number') {
			return {key, kind, url, createdAt, expires: typeof expires === 'number' ? expires : null};
		}
	} catch {
		// Falls through to a corrupt entry.
	}

	return undefined;
}

/**
 * Bulk operations over keys that start with `prefix` in one Redis database, for any Keyv over
 * @keyv/redis: SCAN with an escaped MATCH pattern, metadata read by a Lua script (bodies stay in
 * Redis), UNLINK in batches. `decode` turns a raw value into a stored value for what the script
 * cannot read.
 */
export function redisBulkOperations(
	client: () => Promise<RedisCommands>,
	prefix: string,
	decode: (raw: string) => Promise<unknown>,
): Pick<CacheStore, 'scan' | 'deleteKeys' | 'deleteWhere' | 'clear'> {
	const match = `${escapeGlob(prefix)}*`;
	let scripting = true;

	async function * scanKeys(redis: RedisCommands): AsyncGenerator<string[]> {
		// SCAN may return a key twice (while the keyspace is rehashed): each is listed once.
		const seen = new Set<string>();
		let cursor = '0';
		do {
			// eslint-disable-next-line no-await-in-loop -- a SCAN cursor is followed one reply at a time
			const [next, keys] = await redis.sendCommand(['SCAN', cursor, 'MATCH', match, 'COUNT', String(batchSize), 'TYPE', 'string']) as [string | Buffer, string[]];
			cursor = String(next);
			const fresh = keys.filter(key => !seen.has(key));
			for (const key of fresh) {
				seen.add(key);
			}

			if (fresh.length > 0) {
				yield fresh;
			}
		} while (cursor !== '0');
	}

	async function metas(redis: RedisCommands, keys: string[]): Promise<EntryMeta[]> {
		const result: EntryMeta[] = [];
		let encoded: string[] | undefined;
		if (scripting) {
			try {
				encoded = await redis.sendCommand(['EVAL', metaScript, String(keys.length), ...keys]) as string[];
			} catch (error) {
				// Scripting disabled (some managed services): read values instead, from now on.
				debug('redis: EVAL failed (%s); scanning by MGET', (error as Error).message);
				scripting = false;
			}
		}

		const raw = encoded === undefined ? await redis.sendCommand(['MGET', ...keys]) as Array<string | null> : undefined;
		for (const [index, stored] of keys.entries()) {
			const key = stored.slice(prefix.length);
			const script = encoded?.[index];
			if (script === '') {
				continue;
			}

			const meta = script === undefined || script === '!' ? undefined : metaFromScript(key, script);
			if (meta !== undefined) {
				result.push(meta);
				continue;
			}

			// eslint-disable-next-line no-await-in-loop -- rare: values the script could not read
			const value = raw === undefined ? await redis.sendCommand(['GET', stored]) as string | null : raw[index];
			if (value === null || value === undefined) {
				continue;
			}

			// eslint-disable-next-line no-await-in-loop
			result.push(await decodeMeta(key, value, async raw => decode(raw as string)));
		}

		return result;
	}

	return {
		async * scan() {
			const redis = await client();
			for await (const keys of scanKeys(redis)) {
				yield await metas(redis, keys);
			}
		},
		async deleteKeys(keys) {
			const redis = await client();
			return deleteInBatches(keys, batchSize, async slice => Number(await redis.sendCommand(['UNLINK', ...slice.map(key => prefix + key)])));
		},
		async deleteWhere(filter) {
			const redis = await client();
			const arguments_ = [String(filter.createdBefore ?? ''), String(filter.expiredAt ?? '')];
			let deleted = 0;
			for await (const keys of scanKeys(redis)) {
				let undecoded = keys;
				if (scripting) {
					try {
						const [count, rest] = await redis.sendCommand(['EVAL', deleteScript, String(keys.length), ...keys, ...arguments_]) as [number, string[]];
						deleted += Number(count);
						undecoded = rest;
					} catch (error) {
						debug('redis: EVAL failed (%s); deleting by MGET', (error as Error).message);
						scripting = false;
					}
				}

				if (undecoded.length > 0) {
					const doomed = (await metas(redis, undecoded)).filter(meta => (filter.createdBefore !== undefined && meta.createdAt < filter.createdBefore)
						|| (filter.expiredAt !== undefined && meta.expires !== null && meta.expires <= filter.expiredAt));
					if (doomed.length > 0) {
						deleted += Number(await redis.sendCommand(['UNLINK', ...doomed.map(meta => prefix + meta.key)]));
					}
				}
			}

			return deleted;
		},
		async clear() {
			const redis = await client();
			for await (const keys of scanKeys(redis)) {
				await redis.sendCommand(['UNLINK', ...keys]);
			}
		},
	};
}

/**
 * Keyv's JSON with an entry's metadata first (`kind`, `url`, `createdAt`, `expires`), so that
 * the Lua scripts read it with one anchored match instead of decoding the whole value.
 */
export function serializeMetaFirst(data: {value?: unknown; expires?: number | undefined}): string {
	const {value} = data;
	if (typeof value === 'object' && value !== null && 'kind' in value && 'url' in value && 'createdAt' in value && 'expires' in value) {
		const {kind, url, createdAt, expires} = value;
		return JSON.stringify({value: Object.assign({kind, url, createdAt, expires}, value), expires: data.expires});
	}

	return JSON.stringify(data);
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

/**
 * A connection that is opened on first use and never waits for a server that is down: the first
 * attempt fails as soon as the connection is refused (or after `timeout`), and from then on
 * commands fail at once while node-redis reconnects in the background.
 */
function lazyConnection(client: RedisClient, timeout: number): {ready(): Promise<void>; close(): Promise<void>} {
	let first: Promise<void> | undefined;
	let settled = false;
	let closed = false;
	const connect = async (): Promise<void> => new Promise<void>((resolve, reject) => {
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
			if (client.isReady) {
				return;
			}

			if (closed) {
				throw new Error('the Redis connection is closed');
			}

			first ??= connect();
			if (!settled) {
				await first;
				return;
			}

			throw new Error('Redis is not connected (reconnecting in the background)');
		},
		async close() {
			closed = true;
			first?.catch(() => undefined);
			if (client.isReady) {
				await client.close();
			} else if (client.isOpen) {
				// Reconnecting: nothing to flush, and QUIT would wait for a server that is gone.
				client.destroy();
			}
		},
	};
}

/**
 * The Redis backend through @keyv/redis (loaded only when used): keys `<cacheName>::<key>`,
 * Redis' own expiry (PX) set `ttlOffset` seconds past each entry's expiry so that stale entries
 * can still be revalidated. The client is connected on first use, never queues commands while
 * disconnected (a request never waits for a server that is down), and reconnects by itself.
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
	validateRedisNamespace(options.namespace);
	const {default: KeyvRedis, createClient} = require('@keyv/redis') as typeof import('@keyv/redis');
	const timeout = options.timeout ?? 5000;
	const client = createClient({
		url: options.url ?? 'redis://localhost:6379',
		// Commands fail at once while disconnected instead of waiting for a reconnection.
		disableOfflineQueue: true,
		socket: {
			connectTimeout: timeout,
			reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
		},
	}) as unknown as RedisClient;
	// node-redis emits 'error' for every failed reconnection; without a listener that would crash the process.
	client.on('error', (error: unknown) => {
		debug('redis: %s', (error as Error)?.message ?? String(error));
	});
	const connection = lazyConnection(client, timeout);

	// @keyv/redis connects on first use with a connect() that never settles while the server is
	// down: our connection is used instead.
	class Adapter extends KeyvRedis<string> {
		override async getClient(): Promise<Awaited<ReturnType<InstanceType<typeof KeyvRedis>['getClient']>>> {
			await connection.ready();
			return this.client;
		}
	}

	const adapter = new Adapter(client as never, {namespace: options.namespace, throwOnErrors: true, throwOnConnectError: true});
	// The adapter prefixes keys itself; a Keyv prefix on top would write `ns::ns:key`.
	const keyv = new Keyv({store: adapter, namespace: options.namespace, useKeyPrefix: false, serialize: serializeMetaFirst, deserialize: JSON.parse, throwOnErrors: true});
	const prefix = `${options.namespace}${adapter.keyPrefixSeparator}`;
	const bulk = redisBulkOperations(async () => {
		await connection.ready();
		return client;
	}, prefix, async raw => JSON.parse(raw) as unknown);
	return {
		name: 'redis',
		keyv,
		serializes: true,
		sharesObjects: false,
		local: false,
		ttlFor: (expires, now) => (expires === null ? undefined : Math.max(1, Math.ceil(expires - now + options.ttlOffset * 1000))),
		...bulk,
		async close() {
			await connection.close();
		},
	};
}
