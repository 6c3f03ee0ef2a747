import type {EntryMeta} from '../cache/entry.js';
import type {CacheStore} from './store.js';
import {decodeMeta, deleteInBatches, matchesDeleteFilter, metaOfColumns} from './batches.js';

/** @keyv/postgres' query function: SQL with `$n` parameters, resolving to the rows. */
export type PostgresQuery = (sql: string, values?: unknown[]) => Promise<Array<Record<string, unknown>>>;

/** What is needed of a @keyv/postgres adapter. */
export type PostgresAdapterLike = {
	query: PostgresQuery;
	opts: {dialect?: string; schema?: string; table?: string};
};

const pageSize = 5000;

/** True for a @keyv/postgres adapter (or one that quacks like it). */
export function isPostgresAdapter(adapter: unknown): adapter is PostgresAdapterLike {
	const candidate = adapter as Partial<PostgresAdapterLike> | undefined;
	return typeof candidate?.query === 'function' && candidate.opts?.dialect === 'postgres';
}

function isJsonError(error: unknown): boolean {
	// 22P02: invalid_text_representation (a value that is not JSON, e.g. compressed).
	return (error as {code?: unknown})?.code === '22P02';
}


/**
 * Bulk operations for a Keyv over @keyv/postgres, as SQL on the adapter's own `query`: keyset
 * paging by key (its iterator reads 10 rows a query and stops silently on an error), metadata
 * read by the server (bodies stay there), a prefix test with `starts_with` (its `clear()` uses an
 * unescaped LIKE that also matches other namespaces), counts from `RETURNING`. Values the server
 * cannot read as JSON (a compressing serializer) are decoded here with `decode` instead.
 */
export function postgresBulkOperations(
	adapter: PostgresAdapterLike,
	prefix: string,
	decode: (raw: string) => Promise<unknown>,
): Pick<CacheStore, 'scan' | 'deleteKeys' | 'deleteWhere' | 'clear'> {
	// The same (unquoted) table name the adapter's own statements use.
	const table = `${adapter.opts.schema ?? 'public'}.${adapter.opts.table ?? 'keyv'}`;
	const query: PostgresQuery = async (sql, values) => adapter.query(sql, values);

	async function decodeRows(rows: Array<Record<string, unknown>>): Promise<EntryMeta[]> {
		// Rare: values the server cannot read as JSON.
		return Promise.all(rows.map(async row => decodeMeta(String(row['key']).slice(prefix.length), String(row['value']), async raw => decode(raw as string))));
	}

	async function * scan(): AsyncGenerator<EntryMeta[]> {
		let after = '';
		for (;;) {
			let rows: Array<Record<string, unknown>>;
			let metas: EntryMeta[];
			try {
				// eslint-disable-next-line no-await-in-loop -- pages are read one after another
				rows = await query(
					// The page is cut first (a LIMIT subquery is never flattened), so only its rows are parsed.
					`SELECT key, v->>'kind' AS kind, v->>'url' AS url, v->>'createdAt' AS "createdAt", v->>'expires' AS expires
					FROM (SELECT key, value::jsonb->'value' AS v
						FROM (SELECT key, value FROM ${table} WHERE starts_with(key, $1) AND key > $2 ORDER BY key LIMIT ${pageSize}) AS page) AS parsed
					ORDER BY key`,
					[prefix, after],
				);
				metas = rows.map(row => metaOfColumns(String(row['key']).slice(prefix.length), row));
			} catch (error) {
				if (!isJsonError(error)) {
					throw error;
				}

				// eslint-disable-next-line no-await-in-loop
				rows = await query(`SELECT key, value FROM ${table} WHERE starts_with(key, $1) AND key > $2 ORDER BY key LIMIT ${pageSize}`, [prefix, after]);
				// eslint-disable-next-line no-await-in-loop
				metas = await decodeRows(rows);
			}

			if (rows.length === 0) {
				return;
			}

			after = String(rows.at(-1)!['key']);
			yield metas;
			if (rows.length < pageSize) {
				return;
			}
		}
	}

	async function deleteKeys(keys: readonly string[]): Promise<number> {
		return deleteInBatches(keys, pageSize, async slice => {
			const [row] = await query(`WITH gone AS (DELETE FROM ${table} WHERE key = ANY($1::text[]) RETURNING 1) SELECT count(*)::int AS n FROM gone`, [slice.map(key => prefix + key)]);
			return Number(row?.['n'] ?? 0);
		});
	}

	return {
		scan,
		deleteKeys,
		async deleteWhere(filter) {
			const conditions = [`coalesce(v->>'kind', '') NOT IN ('response', 'redirect', 'variants')`];
			const values: unknown[] = [prefix];
			if (filter.createdBefore !== undefined) {
				values.push(filter.createdBefore);
				conditions.push(`coalesce((v->>'createdAt')::float8, 0) < $${values.length}`);
			}

			if (filter.expiredAt !== undefined) {
				values.push(filter.expiredAt);
				conditions.push(`(jsonb_typeof(v->'expires') = 'number' AND (v->>'expires')::float8 <= $${values.length})`);
			}

			try {
				const [row] = await query(
					`WITH gone AS (DELETE FROM ${table} WHERE key IN (
						SELECT key FROM (SELECT key, value::jsonb->'value' AS v FROM ${table} WHERE starts_with(key, $1)) AS entries
						WHERE ${conditions.join(' OR ')}) RETURNING 1)
					SELECT count(*)::int AS n FROM gone`,
					values,
				);
				return Number(row?.['n'] ?? 0);
			} catch (error) {
				if (!isJsonError(error)) {
					throw error;
				}

				// Some values are not JSON to the server: decide here, from a full scan.
				const doomed: string[] = [];
				for await (const batch of scan()) {
					for (const meta of batch) {
						if (matchesDeleteFilter(meta, filter)) {
							doomed.push(meta.key);
						}
					}
				}

				return deleteKeys(doomed);
			}
		},
		async clear() {
			await query(`DELETE FROM ${table} WHERE starts_with(key, $1)`, [prefix]);
		},
	};
}
