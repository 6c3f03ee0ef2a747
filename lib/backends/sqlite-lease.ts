import {type Connection, loadDriver} from './sqlite-file.js';
import type {FlightLease, FlightOutcome, FlightState} from './store.js';

/** How long an ended flight's outcome stays readable, ms, for a waiter that looks after the news went by. */
const linger = 10_000;
/** How often waiters' processes look for ended flights, ms: the most a waiter is woken late. */
const pollEvery = 10;
/** Rows of flights that ended (or expired) longer ago than this are removed, at most once per this long. */
const sweepEvery = 60_000;

/** `seq` orders the ends of flights as the write lock does: a poller that has seen `seq` n has seen every end before it. */
const schema = `
CREATE TABLE IF NOT EXISTS flight_leases (
	name TEXT PRIMARY KEY,
	token TEXT NOT NULL,
	until INTEGER NOT NULL,
	outcome TEXT,
	seq INTEGER
);
CREATE INDEX IF NOT EXISTS flight_leases_seq ON flight_leases (seq) WHERE seq IS NOT NULL;
`;

function prepare(db: Connection) {
	return {
		acquire: db.prepare(`INSERT INTO flight_leases (name, token, until) VALUES (@name, @token, @until)
			ON CONFLICT (name) DO UPDATE SET token = excluded.token, until = excluded.until, outcome = NULL, seq = NULL
			WHERE flight_leases.outcome IS NOT NULL OR flight_leases.until < @now`),
		renew: db.prepare('UPDATE flight_leases SET until = @until WHERE name = @name AND token = @token AND outcome IS NULL'),
		release: db.prepare(`UPDATE flight_leases SET outcome = @outcome, until = @until, seq = (SELECT coalesce(max(seq), 0) + 1 FROM flight_leases WHERE seq IS NOT NULL)
			WHERE name = @name AND token = @token`),
		state: db.prepare('SELECT until, outcome FROM flight_leases WHERE name = ?'),
		lastSeq: db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM flight_leases WHERE seq IS NOT NULL'),
		since: db.prepare('SELECT name, outcome, seq FROM flight_leases WHERE seq > ? ORDER BY seq'),
		// The last end stays: `seq` must never go back.
		sweep: db.prepare('DELETE FROM flight_leases WHERE until < @before AND (seq IS NULL OR seq < (SELECT max(seq) FROM flight_leases WHERE seq IS NOT NULL))'),
	};
}

/**
 * Flight leases for processes sharing a SQLite cache file, in `<file>-flights` (its own file, so that lease writes
 * leave the cache file's hot caches alone: docs/backends.md); waiters poll every {@link pollEvery} ms while any wait.
 */
export class SqliteLease implements FlightLease {
	readonly #file: string;
	readonly #busyTimeout: number;
	#open: {db: Connection; statements: ReturnType<typeof prepare>} | undefined;
	#closed = false;
	readonly #listeners = new Map<string, Set<(outcome: FlightOutcome) => void>>();
	#poller: NodeJS.Timeout | undefined;
	#seen = 0;
	#sweptAt = 0;

	/** Leases for the cache file `cacheFile` (absolute), kept in `<cacheFile>-flights`. */
	constructor(cacheFile: string, busyTimeout: number) {
		this.#file = `${cacheFile}-flights`;
		this.#busyTimeout = busyTimeout;
	}

	#statements() {
		if (this.#closed) {
			throw new Error(`the lease table of ${this.#file} is closed`);
		}

		if (this.#open === undefined) {
			const db = new (loadDriver(this.#file))(this.#file, {timeout: this.#busyTimeout});
			try {
				// WAL: pollers read while leaders write. Busy here: this miss goes without coalescing, the next opens it again.
				db.pragma('journal_mode = WAL');
				db.pragma('synchronous = NORMAL');
				db.exec(schema);
				this.#open = {db, statements: prepare(db)};
			} catch (error) {
				db.close();
				throw error;
			}
		}

		return this.#open.statements;
	}

	async acquire(name: string, token: string, ttl: number): Promise<boolean> {
		const statements = this.#statements();
		const now = Date.now();
		if (now - this.#sweptAt > sweepEvery) {
			this.#sweptAt = now;
			statements.sweep.run({before: now - sweepEvery});
		}

		return statements.acquire.run({name, token, until: now + ttl, now}).changes === 1;
	}

	async renew(name: string, token: string, ttl: number): Promise<boolean> {
		return this.#statements().renew.run({name, token, until: Date.now() + ttl}).changes === 1;
	}

	async release(name: string, token: string, outcome: FlightOutcome): Promise<void> {
		this.#statements().release.run({name, token, outcome, until: Date.now() + linger});
	}

	async state(name: string): Promise<FlightState> {
		const row = this.#statements().state.get(name) as {until: number; outcome: string | null} | undefined;
		if (row?.outcome === 'done' || row?.outcome === 'failed') {
			return row.outcome;
		}

		return row === undefined || row.until < Date.now() ? 'free' : 'held';
	}

	async watch(name: string, listener: (outcome: FlightOutcome) => void): Promise<() => void> {
		const statements = this.#statements();
		if (this.#poller === undefined) {
			// Only ends from now on: the waiter reads the state for what came before.
			this.#seen = (statements.lastSeq.get() as {seq: number}).seq;
			this.#poller = setInterval(() => {
				this.#poll();
			}, pollEvery);
			this.#poller.unref();
		}

		const heard = this.#listeners.get(name) ?? new Set();
		this.#listeners.set(name, heard);
		heard.add(listener);
		return () => {
			heard.delete(listener);
			if (heard.size === 0 && this.#listeners.get(name) === heard) {
				this.#listeners.delete(name);
			}

			if (this.#listeners.size === 0) {
				clearInterval(this.#poller);
				this.#poller = undefined;
			}
		};
	}

	#poll(): void {
		let rows: Array<{name: string; outcome: string; seq: number}>;
		try {
			rows = this.#statements().since.all(this.#seen) as typeof rows;
		} catch {
			// A busy or closed file: the waiters look at the state themselves, and give up in time.
			return;
		}

		for (const row of rows) {
			this.#seen = Math.max(this.#seen, row.seq);
			const heard = this.#listeners.get(row.name);
			if (heard !== undefined && (row.outcome === 'done' || row.outcome === 'failed')) {
				for (const listener of [...heard]) {
					listener(row.outcome);
				}
			}
		}
	}

	async close(): Promise<void> {
		this.#closed = true;
		clearInterval(this.#poller);
		this.#poller = undefined;
		this.#listeners.clear();
		this.#open?.db.close();
		this.#open = undefined;
	}
}
