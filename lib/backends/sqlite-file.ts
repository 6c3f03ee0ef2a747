/** The SQLite cache file and its driver: its path, checks before SQLite touches it, its errors, moving it aside, WAL mode. */
import {Buffer} from 'node:buffer';
import {type Stats, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';

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
export type Statement = {
	get(...parameters: unknown[]): unknown;
	all(...parameters: unknown[]): unknown[];
	iterate(...parameters: unknown[]): IterableIterator<unknown>;
	run(...parameters: unknown[]): {changes: number};
};
export type Connection = {
	prepare(sql: string): Statement;
	exec(sql: string): void;
	pragma(source: string, options?: {simple?: boolean}): unknown;
	transaction<R>(run: () => R): {(): R; immediate(): R};
	close(): void;
};
export type ConnectionClass = new (file: string | Buffer, options: {timeout: number; readonly?: boolean; fileMustExist?: boolean}) => Connection;

const sqliteMagic = Buffer.from('SQLite format 3\0', 'latin1');

/** `http_cache` → `http_cache.sqlite`; a name with an extension, or `:memory:`, is used as is. */
export function sqlitePath(cacheName: string): string {
	if (cacheName === ':memory:') {
		return cacheName;
	}

	return path.extname(cacheName) === '' ? `${cacheName}.sqlite` : cacheName;
}

/**
 * Move an unusable cache file and its `-wal` and `-shm` aside to `<file>.corrupt-<time>`; returns where (undefined: no file).
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

	// The WAL may hold the latest pages of the file: it goes with it.
	for (const suffix of ['-wal', '-shm']) {
		if (existsSync(file + suffix)) {
			renameSync(file + suffix, aside + suffix);
		}
	}

	renameSync(file, aside);
	return aside;
}

let connectionClass: ConnectionClass | undefined;

/** better-sqlite3, loaded on first use (a program on another backend never loads it); throws a `driver` error naming `file`. */
export function loadDriver(file: string): ConnectionClass {
	try {
		connectionClass ??= createRequire(import.meta.url)('better-sqlite3') as ConnectionClass;
	} catch (error) {
		throw new SqliteStoreError(file, 'driver', `the better-sqlite3 package cannot be loaded (${reasonOf(error)}); install it: npm install better-sqlite3`, {cause: error});
	}

	return connectionClass;
}

/** An error's `code` (SQLite's or the file system's), or '' for none. */
function codeOf(error: unknown): string {
	const code = (error as {code?: unknown} | undefined)?.code;
	return typeof code === 'string' ? code : '';
}

/** Error codes, by what they say about the file. */
const problemCodes: ReadonlyArray<[SqliteProblem, RegExp]> = [
	['not-a-database', /^SQLITE_NOTADB/],
	['malformed', /^SQLITE_CORRUPT/],
	['read-only', /^(?:SQLITE_READONLY|EACCES$|EPERM$|EROFS$)/],
	['cannot-open', /^(?:SQLITE_CANTOPEN|ENOTDIR$|ENOENT$)/],
];

/** What an error's code says about the file. */
export function problemOf(error: unknown): SqliteProblem {
	const code = codeOf(error);
	return problemCodes.find(([, pattern]) => pattern.test(code))?.[0] ?? 'failed';
}

/** An error's message, with its code when the message does not say it. */
export function reasonOf(error: unknown): string {
	const code = codeOf(error);
	const message = error instanceof Error ? error.message : String(error);
	return code !== '' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The error for a file that cannot be used (during `operation`, when not on opening), with what the user can do about it. */
export function fileError(file: string, problem: SqliteProblem, cause: unknown, operation?: string): SqliteStoreError {
	const reason = operation === undefined ? reasonOf(cause) : `${operation} failed: ${reasonOf(cause)}`;
	const reset = `it was left untouched: move it away, or call resetSqliteFile(${JSON.stringify(file)}) (or use the store option onCorrupt: 'rename') to move it aside and start a new cache`;
	const messages: Partial<Record<SqliteProblem, string>> = {
		'not-a-database': `is not a SQLite database (${reason}); ${reset}`,
		malformed: `is a malformed SQLite database (${reason}); ${reset}`,
		'read-only': `cannot be written (${reason}): check the permissions of the file, its -wal and -shm files and its directory`,
		'cannot-open': `cannot be opened (${reason}): check that its directory exists and can be written`,
	};
	return new SqliteStoreError(file, problem, messages[problem] ?? reason, {cause});
}

/** The first bytes of `file`, up to the length of SQLite's header; file-system errors are thrown as they are. */
export function fileHead(file: string): Buffer {
	const head = Buffer.alloc(sqliteMagic.length);
	const fd = openSync(file, 'r');
	try {
		return head.subarray(0, readSync(fd, head, 0, head.length, 0));
	} finally {
		closeSync(fd);
	}
}

/** True when `head` (from {@link fileHead}) is SQLite's header. */
export function isSqliteHead(head: Buffer): boolean {
	return head.equals(sqliteMagic);
}

/** Refuse a path that is not, and could not become, a SQLite database, before SQLite touches it. */
export function checkFile(file: string, readOnly = false): void {
	try {
		if (!readOnly) {
			mkdirSync(path.dirname(file), {recursive: true});
		}
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'EEXIST' || code === 'ENOTDIR') {
			// mkdir -p met a file where a directory belongs.
			throw new SqliteStoreError(file, 'cannot-open', `cannot be opened (${code}): a parent of it is a file, not a directory`, {cause: error});
		}

		throw fileError(file, problemOf(error), error);
	}

	let stats: Stats;
	try {
		stats = statSync(file);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
			throw fileError(file, problemOf(error), error);
		}

		if (readOnly) {
			throw new SqliteStoreError(file, 'cannot-open', 'does not exist (opened read-only, it is not created)', {cause: error});
		}

		return;
	}

	if (stats.isDirectory()) {
		throw new SqliteStoreError(file, 'directory', 'is a directory; cacheName names the database file (a name such as \'dir/http_cache\' makes dir/http_cache.sqlite)');
	}

	if (stats.size === 0) {
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

function isBusy(error: unknown): boolean {
	return /^SQLITE_(?:BUSY|LOCKED)/.test(codeOf(error));
}

/**
 * Switch to WAL (a read-only file keeps its mode); SQLite refuses with SQLITE_BUSY at once while another
 * connection holds a new file, so this tries again, pausing 1 to 50 ms, until WAL or the busy timeout.
 */
export function setJournalMode(db: Connection, busyTimeout: number): unknown {
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

		// Blocks this thread, as SQLite's own busy handler does.
		Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
	}
}

/** Largest file a read-only store reads into memory when no `-wal` or `-shm` file is beside it. */
const inMemoryLimit = 256 * 1024 * 1024;

/**
 * A connection that only reads `file` and creates nothing beside it (docs/cli.md): in place with a `-wal` or
 * `-shm` there, else on a copy in memory marked rollback (better-sqlite3 has no URIs for `immutable=1`).
 */
export function openReadOnly(Driver: ConnectionClass, file: string, timeout: number): Connection {
	if (!existsSync(`${file}-wal`) && !existsSync(`${file}-shm`) && statSync(file).size <= inMemoryLimit) {
		const image = readFileSync(file);
		// Bytes 18 and 19 of the header: 2 for WAL, 1 for rollback (in-memory databases have no WAL).
		if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
			image[18] = 1;
			image[19] = 1;
		}

		return new Driver(image, {timeout, readonly: true});
	}

	return new Driver(file, {timeout, readonly: true, fileMustExist: true});
}
