import {inspect} from 'node:util';
import type {BaseCache} from './cache/base-cache.js';
import {createEngine} from './config/assemble.js';
import {type CacheConfig, type CacheOptions, normalizeCacheOptions, splitCacheOptions} from './config/options.js';
import type {CacheEngine} from './engine/engine.js';
import {runDisabled} from './engine/scope.js';
import type {PreparedRequest} from './models/request.js';
import type {Response} from './models/response.js';
import {CACHE_REQUEST_OPTION_NAMES} from './policy/request-options.js';
import {type SendOptions, declareLayerOptions} from './session.js';

declareLayerOptions(CACHE_REQUEST_OPTION_NAMES, 'needs a cache: use CachedSession (or CacheMixin) or call installCache() first');

/** Any class whose instances can `send()` a prepared request: what `CacheMixin` extends. */
export type SendingSession = {
	send(request: PreparedRequest, options?: SendOptions): Promise<Response>;
	close?(): Promise<void>;
};

/** A class `CacheMixin` can extend (a mixin's base must accept any constructor arguments). */
export type SessionConstructor = new (...args: any[]) => SendingSession;

/** What a cache mixin adds to the class it extends. */
export type CacheMixinMembers = {
	/** The cache: maintenance (`removeOldEntries`, `urls`, `delete`, …) and the `'error'` event. */
	readonly cache: BaseCache;
	/** The validated cache settings. */
	readonly settings: CacheConfig;
	/** Run `fn` with this session's cache bypassed for the requests it makes (others are unaffected). */
	cacheDisabled<T>(fn: () => T | Promise<T>): Promise<T>;
	/** Close the base session, then the cache's store connections. */
	close(): Promise<void>;
	/** Send through the cache: serve a usable cached response, or send with the base and store the result. */
	send(request: PreparedRequest, options?: SendOptions): Promise<Response>;
};

/** The constructor arguments of `CacheMixin(Base)`: Base's, with cache options added to its first (options object) argument. */
export type CachedConstructorArguments<T extends SessionConstructor> =
	// A class that already caches is returned as it is.
	InstanceType<T> extends CacheMixinMembers ? ConstructorParameters<T>
	: ConstructorParameters<T> extends [] ? [options?: CacheOptions]
		: ConstructorParameters<T> extends [infer First, ...infer Rest]
			? (First extends object ? [options: WithCacheOptions<First>, ...rest: Rest] : ConstructorParameters<T>)
			: ConstructorParameters<T> extends [(infer First)?, ...infer Rest]
				? (NonNullable<First> extends object ? [options?: WithCacheOptions<NonNullable<First>>, ...rest: Rest] : ConstructorParameters<T>)
				: [options?: CacheOptions];

/** A base's options plus the cache's, or, when a name is both, a type no call satisfies that names the clash. */
type WithCacheOptions<Options> = [Extract<keyof Options, keyof CacheOptions>] extends [never]
	? Options & CacheOptions
	: {'these base options are also cache options: pass cache options as CacheMixin(Base, cacheOptions)': Extract<keyof Options, keyof CacheOptions>};

/** Base's statics, and a constructor taking `Args` that makes Base's instances with the cache's members. */
type CachingClass<TBase extends SessionConstructor, Args extends unknown[]> = Omit<TBase, 'prototype'> & {
	new (...args: Args): InstanceType<TBase> & CacheMixinMembers;
	prototype: InstanceType<TBase> & CacheMixinMembers;
};

/** The class `CacheMixin(Base)` returns: Base's statics, a constructor taking Base's options plus {@link CacheOptions}. */
export type CachedSessionClass<TBase extends SessionConstructor> = CachingClass<TBase, CachedConstructorArguments<TBase>>;

/** The class `CacheMixin(Base, cacheOptions)` returns: Base's constructor, untouched. */
export type FixedCachedSessionClass<TBase extends SessionConstructor> = CachingClass<TBase, ConstructorParameters<TBase>>;

const cachedClasses = new WeakSet<object>();

/** True for a class made by `CacheMixin`, or a subclass of one. */
function isCachedClass(Base: object | null): boolean {
	return Base !== null && Base !== Function.prototype && (cachedClasses.has(Base) || isCachedClass(Object.getPrototypeOf(Base) as object | null));
}

/** True when `session` caches by itself (its class came from `CacheMixin`). */
export function hasOwnCache(session: object): boolean {
	return isCachedClass(session.constructor);
}

/**
 * Add caching to any session-like class, with cache options from the first constructor argument or given here (docs/sessions.md).
 *
 * @example
 * class MySession extends CacheMixin(Session) {}
 * const session = new MySession({cacheName: 'demo', expireAfter: 3600, headers: {'user-agent': 'x'}});
 */
export function CacheMixin<TBase extends SessionConstructor>(Base: TBase): CachedSessionClass<TBase>;
export function CacheMixin<TBase extends SessionConstructor>(Base: TBase, cacheOptions: CacheOptions): FixedCachedSessionClass<TBase>;
export function CacheMixin<TBase extends SessionConstructor>(Base: TBase, cacheOptions?: CacheOptions): CachedSessionClass<TBase> | FixedCachedSessionClass<TBase> {
	if (typeof Base !== 'function' || typeof (Base.prototype as Partial<SendingSession> | undefined)?.send !== 'function') {
		throw new TypeError('CacheMixin() takes a class whose instances have a send(request, options) method');
	}

	if (isCachedClass(Base)) {
		return Base as unknown as CachedSessionClass<TBase>;
	}

	// Validated here, so that a mistake shows where the class is made.
	const fixed = cacheOptions === undefined ? undefined : normalizeCacheOptions(cacheOptions, `CacheMixin(${Base.name})`);

	class Cached extends Base {
		readonly #engine: CacheEngine;
		readonly #settings: CacheConfig;

		constructor(...args: any[]) {
			const owner = new.target.name || 'CachedSession';
			if (fixed === undefined) {
				const [options, rest] = splitCacheOptions(args[0]);
				const settings = normalizeCacheOptions(options, owner);
				super(...(args.length === 0 && Object.keys(options).length === 0 ? [] : [rest, ...args.slice(1)]));
				this.#settings = settings;
			} else {
				super(...args);
				this.#settings = fixed;
			}

			this.#engine = createEngine(this.#settings);
		}

		get cache(): BaseCache {
			return this.#engine.cache;
		}

		get settings(): CacheConfig {
			return this.#settings;
		}

		async cacheDisabled<T>(fn: () => T | Promise<T>): Promise<T> {
			return runDisabled(this.#engine, fn, 'cacheDisabled()');
		}

		// Not async: one promise fewer on every hit.
		override send(request: PreparedRequest, options: SendOptions = {}): Promise<Response> {
			return this.#engine.handle(request, options, async (r, o) => super.send(r, o));
		}

		[inspect.custom](): string {
			return `${this.constructor.name} <${this.#engine.cache.backend} ${JSON.stringify(this.#engine.settings.cacheName)}>`;
		}

		override async close(): Promise<void> {
			// Background refreshes still send through the base: they finish first.
			await this.#engine.settle();
			await super.close?.();
			await this.#engine.close();
		}
	}

	cachedClasses.add(Cached);
	return Cached as unknown as CachedSessionClass<TBase>;
}

