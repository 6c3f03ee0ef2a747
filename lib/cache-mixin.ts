import {AsyncLocalStorage} from 'node:async_hooks';
import {Buffer} from 'node:buffer';
import {createCache} from './backends/index.js';
import {BaseCache} from './cache/base-cache.js';
import type {PreparedRequest} from './models/request.js';
import {Response} from './models/response.js';
import {type CacheOptions, type CacheSettings, normalizeCacheOptions, splitCacheOptions} from './policy/settings.js';
import {CACHE_REQUEST_OPTION_NAMES} from './policy/request-options.js';
import {type Transport, decideAndSend} from './policy/actions.js';
import type {SendOptions} from './session.js';

/** Any class whose instances can `send()` a prepared request: what `CacheMixin` extends. */
export type SendingSession = {
	send(request: PreparedRequest, options?: SendOptions): Promise<Response>;
	close?(): Promise<void>;
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mixin's base must accept any constructor arguments
export type SessionConstructor = new (...args: any[]) => SendingSession;

/** What a cache mixin adds to the class it extends. */
export type CacheMixinMembers = {
	/** The cache: maintenance (`removeOldEntries`, `urls`, `delete`, …) and the `'error'` event. */
	readonly cache: BaseCache;
	/** The validated cache settings. */
	readonly settings: CacheSettings;
	/** Run `fn` with this session's cache bypassed for the requests it makes (others are unaffected). */
	cacheDisabled<T>(fn: () => T | Promise<T>): Promise<T>;
	/** Close the base session, then the cache's store connections. */
	close(): Promise<void>;
	/** Send through the cache: serve a usable cached response, or send with the base and store the result. */
	send(request: PreparedRequest, options?: SendOptions): Promise<Response>;
};

type BaseOptions<T extends SessionConstructor> = ConstructorParameters<T> extends [] ? object : NonNullable<ConstructorParameters<T>[0]>;
type RestArguments<T extends SessionConstructor> = ConstructorParameters<T> extends [unknown?, ...infer R] ? R : [];

/** The class `CacheMixin(Base)` returns: Base's statics, a constructor taking Base's options plus {@link CacheOptions}. */
export type CachedSessionClass<TBase extends SessionConstructor> = Omit<TBase, 'prototype'> & {
	new (options?: BaseOptions<TBase> & CacheOptions, ...rest: RestArguments<TBase>): InstanceType<TBase> & CacheMixinMembers;
	prototype: InstanceType<TBase> & CacheMixinMembers;
};

/** The per-session (or per-install) state of a cache. */
export type CacheState = {
	readonly settings: CacheSettings;
	readonly cache: BaseCache;
	/** Requests on their way to the origin, by cache key, so that concurrent identical ones share one. */
	readonly inFlight: Map<string, {readonly promise: Promise<Response>; waiters: number}>;
	/** Background refreshes (stale-while-revalidate) still running; `close()` waits for them. */
	readonly background: Set<Promise<void>>;
	/** False when the cache was given as `backend`: whoever created it closes it. */
	readonly ownsCache: boolean;
};

type Scope = {readonly all: boolean; readonly states: ReadonlySet<CacheState>};
const scope = new AsyncLocalStorage<Scope>();
const states = new WeakMap<object, CacheState>();

/** Build the state for a set of cache options (validating them). */
export function createCacheState(options: CacheOptions | undefined, owner: string): CacheState {
	const settings = normalizeCacheOptions(options, owner);
	return stateFor(settings);
}

function stateFor(settings: CacheSettings): CacheState {
	return {settings, cache: createCache(settings), inFlight: new Map(), background: new Set(), ownsCache: !(settings.backend instanceof BaseCache)};
}

/** True when `session` caches by itself (its class came from `CacheMixin`). */
export function hasOwnCache(session: object): boolean {
	return states.has(session);
}

/** Run `fn` with caching bypassed: for one state, or for all when `state` is undefined. */
export async function runWithCacheDisabled<T>(state: CacheState | undefined, fn: () => T | Promise<T>): Promise<T> {
	if (typeof fn !== 'function') {
		throw new TypeError(`expected a function to run with the cache disabled, got ${typeof fn}`);
	}

	const current = scope.getStore();
	const next: Scope = state === undefined
		? {all: true, states: current?.states ?? new Set()}
		: {all: current?.all ?? false, states: new Set([...(current?.states ?? []), state])};
	return scope.run(next, fn);
}

function withoutCacheOptions(options: SendOptions): SendOptions {
	let copy: Record<string, unknown> | undefined;
	for (const name of CACHE_REQUEST_OPTION_NAMES) {
		if (options[name] !== undefined) {
			copy ??= {...options};
			delete copy[name];
		}
	}

	return (copy ?? options) as SendOptions;
}

/**
 * Send `request` through the cache described by `state`, with `transport` (the base session's
 * send) for whatever must reach the origin. Shared by `CacheMixin` and `installCache()`.
 */
export function cachedSend(state: CacheState, request: PreparedRequest, options: SendOptions, transport: Transport): Promise<Response> {
	const current = scope.getStore();
	if (current !== undefined && (current.all || current.states.has(state))) {
		return transport(request, withoutCacheOptions(options));
	}

	return decideAndSend(state, request, options, (r, o) => transport(r, withoutCacheOptions(o)));
}

/** A copy of a response that shares nothing mutable with the original. */
export function cloneResponse(response: Response): Response {
	const copy = new Response({
		status: response.status,
		reason: response.reason,
		headers: {...response.headers},
		url: response.url,
		body: Buffer.from(response.body),
		request: response.request,
		history: response.history,
	});
	copy.fromCache = response.fromCache;
	copy.createdAt = response.createdAt;
	copy.expires = response.expires;
	copy.isExpired = response.isExpired;
	copy.revalidated = response.revalidated;
	copy.cacheKey = response.cacheKey;
	return copy;
}

/**
 * Add caching to any session-like class: `class MySession extends CacheMixin(OtherSession) {}`.
 * Cache options (see {@link CacheOptions}) are taken from the first constructor argument; the
 * other options, and any further arguments, go to the base class. The returned class keeps the
 * base's own methods and state, and composes with other mixins in either order.
 *
 * @example
 * class MySession extends CacheMixin(Session) {}
 * const session = new MySession({cacheName: 'demo', expireAfter: 3600, headers: {'user-agent': 'x'}});
 */
export function CacheMixin<TBase extends SessionConstructor>(Base: TBase): CachedSessionClass<TBase> {
	if (typeof Base !== 'function' || typeof (Base.prototype as Partial<SendingSession> | undefined)?.send !== 'function') {
		throw new TypeError('CacheMixin() takes a class whose instances have a send(request, options) method');
	}

	// No private or protected members here: declaration emit of mixins cannot express them (TS4094).
	class Cached extends Base {
		// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mixin constructors must take any[]
		constructor(...args: any[]) {
			const [cacheOptions, rest] = splitCacheOptions(args[0]);
			const owner = new.target.name || 'CachedSession';
			const settings = normalizeCacheOptions(cacheOptions, owner);
			super(...(args.length === 0 && Object.keys(cacheOptions).length === 0 ? [] : [rest, ...args.slice(1)]));
			states.set(this, stateFor(settings));
		}

		get cache(): BaseCache {
			return states.get(this)!.cache;
		}

		get settings(): CacheSettings {
			return states.get(this)!.settings;
		}

		async cacheDisabled<T>(fn: () => T | Promise<T>): Promise<T> {
			return runWithCacheDisabled(states.get(this)!, fn);
		}

		// Not async: one promise fewer on every hit.
		override send(request: PreparedRequest, options: SendOptions = {}): Promise<Response> {
			return cachedSend(states.get(this)!, request, options, async (r, o) => super.send(r, o));
		}

		override async close(): Promise<void> {
			const state = states.get(this)!;
			await Promise.all(state.background);
			await super.close?.();
			if (state.ownsCache) {
				await state.cache.close();
			}
		}
	}

	return Cached as unknown as CachedSessionClass<TBase>;
}
