import {Buffer} from 'node:buffer';
import path from 'node:path';
import {optionTypeError} from '../errors.js';
import {overBudget} from './budget.js';
import {type Settings, type SqliteStoreOptions, normalizeOptions} from './sqlite-options.js';
import {type Connection, type SqliteProblem, SqliteStoreError, checkFile, fileError, loadDriver, openReadOnly, problemOf, reasonOf, resetSqliteFile, setJournalMode, sqlitePath} from './sqlite-file.js';
import {checkSchema, createSchema, hasTable, lruDeleteTrigger, openLru, partSizeOf, schemaVersion} from './sqlite-schema.js';
import {type LruStatements, type Row, type Statements, isKind, metaOfRow, pageSize, prepareStatements} from './sqlite-statements.js';
import {SqliteLease} from './sqlite-lease.js';
import type {CacheStore, DeleteFilter, EvictedRecord, FlightLease, RecordMeta, SetResult, StoreBudget, StoreRecord} from './store.js';
import {CACHE_STORE} from './store.js';
import {type OwnWrite, WalHotCache} from './wal-hot-cache.js';

// The store's public names, from the files that hold them (lib/index.ts exports this module).
export type {SqliteStoreOptions} from './sqlite-options.js';
export {type SqliteProblem, SqliteStoreError, fileHead, isSqliteHead, resetSqliteFile, sqlitePath} from './sqlite-file.js';

/** How long the uses of records read by this process may wait before they are written to the file, ms. */
const useFlushDelay = 1000;
/** How long a store that failed to open waits before trying again, ms. */
const reopenAfter = 1000;
const walSizeLimit = 64 * 1024 * 1024;
const owner = 'SqliteStore';

/** An open database; `lru` only with a budget (and not for a read-only file without its tables: its writes fail anyway). */
type Open = {db: Connection; statements: Statements; hot: WalHotCache | undefined; partSize: number; lru: LruStatements | undefined};

/** A time rounded up to a whole ms for the STRICT table (`created_at`: down), so whole-ms cut-offs delete as exact times would. */
function ceilOrNull(time: number | null): number | null {
	return time === null ? null : Math.ceil(time);
}

/** A Buffer over the same bytes (better-sqlite3 binds Buffers). */
function bufferOf(value: Uint8Array): Buffer {
	return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * The SQLite backend (the default): one WAL-mode file per cache that several processes share (docs/backends.md).
 * Opening never throws: a file that cannot be used makes every operation reject with a {@link SqliteStoreError}.
 *
 * @example
 * const store = new SqliteStore('http_cache', {maxBytes: 512 * 1024 * 1024}); // http_cache.sqlite
 * await store.set([toRecord('key', value, null)]);
 */
export class SqliteStore implements CacheStore {
	readonly [CACHE_STORE] = true as const;
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

	/** Flight leases on this file; none for ':memory:' or a file that is not open. */
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
		const {busyTimeout, hotCacheBytes, readOnly, budget} = this.#options;
		const memory = this.file === ':memory:';
		let db: Connection | undefined;
		try {
			const Driver = loadDriver(this.file);
			if (!memory) {
				checkFile(this.file, readOnly);
			}

			if (readOnly && !memory) {
				// Not brought up to date; layout 2 has the same columns as 3 (a row that is not a record reads as missing).
				db = openReadOnly(Driver, this.file, busyTimeout);
				const layout = checkSchema(db, this.file);
				if (layout !== schemaVersion && layout !== 2) {
					throw new SqliteStoreError(this.file, 'read-only', `has layout ${layout}, and a store opened read-only does not bring it up to date`);
				}

				return {db, statements: prepareStatements(db), hot: undefined, partSize: partSizeOf(db), lru: undefined};
			}

			db = new Driver(this.file, {timeout: busyTimeout});
			// Whose file it is comes first: nothing is changed in a database that is not ours.
			const layout = checkSchema(db, this.file);
			const mode = setJournalMode(db, busyTimeout);
			// Safe with WAL (a power cut may lose the last commits: for a cache, misses) and far faster than FULL.
			db.pragma('synchronous = NORMAL');
			// A large delete writes a large WAL; once checkpointed, the file is cut back to this size.
			db.pragma(`journal_size_limit = ${walSizeLimit}`);
			if (layout !== schemaVersion) {
				try {
					createSchema(db, this.file);
				} catch (error) {
					// A layout 2 file that can only be read is read as it is (writes to it fail anyway).
					if (!(layout === 2 && problemOf(error) === 'read-only')) {
						throw error;
					}
				}
			}

			const lru = budget === undefined ? undefined : openLru(db);
			const hot = memory || mode !== 'wal' || hotCacheBytes === 0 ? undefined : new WalHotCache(this.file, {maxBytes: hotCacheBytes});
			return {db, statements: prepareStatements(db), hot, partSize: partSizeOf(db), lru};
		} catch (error) {
			db?.close();
			const failure = error instanceof SqliteStoreError ? error : fileError(this.file, problemOf(error), error);
			if (!renamed && this.#movesAside(failure.problem)) {
				this.#moveAside(failure);
				return this.#connect(true);
			}

			throw failure;
		}
	}

	#movesAside(problem: SqliteProblem): boolean {
		return (problem === 'not-a-database' || problem === 'malformed') && this.#options.onCorrupt === 'rename' && this.file !== ':memory:';
	}

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
			if (this.#movesAside(problem)) {
				this.#release();
				const aside = this.#moveAside(failure);
				this.#tryOpen();
				throw new SqliteStoreError(this.file, problem, `${operation} failed: ${reasonOf(error)}; the file was moved aside to ${aside ?? '(gone)'} and a new cache started`, {cause: error});
			}

			throw failure;
		}
	}

	/** A write transaction (BEGIN IMMEDIATE: it waits for the write lock with the busy timeout), told to the hot cache. */
	#write<T>(operation: string, write: (open: Open) => T, change: (result: T) => OwnWrite): T {
		if (this.#options.readOnly) {
			throw new SqliteStoreError(this.file, 'read-only', `${operation} refused: the store was opened read-only`);
		}

		return this.#run(operation, open => {
			const result = open.db.transaction(() => {
				open.hot?.writeLocked();
				return write(open);
			}).immediate();
			open.hot?.writeCommitted(change(result));
			return result;
		});
	}

	async get(key: string): Promise<StoreRecord | undefined> {
		return this.#run('get', open => {
			const {hot} = open;
			const generation = hot?.generation();
			let record = generation === undefined ? undefined : hot!.get(key);
			if (record === undefined) {
				record = this.#read(open, key);
				if (record !== undefined && generation !== undefined) {
					hot!.keep(record, generation);
				}
			}

			if (record !== undefined && open.lru !== undefined) {
				this.#noteUse(key);
			}

			return record;
		});
	}

	/** The record of `key` in the file; a row that is not a record of ours (see metaOfRow) reads as missing. */
	#read({db, statements, partSize}: Open, key: string): StoreRecord | undefined {
		let row = statements.get.get(key) as Row | undefined;
		if (row?.value instanceof Uint8Array && row.value.byteLength === partSize) {
			// The first part of a value that may have more: read it all again in one snapshot.
			row = db.transaction(() => this.#readWhole(statements, key))();
		}

		if (row === undefined) {
			return undefined;
		}

		const meta = metaOfRow(row);
		return meta.corrupt === true || !(row.value instanceof Uint8Array) ? undefined : {...meta, value: row.value};
	}

	/** The row with its value made whole in one buffer; parts that do not follow on make a value the codec rejects. */
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
		try {
			if (this.#usedKeys.size > 0 && this.#open?.lru !== undefined) {
				this.#write('uses', ({lru}) => {
					this.#writeUses(lru);
				}, () => ({deleted: []}));
			}
		} catch {
			// Uses are a hint for eviction: losing some costs nothing but accuracy.
		}

		this.#usedKeys.clear();
	}

	/** Inside a write transaction: give the noted keys the next numbers of the file's use clock, in order of use. */
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

		const evicted = this.#write('set', ({statements, lru, partSize}) => {
			// Uses noted before this write are older than it: written first, before choosing what to evict.
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

	/** Inside the write of `written`: while over `budget`, delete the least recently used records but those. */
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

		return this.#write('delete', ({statements}) => {
			let deleted = 0;
			for (const key of keys) {
				statements.deleteParts.run(key);
				deleted += statements.delete.run(key).changes;
			}

			return deleted;
		}, () => ({deleted: keys}));
	}

	/** Pages of facts in table order, each after the last row of the one before: deletions never make it skip a row. */
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

	/** One indexed DELETE, then the parts of values whose row is gone. */
	async deleteWhere(filter: DeleteFilter): Promise<number> {
		const {createdBefore, expiredAt} = filter;
		return this.#write('deleteWhere', ({statements}) => {
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

	/** Empty the tables; a budget's delete trigger is dropped and made again around it (without it, SQLite does not go row by row). */
	async clear(): Promise<void> {
		this.#write('clear', ({statements, lru, db}) => {
			statements.clearParts.run();
			const budgeted = lru !== undefined || hasTable(db, 'lru_totals');
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
			// A connection that failed: nothing more to release.
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
