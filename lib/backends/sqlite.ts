import {Buffer} from 'node:buffer';
import {closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {assertKnownOptions, optionRangeError, optionTypeError} from '../errors.js';
import {BUDGET_OPTION_NAMES, type BudgetOptions, normalizeBudget, overBudget} from './budget.js';
import {SqliteLease} from './sqlite-lease.js';
import type {CacheStore, DeleteFilter, EvictedRecord, FlightLease, RecordKind, RecordMeta, SetResult, StoreBudget, StoreRecord} from './store.js';
import {corruptMeta} from './store.js';
import {type OwnWrite, WalHotCache} from './wal-hot-cache.js';

/** Options of the SQLite backend. */
export type SqliteStoreOptions = BudgetOptions & {
	/** Milliseconds a writer waits for another connection's write lock before failing. @default 10000 */
	busyTimeout?: number;
	/**
	 * Bytes of recently read records kept in this process, exactly as current as the file (see
	 * `WalHotCache`); 0 turns it off. @default 33554432 (32 MiB)
	 */
	hotCacheBytes?: number;
	/**
	 * What to do when the file is not a SQLite database or is malformed: `'fail'` leaves it
	 * untouched and every operation rejects with an error that says so; `'rename'` moves it aside
	 * to `<file>.corrupt-<time>` (see {@link resetSqliteFile}) and starts a new cache.
	 * @default 'fail'
	 */
	onCorrupt?: 'fail' | 'rename';
};

/** Why a SQLite cache file cannot be used. */
export type SqliteProblem = 'directory' | 'not-a-database' | 'malformed' | 'read-only' | 'cannot-open' | 'foreign-schema' | 'newer-schema' | 'driver' | 'closed' | 'failed';

/** A SQLite store's failure: names the file and what is wrong with it; the driver's error is the `cause`. */
export class SqliteStoreError extends Error {
	/** The database file (absolute), or ':memory:'. */
	readonly file: string;
	readonly problem: SqliteProblem;

	constructor(file: string, problem: SqliteProblem, message: string, options?: {cause?: unknown}) {
		super(`SQLite cache ${file}: ${message}`, options);
		this.name = 'SqliteStoreError';
		this.file = file;
		this.problem = problem;
	}
}

// The subset of better-sqlite3's API used here (the package ships no types).
type Statement = {
	get(...parameters: unknown[]): unknown;
	all(...parameters: unknown[]): unknown[];
	iterate(...parameters: unknown[]): IterableIterator<unknown>;
	run(...parameters: unknown[]): {changes: number};
};
type Transaction<A extends unknown[], R> = {(...arguments_: A): R; immediate(...arguments_: A): R};
type Connection = {
	prepare(sql: string): Statement;
	exec(sql: string): void;
	pragma(source: string, options?: {simple?: boolean}): unknown;
	transaction<A extends unknown[], R>(run: (...arguments_: A) => R): Transaction<A, R>;
	close(): void;
};
type ConnectionClass = new (file: string, options: {timeout: number}) => Connection;

/**
 * The version of the layout below; a file with a newer one is left alone. 2 added `value_parts`;
 * 3 made `responses` a STRICT table whose types and CHECK refuse any row that is not a record. A
 * file of layout 1 or 2 is rebuilt to 3 on opening (see {@link migrateResponses}).
 */
const schemaVersion = 3;
/**
 * Values longer than this are kept in parts of this size: the row keeps the first part and
 * `value_parts` the rest, so that neither writing nor reading a large value makes SQLite hold it
 * whole beside the caller's copy (better-sqlite3 binds a copy of each value, and SQLite builds
 * each row in memory). A file keeps the size it was made with (`meta.part_size`).
 */
const defaultPartSize = 1024 * 1024;
/** How long the uses of records read by this process may wait before they are written to the file, ms. */
const useFlushDelay = 1000;
/** Least recently used rows read at once when choosing what to evict. */
const evictionPage = 64;
const pageSize = 5000;
const walSizeLimit = 64 * 1024 * 1024;
const sqliteMagic = Buffer.from('SQLite format 3\0', 'latin1');
const knownOptions: ReadonlySet<string> = new Set(['busyTimeout', 'hotCacheBytes', 'onCorrupt', ...BUDGET_OPTION_NAMES]);
const owner = 'SqliteStore';

/**
 * The columns of `responses` (layout 3): STRICT, so that SQLite refuses a value of the wrong type
 * (a real number where an integer belongs, text where bytes belong), and NOT NULL and a CHECK on
 * `kind` wherever a record always has a value. Any row in it is a record's facts and the codec's
 * bytes; whether those bytes decode is the codec's to say. Times are whole milliseconds since the
 * epoch (see {@link SqliteStore.set}).
 */
const responsesColumns = `(
	key TEXT PRIMARY KEY NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('response', 'redirect', 'variants')),
	url TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires INTEGER,
	delete_at INTEGER,
	value BLOB NOT NULL
) STRICT`;

const responsesIndexes = `
CREATE INDEX IF NOT EXISTS responses_created_at ON responses (created_at);
CREATE INDEX IF NOT EXISTS responses_expires ON responses (expires) WHERE expires IS NOT NULL;
`;

const schema = `
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
const recordRow = `typeof(key) = 'text' AND typeof(kind) = 'text' AND kind IN ('response', 'redirect', 'variants') AND typeof(url) = 'text'
	AND typeof(created_at) IN ('integer', 'real') AND typeof(expires) IN ('integer', 'real', 'null')
	AND typeof(delete_at) IN ('integer', 'real', 'null') AND typeof(value) = 'blob'`;

/** A time column of an old row as a whole number of ms, rounded down (`created_at`) or up (`expires`, `delete_at`), as {@link SqliteStore.set} writes them. */
const floorSql = (column: string): string => `CAST(${column} AS INTEGER) - (CAST(${column} AS INTEGER) > ${column})`;
const ceilSql = (column: string): string => `CASE WHEN ${column} IS NULL THEN NULL ELSE CAST(${column} AS INTEGER) + (CAST(${column} AS INTEGER) < ${column}) END`;

/** Bytes of the value of a `responses` row (`row` is `new` or `old` in a trigger): its first part and the others. */
const valueSize = (row: string): string => `(coalesce(length(${row}.value), 0) + coalesce((SELECT sum(length(bytes)) FROM value_parts WHERE key = ${row}.key), 0))`;

/** Keeps the budget's totals when a row goes; clear() takes it away for its one DELETE (a table with a delete trigger is emptied row by row). */
const lruDeleteTrigger = `CREATE TRIGGER responses_lru_delete AFTER DELETE ON responses WHEN EXISTS (SELECT 1 FROM lru WHERE key = old.key) BEGIN
	UPDATE lru_totals SET entries = entries - 1, bytes = bytes - (SELECT size FROM lru WHERE key = old.key);
	DELETE FROM lru WHERE key = old.key;
END`;

/** The triggers of a budget on `responses`: made with the budget's tables, and again when layout 3 rebuilds `responses` (dropping a table drops its triggers). */
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

/**
 * What a budget needs, made when the first store with a budget opens the file (a file that never
 * had one pays nothing for it): `lru` has a row per record with its last use (a number from
 * `lru_totals.clock`, which every use advances: an order, not a time) and its value's bytes;
 * `lru_totals` has the count and bytes of all records. Triggers on `responses` keep both exact
 * for every writer of the file (any process, the sqlite3 shell), in the writer's own transaction.
 * Records already in the file are taken as used in table order, the oldest first.
 */
const lruSchema = `
CREATE TABLE lru (key TEXT PRIMARY KEY NOT NULL, last_use INTEGER NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX lru_order ON lru (last_use, key, size);
CREATE TABLE lru_totals (id INTEGER PRIMARY KEY CHECK (id = 0), clock INTEGER NOT NULL, entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
INSERT INTO lru (key, last_use, size) SELECT key, row_number() OVER (ORDER BY rowid), ${valueSize('responses')} FROM responses;
INSERT INTO lru_totals (id, clock, entries, bytes) SELECT 0, count(*), count(*), coalesce(sum(size), 0) FROM lru;
${lruTriggers}
`;

/** `http_cache` → `http_cache.sqlite`; a name with an extension, or `:memory:`, is used as is. */
export function sqlitePath(cacheName: string): string {
	if (cacheName === ':memory:') {
		return cacheName;
	}

	return path.extname(cacheName) === '' ? `${cacheName}.sqlite` : cacheName;
}

/**
 * Move a SQLite cache file that cannot be used (not a database, malformed) aside to
 * `<file>.corrupt-<time>`, with its `-wal` and `-shm` files, so that the next store opened on
 * `cacheName` starts a new cache. Nothing is deleted. Call it while no process has the cache open.
 * Returns where the file went, or undefined when there was no file.
 *
 * @example
 * const aside = resetSqliteFile('http_cache'); // 'http_cache.sqlite.corrupt-2026-12-01T02-00-13-000Z'
 */
export function resetSqliteFile(cacheName: string): string | undefined {
	const file = sqlitePath(cacheName);
	if (file === ':memory:' || !existsSync(file)) {
		return undefined;
	}

	if (statSync(file).isDirectory()) {
		throw new SqliteStoreError(path.resolve(file), 'directory', 'is a directory, not a cache file: it is not moved');
	}

	const stamp = new Date().toISOString().replaceAll(/[:.]/g, '-');
	let aside = `${file}.corrupt-${stamp}`;
	for (let index = 1; existsSync(aside); index++) {
		aside = `${file}.corrupt-${stamp}-${index}`;
	}

	// The WAL may hold the latest pages of the file: it goes with it, under the matching name.
	for (const suffix of ['-wal', '-shm']) {
		if (existsSync(file + suffix)) {
			renameSync(file + suffix, aside + suffix);
		}
	}

	renameSync(file, aside);
	return aside;
}

/** Validated options: the budget apart (undefined for none). */
type Settings = Required<Pick<SqliteStoreOptions, 'busyTimeout' | 'hotCacheBytes' | 'onCorrupt'>> & {budget: StoreBudget | undefined};

function normalizeOptions(options: SqliteStoreOptions): Settings {
	if (typeof options !== 'object' || options === null) {
		throw optionTypeError(owner, 'options', 'an object', options);
	}

	assertKnownOptions(owner, options, knownOptions);
	const {busyTimeout = 10_000, hotCacheBytes = 32 * 1024 * 1024, onCorrupt = 'fail'} = options;
	if (typeof busyTimeout !== 'number') {
		throw optionTypeError(owner, 'busyTimeout', 'a number of milliseconds', busyTimeout);
	}

	if (!Number.isInteger(busyTimeout) || busyTimeout < 0 || busyTimeout > 0x7F_FF_FF_FF) {
		throw optionRangeError(owner, 'busyTimeout', 'an integer from 0 to 2147483647', busyTimeout);
	}

	if (typeof hotCacheBytes !== 'number') {
		throw optionTypeError(owner, 'hotCacheBytes', 'a number of bytes', hotCacheBytes);
	}

	if (!Number.isSafeInteger(hotCacheBytes) || hotCacheBytes < 0) {
		throw optionRangeError(owner, 'hotCacheBytes', 'an integer >= 0', hotCacheBytes);
	}

	if (onCorrupt !== 'fail' && onCorrupt !== 'rename') {
		throw optionTypeError(owner, 'onCorrupt', '\'fail\' or \'rename\'', onCorrupt);
	}

	return {busyTimeout, hotCacheBytes, onCorrupt, budget: normalizeBudget(owner, options)};
}

let connectionClass: ConnectionClass | undefined;

/** better-sqlite3, loaded on first use so that a program on another backend never loads it. */
function loadDriver(): ConnectionClass {
	connectionClass ??= createRequire(import.meta.url)('better-sqlite3') as ConnectionClass;
	return connectionClass;
}

/** What SQLite's error code says about the file. */
function problemOf(error: unknown): SqliteProblem {
	const code = (error as {code?: unknown} | undefined)?.code;
	if (typeof code !== 'string') {
		return 'failed';
	}

	if (code.startsWith('SQLITE_NOTADB')) {
		return 'not-a-database';
	}

	if (code.startsWith('SQLITE_CORRUPT')) {
		return 'malformed';
	}

	if (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
		return 'read-only';
	}

	if (code.startsWith('SQLITE_CANTOPEN') || code === 'ENOTDIR' || code === 'ENOENT') {
		return 'cannot-open';
	}

	return 'failed';
}

function reasonOf(error: unknown): string {
	const code = (error as {code?: unknown} | undefined)?.code;
	const message = error instanceof Error ? error.message : String(error);
	return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The error for a file that cannot be used (during `operation`, when not on opening), with what the user can do about it. */
function fileError(file: string, problem: SqliteProblem, cause: unknown, operation?: string): SqliteStoreError {
	const reason = operation === undefined ? reasonOf(cause) : `${operation} failed: ${reasonOf(cause)}`;
	const reset = `it was left untouched: move it away, or call resetSqliteFile(${JSON.stringify(file)}) (or use the store option onCorrupt: 'rename') to move it aside and start a new cache`;
	switch (problem) {
		case 'not-a-database': {
			return new SqliteStoreError(file, problem, `is not a SQLite database (${reason}); ${reset}`, {cause});
		}

		case 'malformed': {
			return new SqliteStoreError(file, problem, `is a malformed SQLite database (${reason}); ${reset}`, {cause});
		}

		case 'read-only': {
			return new SqliteStoreError(file, problem, `cannot be written (${reason}): check the permissions of the file, its -wal and -shm files and its directory`, {cause});
		}

		case 'cannot-open': {
			return new SqliteStoreError(file, problem, `cannot be opened (${reason}): check that its directory exists and can be written`, {cause});
		}

		default: {
			return new SqliteStoreError(file, problem, reason, {cause});
		}
	}
}

/** Refuse a path that is not, and could not become, a SQLite database, before SQLite touches it. */
/** The first bytes of `file`, up to the length of SQLite's header (fewer for a shorter file); file-system errors are thrown as they are. */
export function fileHead(file: string): Buffer {
	const head = Buffer.alloc(sqliteMagic.length);
	const fd = openSync(file, 'r');
	try {
		return head.subarray(0, readSync(fd, head, 0, head.length, 0));
	} finally {
		closeSync(fd);
	}
}

/** True when `head` (from {@link fileHead}) is the header every SQLite database begins with. */
export function isSqliteHead(head: Buffer): boolean {
	return head.equals(sqliteMagic);
}

function checkFile(file: string): void {
	try {
		mkdirSync(path.dirname(file), {recursive: true});
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'EEXIST' || code === 'ENOTDIR') {
			// mkdir -p met a file where a directory belongs.
			throw new SqliteStoreError(file, 'cannot-open', `cannot be opened (${code}): a parent of it is a file, not a directory`, {cause: error});
		}

		throw fileError(file, problemOf(error), error);
	}

	let size: number;
	try {
		const stats = statSync(file);
		if (stats.isDirectory()) {
			throw new SqliteStoreError(file, 'directory', 'is a directory; cacheName names the database file (a name such as \'dir/http_cache\' makes dir/http_cache.sqlite)');
		}

		size = stats.size;
	} catch (error) {
		if (error instanceof SqliteStoreError) {
			throw error;
		}

		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return;
		}

		throw fileError(file, problemOf(error), error);
	}

	if (size === 0) {
		return;
	}

	let head: Buffer;
	try {
		head = fileHead(file);
	} catch (error) {
		throw fileError(file, problemOf(error), error);
	}

	if (!isSqliteHead(head)) {
		const start = JSON.stringify(head.toString('latin1').replaceAll(/[^\u0020-\u007E]/g, '.').slice(0, 12));
		throw fileError(file, 'not-a-database', new Error(`it begins with ${start}, not with the SQLite header`));
	}
}

/** Block this thread for `ms` (opening waits as SQLite's own busy handler does: synchronously). */
function pauseSync(ms: number): void {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isBusy(error: unknown): boolean {
	const code = (error as {code?: unknown} | undefined)?.code;
	return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * WAL lets readers work while one connection writes, across processes. A file that can only be
 * read keeps its mode: it can still be read, and writes fail with an error that says why.
 *
 * Switching a new file to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once,
 * without its busy handler, while another connection holds the file (processes opening a new
 * cache together: about one start in 25 of 8 processes failed so). So the switch is tried again,
 * pausing 1 ms and doubling up to 50, until another connection has made the file WAL or the busy
 * timeout has passed.
 */
function setJournalMode(db: Connection, busyTimeout: number): unknown {
	const deadline = performance.now() + busyTimeout;
	for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
		try {
			return db.pragma('journal_mode = WAL', {simple: true});
		} catch (error) {
			if (problemOf(error) === 'read-only') {
				return db.pragma('journal_mode', {simple: true});
			}

			if (!isBusy(error) || performance.now() >= deadline) {
				throw error;
			}
		}

		try {
			if (db.pragma('journal_mode', {simple: true}) === 'wal') {
				return 'wal';
			}
		} catch (error) {
			if (!isBusy(error)) {
				throw error;
			}
		}

		pauseSync(pause);
	}
}

/**
 * The layout of the file: {@link schemaVersion} when it is ready, an older one (1, 2, or NaN for
 * a `meta` of ours without a version) to bring up to date, 0 for a file without our tables;
 * throws for a file that is not ours or is newer.
 */
function checkSchema(db: Connection, file: string): number {
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

function hasTable(db: Connection, name: string): boolean {
	return db.prepare('SELECT 1 FROM sqlite_master WHERE type = \'table\' AND name = ?').get(name) !== undefined;
}

/**
 * Make the layout, or bring an older one up to date, in one IMMEDIATE transaction. Idempotent:
 * processes opening a new or old file at once each run it, one after another, and each looks at
 * the layout again once it holds the write lock (the first one did the work).
 */
function createSchema(db: Connection, file: string): void {
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

/** A row's columns, as read by `get` (with the value) and `scan` (with the value's type only). */
type Row = {row_id?: number; key: unknown; kind: unknown; url: unknown; created_at: unknown; expires: unknown; delete_at: unknown; value?: unknown; value_type?: unknown};

function isKind(kind: unknown): kind is RecordKind {
	return kind === 'response' || kind === 'redirect' || kind === 'variants';
}

function isTimeOrNull(value: unknown): value is number | null {
	return value === null || (typeof value === 'number' && Number.isFinite(value));
}

/**
 * The facts of a row, or {@link corruptMeta} when its columns are not a record's: never in a
 * layout 3 file (its table refuses such rows) unless a program wrote one with CHECK constraints
 * off, but a layout 2 file that can only be read is read as it is.
 */
function metaOfRow(row: Row): RecordMeta {
	const key = typeof row.key === 'string' ? row.key : String(row.key);
	const {kind, url, created_at: createdAt, expires, delete_at: deleteAt} = row;
	if (row.value_type !== 'blob' || !isKind(kind) || typeof url !== 'string' || typeof createdAt !== 'number' || !Number.isFinite(createdAt) || !isTimeOrNull(expires) || !isTimeOrNull(deleteAt)) {
		return corruptMeta(key);
	}

	return {key, kind, url, createdAt, expires, deleteAt};
}

/** The statements of an open connection. */
type Statements = {
	get: Statement;
	upsert: Statement;
	delete: Statement;
	firstPage: Statement;
	nextPage: Statement;
	deleteCreatedBefore: Statement;
	deleteExpiredAt: Statement;
	deleteEither: Statement;
	clear: Statement;
	insertPart: Statement;
	deleteParts: Statement;
	partsLength: Statement;
	parts: Statement;
	deleteOrphanParts: Statement;
	clearParts: Statement;
};

/** The statements of a budget, on the tables of {@link lruSchema}. */
type LruStatements = {
	totals: Statement;
	advanceClock: Statement;
	touch: Statement;
	oldest: Statement;
	older: Statement;
	evict: Statement;
	uncount: Statement;
	dropUse: Statement;
};

function prepareStatements(db: Connection): Statements {
	// typeof() reads a column's type from the row header, never the value itself.
	const facts = 'key, kind, url, created_at, expires, delete_at, typeof(value) AS value_type';
	return {
		get: db.prepare(`SELECT ${facts}, value FROM responses WHERE key = ?`),
		upsert: db.prepare(`INSERT INTO responses (key, kind, url, created_at, expires, delete_at, value) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, url = excluded.url, created_at = excluded.created_at,
			expires = excluded.expires, delete_at = excluded.delete_at, value = excluded.value`),
		delete: db.prepare('DELETE FROM responses WHERE key = ?'),
		// Pages in table order: one pass along the table's b-tree (key order would add an index
		// lookup per row). An upsert keeps a row's rowid, so no record moves behind the cursor.
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

function prepareLruStatements(db: Connection): LruStatements {
	return {
		totals: db.prepare('SELECT entries, bytes FROM lru_totals'),
		advanceClock: db.prepare('UPDATE lru_totals SET clock = clock + ? RETURNING clock'),
		touch: db.prepare('UPDATE lru SET last_use = ? WHERE key = ?'),
		// Both on the covering index lru_order: the least recently used first, a page at a time.
		// A write evicts one or two records most of the time: the first page is short.
		oldest: db.prepare('SELECT key, size, last_use FROM lru ORDER BY last_use, key LIMIT 4'),
		older: db.prepare(`SELECT key, size, last_use FROM lru WHERE (last_use, key) > (?, ?) ORDER BY last_use, key LIMIT ${evictionPage}`),
		evict: db.prepare('DELETE FROM responses WHERE key = ? RETURNING kind, url'),
		// A use without its record (never left by the triggers; only by hand): uncounted, then dropped.
		uncount: db.prepare(`UPDATE lru_totals SET entries = entries - (SELECT count(*) FROM lru WHERE key = ?1),
			bytes = bytes - coalesce((SELECT size FROM lru WHERE key = ?1), 0)`),
		dropUse: db.prepare('DELETE FROM lru WHERE key = ?'),
	};
}

function hasLru(db: Connection): boolean {
	return hasTable(db, 'lru_totals');
}

/**
 * The budget's statements, after making its tables and triggers unless another store made them
 * already. A file that can only be read and has none gets none (its writes fail anyway).
 */
function openLru(db: Connection): LruStatements | undefined {
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
function partSizeOf(db: Connection): number {
	const row = db.prepare('SELECT value FROM meta WHERE name = \'part_size\'').get() as {value: unknown} | undefined;
	const size = Number(row?.value);
	return Number.isSafeInteger(size) && size > 0 ? size : defaultPartSize;
}

/**
 * An open database: the connection, its statements, its hot cache, the file's part size, and the
 * budget's statements when this store has a budget (undefined when it has none, or when the file
 * can only be read and has no budget tables: then every write fails anyway).
 */
type Open = {db: Connection; statements: Statements; hot: WalHotCache | undefined; partSize: number; lru: LruStatements | undefined};

/**
 * A time rounded up to a whole ms, for the INTEGER columns `expires` and `delete_at` (`created_at`
 * is rounded down): a clock may give fractions, and a STRICT table refuses them. Rounded so,
 * a cut-off of whole ms (a Date's) deletes exactly the records it would have deleted by their
 * exact times: floor(t) < c ⇔ t < c and ceil(t) <= c ⇔ t <= c for a whole c. The codec keeps the
 * exact times in the value, which is what freshness is decided on.
 */
function ceilOrNull(time: number | null): number | null {
	return time === null ? null : Math.ceil(time);
}

/** A Buffer over the same bytes (better-sqlite3 binds Buffers). */
function bufferOf(value: Uint8Array): Buffer {
	return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** How long a store that failed to open waits before trying again, in ms. */
const reopenAfter = 1000;

/**
 * The SQLite backend (the default): one file per cache, on better-sqlite3 (synchronous: a read or
 * a write is a prepared statement, without a thread-pool hop). The table `responses` keeps each
 * record's facts in indexed columns, so maintenance is one indexed `DELETE`; it is STRICT, so every
 * row in it is a record (SQLite refuses any other, whoever writes it). The file runs in WAL
 * mode with `synchronous=NORMAL` and a busy timeout, so several stores and processes share it.
 *
 * Opening never throws: a file that cannot be used (a directory, not a SQLite database, malformed,
 * read-only) makes every operation reject with a {@link SqliteStoreError} naming the file and the
 * problem; opening is tried again at most once a second. A file that is not a database is never
 * written to.
 *
 * With a budget (`maxEntries`, `maxBytes`), a write that leaves the file over it evicts the least
 * recently used records in the same transaction. Uses are counted without a write per read: the
 * keys read are noted in memory and written to the file at most once a second, and before any
 * eviction; the totals come from the file (kept by triggers), so stores in several processes
 * sharing the file keep it within the budget together.
 *
 * @example
 * const store = new SqliteStore('http_cache', {maxBytes: 512 * 1024 * 1024}); // http_cache.sqlite
 * await store.set([toRecord('key', value, null)]);
 */
export class SqliteStore implements CacheStore {
	readonly name = 'sqlite';
	/** Every operation runs synchronously in this process: a timer could not interrupt it. */
	readonly local = true;
	/** The database file, absolute, or ':memory:'. */
	readonly file: string;
	/** 'sqlite:' and the file (none for ':memory:', a database of this connection alone). */
	readonly location?: string;
	readonly budget?: StoreBudget;
	readonly #options: Settings;
	#open: Open | undefined;
	#failure: {error: SqliteStoreError; at: number} | undefined;
	#closed = false;
	/** Keys read since the last write of uses, the most recently read last. */
	readonly #usedKeys = new Set<string>();
	#useTimer: NodeJS.Timeout | undefined;
	#lease: SqliteLease | undefined;

	/** A store on `<cacheName>.sqlite` (see {@link sqlitePath}); throws only for invalid options. */
	constructor(cacheName: string, options: SqliteStoreOptions = {}) {
		if (typeof cacheName !== 'string' || cacheName === '') {
			throw optionTypeError(owner, 'cacheName', 'a non-empty string', cacheName);
		}

		this.#options = normalizeOptions(options);
		if (this.#options.budget !== undefined) {
			this.budget = this.#options.budget;
		}

		const file = sqlitePath(cacheName);
		this.file = file === ':memory:' ? file : path.resolve(file);
		if (this.file !== ':memory:') {
			this.location = `sqlite:${this.file}`;
		}

		this.#tryOpen();
	}

	/** Flight leases on this file (lib/backends/sqlite-lease.ts); none for ':memory:' or a file that is not open (never written then). */
	get lease(): FlightLease | undefined {
		if (this.#open === undefined || this.location === undefined || this.#closed) {
			return undefined;
		}

		this.#lease ??= new SqliteLease(this.file, this.#options.busyTimeout);
		return this.#lease;
	}

	/** The hot cache, for specs: how many records it keeps now (0 when off or not open). */
	get hotSize(): number {
		return this.#open?.hot?.size ?? 0;
	}

	#tryOpen(): void {
		try {
			this.#open = this.#connect();
			this.#failure = undefined;
		} catch (error) {
			const failure = error instanceof SqliteStoreError ? error : fileError(this.file, problemOf(error), error);
			this.#failure = {error: failure, at: performance.now()};
		}
	}

	#connect(renamed = false): Open {
		let Driver: ConnectionClass;
		try {
			Driver = loadDriver();
		} catch (error) {
			throw new SqliteStoreError(this.file, 'driver', `the better-sqlite3 package cannot be loaded (${reasonOf(error)}); install it: npm install better-sqlite3`, {cause: error});
		}

		const memory = this.file === ':memory:';
		if (!memory) {
			try {
				checkFile(this.file);
			} catch (error) {
				if (error instanceof SqliteStoreError && (error.problem === 'not-a-database' || error.problem === 'malformed') && this.#options.onCorrupt === 'rename' && !renamed) {
					this.#moveAside(error);
					return this.#connect(true);
				}

				throw error;
			}
		}

		let db: Connection | undefined;
		try {
			db = new Driver(this.file, {timeout: this.#options.busyTimeout});
			// Whose file it is comes first: nothing is changed in a database that is not ours.
			const layout = checkSchema(db, this.file);
			const mode = setJournalMode(db, this.#options.busyTimeout);
			// NORMAL sync is safe with WAL (a power cut may lose the last commits, which for a
			// cache is a miss) and far faster than FULL.
			db.pragma('synchronous = NORMAL');
			// A large delete writes a large WAL; once checkpointed, the file is cut back to this size.
			db.pragma(`journal_size_limit = ${walSizeLimit}`);
			if (layout !== schemaVersion) {
				try {
					createSchema(db, this.file);
				} catch (error) {
					// A file of layout 2 that can only be read is read as it is (the same columns; a
					// row that is not a record reads as missing). Writes to it fail anyway.
					if (!(layout === 2 && problemOf(error) === 'read-only')) {
						throw error;
					}
				}
			}

			const lru = this.#options.budget === undefined ? undefined : openLru(db);
			const statements = prepareStatements(db);
			const {hotCacheBytes} = this.#options;
			const hot = memory || mode !== 'wal' || hotCacheBytes === 0 ? undefined : new WalHotCache(this.file, {maxBytes: hotCacheBytes});
			return {db, statements, hot, partSize: partSizeOf(db), lru};
		} catch (error) {
			db?.close();
			const failure = error instanceof SqliteStoreError ? error : fileError(this.file, problemOf(error), error);
			if ((failure.problem === 'not-a-database' || failure.problem === 'malformed') && this.#options.onCorrupt === 'rename' && !memory && !renamed) {
				this.#moveAside(failure);
				return this.#connect(true);
			}

			throw failure;
		}
	}

	/** Move the unusable file aside (onCorrupt: 'rename'), with a process warning that says where. */
	#moveAside(failure: SqliteStoreError): string | undefined {
		const aside = resetSqliteFile(this.file);
		process.emitWarning(`requests-cache: ${failure.message.split(';')[0]!}; moved it aside to ${aside ?? '(gone)'} and started a new cache`, {code: 'REQUESTS_CACHE_SQLITE_RESET'});
		return aside;
	}

	/** The open database, opening it again if it failed more than a second ago; throws what is wrong. */
	#connection(): Open {
		if (this.#closed) {
			throw new SqliteStoreError(this.file, 'closed', 'the store is closed');
		}

		if (this.#open === undefined && this.#failure !== undefined && performance.now() - this.#failure.at >= reopenAfter) {
			this.#tryOpen();
		}

		if (this.#open === undefined) {
			throw this.#failure!.error;
		}

		return this.#open;
	}

	/** Run a statement, turning SQLite's errors into ones that name the file; a malformed file may be moved aside. */
	#run<T>(operation: string, action: (open: Open) => T): T {
		const open = this.#connection();
		try {
			return action(open);
		} catch (error) {
			open.hot?.clear();
			const problem = problemOf(error);
			const failure = fileError(this.file, problem, error, operation);
			if ((problem === 'malformed' || problem === 'not-a-database') && this.#options.onCorrupt === 'rename' && this.file !== ':memory:') {
				this.#release();
				const aside = this.#moveAside(failure);
				this.#tryOpen();
				throw new SqliteStoreError(this.file, problem, `${operation} failed: ${reasonOf(error)}; the file was moved aside to ${aside ?? '(gone)'} and a new cache started`, {cause: error});
			}

			throw failure;
		}
	}

	/** A write transaction (BEGIN IMMEDIATE: it waits for the write lock with the busy timeout), told to the hot cache. */
	#write<T>(operation: string, write: (statements: Statements, lru: LruStatements | undefined, partSize: number, db: Connection) => T, change: (result: T) => OwnWrite): T {
		return this.#run(operation, ({db, statements, hot, lru, partSize}) => {
			const result = db.transaction(() => {
				hot?.writeLocked();
				return write(statements, lru, partSize, db);
			}).immediate();
			hot?.writeCommitted(change(result));
			return result;
		});
	}

	async get(key: string): Promise<StoreRecord | undefined> {
		return this.#run('get', open => {
			const {statements, hot} = open;
			const generation = hot?.generation();
			if (generation !== undefined) {
				const kept = hot!.get(key);
				if (kept !== undefined) {
					if (open.lru !== undefined) {
						this.#noteUse(key);
					}

					return kept;
				}
			}

			let row = statements.get.get(key) as Row | undefined;
			if (row?.value instanceof Uint8Array && row.value.byteLength === open.partSize) {
				// The first part of a value that may have more: read it all again in one snapshot.
				row = open.db.transaction(() => this.#readWhole(statements, key))();
			}

			if (row === undefined) {
				return undefined;
			}

			const meta = metaOfRow(row);
			if (meta.corrupt === true || !(row.value instanceof Uint8Array)) {
				// Not a record of ours (see metaOfRow): it reads as missing.
				return undefined;
			}

			const record: StoreRecord = {...meta, value: row.value};
			if (generation !== undefined) {
				hot!.keep(record, generation);
			}

			if (open.lru !== undefined) {
				this.#noteUse(key);
			}

			return record;
		});
	}

	/**
	 * A row whose value is as long as a part, with the value made whole: one buffer of the full
	 * length, filled part by part (so reading a value of N bytes holds N bytes and a part or two).
	 * Parts that do not follow on make a value the codec rejects, so the cache deletes it.
	 */
	#readWhole(statements: Statements, key: string): Row | undefined {
		const row = statements.get.get(key) as Row | undefined;
		const first = row?.value;
		if (!(first instanceof Uint8Array)) {
			return row;
		}

		const {length: rest} = statements.partsLength.get(key) as {length: number};
		if (rest === 0) {
			return row;
		}

		const value = Buffer.allocUnsafe(first.byteLength + rest);
		value.set(first, 0);
		let offset = first.byteLength;
		let expected = 1;
		for (const {part, bytes} of statements.parts.iterate(key) as Iterable<{part: unknown; bytes: unknown}>) {
			if (part !== expected || !(bytes instanceof Uint8Array) || offset + bytes.byteLength > value.length) {
				break;
			}

			value.set(bytes, offset);
			offset += bytes.byteLength;
			expected++;
		}

		return {...row!, value: value.subarray(0, offset)};
	}

	/** Note that `key` was used now; its use is written to the file within a second (or before the next write). */
	#noteUse(key: string): void {
		const used = this.#usedKeys;
		used.delete(key);
		used.add(key);
		if (this.#useTimer === undefined) {
			this.#useTimer = setTimeout(() => {
				this.#useTimer = undefined;
				this.#flushUses();
			}, useFlushDelay);
			this.#useTimer.unref();
		}
	}

	/** Write the noted uses in their own transaction; a failure (a file that cannot be written) drops them. */
	#flushUses(): void {
		if (this.#usedKeys.size === 0 || this.#open?.lru === undefined) {
			this.#usedKeys.clear();
			return;
		}

		try {
			this.#write('uses', (_statements, lru) => {
				this.#writeUses(lru);
			}, () => ({deleted: []}));
		} catch {
			// Uses are a hint for eviction: losing some costs nothing but accuracy.
			this.#usedKeys.clear();
		}
	}

	/** Inside a write transaction: give the noted keys the next numbers of the file's use clock, in the order they were used. */
	#writeUses(lru: LruStatements | undefined): void {
		const used = this.#usedKeys;
		if (used.size === 0 || lru === undefined) {
			return;
		}

		const {clock} = lru.advanceClock.get(used.size) as {clock: number};
		let use = clock - used.size;
		for (const key of used) {
			lru.touch.run(++use, key);
		}

		used.clear();
	}

	async set(records: readonly StoreRecord[]): Promise<SetResult | undefined> {
		if (records.length === 0) {
			return this.budget === undefined ? undefined : {evicted: []};
		}

		const evicted = this.#write('set', (statements, lru, partSize) => {
			// Uses noted before this write are older than it: written first, and before choosing what to evict.
			this.#writeUses(lru);
			for (const record of records) {
				const bytes = bufferOf(record.value);
				statements.deleteParts.run(record.key);
				let first = bytes;
				if (bytes.byteLength > partSize) {
					// Parts first: the triggers that count bytes read them when the row is written.
					first = bytes.subarray(0, partSize);
					for (let offset = partSize, part = 1; offset < bytes.byteLength; offset += partSize, part++) {
						statements.insertPart.run(record.key, part, bytes.subarray(offset, offset + partSize));
					}
				}

				// Whole ms (see ceilOrNull): the table is STRICT.
				statements.upsert.run(record.key, record.kind, record.url, Math.floor(record.createdAt), ceilOrNull(record.expires), ceilOrNull(record.deleteAt), first);
			}

			return this.budget === undefined || lru === undefined ? [] : this.#evict(statements, lru, this.budget, records);
		}, result => ({set: records, deleted: result.map(record => record.key)}));
		return this.budget === undefined ? undefined : {evicted};
	}

	/**
	 * Inside the write transaction of `written`: while the file is over `budget`, delete the least
	 * recently used records other than those just written (a page of the `lru_order` index at a
	 * time, and one indexed DELETE per record; the triggers keep the totals).
	 */
	#evict(statements: Statements, lru: LruStatements, budget: StoreBudget, written: readonly StoreRecord[]): EvictedRecord[] {
		let {entries, bytes} = lru.totals.get() as {entries: number; bytes: number};
		if (!overBudget(budget, entries, bytes)) {
			return [];
		}

		const keep = new Set(written.map(record => record.key));
		const victims: string[] = [];
		let page = lru.oldest.all() as Array<{key: string; size: number; last_use: number}>;
		choosing: while (page.length > 0) {
			for (const {key, size} of page) {
				if (!overBudget(budget, entries, bytes)) {
					break choosing;
				}

				if (!keep.has(key)) {
					victims.push(key);
					entries--;
					bytes -= size;
				}
			}

			const last = page.at(-1)!;
			page = lru.older.all(last.last_use, last.key) as typeof page;
		}

		const evicted: EvictedRecord[] = [];
		for (const key of victims) {
			statements.deleteParts.run(key);
			const gone = lru.evict.get(key) as {kind: unknown; url: unknown} | undefined;
			if (gone === undefined) {
				lru.uncount.run(key);
				lru.dropUse.run(key);
				continue;
			}

			evicted.push({key, kind: isKind(gone.kind) ? gone.kind : 'response', url: typeof gone.url === 'string' ? gone.url : ''});
		}

		return evicted;
	}

	async delete(keys: readonly string[]): Promise<number> {
		if (keys.length === 0) {
			return 0;
		}

		return this.#write('delete', statements => {
			let deleted = 0;
			for (const key of keys) {
				statements.deleteParts.run(key);
				deleted += statements.delete.run(key).changes;
			}

			return deleted;
		}, () => ({deleted: keys}));
	}

	/** Pages of facts in table order; each page starts after the last row of the one before, so deletions never make it skip a row. */
	async * scan(): AsyncGenerator<RecordMeta[]> {
		let after: number | undefined;
		for (;;) {
			const rows = this.#run('scan', ({statements}) => (after === undefined ? statements.firstPage.all() : statements.nextPage.all(after)) as Row[]);
			if (rows.length === 0) {
				return;
			}

			after = rows.at(-1)!.row_id;
			yield rows.map(row => metaOfRow(row));
			if (rows.length < pageSize) {
				return;
			}
		}
	}

	/**
	 * One indexed DELETE (created_at, expires), then the parts of values whose row is gone (few:
	 * only values over a part have any). Every row is a record (the table is STRICT): none has to
	 * be looked for besides.
	 */
	async deleteWhere(filter: DeleteFilter): Promise<number> {
		const {createdBefore, expiredAt} = filter;
		return this.#write('deleteWhere', statements => {
			let deleted = 0;
			if (createdBefore !== undefined && expiredAt !== undefined) {
				deleted = statements.deleteEither.run(createdBefore, expiredAt).changes;
			} else if (createdBefore !== undefined) {
				deleted = statements.deleteCreatedBefore.run(createdBefore).changes;
			} else if (expiredAt !== undefined) {
				deleted = statements.deleteExpiredAt.run(expiredAt).changes;
			}

			statements.deleteOrphanParts.run();
			return deleted;
		}, () => ({everything: true}));
	}

	/**
	 * Empty the tables. On a file with a budget, the delete trigger is taken away and put back in
	 * the same transaction: without it, SQLite empties a table at once instead of row by row (100,000
	 * records: about 40 ms instead of 600). Other connections see one schema change.
	 */
	async clear(): Promise<void> {
		this.#write('clear', (statements, lru, _partSize, db) => {
			statements.clearParts.run();
			const budgeted = lru !== undefined || hasLru(db);
			if (budgeted) {
				db.exec('DROP TRIGGER IF EXISTS responses_lru_delete');
			}

			statements.clear.run();
			if (budgeted) {
				db.exec(`DELETE FROM lru; UPDATE lru_totals SET entries = 0, bytes = 0; ${lruDeleteTrigger};`);
			}
		}, () => ({everything: true}));
	}

	#release(): void {
		const open = this.#open;
		this.#open = undefined;
		open?.hot?.close();
		try {
			open?.db.close();
		} catch {
			// Closing a connection that failed: nothing more to release.
		}
	}

	/** Write the uses still noted, then release the file. */
	async close(): Promise<void> {
		if (this.#closed) {
			return;
		}

		clearTimeout(this.#useTimer);
		this.#useTimer = undefined;
		this.#flushUses();
		this.#closed = true;
		await this.#lease?.close();
		this.#release();
	}
}

/** A {@link SqliteStore} on `<cacheName>.sqlite`; better-sqlite3 is loaded here, on first use. */
export function createSqliteStore(cacheName: string, options: SqliteStoreOptions = {}): SqliteStore {
	return new SqliteStore(cacheName, options);
}
