import {Buffer} from 'node:buffer';
import type {BaseCache} from '../cache/base-cache.js';
import type {EntryStorage, Found, VariantKey} from '../cache/entry-storage.js';
import {createVariantKey, ownerOf, requestKey} from '../codec/keys.js';
import {servedResponse} from '../codec/served-response.js';
import {type CacheEvent, count, publish} from '../diagnostics.js';
import {RequestsCacheError} from '../errors.js';
import type {PreparedRequest} from '../models/request.js';
import {Response} from '../models/response.js';
import {type Lookup, decideLookup, servedAge, servesRequester} from '../policy/actions.js';
import {type ForwardReason, type Outcome, cacheStatusMember, cacheStatusOf, collapsedCacheStatus, fetchReason, revalidateReason, withCacheStatus} from '../policy/cache-status.js';
import {type ByteRange, partialEntry} from '../policy/ranges.js';
import type {CacheSettings} from '../policy/settings.js';
import {normalizeVaryHeaders} from '../policy/vary.js';
import type {Coalescer} from './coalesce.js';
import {type EngineContext, type EngineOptions, type Observed, type Send, flightKey, transportOptions, withSignal} from './context.js';
import type {SingleFlight} from './flights.js';
import {sendAndInvalidate} from './invalidate.js';
import {Revalidator} from './revalidate.js';
import {ResponseWriter} from './store-response.js';

/** What a request path is built from: one engine's settings, cache (whose `'error'` event hears background failures), storage and flights. */
export type RequestPathParts = {
	readonly settings: CacheSettings;
	readonly cache: BaseCache;
	readonly storage: EntryStorage;
	readonly flights: SingleFlight;
	readonly coalescer: Coalescer | undefined;
};

/** A planned request's path through one engine: key, read, the policy's lookup action carried out, `Cache-Status`. */
export class RequestPath implements EngineContext {
	readonly settings: CacheSettings;
	readonly storage: EntryStorage;
	readonly #cache: BaseCache;
	readonly #flights: SingleFlight;
	readonly #coalescer: Coalescer | undefined;
	/** Background refreshes and bodies being stored: `settle()` waits for them. */
	readonly #background = new Set<Promise<void>>();
	readonly #writer: ResponseWriter;
	readonly #revalidator: Revalidator;
	/** Responses served what another process's flight stored (`Cache-Status`: a hit). */
	readonly #followed = new WeakSet<Response>();

	constructor({settings, cache, storage, flights, coalescer}: RequestPathParts) {
		this.settings = settings;
		this.storage = storage;
		this.#cache = cache;
		this.#flights = flights;
		this.#coalescer = coalescer;
		this.#writer = new ResponseWriter(this);
		this.#revalidator = new Revalidator(this, this.#writer, flights);
	}

	/** Wait for the background tasks still running, then for the coalescer's. */
	async settle(): Promise<void> {
		await Promise.all(this.#background);
		await this.#coalescer?.settle();
	}

	/** Give up on bodies still arriving (a stream that never ends is not stored), then settle. */
	async close(): Promise<void> {
		this.#writer.stopCollecting();
		await this.settle();
	}

	/** Send without the cache (`why`: a reason for the diagnostics channel), with a `Cache-Status` saying so. */
	async bypass(request: PreparedRequest, options: EngineOptions, send: Send, started: number, why: string, key = ''): Promise<Response> {
		this.observe('bypass', request, key, started, {reason: why});
		return this.#forwarded(send(request, transportOptions(options)), 'bypass');
	}

	/** An unsafe method: sent, and what it invalidates deleted. */
	async invalidate(request: PreparedRequest, options: EngineOptions, send: Send, started: number): Promise<Response> {
		this.observe('bypass', request, '', started, {reason: 'unsafe method'});
		return this.#forwarded(sendAndInvalidate(this, this.#writer, request, options, send), 'method');
	}

	/** A lookup: its key (a password is stretched, slowly on purpose, off this thread), then the read and the action. */
	lookup(plan: Lookup, request: PreparedRequest, options: EngineOptions, send: Send, started: number): Promise<Response> {
		const key = requestKey(request, this.settings, options.followRedirects, 'nonBlocking');
		// Not async: the usual key is a string at once, and a hit should not pay for another promise.
		if (typeof key === 'string') {
			return this.#lookup(plan, key, request, options, send, started);
		}

		// Without the cache when the request's identity cannot be derived now (too many new passwords at once).
		return key === undefined ? this.bypass(request, options, send, started, 'credential derivation queue full') : key.then(async derived => (derived === undefined
			? this.bypass(request, options, send, started, 'credential derivation queue full')
			: this.#lookup(plan, derived, request, options, send, started)));
	}

	observe(event: CacheEvent, request: PreparedRequest, key: string, started: number, extra: Observed = {}): void {
		if (count(this.storage.stats, event, extra)) {
			publish({event, cacheName: this.settings.cacheName, method: request.method, url: request.url, key, ms: performance.now() - started, ...extra});
		}
	}

	track(task: Promise<void>): void {
		this.#background.add(task);
		void task.finally(() => this.#background.delete(task));
	}

	reportBackground(request: PreparedRequest, key: string, error: unknown): void {
		publish({event: 'error', cacheName: this.settings.cacheName, method: request.method, url: request.url, key, ms: 0, reason: `background refresh failed: ${(error as Error).message}`});
		if (this.#cache.listenerCount('error') > 0) {
			this.#cache.emit('error', error instanceof RequestsCacheError ? error : new RequestsCacheError(`Background refresh of ${request.url} failed: ${(error as Error).message}`, 'ERR_REQUEST', {cause: error}));
		}
	}

	variantKey(request: PreparedRequest): VariantKey {
		// 'rfc9111': values that differ only as RFC 9111 §4.1 allows (whitespace, list order, case) select the same variant.
		const rfc9111 = this.settings.cacheControl === 'rfc9111';
		// A credential a response varies on selects its own entry, derived, never stored in clear.
		return (primaryKey: string, names: readonly string[]): string | undefined => createVariantKey(primaryKey, names, rfc9111 ? {...request, headers: normalizeVaryHeaders(request.headers, names)} : request, this.settings);
	}

	async #lookup(plan: Lookup, key: string, request: PreparedRequest, options: EngineOptions, send: Send, started: number): Promise<Response> {
		const saving = this.#writer.saving.get(key);
		if (saving !== undefined) {
			// The previous response's body is still arriving: this request is its repeat.
			await saving;
		}

		const misses = {vary: false};
		const found = plan.forceRefresh ? undefined : await this.#find(key, request, misses);
		const now = this.settings.clock();
		const action = decideLookup(plan, found?.entry, this.settings, now);
		switch (action.kind) {
			case 'serve': {
				this.observe(action.stale ? 'stale' : 'hit', request, key, started);
				// Nothing else uses this entry: a body decoded for this read alone is served as it is.
				const served = this.serve(found!, request, now, plan.range, {owned: found!.owned});
				if (action.notModified === true) {
					served.status = 304;
					served.reason = 'Not Modified';
					served.body = Buffer.alloc(0);
				}

				return this.#withStatus(served, {kind: 'hit', expires: found!.entry.expires}, now);
			}

			case 'pass': {
				// `shared`: the client's own conditional request goes on untouched; its answer may be a 304 meant for the client's copy.
				return this.bypass(request, options, send, started, 'conditional request', key);
			}

			case 'gatewayTimeout': {
				this.observe('miss', request, key, started, {status: 504, reason: 'only-if-cached'});
				return this.#withStatus(this.#gatewayTimeout(request, key), {kind: 'gatewayTimeout'});
			}

			case 'fetch': {
				const fwd = fetchReason(plan.forceRefresh, found !== undefined, misses.vary);
				const flight = flightKey(plan.forceRefresh ? 'force' : 'fetch', key, request, options, plan);
				return this.#inFlight(flight, async signal => {
					const fetch = async (flightSignal: AbortSignal | undefined): Promise<Response> => this.#writer.store(plan, key, request, await send(request, transportOptions(withSignal(options, flightSignal))));
					// A forced refresh must reach the origin: it never waits for another process's flight.
					const response = plan.forceRefresh ? await fetch(signal) : await this.acrossProcesses(flight, fetch, signal, plan, key, request, options, started);
					if (response.fromCache) {
						// Served what another process's flight stored.
						return this.#withStatus(response, {kind: 'hit', expires: response.expires?.getTime() ?? null});
					}

					this.observe('miss', request, key, started, {status: response.status});
					return this.#withStatus(response, this.#forwardOutcome(response, fwd));
				}, options.signal);
			}

			case 'serveStaleAndRevalidate': {
				this.#revalidator.inBackground(plan, found!, key, request, options, send);
				this.observe('stale', request, key, started, {reason: 'stale-while-revalidate'});
				return this.#withStatus(this.serve(found!, request, now, plan.range), {kind: 'hit', expires: found!.entry.expires}, now);
			}

			case 'revalidate': {
				const fwd = revalidateReason(found!.entry.expires, now);
				const flight = flightKey('revalidate', key, request, options, plan);
				return this.#inFlight(flight, async signal => {
					const refresh = async (flightSignal: AbortSignal | undefined): Promise<Response> => this.#revalidator.refresh(plan, found!, key, request, withSignal(options, flightSignal), send, started);
					const response = await this.acrossProcesses(flight, refresh, signal, plan, key, request, options, started);
					if (this.#followed.has(response)) {
						return this.#withStatus(response, {kind: 'hit', expires: response.expires?.getTime() ?? null});
					}

					// A stale entry served because the origin failed was not answered by the origin.
					return this.#withStatus(response, response.fromCache && !response.revalidated ? {kind: 'staleOnError', fwd} : this.#forwardOutcome(response, fwd));
				}, options.signal);
			}
		}
	}

	/** The entry stored for `key` that this request may be served (its variant, and only its own `private` one). */
	async #find(key: string, request: PreparedRequest, misses?: {vary: boolean}): Promise<Found | undefined> {
		const found = await this.storage.lookup(key, this.variantKey(request), misses);
		return found === undefined || servesRequester(found.entry, () => ownerOf(request, this.settings)) ? found : undefined;
	}

	async acrossProcesses(flight: string, fetch: (signal: AbortSignal | undefined) => Promise<Response>, signal: AbortSignal | undefined, plan: Lookup, key: string, request: PreparedRequest, options: EngineOptions, started: number): Promise<Response> {
		// A request that must hear the origin itself (`refresh`, `no-cache`, `alwaysRevalidate`) could not be served what another stored.
		const ownWord = plan.refresh || plan.noCache || this.settings.alwaysRevalidate;
		return this.#coalescer === undefined || ownWord ? fetch(signal) : this.#coalescer.run(flight, {
			fetch, signal, timeout: options.timeout,
			follow: async () => this.#follow(plan, key, request),
			// A streamed body is stored once whole: its flight ends then, not at the head.
			whole: async () => this.#writer.saving.get(key),
			note: (event, reason) => {
				this.observe(event, request, key, started, reason === undefined ? {} : {reason});
			},
		});
	}

	/** What another process's flight stored for this request, served, or undefined when there is nothing it may be served. */
	async #follow(plan: Lookup, key: string, request: PreparedRequest): Promise<Response | undefined> {
		const found = await this.#find(key, request);
		const now = this.settings.clock();
		if (decideLookup(plan, found?.entry, this.settings, now).kind !== 'serve') {
			return undefined;
		}

		const served = this.serve(found!, request, now, plan.range, {owned: found!.owned});
		this.#followed.add(served);
		return served;
	}

	/** A flight to the origin; a caller that joined another's flight is told so in `Cache-Status` (`collapsed`). */
	async #inFlight(key: string, start: (signal: AbortSignal | undefined) => Promise<Response>, signal: AbortSignal | undefined): Promise<Response> {
		let led = false;
		const response = await this.#flights.run(key, async flightSignal => {
			led = true;
			return start(flightSignal);
		}, signal);
		if (!led && this.settings.cacheStatus !== undefined) {
			response.headers = collapsedCacheStatus(response.headers);
		}

		return response;
	}

	/** What the origin's answer was, for `Cache-Status` (a 304 renewing the stored one included). */
	#forwardOutcome(response: Response, fwd: ForwardReason): Outcome {
		return {kind: 'forwarded', fwd, status: response.status, revalidated: response.revalidated, expires: response.expires?.getTime() ?? null, stored: this.#writer.storedOf(response)};
	}

	/** An answer that went forward without the cache (bypassed, or an unsafe method), with its `Cache-Status`. */
	async #forwarded(response: Promise<Response>, fwd: 'bypass' | 'method'): Promise<Response> {
		const answered = await response;
		return this.#withStatus(answered, this.#forwardOutcome(answered, fwd));
	}

	/** `response` with this cache's `Cache-Status` member appended (RFC 9211), when the option is on. */
	#withStatus(response: Response, outcome: Outcome, now?: number): Response {
		const name = this.settings.cacheStatus;
		if (name !== undefined) {
			response.headers = withCacheStatus(response.headers, cacheStatusMember(name, cacheStatusOf(outcome, now ?? this.settings.clock())));
		}

		return response;
	}

	serve(found: Found, request: PreparedRequest, now: number, range: ByteRange | undefined, how: {owned?: boolean; revalidated?: boolean} = {}): Response {
		// The policy served a range only from an entry that covers it.
		const entry = range === undefined ? found.entry : partialEntry(found.entry, range) ?? found.entry;
		return servedResponse(entry, found.key, {now, url: request.url, age: servedAge(found.entry, this.settings, now), ...how});
	}

	/** A 504 made here, for `onlyIfCached` without a usable entry: the origin is not contacted. */
	#gatewayTimeout(request: PreparedRequest, key: string): Response {
		return new Response({
			status: 504,
			reason: 'Gateway Timeout',
			headers: {'content-type': 'text/plain; charset=utf-8'},
			url: request.url,
			body: Buffer.from('504 Gateway Timeout: not in the cache (only-if-cached)'),
			request,
			cache: {fromCache: false, createdAt: new Date(this.settings.clock()), expires: null, isExpired: false, revalidated: false, cacheKey: key},
		});
	}
}
