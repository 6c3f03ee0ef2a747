import {AsyncLocalStorage} from 'node:async_hooks';

/** What `disabled()`, `enabled()` and `session.cacheDisabled()` set for the calls made inside them, and nothing else. */
type Scope = {
	readonly allDisabled: boolean;
	/** The caches (engines) bypassed. */
	readonly disabled: ReadonlySet<object>;
	/** The installed cache to use here instead of the program-wide one (`enabled()`). */
	readonly installed: object | undefined;
};

const storage = new AsyncLocalStorage<Scope>();
const outside: Scope = {allDisabled: false, disabled: new Set(), installed: undefined};

function checkFunction(fn: unknown, owner: string): void {
	if (typeof fn !== 'function') {
		throw new TypeError(`${owner} takes a function to run, got ${typeof fn}`);
	}
}

/** Run `fn` with one cache bypassed, or every cache when `cache` is undefined. */
export async function runDisabled<T>(cache: object | undefined, fn: () => T | Promise<T>, owner = 'disabled()'): Promise<T> {
	checkFunction(fn, owner);
	const scope = storage.getStore() ?? outside;
	const next: Scope = cache === undefined
		? {...scope, allDisabled: true}
		: {...scope, disabled: new Set([...scope.disabled, cache])};
	return storage.run(next, fn);
}

/** Run `fn` with `installed` as the program-wide cache for the calls it makes (and caching on again). */
export async function runInstalled<T>(installed: object, fn: () => T | Promise<T>, owner = 'enabled()'): Promise<T> {
	checkFunction(fn, owner);
	return storage.run({...outside, installed}, fn);
}

/** True when `cache` is bypassed in the current context. */
export function isDisabled(cache: object): boolean {
	const scope = storage.getStore();
	return scope !== undefined && (scope.allDisabled || scope.disabled.has(cache));
}

/** The installed cache `enabled()` chose for the current context, if any. */
export function scopedInstall(): object | undefined {
	return storage.getStore()?.installed;
}
