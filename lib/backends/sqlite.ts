import {mkdirSync} from 'node:fs';
import path from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import {Keyv} from 'keyv';
import type {EntryMeta} from '../cache/entry.js';
import type {CacheStore} from './store.js';
import {WalHotCache} from './wal-hot-cache.js';
import {deleteInBatches, metaOfColumns} from './batches.js';

/** Options of the SQLite backend. */
export type SqliteStoreOptions = {
	/** Milliseconds a writer waits for another connection's lock before failing. @default 10000 */
	busyTimeout?: number;
	/**
	 * Bytes of recently read entries kept decoded in this process, exactly as current as the file
	 * (see `WalHotCache`); 0 turns it off. @default 33554432 (32 MiB)
	 */
	hotCacheBytes?: number;
};

type Query = (sql: string, ...parameters: unknown[]) => Promise<Array<Record<string, unknown>>>;

const namespace = 'requests-cache';
const table = 'keyv';
const pageSize = 5000;

/** `http_cache` → `http_cache.sqlite`; a name with an extension, or `:memory:`, is used as is. */
export function sqlitePath(cacheName: string): string {
	if (cacheName === ':memory:') {
		return cacheName;
	}

	return path.extname(cacheName) === '' ? `${cacheName}.sqlite` : cacheName;
}

/**
 * The SQLite backend (the default): @keyv/sqlite on one file, in WAL mode with a busy timeout so
 * several sessions or processes can share it. Bulk operations are SQL over the adapter's
 * connection, paging by key rather than by OFFSET, so that deletions never skip rows.
 */
export function createSqliteStore(cacheName: string, options: SqliteStoreOptions = {}): CacheStore {
	const file = sqlitePath(cacheName);
	if (file !== ':memory:') {
		mkdirSync(path.dirname(path.resolve(file)), {recursive: true});
	}

	const adapter = new KeyvSqlite({uri: `sqlite://${file}`, table, busyTimeout: options.busyTimeout ?? 10_000});
	const query = adapter.query as Query;
	// WAL lets readers and a writer work at once; NORMAL sync is safe with WAL and far faster.
	const ready = query('PRAGMA journal_mode=WAL').then(async () => query('PRAGMA synchronous=NORMAL'));
	// Keyv must not run its default serializer's reviver over every hit: plain JSON is enough,
	// since bodies are stored as base64 strings.
	const keyv = new Keyv({store: adapter, namespace, serialize: JSON.stringify, deserialize: JSON.parse, throwOnErrors: true});
	const hotBytes = options.hotCacheBytes ?? 32 * 1024 * 1024;
	const hot = file === ':memory:' || hotBytes === 0 ? undefined : new WalHotCache(path.resolve(file), {maxBytes: hotBytes});
	const low = `${namespace}:`;
	// ':' + 1 = ';': every key with the prefix sorts in [low, high), so the primary key index bounds the scan.
	const high = `${namespace};`;
	const run: Query = async (sql, ...parameters) => {
		await ready;
		return query(sql, ...parameters);
	};

	return {
		name: 'sqlite',
		keyv,
		serializes: true,
		// Values kept in the hot cache are handed out again: the cache copies what it serves.
		sharesObjects: hot !== undefined,
		hot,
		local: false,
		ttlFor: () => undefined,
		async * scan() {
			let after = low;
			for (;;) {
				// eslint-disable-next-line no-await-in-loop -- pages are read one after another by design
				const rows = await run(
					// json_extract() fails on text that is not JSON: a corrupt row is read as '{}' instead.
					`SELECT key, json_extract(json, '$.value.kind') AS kind, json_extract(json, '$.value.url') AS url,
					json_extract(json, '$.value.createdAt') AS createdAt, json_extract(json, '$.value.expires') AS expires
					FROM (SELECT key, CASE WHEN json_valid(value) THEN value ELSE '{}' END AS json FROM ${table} WHERE key > ? AND key < ?)
					ORDER BY key LIMIT ${pageSize}`,
					after, high,
				);
				if (rows.length === 0) {
					return;
				}

				after = rows.at(-1)!['key'] as string;
				// A row that is not our JSON lists as corrupt: created at 0 and expired, so sweeps remove it.
				yield rows.map((row): EntryMeta => metaOfColumns((row['key'] as string).slice(low.length), row));
				if (rows.length < pageSize) {
					return;
				}
			}
		},
		async deleteKeys(keys) {
			return deleteInBatches(keys, pageSize, async slice => {
				const rows = await run(`DELETE FROM ${table} WHERE key IN (SELECT value FROM json_each(?)) RETURNING 1`, JSON.stringify(slice.map(key => low + key)));
				return rows.length;
			});
		},
		async deleteWhere(filter) {
			const conditions: string[] = [];
			const parameters: unknown[] = [low, high];
			const valid = 'json_valid(value)';
			if (filter.createdBefore !== undefined) {
				conditions.push(`(NOT ${valid} OR coalesce(json_extract(value, '$.value.createdAt'), 0) < ?)`);
				parameters.push(filter.createdBefore);
			}

			if (filter.expiredAt !== undefined) {
				conditions.push(`(NOT ${valid} OR json_type(value, '$.value.expires') IS NOT 'null' AND coalesce(json_extract(value, '$.value.expires'), 0) <= ?)`);
				parameters.push(filter.expiredAt);
			}

			if (conditions.length === 0) {
				return 0;
			}

			const rows = await run(`DELETE FROM ${table} WHERE key >= ? AND key < ? AND (${conditions.join(' OR ')}) RETURNING 1`, ...parameters);
			return rows.length;
		},
		async clear() {
			await run(`DELETE FROM ${table} WHERE key >= ? AND key < ?`, low, high);
		},
		async close() {
			hot?.close();
			await ready.catch(() => undefined);
			await adapter.disconnect();
		},
	};
}
