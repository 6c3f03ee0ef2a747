import type {Response} from '../models/response.js';

/**
 * Shares one origin request among identical concurrent ones. The in-process {@link Flights} is the
 * default; a cross-process single-flight (a lock in a shared store) can take its place.
 */
export type SingleFlight = {
	/**
	 * Run `start` for `key`, or join the run already going; every caller gets its own copy of the
	 * result. A caller whose `signal` aborts is rejected at once with the signal's reason; the
	 * shared run is aborted (through the signal given to `start`) only when every caller has.
	 */
	run(key: string, start: (signal: AbortSignal | undefined) => Promise<Response>, signal?: AbortSignal): Promise<Response>;
};

type Flight = {
	readonly promise: Promise<Response>;
	/** Aborts the shared run; none when its first caller gave no signal (it can never be aborted by all). */
	readonly controller: AbortController | undefined;
	/** Callers sharing the result. */
	callers: number;
	/** Callers still waiting (not aborted). */
	waiting: number;
	/** Callers the result has been handed to. */
	handed: number;
};

/** In-process single-flight: callers with the same flight key share one promise. */
export class Flights implements SingleFlight {
	readonly #inFlight = new Map<string, Flight>();

	async run(key: string, start: (signal: AbortSignal | undefined) => Promise<Response>, signal?: AbortSignal): Promise<Response> {
		signal?.throwIfAborted();
		let flight = this.#inFlight.get(key);
		if (flight === undefined) {
			const controller = signal === undefined ? undefined : new AbortController();
			const promise = start(controller?.signal);
			flight = {promise, controller, callers: 0, waiting: 0, handed: 0};
			this.#inFlight.set(key, flight);
			// Registered before any caller's continuation: the flight is gone before results are handed out.
			const started = flight;
			promise.then(() => this.#end(key, started), () => this.#end(key, started));
		}

		const joined = flight;
		joined.callers++;
		// A caller without a signal waits for good: the shared run is never aborted then.
		joined.waiting += signal === undefined ? Number.POSITIVE_INFINITY : 1;
		// One caller alone gets the response itself; several each get a copy, the original untouched.
		// A body still arriving is split among them instead: the last takes the original, so that
		// no branch of it is left unread (an unread branch would hold every byte the others read).
		const result = joined.promise.then(response => {
			joined.handed++;
			if (joined.callers === 1 || (response.streaming !== undefined && joined.handed === joined.callers)) {
				return response;
			}

			return response.clone();
		});
		if (signal === undefined) {
			return result;
		}

		return new Promise<Response>((resolve, reject) => {
			const onAbort = (): void => {
				joined.waiting--;
				if (joined.waiting === 0) {
					joined.controller?.abort(signal.reason);
				}

				reject(signal.reason as Error);
			};

			signal.addEventListener('abort', onAbort, {once: true});
			result.then(response => {
				signal.removeEventListener('abort', onAbort);
				if (signal.aborted) {
					// Nobody reads this caller's share of a body still arriving: let it go.
					void response.streaming?.stream.cancel(signal.reason).catch(() => undefined);
				}

				resolve(response);
			}, (error: unknown) => {
				signal.removeEventListener('abort', onAbort);
				reject(error as Error);
			});
		});
	}

	#end(key: string, flight: Flight): void {
		if (this.#inFlight.get(key) === flight) {
			this.#inFlight.delete(key);
		}
	}

	/** How many flights are going (for specs and stats). */
	get size(): number {
		return this.#inFlight.size;
	}
}
