import type {Response} from '../models/response.js';

/** Shares one origin request among identical concurrent ones: in-process {@link Flights} by default, or your own. */
export type SingleFlight = {
	/** Run `start` for `key` or join its run, each caller with its own copy; the run aborts only when every caller's `signal` has. */
	run(key: string, start: (signal: AbortSignal | undefined) => Promise<Response>, signal?: AbortSignal): Promise<Response>;
};

type Flight = {
	readonly promise: Promise<Response>;
	/** Aborts the shared run; none when its first caller gave no signal (it can never be aborted by all). */
	readonly controller: AbortController | undefined;
	callers: number;
	/** Callers not aborted. */
	waiting: number;
	/** Callers the result has been handed to. */
	handed: number;
};

/** In-process single-flight: callers with the same flight key share one promise. */
export class Flights implements SingleFlight {
	readonly #inFlight = new Map<string, Flight>();

	async run(key: string, start: (signal: AbortSignal | undefined) => Promise<Response>, signal?: AbortSignal): Promise<Response> {
		signal?.throwIfAborted();
		const joined = this.#inFlight.get(key) ?? this.#start(key, start, signal);
		joined.callers++;
		// A caller without a signal waits for good: the shared run is never aborted then.
		joined.waiting += signal === undefined ? Number.POSITIVE_INFINITY : 1;
		// Several callers each get a copy; a body still arriving is split among them instead, the last
		// taking the original, so that no branch of it is left unread (it would hold every byte read).
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

	#start(key: string, start: (signal: AbortSignal | undefined) => Promise<Response>, signal: AbortSignal | undefined): Flight {
		const controller = signal === undefined ? undefined : new AbortController();
		const flight: Flight = {promise: start(controller?.signal), controller, callers: 0, waiting: 0, handed: 0};
		this.#inFlight.set(key, flight);
		// Registered before any caller's continuation: the flight is gone before results are handed out.
		const end = (): void => {
			if (this.#inFlight.get(key) === flight) {
				this.#inFlight.delete(key);
			}
		};

		flight.promise.then(end, end);
		return flight;
	}
}
