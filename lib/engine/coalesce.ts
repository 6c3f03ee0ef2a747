import {createHash, randomBytes} from 'node:crypto';
import {debuglog} from 'node:util';
import type {FlightLease, FlightOutcome} from '../backends/store.js';
import type {FleetEvent} from '../diagnostics.js';
import type {CoalesceSettings} from '../policy/settings.js';
import type {Response} from '../models/response.js';

const debug = debuglog('requests-cache');

/** What the coalescer needs of the request path's storage. */
export type CoalescerStorage = {
	readonly lease: FlightLease | undefined;
	/** False while the store is failing or stalled: then a miss does not wait for its leases either. */
	readonly answering: boolean;
	/** Resolves once the writes queued so far are handed to the store (a release lands after them). */
	handed(): Promise<void>;
};

/** One miss to coalesce: how to ask the origin (and store), and how to read what another process stored. */
export type CoalescedMiss = {
	/** Ask the origin and store what may be stored. */
	readonly fetch: (signal: AbortSignal | undefined) => Promise<Response>;
	/** The response stored for this request, served from the store, or undefined when there is none it may use. */
	readonly follow: () => Promise<Response | undefined>;
	/** Resolves once what `fetch` answered is queued for the store: a streamed body once whole (or given up). */
	readonly whole: () => Promise<void>;
	readonly signal: AbortSignal | undefined;
	/** The request's own timeout, ms: a waiter never waits longer. */
	readonly timeout: number | undefined;
	/** Told what the request did; `reason` says why a waiter went to the origin itself. */
	readonly note: (event: FleetEvent, reason?: string) => void;
};

/** Why a waiter asks the origin itself. */
const reasons = {
	failed: 'the leader\'s origin request failed',
	missing: 'the leader\'s response was not stored',
	timeout: 'waited as long as the request may',
} as const;

class LeaseTimeout extends Error {}

/**
 * Miss coalescing across processes (the `coalesce` option; docs/scaling.md): the process that takes
 * the store's lease on a flight asks the origin, the others wait for the flight's end and read the
 * store; a lease that lapses is taken over, and a lease store that fails only costs coalescing.
 */
export class Coalescer {
	readonly #storage: CoalescerStorage;
	readonly #settings: CoalesceSettings;
	/** How long a lease operation may take, ms (the backend timeout). */
	readonly #timeout: number;
	/** Flights ended in the background (write handed, then release); `settle()` waits for them. */
	readonly #releases = new Set<Promise<void>>();

	constructor(storage: CoalescerStorage, settings: CoalesceSettings, timeout: number) {
		this.#storage = storage;
		this.#settings = settings;
		this.#timeout = timeout;
	}

	/** Answer a miss whose in-process flight key is `flightKey`: lead its flight, or wait for another process's. */
	async run(flightKey: string, miss: CoalescedMiss): Promise<Response> {
		const {lease} = this.#storage;
		if (lease === undefined || !this.#storage.answering) {
			return miss.fetch(miss.signal);
		}

		const name = createHash('sha256').update(flightKey).digest('base64url').slice(0, 32);
		const token = `${process.pid}.${randomBytes(9).toString('base64url')}`;
		let acquired: boolean;
		try {
			acquired = await this.#bounded(lease.acquire(name, token, this.#settings.lease));
		} catch (error) {
			debug('coalesce: no lease (%s): asking the origin', (error as Error).message);
			return miss.fetch(miss.signal);
		}

		return acquired ? this.#lead(lease, name, token, miss, 'leader') : this.#wait(lease, name, token, miss);
	}

	/** Wait for the flights ended in the background (their writes handed, their waiters told). */
	async settle(): Promise<void> {
		await Promise.all(this.#releases);
	}

	async #bounded<T>(promise: Promise<T>): Promise<T> {
		let timer: NodeJS.Timeout | undefined;
		try {
			return await Promise.race([promise, new Promise<never>((_resolve, reject) => {
				timer = setTimeout(() => {
					reject(new LeaseTimeout(`the lease store did not answer within ${this.#timeout} ms`));
				}, this.#timeout);
				timer.unref();
			})]);
		} finally {
			clearTimeout(timer);
			promise.catch(() => undefined);
		}
	}

	async #lead(lease: FlightLease, name: string, token: string, miss: CoalescedMiss, event: FleetEvent): Promise<Response> {
		const {lease: ttl} = this.#settings;
		// Renewed well before it lapses, so that only a leader that died or stalled loses it.
		const heartbeat = setInterval(() => {
			lease.renew(name, token, ttl).catch(() => undefined);
		}, Math.max(1, ttl / 3));
		heartbeat.unref();
		let outcome: FlightOutcome = 'failed';
		try {
			// The flight before may have ended between this process's read and its lease.
			const stored = await miss.follow();
			if (stored !== undefined) {
				outcome = 'done';
				miss.note('waiter');
				return stored;
			}

			miss.note(event);
			const response = await miss.fetch(miss.signal);
			outcome = 'done';
			return response;
		} finally {
			this.#end(lease, name, token, outcome, heartbeat, miss);
		}
	}

	/** End a flight after the caller has its answer: 'done' once the write is handed to the store, which lands the release after it. */
	#end(lease: FlightLease, name: string, token: string, outcome: FlightOutcome, heartbeat: NodeJS.Timeout, miss: CoalescedMiss): void {
		const release = (async () => {
			try {
				if (outcome === 'done') {
					await miss.whole();
					await this.#storage.handed();
				}

				await this.#bounded(lease.release(name, token, outcome));
			} catch (error) {
				// The waiters find the lease expired, and one takes over.
				debug('coalesce: release failed (%s)', (error as Error).message);
			} finally {
				clearInterval(heartbeat);
			}
		})();
		this.#releases.add(release);
		void release.finally(() => this.#releases.delete(release));
	}

	/** Where the flight stands for a waiter: ended, held, taken by it now, or unknown (the lease store failed). */
	async #look(lease: FlightLease, name: string, token: string): Promise<FlightOutcome | 'held' | 'taken' | 'broken'> {
		try {
			const state = await this.#bounded(lease.state(name));
			if (state !== 'free') {
				return state;
			}

			return await this.#bounded(lease.acquire(name, token, this.#settings.lease)) ? 'taken' : 'held';
		} catch (error) {
			debug('coalesce: lease store failed while waiting (%s): asking the origin', (error as Error).message);
			return 'broken';
		}
	}

	async #wait(lease: FlightLease, name: string, token: string, miss: CoalescedMiss): Promise<Response> {
		const {signal} = miss;
		const deadline = performance.now() + Math.min(this.#settings.wait, miss.timeout ?? Number.POSITIVE_INFINITY);
		let outcome: FlightOutcome | undefined;
		let wake: (() => void) | undefined;
		let stop: () => void;
		try {
			stop = await this.#bounded(lease.watch(name, ended => {
				outcome ??= ended;
				wake?.();
			}));
		} catch (error) {
			debug('coalesce: cannot wait (%s): asking the origin', (error as Error).message);
			return miss.fetch(signal);
		}

		// Looked at again each `lease / 2` ms: news can be lost, and a dead leader sends none.
		const checkEvery = this.#settings.lease / 2;
		try {
			for (;;) {
				signal?.throwIfAborted();
				if (outcome === undefined) {
					// eslint-disable-next-line no-await-in-loop -- one look at a time
					const state = await this.#look(lease, name, token);
					if (state === 'taken') {
						stop();
						return await this.#lead(lease, name, token, miss, 'takeover');
					}

					if (state === 'broken') {
						return await miss.fetch(signal);
					}

					if (state !== 'held') {
						outcome = state;
					}
				}

				if (outcome === 'done') {
					// eslint-disable-next-line no-await-in-loop
					const stored = await miss.follow();
					if (stored !== undefined) {
						miss.note('waiter');
						return stored;
					}

					miss.note('waiter', reasons.missing);
					return await miss.fetch(signal);
				}

				if (outcome === 'failed') {
					miss.note('waiter', reasons.failed);
					return await miss.fetch(signal);
				}

				const left = deadline - performance.now();
				if (left <= 0) {
					miss.note('waiter', reasons.timeout);
					return await miss.fetch(signal);
				}

				// eslint-disable-next-line no-await-in-loop
				await new Promise<void>(resolve => {
					const done = (): void => {
						clearTimeout(timer);
						signal?.removeEventListener('abort', done);
						wake = undefined;
						resolve();
					};

					const timer = setTimeout(done, Math.min(left, checkEvery));
					signal?.addEventListener('abort', done, {once: true});
					wake = done;
					if (outcome !== undefined) {
						done();
					}
				});
			}
		} finally {
			stop();
		}
	}
}
