import {inspect} from 'node:util';
import type {BaseCache} from '../cache/base-cache.js';
import type {EntryStorage} from '../cache/entry-storage.js';
import type {PreparedRequest} from '../models/request.js';
import {type RequestPlan, planRequest} from '../policy/actions.js';
import type {CacheSettings} from '../policy/settings.js';
import {Coalescer} from './coalesce.js';
import type {EngineOptions, Send} from './context.js';
import {Flights, type SingleFlight} from './flights.js';
import {RequestPath} from './request-path.js';
import {isDisabled} from './scope.js';

/** What the engine works with, built by the composition root (lib/config/assemble.ts). */
export type EngineParts = {
	/** The cache: maintenance and the `'error'` event. */
	readonly cache: BaseCache;
	/** The cache's request-path storage. */
	readonly storage: EntryStorage;
	/** True when the engine closes the cache with itself (it was built for it, not handed in). */
	readonly owned: boolean;
};

/**
 * The cache engine, shared by every front door: plans a request (lib/policy/actions.ts) and carries the plan out (docs/architecture.md).
 *
 * @example
 * const engine = createEngine(normalizeCacheOptions({backend: 'memory'}));
 * const response = await engine.handle(request, {}, (r, o) => session.send(r, o));
 */
export class CacheEngine {
	/** The validated settings. */
	readonly settings: CacheSettings;
	/** The cache: maintenance and the `'error'` event. */
	readonly cache: BaseCache;
	readonly #owned: boolean;
	readonly #path: RequestPath;

	constructor(settings: CacheSettings, {cache, storage, owned}: EngineParts, flights: SingleFlight = new Flights()) {
		this.settings = settings;
		this.cache = cache;
		this.#owned = owned;
		const coalescer = settings.coalesce === false ? undefined : new Coalescer(storage, settings.coalesce, settings.backendTimeout);
		this.#path = new RequestPath({settings, cache, storage, flights, coalescer});
	}

	/** Answer `request` from the cache when the policy allows, else through `send`; `options` apply to this request only. */
	handle(request: PreparedRequest, options: EngineOptions, send: Send): ReturnType<Send> {
		// Not async: a hit is a few microseconds, and an async wrapper's extra promise is a measurable part of them.
		let plan: RequestPlan;
		try {
			options.signal?.throwIfAborted();
			// Checks the per-request options too: a bad one throws even where the cache is bypassed.
			plan = planRequest(request, options, this.settings);
		} catch (error) {
			return Promise.reject(error as Error);
		}

		const started = performance.now();
		const disabled = isDisabled(this);
		if (disabled || plan.kind === 'bypass') {
			return this.#path.bypass(request, options, send, started, disabled ? 'disabled' : 'not cacheable');
		}

		return plan.kind === 'invalidate' ? this.#path.invalidate(request, options, send, started) : this.#path.lookup(plan, request, options, send, started);
	}

	/** Wait for the background refreshes still running. */
	async settle(): Promise<void> {
		await this.#path.settle();
	}

	/** Wait for background refreshes, then close the cache if this engine opened it (else flush this engine's writes). */
	async close(): Promise<void> {
		// A body still arriving (a stream that never ends) is not waited for: it is not stored.
		await this.#path.close();
		await (this.#owned ? this.cache.close() : this.cache.flush());
	}

	[inspect.custom](): string {
		return `CacheEngine <${this.cache.backend} ${JSON.stringify(this.settings.cacheName)}>`;
	}
}
