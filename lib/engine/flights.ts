import type {Response} from '../models/response.js';

/**
 * Shares one origin request among identical concurrent ones. The in-process {@link Flights} is the
 * default; a cross-process single-flight (a lock in a shared store) can take its place.
 */
export type SingleFlight = {
	/** Run `start` for `key`, or join the run already going; every caller gets its own copy of the result. */
	run(key: string, start: () => Promise<Response>): Promise<Response>;
};

/** In-process single-flight: callers with the same flight key share one promise. */
export class Flights implements SingleFlight {
	readonly #inFlight = new Map<string, {readonly promise: Promise<Response>; waiters: number}>();

	async run(key: string, start: () => Promise<Response>): Promise<Response> {
		const pending = this.#inFlight.get(key);
		if (pending !== undefined) {
			pending.waiters++;
			return (await pending.promise).clone();
		}

		const flight = {promise: start(), waiters: 0};
		this.#inFlight.set(key, flight);
		try {
			const response = await flight.promise;
			// The original stays untouched until every waiter has copied it.
			return flight.waiters > 0 ? response.clone() : response;
		} finally {
			this.#inFlight.delete(key);
		}
	}

	/** How many flights are going (for specs and stats). */
	get size(): number {
		return this.#inFlight.size;
	}
}
