import {inspect} from 'node:util';
import type {BaseCache} from '../cache/base-cache.js';
import type {EntryStorage} from '../cache/entry-storage.js';
import type {PreparedRequest} from '../models/request.js';
import {type RequestPlan, planRequest} from '../policy/actions.js';
import type {CacheSettings} from '../policy/settings.js';
import {Coalescer} from './coalesce.js';
import {Flights, type SingleFlight} from './flights.js';
import {type EngineOptions, RequestPath, type Send} from './request-path.js';
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
 * The cache engine: one per cached session (or installed cache), shared by every front door.
 * A front door hands it a prepared request and its own `send`; the engine asks the policy how the
 * request meets the cache (lib/policy/actions.ts `planRequest`) and sends it on that way: past
 * the cache, through an invalidation, or down the request path (lib/engine/request-path.ts: key,
 * read, the policy's named action carried out, storing what the policy lets be stored).
 *
 * Built by the composition root, `createEngine()` (lib/config/assemble.ts).
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

	/**
	 * Answer `request`: from the cache when the policy allows, else through `send` (storing what
	 * the policy lets be stored). Cache options in `options` apply to this request only.
	 */
	handle(request: PreparedRequest, options: EngineOptions, send: Send): ReturnType<Send> {
		if (options.signal?.aborted === true) {
			return Promise.reject(options.signal.reason as Error);
		}

		let plan: RequestPlan;
		try {
			// Checks the per-request options too: a bad one throws even where the cache is bypassed.
			plan = planRequest(request, options, this.settings);
		} catch (error) {
			return Promise.reject(error as Error);
		}

		const started = performance.now();
		if (isDisabled(this)) {
			return this.#path.bypass(request, options, send, started, 'disabled');
		}

		switch (plan.kind) {
			case 'bypass': {
				return this.#path.bypass(request, options, send, started, 'not cacheable');
			}

			case 'invalidate': {
				return this.#path.invalidate(request, options, send, started);
			}

			case 'lookup': {
				return this.#path.lookup(plan, request, options, send, started);
			}
		}
	}

	/** Wait for the background refreshes still running. */
	async settle(): Promise<void> {
		await this.#path.settle();
	}

	/** Wait for background refreshes, then close the cache if this engine opened it. */
	async close(): Promise<void> {
		// A body still arriving (a stream that never ends) is not waited for: it is not stored.
		await this.#path.close();
		if (this.#owned) {
			await this.cache.close();
		} else {
			// A cache handed in stays open for its owner, with this engine's writes in it.
			await this.cache.flush();
		}
	}

	[inspect.custom](): string {
		return `CacheEngine <${this.cache.backend} ${JSON.stringify(this.settings.cacheName)}>`;
	}
}
