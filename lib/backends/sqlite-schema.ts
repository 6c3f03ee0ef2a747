/** The layout of a SQLite cache file (docs/backends.md): tables, the budget's triggers, checks and migrations. */
import {type Connection, SqliteStoreError, problemOf} from './sqlite-file.js';
import {type LruStatements, prepareLruStatements} from './sqlite-statements.js';

/** The version of the layout below (2 added `value_parts`, 3 made `responses` STRICT); a file with a newer one is left alone. */
export const schemaVersion = 3;
/** Values longer than this are kept in parts (docs/backends.md, "Large values in parts"); a file keeps its own (`meta.part_size`). */
const defaultPartSize = 1024 * 1024;

/** The columns of `responses` (layout 3): STRICT, so SQLite refuses any row that is not a record. */
const responsesColumns = `(
	key TEXT PRIMARY KEY NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('response', 'redirect', 'variants')),
	url TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires INTEGER,
	delete_at INTEGER,
	value BLOB NOT NULL
) STRICT`;

const schema = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY NOT NULL, value TEXT);
CREATE TABLE IF NOT EXISTS responses ${responsesColumns};
CREATE INDEX IF NOT EXISTS responses_created_at ON responses (created_at);
CREATE INDEX IF NOT EXISTS responses_expires ON responses (expires) WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS value_parts (key TEXT NOT NULL, part INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (key, part));
INSERT OR IGNORE INTO meta (name, value) VALUES ('created_by', 'requests-cache'), ('schema', '${schemaVersion}'), ('part_size', '${defaultPartSize}');
UPDATE meta SET value = '${schemaVersion}' WHERE name = 'schema';
`;

/** A row of a layout 1 or 2 file that is a record (another program may have left others): only these go into layout 3. */
const recordRow = `typeof(key) = 'text' AND typeof(kind) = 'text' AND kind IN ('response', 'redirect', 'variants') AND typeof(url) = 'text'
	AND typeof(created_at) IN ('integer', 'real') AND typeof(expires) IN ('integer', 'real', 'null')
	AND typeof(delete_at) IN ('integer', 'real', 'null') AND typeof(value) = 'blob'`;

/** A time column of an old row in whole ms, rounded down (`created_at`) or up, as `SqliteStore.set` writes them. */
const floorSql = (column: string): string => `CAST(${column} AS INTEGER) - (CAST(${column} AS INTEGER) > ${column})`;
const ceilSql = (column: string): string => `CASE WHEN ${column} IS NULL THEN NULL ELSE CAST(${column} AS INTEGER) + (CAST(${column} AS INTEGER) < ${column}) END`;

/** Bytes of the value of a `responses` row (`row` is `new` or `old` in a trigger), its parts included. */
const valueSize = (row: string): string => `(coalesce(length(${row}.value), 0) + coalesce((SELECT sum(length(bytes)) FROM value_parts WHERE key = ${row}.key), 0))`;

/** Keeps the budget's totals when a row goes; clear() drops it for its one DELETE (with it, a table is emptied row by row). */
export const lruDeleteTrigger = `CREATE TRIGGER responses_lru_delete AFTER DELETE ON responses WHEN EXISTS (SELECT 1 FROM lru WHERE key = old.key) BEGIN
	UPDATE lru_totals SET entries = entries - 1, bytes = bytes - (SELECT size FROM lru WHERE key = old.key);
	DELETE FROM lru WHERE key = old.key;
END`;

/** The budget's triggers: made with its tables, and again when layout 3 rebuilds `responses` (which drops them). */
const lruTriggers = `
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

/** What a budget needs (docs/backends.md, "Size bounds"), made when the first store with one opens the file. */
const lruSchema = `
CREATE TABLE lru (key TEXT PRIMARY KEY NOT NULL, last_use INTEGER NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX lru_order ON lru (last_use, key, size);
CREATE TABLE lru_totals (id INTEGER PRIMARY KEY CHECK (id = 0), clock INTEGER NOT NULL, entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT INTO lru (key, last_use, size) SELECT key, row_number() OVER (ORDER BY rowid), ${valueSize('responses')} FROM responses;
INSERT INTO lru_totals (id, clock, entries, bytes) SELECT 0, count(*), count(*), coalesce(sum(size), 0) FROM lru;
${lruTriggers}
`;

/** The file's layout (0 for none of our tables, NaN for our `meta` without a version); throws for a file not ours or newer. */
export function checkSchema(db: Connection, file: string): number {
	if (hasTable(db, 'meta')) {
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

	if (hasTable(db, 'responses')) {
		throw new SqliteStoreError(file, 'foreign-schema', 'has a table `responses` that requests-cache did not make: it is another program\'s database; give the cache its own file');
	}

	return 0;
}

/** Whether the file has the table `name` (`lru_totals`: the budget's tables). */
export function hasTable(db: Connection, name: string): boolean {
	return db.prepare('SELECT 1 FROM sqlite_master WHERE type = \'table\' AND name = ?').get(name) !== undefined;
}

/** Make the layout, or bring an older one up to date, in one IMMEDIATE transaction that checks the layout again under the lock. */
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
		// Entries of versions before this layout (a @keyv/sqlite table) cannot be read: drop them.
		if (hasTable(db, 'keyv')) {
			db.prepare('DELETE FROM keyv WHERE key >= \'requests-cache:\' AND key < \'requests-cache;\'').run();
			if (db.prepare('SELECT 1 FROM keyv LIMIT 1').get() === undefined) {
				db.exec('DROP TABLE keyv');
			}
		}
	}).immediate();
}

/** Inside createSchema's transaction: rebuild a layout 1 or 2 `responses` as layout 3's, keeping rowids (scan order, first uses). */
function migrateResponses(db: Connection): void {
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

/** The budget's statements, its tables made if missing; none for a read-only file without them (its writes fail anyway). */
export function openLru(db: Connection): LruStatements | undefined {
	if (!hasTable(db, 'lru_totals')) {
		try {
			db.transaction(() => {
				if (!hasTable(db, 'lru_totals')) {
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
