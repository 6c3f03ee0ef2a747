import {Buffer} from 'node:buffer';
import {closeSync, openSync, readSync} from 'node:fs';
import {endianness} from 'node:os';
import type {StoreRecord} from './store.js';

/** Bytes of the first copy of the wal-index header, which every commit rewrites last (https://sqlite.org/walformat.html). */
const headerSize = 48;
/** Where the header keeps `iChange`, the counter that each commit by any connection increments. */
const changeCounterOffset = 8;
/** What a kept record costs beyond its value: the Map entry, the record object, its strings. */
const recordOverhead = 256;

/** Limits of a {@link WalHotCache}. */
export type HotCacheLimits = {
	/** Largest total of value bytes kept in memory; a record larger than a quarter of it is not kept. */
	readonly maxBytes: number;
};

/** What this process changed in one committed write transaction (a write may evict records besides those it sets). */
export type OwnWrite =
	| {readonly set: readonly StoreRecord[]; readonly deleted?: readonly string[]}
	| {readonly deleted: readonly string[]}
	| {readonly everything: true};

/**
 * Recently read SQLite records, kept in this process and exactly as current as the database file.
 * Before each use it reads the wal-index header from the `-shm` file (one 48-byte pread), which
 * SQLite rewrites on every commit by any connection in any process; when it changed, everything
 * kept is dropped. So a hit on a stable cache costs a pread and a map lookup instead of a SQL read
 * and a decode (the same record object is handed out again, and the cache decodes once per
 * object), and a write anywhere (another store, another process, the `sqlite3` shell) is seen at once.
 *
 * A record read from SQLite is kept only if no commit happened between the header read before the
 * SQL read and the one after ({@link generation} then {@link keep}). This process's own commits
 * rewrite the header too: {@link writeLocked} (under the write lock) and {@link writeCommitted}
 * (after the commit) tell them apart from other writers' by the header's commit counter, so that
 * an own write updates what is kept instead of dropping all of it.
 */
export class WalHotCache {
	readonly #shmPath: string;
	readonly #limits: HotCacheLimits;
	readonly #records = new Map<string, {record: StoreRecord; bytes: number}>();
	readonly #baseline = Buffer.alloc(headerSize);
	readonly #scratch = Buffer.alloc(headerSize);
	readonly #readCounter = endianness() === 'LE'
		? (buffer: Buffer) => buffer.readUInt32LE(changeCounterOffset)
		: (buffer: Buffer) => buffer.readUInt32BE(changeCounterOffset);

	#fd: number | undefined;
	#known = false;
	#bytes = 0;
	#generation = 0;
	#closed = false;
	/** The commit counter read under this process's write lock, when the header was as last seen. */
	#lockedCounter: number | undefined;

	/** A hot cache for the database at `databasePath` (an absolute path to a file in WAL mode). */
	constructor(databasePath: string, limits: HotCacheLimits) {
		this.#shmPath = `${databasePath}-shm`;
		this.#limits = limits;
	}

	/** How many records are kept now. */
	get size(): number {
		return this.#records.size;
	}

	/** Read the header into the scratch buffer; false when it cannot be read (no WAL index yet). */
	#readHeader(): boolean {
		if (this.#closed) {
			return false;
		}

		if (this.#fd === undefined) {
			try {
				this.#fd = openSync(this.#shmPath, 'r');
			} catch {
				return false;
			}
		}

		try {
			return readSync(this.#fd, this.#scratch, 0, headerSize, 0) === headerSize;
		} catch {
			this.#closeFile();
			return false;
		}
	}

	/** Drop everything kept and take the header just read as the new baseline. */
	#rebase(): void {
		this.#scratch.copy(this.#baseline);
		this.#known = true;
		this.#drop();
		this.#generation++;
	}

	#drop(): void {
		this.#records.clear();
		this.#bytes = 0;
	}

	/**
	 * The current generation, which changes whenever the database changed since the last look
	 * (and then nothing kept before is handed out). Undefined when the header cannot be read:
	 * then nothing may be kept or served.
	 */
	generation(): number | undefined {
		if (!this.#readHeader()) {
			return undefined;
		}

		if (!this.#known || !this.#scratch.equals(this.#baseline)) {
			this.#rebase();
		}

		return this.#generation;
	}

	/** A kept record, valid for the generation just returned by {@link generation}. */
	get(key: string): StoreRecord | undefined {
		const kept = this.#records.get(key);
		if (kept === undefined) {
			return undefined;
		}

		// Most recently used last, so that eviction takes from the front.
		this.#records.delete(key);
		this.#records.set(key, kept);
		return kept.record;
	}

	/** Keep a record read from SQLite, if no commit happened since `generation` was read before the read. */
	keep(record: StoreRecord, generation: number): void {
		if (this.generation() === generation) {
			this.#put(record);
		}
	}

	#put(record: StoreRecord): void {
		const bytes = record.value.byteLength + record.key.length + record.url.length + recordOverhead;
		const previous = this.#records.get(record.key);
		if (previous !== undefined) {
			this.#bytes -= previous.bytes;
			this.#records.delete(record.key);
		}

		if (bytes > this.#limits.maxBytes / 4) {
			return;
		}

		this.#records.set(record.key, {record, bytes});
		this.#bytes += bytes;
		for (const [oldest, kept] of this.#records) {
			if (this.#bytes <= this.#limits.maxBytes) {
				break;
			}

			this.#records.delete(oldest);
			this.#bytes -= kept.bytes;
		}
	}

	/**
	 * Call inside this process's write transaction, with the write lock held (no other connection
	 * can commit now): drops what is kept if another connection committed since the last look,
	 * and notes the commit counter.
	 */
	writeLocked(): void {
		this.#lockedCounter = undefined;
		if (this.generation() !== undefined) {
			this.#lockedCounter = this.#readCounter(this.#baseline);
		}
	}

	/**
	 * Call right after this process's write transaction committed. If the commit counter moved by
	 * exactly one since {@link writeLocked}, no other connection committed in between: the new
	 * header becomes the baseline and `write` is applied to what is kept (written records are kept
	 * as they are, so reading them back hands out the same objects). Otherwise everything goes.
	 */
	writeCommitted(write: OwnWrite): void {
		const before = this.#lockedCounter;
		this.#lockedCounter = undefined;
		if (before === undefined || !this.#readHeader() || this.#readCounter(this.#scratch) !== ((before + 1) >>> 0)) {
			this.#known = false;
			this.#drop();
			return;
		}

		// Only this commit happened: what is kept stays valid, up to what this write changed.
		this.#scratch.copy(this.#baseline);
		if ('everything' in write) {
			this.#drop();
			return;
		}

		for (const key of write.deleted ?? []) {
			const kept = this.#records.get(key);
			if (kept !== undefined) {
				this.#records.delete(key);
				this.#bytes -= kept.bytes;
			}
		}

		if ('set' in write) {
			for (const record of write.set) {
				this.#put(record);
			}
		}
	}

	/** Forget everything, until the next {@link generation} reads the header again. */
	clear(): void {
		this.#drop();
		this.#known = false;
	}

	#closeFile(): void {
		if (this.#fd !== undefined) {
			try {
				closeSync(this.#fd);
			} catch {
				// Already closed.
			}

			this.#fd = undefined;
		}
	}

	/** Drop everything and close the `-shm` file. Idempotent. */
	close(): void {
		this.#closed = true;
		this.clear();
		this.#closeFile();
	}
}
