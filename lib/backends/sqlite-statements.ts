/** The prepared statements of an open SQLite cache file, and how a row's columns become a record's facts. */
import type {Connection} from './sqlite-file.js';
import {type RecordKind, type RecordMeta, corruptMeta} from './store.js';

/** Rows per page of `scan`. */
export const pageSize = 5000;

/** A row's columns, as read by `get` (with the value) and `scan` (with the value's type only). */
export type Row = {row_id?: number; key: unknown; kind: unknown; url: unknown; created_at: unknown; expires: unknown; delete_at: unknown; value?: unknown; value_type?: unknown};

/** Whether a column holds a record's kind. */
export function isKind(kind: unknown): kind is RecordKind {
	return kind === 'response' || kind === 'redirect' || kind === 'variants';
}

function isTimeOrNull(value: unknown): value is number | null {
	return value === null || (typeof value === 'number' && Number.isFinite(value));
}

/** The facts of a row, or {@link corruptMeta} when its columns are not a record's (possible in a layout 2 file read as it is). */
export function metaOfRow(row: Row): RecordMeta {
	const key = typeof row.key === 'string' ? row.key : String(row.key);
	const {kind, url, created_at: createdAt, expires, delete_at: deleteAt} = row;
	if (row.value_type !== 'blob' || !isKind(kind) || typeof url !== 'string' || typeof createdAt !== 'number' || !Number.isFinite(createdAt) || !isTimeOrNull(expires) || !isTimeOrNull(deleteAt)) {
		return corruptMeta(key);
	}

	return {key, kind, url, createdAt, expires, deleteAt};
}

export type Statements = ReturnType<typeof prepareStatements>;
export type LruStatements = ReturnType<typeof prepareLruStatements>;

/** The statements of an open connection. */
export function prepareStatements(db: Connection) {
	// typeof() reads a column's type from the row header, never the value itself.
	const facts = 'key, kind, url, created_at, expires, delete_at, typeof(value) AS value_type';
	return {
		get: db.prepare(`SELECT ${facts}, value FROM responses WHERE key = ?`),
		upsert: db.prepare(`INSERT INTO responses (key, kind, url, created_at, expires, delete_at, value) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, url = excluded.url, created_at = excluded.created_at,
			expires = excluded.expires, delete_at = excluded.delete_at, value = excluded.value`),
		delete: db.prepare('DELETE FROM responses WHERE key = ?'),
		// Table order: one pass along the b-tree, and an upsert keeps a row's rowid (docs/backends.md).
		firstPage: db.prepare(`SELECT rowid AS row_id, ${facts} FROM responses ORDER BY rowid LIMIT ${pageSize}`),
		nextPage: db.prepare(`SELECT rowid AS row_id, ${facts} FROM responses WHERE rowid > ? ORDER BY rowid LIMIT ${pageSize}`),
		deleteCreatedBefore: db.prepare('DELETE FROM responses WHERE created_at < ?'),
		deleteExpiredAt: db.prepare('DELETE FROM responses WHERE expires IS NOT NULL AND expires <= ?'),
		deleteEither: db.prepare('DELETE FROM responses WHERE created_at < ? OR (expires IS NOT NULL AND expires <= ?)'),
		clear: db.prepare('DELETE FROM responses'),
		insertPart: db.prepare('INSERT INTO value_parts (key, part, bytes) VALUES (?, ?, ?)'),
		deleteParts: db.prepare('DELETE FROM value_parts WHERE key = ?'),
		// length() of a BLOB column is read from the row header: the parts themselves are not read.
		partsLength: db.prepare('SELECT coalesce(sum(length(bytes)), 0) AS length FROM value_parts WHERE key = ?'),
		parts: db.prepare('SELECT part, bytes FROM value_parts WHERE key = ? ORDER BY part'),
		deleteOrphanParts: db.prepare('DELETE FROM value_parts WHERE key NOT IN (SELECT key FROM responses)'),
		clearParts: db.prepare('DELETE FROM value_parts'),
	};
}

/** The statements of a budget, on the tables of `lruSchema` (lib/backends/sqlite-schema.ts). */
export function prepareLruStatements(db: Connection) {
	return {
		totals: db.prepare('SELECT entries, bytes FROM lru_totals'),
		advanceClock: db.prepare('UPDATE lru_totals SET clock = clock + ? RETURNING clock'),
		touch: db.prepare('UPDATE lru SET last_use = ? WHERE key = ?'),
		// On the covering index lru_order; a write evicts one or two records most of the time, so the first page is short.
		oldest: db.prepare('SELECT key, size, last_use FROM lru ORDER BY last_use, key LIMIT 4'),
		older: db.prepare('SELECT key, size, last_use FROM lru WHERE (last_use, key) > (?, ?) ORDER BY last_use, key LIMIT 64'),
		evict: db.prepare('DELETE FROM responses WHERE key = ? RETURNING kind, url'),
		// A use without its record (left only by hand): uncounted, then dropped.
		uncount: db.prepare(`UPDATE lru_totals SET entries = entries - (SELECT count(*) FROM lru WHERE key = ?1),
			bytes = bytes - coalesce((SELECT size FROM lru WHERE key = ?1), 0)`),
		dropUse: db.prepare('DELETE FROM lru WHERE key = ?'),
	};
}
