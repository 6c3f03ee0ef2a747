import {createRequire} from 'node:module';
import path from 'node:path';
import {SqliteStore, sqlitePath} from '../../lib/backends/sqlite.js';
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
 * Write a row that the store did not write as a record: an unknown kind, text where times belong,
 * and text for the value (another program's INSERT).
 */
export function insertForeignRow(file: string, key: string): void {
	const db = rawSqlite(file);
	try {
		db.prepare('INSERT OR REPLACE INTO responses (key, kind, url, created_at, expires, delete_at, value) VALUES (?, ?, ?, ?, ?, ?, ?)')
			.run(key, 'not-a-kind', 42, 'yesterday', 'never', null, 'plain text, not bytes');
	} finally {
		db.close();
	}
}

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
		open: name => new SqliteStore(fileOf(name)),
		async injectForeign(name, key) {
			insertForeignRow(sqlitePath(fileOf(name)), key);
		},
		async teardown() {
			if (dir !== undefined) {
				removeDir(dir);
			}
		},
	};
}
