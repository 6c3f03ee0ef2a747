import {AsyncLocalStorage} from 'node:async_hooks';
import type {RestoreDoor} from './types.js';

// Marks the requests a door (or a session's own transport) sends, so that no door catches them again.
const outside = new AsyncLocalStorage<true>();
let openDoors = 0;
const doorsInPlace = new Map<'fetch' | 'http', RestoreDoor>();

/** Run `fn` with the front doors stepping aside for the requests it makes (they go on untouched). */
export function outsideDoors<T>(fn: () => T): T {
	// Entering an AsyncLocalStorage turns on Node's promise hooks for the whole process (a third of a hit's CPU).
	return openDoors === 0 ? fn() : outside.run(true, fn);
}

/** True inside {@link outsideDoors}. */
export function isOutsideDoors(): boolean {
	return outside.getStore() === true;
}

/** Take down the door of this kind in place, if any: a second install replaces it instead of stacking on it. */
export function replaceDoor(kind: 'fetch' | 'http'): void {
	doorsInPlace.get(kind)?.();
}

/** Count a door as open until the returned function (which runs `takeDown` once) is called. */
export function doorOpened(kind: 'fetch' | 'http', takeDown: () => void): RestoreDoor {
	openDoors++;
	let open = true;
	const restore = (): void => {
		if (!open) {
			return;
		}

		open = false;
		openDoors--;
		takeDown();
		if (doorsInPlace.get(kind) === restore) {
			doorsInPlace.delete(kind);
		}
	};

	doorsInPlace.set(kind, restore);
	return restore;
}
