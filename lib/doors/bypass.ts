import {AsyncLocalStorage} from 'node:async_hooks';

// Set for the requests a door (or a session's own transport) sends to the origin, so that no
// door catches them again on the way out.
const outside = new AsyncLocalStorage<true>();

/**
 * Run `fn` with the front doors stepping aside for the requests it makes: they go to the network
 * (or to the next interceptor, such as nock) untouched. The doors' own `send` runs this way, and
 * so must any transport that already sits behind a cache (a session's got).
 */
export function outsideDoors<T>(fn: () => T): T {
	return outside.run(true, fn);
}

/** True inside {@link outsideDoors}. */
export function isOutsideDoors(): boolean {
	return outside.getStore() === true;
}
