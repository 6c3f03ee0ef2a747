/**
 * The layout of a SQLite cache file: its tables, indexes and the budget's triggers, the check that
 * a file is ours and not newer, and the migration of older layouts, all run when a store opens it.
 */
import {type Connection, SqliteStoreError, problemOf} from './sqlite-file.js';
import {type LruStatements, prepareLruStatements} from './sqlite-statements.js';

/**
 * The version of the layout below; a file with a newer one is left alone. 2 added `value_parts`;
 * 3 made `responses` a STRICT table whose types and CHECK refuse any row that is not a record. A
 * file of layout 1 or 2 is rebuilt to 3 on opening (see {@link migrateResponses}).
 */
export const schemaVersion = 3;
/**
 * Values longer than this are kept in parts of this size: the row keeps the first part and
 * `value_parts` the rest, so that neither writing nor reading a large value makes SQLite hold it
 * whole beside the caller's copy (better-sqlite3 binds a copy of each value, and SQLite builds
 * each row in memory). A file keeps the size it was made with (`meta.part_size`).
 */
export const defaultPartSize = 1024 * 1024;


/**
 * The columns of `responses` (layout 3): STRICT, so that SQLite refuses a value of the wrong type
 * (a real number where an integer belongs, text where bytes belong), and NOT NULL and a CHECK on
 * `kind` wherever a record always has a value. Any row in it is a record's facts and the codec's
 * bytes; whether those bytes decode is the codec's to say. Times are whole milliseconds since the
 * epoch (see {@link SqliteStore.set}).
 */
export const responsesColumns = `(
	key TEXT PRIMARY KEY NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('response', 'redirect', 'variants')),
	url TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires INTEGER,
	delete_at INTEGER,
	value BLOB NOT NULL
) STRICT`;

export const responsesIndexes = `
CREATE INDEX IF NOT EXISTS responses_created_at ON responses (created_at);
CREATE INDEX IF NOT EXISTS responses_expires ON responses (expires) WHERE expires IS NOT NULL;
`;

export const schema = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY NOT NULL, value TEXT);
CREATE TABLE IF NOT EXISTS responses ${responsesColumns};
${responsesIndexes}
CREATE TABLE IF NOT EXISTS value_parts (key TEXT NOT NULL, part INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (key, part));
INSERT OR IGNORE INTO meta (name, value) VALUES ('created_by', 'requests-cache'), ('schema', '${schemaVersion}'), ('part_size', '${defaultPartSize}');
UPDATE meta SET value = '${schemaVersion}' WHERE name = 'schema';
`;

/**
 * A row of a layout 1 or 2 file that is a record: the types the store wrote (another program's
 * INSERT may have left others there). Only these rows are copied into layout 3.
 */
export const recordRow = `typeof(key) = 'text' AND typeof(kind) = 'text' AND kind IN ('response', 'redirect', 'variants') AND typeof(url) = 'text'
	AND typeof(created_at) IN ('integer', 'real') AND typeof(expires) IN ('integer', 'real', 'null')
	AND typeof(delete_at) IN ('integer', 'real', 'null') AND typeof(value) = 'blob'`;

/** A time column of an old row as a whole number of ms, rounded down (`created_at`) or up (`expires`, `delete_at`), as {@link SqliteStore.set} writes them. */
export const floorSql = (column: string): string => `CAST(${column} AS INTEGER) - (CAST(${column} AS INTEGER) > ${column})`;
export const ceilSql = (column: string): string => `CASE WHEN ${column} IS NULL THEN NULL ELSE CAST(${column} AS INTEGER) + (CAST(${column} AS INTEGER) < ${column}) END`;

/** Bytes of the value of a `responses` row (`row` is `new` or `old` in a trigger): its first part and the others. */
export const valueSize = (row: string): string => `(coalesce(length(${row}.value), 0) + coalesce((SELECT sum(length(bytes)) FROM value_parts WHERE key = ${row}.key), 0))`;

/** Keeps the budget's totals when a row goes; clear() takes it away for its one DELETE (a table with a delete trigger is emptied row by row). */
export const lruDeleteTrigger = `CREATE TRIGGER responses_lru_delete AFTER DELETE ON responses WHEN EXISTS (SELECT 1 FROM lru WHERE key = old.key) BEGIN
	UPDATE lru_totals SET entries = entries - 1, bytes = bytes - (SELECT size FROM lru WHERE key = old.key);
	DELETE FROM lru WHERE key = old.key;
END`;

/** The triggers of a budget on `responses`: made with the budget's tables, and again when layout 3 rebuilds `responses` (dropping a table drops its triggers). */
export const lruTriggers = `
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
${lruDeleteTrigger};
`;

/**
 * What a budget needs, made when the first store with a budget opens the file (a file that never
 * had one pays nothing for it): `lru` has a row per record with its last use (a number from
 * `lru_totals.clock`, which every use advances: an order, not a time) and its value's bytes;
 * `lru_totals` has the count and bytes of all records. Triggers on `responses` keep both exact
 * for every writer of the file (any process, the sqlite3 shell), in the writer's own transaction.
 * Records already in the file are taken as used in table order, the oldest first.
 */
export const lruSchema = `
CREATE TABLE lru (key TEXT PRIMARY KEY NOT NULL, last_use INTEGER NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX lru_order ON lru (last_use, key, size);
CREATE TABLE lru_totals (id INTEGER PRIMARY KEY CHECK (id = 0), clock INTEGER NOT NULL, entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT INTO lru (key, last_use, size) SELECT key, row_number() OVER (ORDER BY rowid), ${valueSize('responses')} FROM responses;
INSERT INTO lru_totals (id, clock, entries, bytes) SELECT 0, count(*), count(*), coalesce(sum(size), 0) FROM lru;
${lruTriggers}
`;
/**
 * The layout of the file: {@link schemaVersion} when it is ready, an older one (1, 2, or NaN for
 * a `meta` of ours without a version) to bring up to date, 0 for a file without our tables;
 * throws for a file that is not ours or is newer.
 */
export function checkSchema(db: Connection, file: string): number {
	const tables = new Set((db.prepare('SELECT name FROM sqlite_master WHERE type = \'table\'').all() as Array<{name: string}>).map(row => row.name));
	if (tables.has('meta')) {
		const rows = db.prepare('SELECT name, value FROM meta').all() as Array<{name: unknown; value: unknown}>;
		const meta = new Map(rows.map(row => [row.name, row.value]));
		if (meta.get('created_by') !== 'requests-cache') {
			throw new SqliteStoreError(file, 'foreign-schema', 'has a table `meta` that requests-cache did not make: it is another program\'s database; give the cache its own file');
		}

		const version = Number(meta.get('schema'));
		if (version > schemaVersion) {
			throw new SqliteStoreError(file, 'newer-schema', `was made by a newer requests-cache (layout ${String(meta.get('schema'))}, this one knows ${schemaVersion}); it is left untouched`);
		}

		return version;
	}

	if (tables.has('responses')) {
		throw new SqliteStoreError(file, 'foreign-schema', 'has a table `responses` that requests-cache did not make: it is another program\'s database; give the cache its own file');
	}

	return 0;
}

export function hasTable(db: Connection, name: string): boolean {
	return db.prepare('SELECT 1 FROM sqlite_master WHERE type = \'table\' AND name = ?').get(name) !== undefined;
}

/**
 * Make the layout, or bring an older one up to date, in one IMMEDIATE transaction. Idempotent:
 * processes opening a new or old file at once each run it, one after another, and each looks at
 * the layout again once it holds the write lock (the first one did the work).
 */
export function createSchema(db: Connection, file: string): void {
	db.transaction(() => {
		const layout = checkSchema(db, file);
		if (layout === schemaVersion) {
			return;
		}

		if (hasTable(db, 'responses')) {
			migrateResponses(db);
		}

		db.exec(schema);
		// Entries of requests-cache before this layout (a @keyv/sqlite table) are in a format this
		// version cannot read: drop them, and the table when nothing else is in it.
		if (hasTable(db, 'keyv')) {
			db.prepare('DELETE FROM keyv WHERE key >= \'requests-cache:\' AND key < \'requests-cache;\'').run();
			if (db.prepare('SELECT 1 FROM keyv LIMIT 1').get() === undefined) {
				db.exec('DROP TABLE keyv');
			}
		}
	}).immediate();
}

/**
 * Inside createSchema's transaction: rebuild the `responses` table of a layout 1 or 2 file as
 * layout 3's STRICT table. Only rows that are records are copied ({@link recordRow}; another
 * program's rows with wrong kinds or types are dropped, as sweeps dropped them before), with their
 * rowids (table order is scan order and the budget's first uses) and their times made whole ms;
 * parts of values whose row went are deleted. The old table goes with its indexes (the partial
 * index `responses_foreign` of layout 2 among them) and triggers; the caller makes the indexes
 * again, and the budget's triggers are made again here, with its totals made exact for the rows
 * that were not copied.
 */
export function migrateResponses(db: Connection): void {
	db.exec(`DROP TABLE IF EXISTS responses_layout3;
		CREATE TABLE responses_layout3 ${responsesColumns};
		INSERT INTO responses_layout3 (rowid, key, kind, url, created_at, expires, delete_at, value)
			SELECT rowid, key, kind, url, ${floorSql('created_at')}, ${ceilSql('expires')}, ${ceilSql('delete_at')}, value
			FROM responses WHERE ${recordRow} ORDER BY rowid;
		DROP TABLE responses;
		ALTER TABLE responses_layout3 RENAME TO responses;`);
	if (hasTable(db, 'value_parts')) {
		db.exec('DELETE FROM value_parts WHERE key NOT IN (SELECT key FROM responses)');
	}

	if (hasTable(db, 'lru') && hasTable(db, 'lru_totals')) {
		db.exec(`DELETE FROM lru WHERE key NOT IN (SELECT key FROM responses);
			UPDATE lru_totals SET entries = (SELECT count(*) FROM lru), bytes = (SELECT coalesce(sum(size), 0) FROM lru);
			${lruTriggers}`);
	}
}

export function hasLru(db: Connection): boolean {
	return hasTable(db, 'lru_totals');
}

/**
 * The budget's statements, after making its tables and triggers unless another store made them
 * already. A file that can only be read and has none gets none (its writes fail anyway).
 */
export function openLru(db: Connection): LruStatements | undefined {
	if (!hasLru(db)) {
		try {
			db.transaction(() => {
				if (!hasLru(db)) {
					db.exec(lruSchema);
				}
			}).immediate();
		} catch (error) {
			if (problemOf(error) !== 'read-only') {
				throw error;
			}

			return undefined;
		}
	}

	return prepareLruStatements(db);
}

/** The part size of the file (`meta.part_size`), or the default for a file that has none. */
export function partSizeOf(db: Connection): number {
	const row = db.prepare('SELECT value FROM meta WHERE name = \'part_size\'').get() as {value: unknown} | undefined;
	const size = Number(row?.value);
	return Number.isSafeInteger(size) && size > 0 ? size : defaultPartSize;
}
