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

/** What this process changed in one committed write transaction (a write may evict records besides those it sets). */
export type OwnWrite =
	| {readonly set: readonly StoreRecord[]; readonly deleted?: readonly string[]}
	| {readonly deleted: readonly string[]}
	| {readonly everything: true};

/**
 * Recently read SQLite records, kept in this process and exactly as current as the database file: a changed wal-index
 * header in the `-shm` file (any commit, any process) drops them all (docs/backends.md, "A hot cache in the process").
 */
export class WalHotCache {
	readonly #shmPath: string;
	readonly #maxBytes: number;
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

	/** A hot cache for the database at `databasePath` (absolute, in WAL mode); a record over a quarter of `maxBytes` is not kept. */
	constructor(databasePath: string, limits: {readonly maxBytes: number}) {
		this.#shmPath = `${databasePath}-shm`;
		this.#maxBytes = limits.maxBytes;
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

	/** The current generation, which changes whenever the database changed since the last look; undefined: keep and serve nothing. */
	generation(): number | undefined {
		if (!this.#readHeader()) {
			return undefined;
		}

		if (!this.#known || !this.#scratch.equals(this.#baseline)) {
			this.clear();
			this.#scratch.copy(this.#baseline);
			this.#known = true;
			this.#generation++;
		}

		return this.#generation;
	}

	/** A kept record, valid for the generation just returned by {@link generation}. */
	get(key: string): StoreRecord | undefined {
		const kept = this.#records.get(key);
		if (kept !== undefined) {
			// Most recently used last, so that eviction takes from the front.
			this.#records.delete(key);
			this.#records.set(key, kept);
		}

		return kept?.record;
	}

	/** Keep a record read from SQLite, if no commit happened since `generation` was read before the read. */
	keep(record: StoreRecord, generation: number): void {
		if (this.generation() === generation) {
			this.#put(record);
		}
	}

	#put(record: StoreRecord): void {
		this.#forget(record.key);
		const bytes = record.value.byteLength + record.key.length + record.url.length + recordOverhead;
		if (bytes > this.#maxBytes / 4) {
			return;
		}

		this.#records.set(record.key, {record, bytes});
		this.#bytes += bytes;
		for (const [oldest] of this.#records) {
			if (this.#bytes <= this.#maxBytes) {
				break;
			}

			this.#forget(oldest);
		}
	}

	#forget(key: string): void {
		const kept = this.#records.get(key);
		if (kept !== undefined) {
			this.#records.delete(key);
			this.#bytes -= kept.bytes;
		}
	}

	/** Call inside this process's write transaction, under the lock: notes the commit counter (after another's commit, drops all). */
	writeLocked(): void {
		this.#lockedCounter = undefined;
		if (this.generation() !== undefined) {
			this.#lockedCounter = this.#readCounter(this.#baseline);
		}
	}

	/** Call right after this process's commit: if the counter moved by exactly one, apply `write` to what is kept, else drop all. */
	writeCommitted(write: OwnWrite): void {
		const before = this.#lockedCounter;
		this.#lockedCounter = undefined;
		if (before === undefined || !this.#readHeader() || this.#readCounter(this.#scratch) !== ((before + 1) >>> 0) || 'everything' in write) {
			this.clear();
			return;
		}

		// Only this commit happened: what is kept stays valid, up to what this write changed.
		this.#scratch.copy(this.#baseline);
		for (const key of write.deleted ?? []) {
			this.#forget(key);
		}

		// Kept as written, so reading one back hands out the same object.
		for (const record of 'set' in write ? write.set : []) {
			this.#put(record);
		}
	}

	/** Forget everything, until the next {@link generation} reads the header again. */
	clear(): void {
		this.#records.clear();
		this.#bytes = 0;
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
