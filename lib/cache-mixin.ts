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

// The cache's per-request options: a session takes them, and says what they need when no cache is in front of it.
declareLayerOptions(CACHE_REQUEST_OPTION_NAMES, 'needs a cache: use CachedSession (or CacheMixin) or call installCache() first');

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
	readonly settings: CacheConfig;
	/** Run `fn` with this session's cache bypassed for the requests it makes (others are unaffected). */
	cacheDisabled<T>(fn: () => T | Promise<T>): Promise<T>;
	/** Close the base session, then the cache's store connections. */
	close(): Promise<void>;
	/** Send through the cache: serve a usable cached response, or send with the base and store the result. */
	send(request: PreparedRequest, options?: SendOptions): Promise<Response>;
};

type Parameters_<T extends SessionConstructor> = ConstructorParameters<T>;

/**
 * The constructor arguments of `CacheMixin(Base)`: Base's, with cache options added to its first
 * (options object) argument. A required first argument stays required; a base whose first
 * argument is not an options object keeps its arguments as they are (give cache options to
 * `CacheMixin(Base, options)` then).
 */
export type CachedConstructorArguments<T extends SessionConstructor> =
	// A class that already caches is returned as it is.
	InstanceType<T> extends CacheMixinMembers ? Parameters_<T>
	: Parameters_<T> extends [] ? [options?: CacheOptions]
		: Parameters_<T> extends [infer First, ...infer Rest]
			? (First extends object ? [options: WithCacheOptions<First>, ...rest: Rest] : Parameters_<T>)
			: Parameters_<T> extends [(infer First)?, ...infer Rest]
				? (NonNullable<First> extends object ? [options?: WithCacheOptions<NonNullable<First>>, ...rest: Rest] : Parameters_<T>)
				: [options?: CacheOptions];

/**
 * A base's options plus the cache's, when no name is both: otherwise a type that no call
 * satisfies, naming the clash (give the cache options to `CacheMixin(Base, options)` instead).
 */
type WithCacheOptions<Options> = [Extract<keyof Options, keyof CacheOptions>] extends [never]
	? Options & CacheOptions
	: {'these base options are also cache options: pass cache options as CacheMixin(Base, cacheOptions)': Extract<keyof Options, keyof CacheOptions>};

/** The class `CacheMixin(Base)` returns: Base's statics, a constructor taking Base's options plus {@link CacheOptions}. */
export type CachedSessionClass<TBase extends SessionConstructor> = Omit<TBase, 'prototype'> & {
	new (...args: CachedConstructorArguments<TBase>): InstanceType<TBase> & CacheMixinMembers;
	prototype: InstanceType<TBase> & CacheMixinMembers;
};

/** The class `CacheMixin(Base, cacheOptions)` returns: Base's constructor, untouched. */
export type FixedCachedSessionClass<TBase extends SessionConstructor> = Omit<TBase, 'prototype'> & {
	new (...args: ConstructorParameters<TBase>): InstanceType<TBase> & CacheMixinMembers;
	prototype: InstanceType<TBase> & CacheMixinMembers;
};

/** Classes made by `CacheMixin`: a subclass of one already caches. */
const cachedClasses = new WeakSet<object>();

function isCachedClass(Base: object): boolean {
	for (let current: object | null = Base; current !== null && current !== Function.prototype; current = Object.getPrototypeOf(current) as object | null) {
		if (cachedClasses.has(current)) {
			return true;
		}
	}

	return false;
}

/** True when `session` caches by itself (its class came from `CacheMixin`). */
export function hasOwnCache(session: object): boolean {
	return isCachedClass(session.constructor);
}

/**
 * Add caching to any session-like class: `class MySession extends CacheMixin(OtherSession) {}`.
 * Cache options (see {@link CacheOptions}) are taken from the first constructor argument; the
 * other options, and any further arguments, go to the base class. Or give the cache options here,
 * `CacheMixin(Client, {cacheName: 'api'})`, and every constructor argument goes to the base
 * untouched (for bases with positional arguments, or options named like cache options). The
 * returned class keeps the base's own methods and state, and composes with other mixins in either
 * order; applied to a class that already caches, it returns that class.
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

	// Validated once, here, so a mistake shows where the class is made.
	const fixed = cacheOptions === undefined ? undefined : normalizeCacheOptions(cacheOptions, `CacheMixin(${Base.name})`);

	class Cached extends Base {
		readonly #engine: CacheEngine;
		readonly #settings: CacheConfig;

		// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mixin constructors must take any[]
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

