import {Buffer} from 'node:buffer';
import {closeSync, openSync, readSync} from 'node:fs';
import type {StoredValue} from '../cache/entry.js';

/** Bytes of the wal-index header copy that every commit rewrites (https://sqlite.org/walformat.html). */
const headerSize = 48;

/** Limits of a {@link WalHotCache}. */
export type HotCacheLimits = {
	/** Largest total of body bytes kept in memory. */
	maxBytes: number;
};

/**
 * A small in-process copy of recently read SQLite entries, decoded, that is exactly as current
 * as the database file: before each use it reads the wal-index header from the `-shm` file (one
 * 48-byte pread), which SQLite rewrites on every commit by any connection in any process. When
 * the header changed, everything kept is dropped. So a hit on a stable cache costs a pread and a
 * map lookup instead of a trip through sqlite3's thread pool, and a write anywhere (another
 * session, another process, a maintenance call) is seen at once.
 *
 * Values read from SQLite are only kept if no commit happened since before the read began
 * (`generation()` before, `set(…, generation)` after), so nothing older than the file is served.
 */
export class WalHotCache {
	private readonly shmPath: string;
	private readonly limits: HotCacheLimits;
	private readonly entries = new Map<string, {value: StoredValue; bytes: number}>();
	private readonly baseline = Buffer.alloc(headerSize);
	private readonly scratch = Buffer.alloc(headerSize);
	private fd: number | undefined;
	private known = false;
	private bytes = 0;
	private gen = 0;
	private closed = false;

	constructor(databasePath: string, limits: HotCacheLimits) {
		this.shmPath = `${databasePath}-shm`;
		this.limits = limits;
	}

	/**
	 * The current generation: it changes whenever the database changed since the last look.
	 * Undefined when the header cannot be read (not in WAL mode yet): then nothing is kept.
	 */
	generation(): number | undefined {
		if (this.closed) {
			return undefined;
		}

		if (this.fd === undefined) {
			try {
				this.fd = openSync(this.shmPath, 'r');
			} catch {
				return undefined;
			}
		}

		let read: number;
		try {
			read = readSync(this.fd, this.scratch, 0, headerSize, 0);
		} catch {
			this.close();
			return undefined;
		}

		if (read < headerSize) {
			return undefined;
		}

		if (!this.known || !this.scratch.equals(this.baseline)) {
			this.scratch.copy(this.baseline);
			this.known = true;
			this.entries.clear();
			this.bytes = 0;
			this.gen++;
		}

		return this.gen;
	}

	/** How many entries are kept now. */
	get size(): number {
		return this.entries.size;
	}

	/** A kept value, valid for the generation just returned by {@link generation}. */
	get(key: string): StoredValue | undefined {
		const kept = this.entries.get(key);
		if (kept === undefined) {
			return undefined;
		}

		// Most recently used last, so eviction takes from the front.
		this.entries.delete(key);
		this.entries.set(key, kept);
		return kept.value;
	}

	/** Keep a value read from SQLite, if the database has not changed since `generation`. */
	set(key: string, value: StoredValue, generation: number): void {
		if (this.generation() !== generation) {
			return;
		}

		const bytes = (value.kind === 'response' ? value.body.length : 0) + 512;
		if (bytes > this.limits.maxBytes / 4) {
			return;
		}

		const previous = this.entries.get(key);
		if (previous !== undefined) {
			this.bytes -= previous.bytes;
			this.entries.delete(key);
		}

		this.entries.set(key, {value, bytes});
		this.bytes += bytes;
		for (const [oldest, kept] of this.entries) {
			if (this.bytes <= this.limits.maxBytes) {
				break;
			}

			this.entries.delete(oldest);
			this.bytes -= kept.bytes;
		}
	}

	/** Forget everything (e.g. before this process writes). */
	clear(): void {
		this.entries.clear();
		this.bytes = 0;
		this.known = false;
	}

	close(): void {
		this.closed = true;
		this.clear();
		if (this.fd !== undefined) {
			try {
				closeSync(this.fd);
			} catch {
				// Already closed.
			}

			this.fd = undefined;
		}
	}
}
