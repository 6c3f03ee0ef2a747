/**
 * The SQLite cache file and its driver: where the file is, whether it is one SQLite can use (checked
 * before SQLite touches it), what its failures mean for the user, moving a bad one aside, and the
 * WAL journal mode. The store (lib/backends/sqlite.ts) opens connections through these.
 */
import {Buffer} from 'node:buffer';
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync} from 'node:fs';
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
export type Transaction<A extends unknown[], R> = {(...arguments_: A): R; immediate(...arguments_: A): R};
export type Connection = {
	prepare(sql: string): Statement;
	exec(sql: string): void;
	pragma(source: string, options?: {simple?: boolean}): unknown;
	transaction<A extends unknown[], R>(run: (...arguments_: A) => R): Transaction<A, R>;
	close(): void;
};
export type ConnectionClass = new (file: string | Buffer, options: {timeout: number; readonly?: boolean; fileMustExist?: boolean}) => Connection;

export const sqliteMagic = Buffer.from('SQLite format 3\0', 'latin1');


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



let connectionClass: ConnectionClass | undefined;

/** better-sqlite3, loaded on first use so that a program on another backend never loads it. */
export function loadDriver(): ConnectionClass {
	connectionClass ??= createRequire(import.meta.url)('better-sqlite3') as ConnectionClass;
	return connectionClass;
}

/** What SQLite's error code says about the file. */
export function problemOf(error: unknown): SqliteProblem {
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

export function reasonOf(error: unknown): string {
	const code = (error as {code?: unknown} | undefined)?.code;
	const message = error instanceof Error ? error.message : String(error);
	return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The error for a file that cannot be used (during `operation`, when not on opening), with what the user can do about it. */
export function fileError(file: string, problem: SqliteProblem, cause: unknown, operation?: string): SqliteStoreError {
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
			if (readOnly) {
				throw new SqliteStoreError(file, 'cannot-open', 'does not exist (opened read-only, it is not created)', {cause: error});
			}

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
export function pauseSync(ms: number): void {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function isBusy(error: unknown): boolean {
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

		pauseSync(pause);
	}
}


/**
 * Largest file a read-only store reads into memory when no `-wal` or `-shm` file is beside it;
 * a larger one is opened in place.
 */
const inMemoryLimit = 256 * 1024 * 1024;

/**
 * A connection that only reads `file` and writes nothing in its directory. SQLite's own way, the
 * `immutable=1` and `mode=ro` URI parameters, is not available: better-sqlite3 is built with
 * SQLITE_USE_URI=0. And a read-only connection to a WAL-mode file creates its `-wal` and `-shm`
 * files when they are missing. So:
 * - with a `-wal` or `-shm` file beside it (a writer is open, or was killed), a read-only
 *   connection on the file: it reads the WAL's commits, never checkpoints them into the file,
 *   and leaves the WAL as it is;
 * - without them (every writer closed cleanly), the file is consistent on its own, and is read
 *   into memory and opened there (up to {@link inMemoryLimit}), its header marked rollback in the
 *   copy (SQLite's in-memory databases have no WAL). Nothing is created beside it, so it works on a
 *   read-only volume and beside a malformed file.
 */
export function openReadOnly(Driver: ConnectionClass, file: string, timeout: number): Connection {
	if (!existsSync(`${file}-wal`) && !existsSync(`${file}-shm`) && statSync(file).size <= inMemoryLimit) {
		const image = readFileSync(file);
		// Bytes 18 and 19 of the header: the file format versions, 2 for WAL, 1 for rollback.
		if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
			image[18] = 1;
			image[19] = 1;
		}

		return new Driver(image, {timeout, readonly: true});
	}

	return new Driver(file, {timeout, readonly: true, fileMustExist: true});
}
