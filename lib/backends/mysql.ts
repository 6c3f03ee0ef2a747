import {createRequire} from 'node:module';
import {debuglog} from 'node:util';
import type {EntryMeta} from '../cache/entry.js';
import type {CacheStore} from './store.js';
import {decodeMeta, deleteInBatches, matchesDeleteFilter, metaOfColumns} from './batches.js';

const require = createRequire(import.meta.url);
const debug = debuglog('requests-cache');

/** @keyv/mysql's query function: one SQL string (values already inlined), resolving to rows or a result header. */
export type MysqlQuery = (sql: string) => Promise<unknown>;

/** What is needed of a @keyv/mysql adapter. */
export type MysqlAdapterLike = {
	query: MysqlQuery;
	opts: {dialect?: string; table?: string};
	set(key: string, value: unknown, ttl?: number): unknown;
};

type Row = Record<string, unknown>;

const pageSize = 5000;
const warned = new Set<string>();

/** True for a @keyv/mysql adapter (or one that quacks like it). */
export function isMysqlAdapter(adapter: unknown): adapter is MysqlAdapterLike {
	const candidate = adapter as Partial<MysqlAdapterLike> | undefined;
	return typeof candidate?.query === 'function' && candidate.opts?.dialect === 'mysql';
}

/** mysql2's `format` (the escaping @keyv/mysql itself uses), from @keyv/mysql's own dependency. */
function loadFormat(): (sql: string, values: unknown[]) => string {
	const keyvMysql = require.resolve('@keyv/mysql');
	const mysql2 = createRequire(keyvMysql)('mysql2') as {format(sql: string, values: unknown[]): string};
	return (sql, values) => mysql2.format(sql, values);
}

function escapeIdentifier(identifier: string): string {
	return identifier.split('.').map(segment => `\`${segment.replaceAll('`', '``')}\``).join('.');
}

function metaOfRow(key: string, row: Row): EntryMeta {
	// JSON null comes back as the string 'null' unless its type says so.
	return metaOfColumns(key, {...row, expires: row['expiresType'] === 'NULL' ? null : row['expires']});
}

/**
 * Bulk operations for a Keyv over @keyv/mysql (MySQL or MariaDB), as SQL on the adapter's own
 * `query`: keyset paging by id (its iterator reads 10 rows a query, recursively), metadata read
 * by the server with JSON functions (bodies stay there), a byte-exact prefix test (its `clear()`
 * uses an unescaped, case-insensitive LIKE that also matches other namespaces), counts from
 * `affectedRows`.
 *
 * It also replaces the adapter's `set`, which sends each value twice in one statement (so a
 * 10 MB body needs a 28 MB packet), by an upsert that sends it once, and gives it a `setMany`
 * (Keyv would otherwise write row by row).
 */
export function mysqlBulkOperations(
	adapter: MysqlAdapterLike,
	prefix: string,
	decode: (raw: string) => Promise<unknown>,
): Pick<CacheStore, 'scan' | 'deleteKeys' | 'deleteWhere' | 'clear'> {
	const format = loadFormat();
	const tableName = adapter.opts.table ?? 'keyv';
	const table = escapeIdentifier(tableName);
	const query = async (sql: string, values: unknown[] = []): Promise<unknown> => adapter.query(format(sql, values));
	const rows = async (sql: string, values: unknown[] = []): Promise<Row[]> => await query(sql, values) as Row[];
	const affected = async (sql: string, values: unknown[] = []): Promise<number> => Number((await query(sql, values) as {affectedRows?: number}).affectedRows ?? 0);
	// Compared as bytes: the default collations ignore case and trailing spaces.
	const inCache = 'LEFT(id, ?) = BINARY ?';
	const inCacheValues = [[...prefix].length, prefix];
	const field = (path: string): string => `JSON_UNQUOTE(JSON_EXTRACT(value, '$.value.${path}'))`;

	const upsert = `INSERT INTO ${table} (id, value) VALUES ? ON DUPLICATE KEY UPDATE value = VALUES(value)`;
	adapter.set = async (key: string, value: unknown) => query(upsert, [[[key, value]]]);
	// Many rows a statement, up to ~4 MB each (MySQL's max_allowed_packet is 16 MB by default, 4 MB before 8.0).
	(adapter as MysqlAdapterLike & {setMany?: unknown}).setMany = async (entries: Array<{key: string; value: unknown}>) => {
		let rowsOfStatement: unknown[][] = [];
		let bytes = 0;
		for (const {key, value} of entries) {
			const size = String(value).length + key.length;
			if (rowsOfStatement.length > 0 && bytes + size > 4_000_000) {
				// eslint-disable-next-line no-await-in-loop -- statements one after another
				await query(upsert, [rowsOfStatement]);
				rowsOfStatement = [];
				bytes = 0;
			}

			rowsOfStatement.push([key, value]);
			bytes += size;
		}

		if (rowsOfStatement.length > 0) {
			await query(upsert, [rowsOfStatement]);
		}
	};
	// TEXT holds 64 KiB: larger responses would fail to be stored, once each. Say so once.
	rows(`SELECT DATA_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'value'`, [tableName])
		.then(([column]) => {
			if (column?.['type'] === 'text' && !warned.has(tableName)) {
				warned.add(tableName);
				process.emitWarning(`requests-cache: the value column of MySQL table ${tableName} is TEXT (64 KiB), too small for most responses: ALTER TABLE ${table} MODIFY value LONGTEXT`, 'RequestsCacheWarning');
			}
		}, (error: unknown) => {
			debug('mysql: could not check the value column: %s', (error as Error).message);
		});

	async function * scan(): AsyncGenerator<EntryMeta[]> {
		let after = '';
		for (;;) {
			// eslint-disable-next-line no-await-in-loop -- pages are read one after another
			const page = await rows(
				`SELECT id, valid, IF(valid, ${field('kind')}, NULL) AS kind, IF(valid, ${field('url')}, NULL) AS url,
				IF(valid, ${field('createdAt')}, NULL) AS createdAt, IF(valid, JSON_TYPE(JSON_EXTRACT(value, '$.value.expires')), NULL) AS expiresType,
				IF(valid, ${field('expires')}, NULL) AS expires, IF(valid, NULL, value) AS raw
				FROM (SELECT id, value, JSON_VALID(value) AS valid FROM ${table} WHERE ${inCache} AND id > ? ORDER BY id LIMIT ${pageSize}) AS page ORDER BY id`,
				[...inCacheValues, after],
			);
			if (page.length === 0) {
				return;
			}

			const metas: EntryMeta[] = [];
			for (const row of page) {
				const key = String(row['id']).slice(prefix.length);
				if (Number(row['valid']) === 1) {
					metas.push(metaOfRow(key, row));
					continue;
				}

				// Not JSON to the server (a compressing serializer?): decode it here.
				// eslint-disable-next-line no-await-in-loop -- rare
				metas.push(await decodeMeta(key, String(row['raw']), async raw => decode(raw as string)));
			}

			after = String(page.at(-1)!['id']);
			yield metas;
			if (page.length < pageSize) {
				return;
			}
		}
	}

	async function deleteKeys(keys: readonly string[]): Promise<number> {
		return deleteInBatches(keys, pageSize, async slice => affected(`DELETE FROM ${table} WHERE id IN (?)`, [slice.map(key => prefix + key)]));
	}

	return {
		scan,
		deleteKeys,
		async deleteWhere(filter) {
			// Rows that are not JSON are decided from a scan; the server decides the rest.
			const conditions = [`coalesce(${field('kind')}, '') NOT IN ('response', 'redirect', 'variants')`];
			const values: unknown[] = [...inCacheValues];
			if (filter.createdBefore !== undefined) {
				conditions.push(`coalesce(${field('createdAt')} + 0, 0) < ?`);
				values.push(filter.createdBefore);
			}

			if (filter.expiredAt !== undefined) {
				conditions.push(`(JSON_TYPE(JSON_EXTRACT(value, '$.value.expires')) <> 'NULL' AND ${field('expires')} + 0 <= ?)`);
				values.push(filter.expiredAt);
			}

			let deleted = await affected(`DELETE FROM ${table} WHERE ${inCache} AND JSON_VALID(value) AND (${conditions.join(' OR ')})`, values);
			const [invalid] = await rows(`SELECT count(*) AS n FROM ${table} WHERE ${inCache} AND NOT JSON_VALID(value)`, inCacheValues);
			if (Number(invalid?.['n'] ?? 0) > 0) {
				const doomed: string[] = [];
				for await (const batch of scan()) {
					for (const meta of batch) {
						if (matchesDeleteFilter(meta, filter)) {
							doomed.push(meta.key);
						}
					}
				}

				deleted += await deleteKeys(doomed);
			}

			return deleted;
		},
		async clear() {
			await query(`DELETE FROM ${table} WHERE ${inCache}`, inCacheValues);
		},
	};
}
