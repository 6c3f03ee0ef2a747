import {createRequire} from 'node:module';
import path from 'node:path';
import {SqliteStore} from '../../lib/backends/sqlite.js';
import type {StoreTarget} from '../backends/store-conformance.js';
import {removeDir, tempDir} from './temp-dir.js';

/** The few calls of better-sqlite3 that specs make on a cache file, beside the store. */
export type RawSqlite = {
	prepare(sql: string): {
		get(...parameters: unknown[]): unknown;
		all(...parameters: unknown[]): unknown[];
		run(...parameters: unknown[]): {changes: number};
	};
	exec(sql: string): void;
	pragma(source: string, options?: {simple?: boolean}): unknown;
	close(): void;
};

const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options?: {timeout?: number; readonly?: boolean}) => RawSqlite;

/** A second connection to a cache file (another program, as far as the store can tell). */
export function rawSqlite(file: string, options: {readonly?: boolean} = {}): RawSqlite {
	return new Database(file, {timeout: 10_000, ...options});
}

/** The single value of a one-row, one-column query. */
export function scalar(db: RawSqlite, sql: string, ...parameters: unknown[]): unknown {
	return Object.values(db.prepare(sql).get(...parameters) as Record<string, unknown>)[0];
}

/**
 * A foreign INSERT into `responses` (another program's row): an unknown kind, a number where the
 * URL's text belongs, text where times and bytes belong. A layout 3 file refuses it.
 */
export function insertForeignRow(db: RawSqlite, key: string): void {
	db.prepare('INSERT OR REPLACE INTO responses (key, kind, url, created_at, expires, delete_at, value) VALUES (?, ?, ?, ?, ?, ?, ?)')
		.run(key, 'not-a-kind', 42, 'yesterday', 'never', null, 'plain text, not bytes');
}

/** The layout 2 of a cache file, as requests-cache wrote it (kept here: the library only knows how to bring it up to date). */
const layout2Foreign = `(typeof(kind) != 'text' OR kind NOT IN ('response', 'redirect', 'variants') OR typeof(url) != 'text'
	OR typeof(created_at) NOT IN ('integer', 'real') OR typeof(expires) NOT IN ('integer', 'real', 'null')
	OR typeof(delete_at) NOT IN ('integer', 'real', 'null') OR typeof(value) != 'blob')`;
export const layout2Schema = `
CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value TEXT);
CREATE TABLE responses (key TEXT PRIMARY KEY NOT NULL, kind TEXT, url TEXT, created_at INTEGER, expires INTEGER, delete_at INTEGER, value BLOB);
CREATE INDEX responses_created_at ON responses (created_at);
CREATE INDEX responses_expires ON responses (expires) WHERE expires IS NOT NULL;
CREATE INDEX responses_foreign ON responses (key) WHERE ${layout2Foreign};
CREATE TABLE value_parts (key TEXT NOT NULL, part INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (key, part));
INSERT INTO meta (name, value) VALUES ('created_by', 'requests-cache'), ('schema', '2'), ('part_size', '1048576');
`;

const valueSize = (row: string): string => `(coalesce(length(${row}.value), 0) + coalesce((SELECT sum(length(bytes)) FROM value_parts WHERE key = ${row}.key), 0))`;

/** The budget's tables and triggers as a store with a budget made them in a layout 2 file. */
export const layout2LruSchema = `
CREATE TABLE lru (key TEXT PRIMARY KEY NOT NULL, last_use INTEGER NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX lru_order ON lru (last_use, key, size);
CREATE TABLE lru_totals (id INTEGER PRIMARY KEY CHECK (id = 0), clock INTEGER NOT NULL, entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT INTO lru (key, last_use, size) SELECT key, row_number() OVER (ORDER BY rowid), ${valueSize('responses')} FROM responses;
INSERT INTO lru_totals (id, clock, entries, bytes) SELECT 0, count(*), count(*), coalesce(sum(size), 0) FROM lru;
CREATE TRIGGER responses_lru_insert AFTER INSERT ON responses BEGIN
	UPDATE lru_totals SET clock = clock + 1,
		entries = entries + 1 - (SELECT count(*) FROM lru WHERE key = new.key),
		bytes = bytes + ${valueSize('new')} - coalesce((SELECT size FROM lru WHERE key = new.key), 0);
	INSERT OR REPLACE INTO lru (key, last_use, size) VALUES (new.key, (SELECT clock FROM lru_totals), ${valueSize('new')});
END;
CREATE TRIGGER responses_lru_update AFTER UPDATE OF key, value ON responses BEGIN
	UPDATE lru_totals SET clock = clock + 1,
		entries = entries + 1 - (SELECT count(*) FROM lru WHERE key IN (old.key, new.key)),
		bytes = bytes + ${valueSize('new')} - coalesce((SELECT sum(size) FROM lru WHERE key IN (old.key, new.key)), 0);
	DELETE FROM lru WHERE key = old.key;
	INSERT OR REPLACE INTO lru (key, last_use, size) VALUES (new.key, (SELECT clock FROM lru_totals), ${valueSize('new')});
END;
CREATE TRIGGER responses_lru_delete AFTER DELETE ON responses WHEN EXISTS (SELECT 1 FROM lru WHERE key = old.key) BEGIN
	UPDATE lru_totals SET entries = entries - 1, bytes = bytes - (SELECT size FROM lru WHERE key = old.key);
	DELETE FROM lru WHERE key = old.key;
END;
`;

/** The SQLite backend for the store conformance suite: one file per cache name, in a temporary directory. */
export function sqliteStoreTarget(): StoreTarget {
	let dir: string | undefined;
	const fileOf = (name: string): string => {
		dir ??= tempDir('store-sqlite');
		return path.join(dir, name);
	};

	return {
		name: 'sqlite',
		shared: true,
		// No injectForeign: the table is STRICT, and SQLite refuses a row that is not a record
		// (spec/backends/sqlite-files.spec.ts, 'rows another program writes').
		open: name => new SqliteStore(fileOf(name)),
		async teardown() {
			if (dir !== undefined) {
				removeDir(dir);
			}
		},
	};
}
