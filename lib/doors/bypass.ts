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
	// With no door open there is nothing to step around: entering an AsyncLocalStorage would turn
	// on Node's promise hooks for the whole process, a third of a cache hit's CPU.
	return openDoors === 0 ? fn() : outside.run(true, fn);
}

/** How many doors are installed now. */
let openDoors = 0;

/** Count a door as open until the returned function is called (once). */
export function doorOpened(): () => void {
	openDoors++;
	let closed = false;
	return () => {
		if (!closed) {
			closed = true;
			openDoors--;
		}
	};
}

/** True inside {@link outsideDoors}. */
export function isOutsideDoors(): boolean {
	return outside.getStore() === true;
}
