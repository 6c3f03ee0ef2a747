import {Buffer} from 'node:buffer';
import {inspect} from 'node:util';
import type {BaseCache} from '../cache/base-cache.js';
import type {EntryStorage, Found} from '../cache/entry-storage.js';
import {
	OWNER_VARY, createKeyIfKnown, createKeyNonBlocking, createVariantKey, hopAddsIdentity, ownerOf, prepareIdentity, redactRequest, redactUrl, storableResponseHeaders,
} from '../cache-keys.js';
import type {CachedEntry} from '../codec/entry.js';
import {servedResponse} from '../codec/served-response.js';
import {type CacheEvent, publish, wanted} from '../diagnostics.js';
import {RequestsCacheError} from '../errors.js';
import type {PreparedRequest, TransportOptions} from '../models/request.js';
import {type RedirectHop, Response, withCacheFacts} from '../models/response.js';
import type {StreamingBody} from '../models/streaming-body.js';
import {
	type Lookup, type LookupAction, type PlanOptions, ageAt, canServeStaleOnError, decideLookup, decideStore, decideStoreHead, deleteAtOf, factsOf, invalidatedUrls, planRequest, renewedExpiry, varyNames,
} from '../policy/actions.js';
import {conditionalHeaders, hasValidator, mergeNotModified, parseCacheControl, storableHeaders} from '../policy/cache-control.js';
import {invalidatedGroups} from '../policy/cache-groups.js';
import {notModified} from '../policy/conditional.js';
import {type CacheStatus, type ForwardReason, cacheStatusMember, collapsedCacheStatus, ttlAt, withCacheStatus} from '../policy/cache-status.js';
import {validateCacheRequestOptions} from '../policy/request-options.js';
import {answersGet} from '../policy/freshness.js';
import {type ByteRange, partialEntry} from '../policy/ranges.js';
import {normalizeVaryHeaders} from '../policy/vary.js';
import type {CacheSettings} from '../policy/settings.js';
import {Coalescer} from './coalesce.js';
import {Flights, type SingleFlight} from './flights.js';
import {isDisabled} from './scope.js';

/** How a front door reaches the origin: send the request as it is, return the response. */
export type Send = (request: PreparedRequest, options: TransportOptions) => Promise<Response>;

/** What the engine takes per request besides the request: how to send it, and the cache options. */
export type EngineOptions = TransportOptions & PlanOptions;

/** What the engine works with, built by the composition root (lib/config/assemble.ts). */
export type EngineParts = {
	/** The cache: maintenance and the `'error'` event. */
	readonly cache: BaseCache;
	/** The cache's request-path storage. */
	readonly storage: EntryStorage;
	/** True when the engine closes the cache with itself (it was built for it, not handed in). */
	readonly owned: boolean;
};

/** The options with the flight's signal in place of the caller's (none when the flight has none). */
function withSignal(options: EngineOptions, signal: AbortSignal | undefined): EngineOptions {
	if (signal === undefined) {
		if (options.signal === undefined) {
			return options;
		}

		const {signal: _callers, ...rest} = options;
		return rest;
	}

	return {...options, signal};
}

function transportOptions(options: EngineOptions): TransportOptions {
	const transport: {-readonly [K in keyof TransportOptions]: TransportOptions[K]} = {};
	if (options.timeout !== undefined) {
		transport.timeout = options.timeout;
	}

	if (options.followRedirects !== undefined) {
		transport.followRedirects = options.followRedirects;
	}

	if (options.signal !== undefined) {
		transport.signal = options.signal;
	}

	return transport;
}

/** Redirect hops as stored: URLs and headers (Location, Set-Cookie, secrets) as response headers are stored. */
function redactHistory(history: readonly RedirectHop[], settings: CacheSettings): RedirectHop[] {
	return history.map(hop => {
		const {location} = hop.headers;
		// A relative Location is stored resolved, so that it can be redacted like any URL.
		const absolute = typeof location === 'string' ? {...hop.headers, location: new URL(location, hop.url).href} : hop.headers;
		return {status: hop.status, url: redactUrl(hop.url, settings.ignoredParameters), headers: storableResponseHeaders(absolute, settings)};
	});
}

/**
 * The cache engine: one per cached session (or installed cache), shared by every front door.
 * A front door hands it a prepared request and its own `send`; the engine builds the key, reads
 * the store, asks the policy (lib/policy/actions.ts) what to do, and does it: serve, revalidate,
 * serve stale and refresh, fetch (one flight for identical concurrent requests), store.
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
	readonly #storage: EntryStorage;
	readonly #owned: boolean;
	readonly #flights: SingleFlight;
	/** Miss coalescing across processes (`coalesce`); it does nothing on a store without leases. */
	readonly #coalescer: Coalescer | undefined;
	/** Background refreshes (stale-while-revalidate) still running; `close()` waits for them. */
	readonly #background = new Set<Promise<void>>();
	/** Bodies still arriving that will be stored once whole: `close()` gives up on them. */
	readonly #collecting = new Set<StreamingBody>();
	/** Keys whose body is arriving or being saved: a lookup of one waits for it. */
	readonly #saving = new Map<string, Promise<void>>();
	/** Whether the store took each response `#store` handled (`false`: the write failed), for `Cache-Status`. */
	readonly #stored = new WeakMap<Response, boolean>();

	constructor(settings: CacheSettings, {cache, storage, owned}: EngineParts, flights: SingleFlight = new Flights()) {
		this.settings = settings;
		this.cache = cache;
		this.#owned = owned;
		this.#storage = storage;
		this.#flights = flights;
		this.#coalescer = settings.coalesce === false ? undefined : new Coalescer(this.#storage, settings.coalesce, settings.backendTimeout);
	}

	/**
	 * Answer `request`: from the cache when the policy allows, else through `send` (storing what
	 * the policy lets be stored). Cache options in `options` apply to this request only.
	 */
	handle(request: PreparedRequest, options: EngineOptions, send: Send): Promise<Response> {
		if (options.signal?.aborted === true) {
			return Promise.reject(options.signal.reason as Error);
		}

		try {
			validateCacheRequestOptions(options as Readonly<Record<string, unknown>>, 'request');
		} catch (error) {
			return Promise.reject(error as Error);
		}

		const started = performance.now();
		if (isDisabled(this)) {
			this.#observe('bypass', request, '', started, {reason: 'disabled'});
			return this.#forwarded(send(request, transportOptions(options)), 'bypass');
		}

		const plan = planRequest(request, options, this.settings);
		if (plan.kind === 'bypass') {
			this.#observe('bypass', request, '', started, {reason: 'not cacheable'});
			return this.#forwarded(send(request, transportOptions(options)), 'bypass');
		}

		if (plan.kind === 'invalidate') {
			this.#observe('bypass', request, '', started, {reason: 'unsafe method'});
			return this.#forwarded(this.#sendAndInvalidate(request, options, send), 'method');
		}

		const key = this.#keyOf(request, options.followRedirects, 'nonBlocking');
		// A password is stretched (slowly, on purpose) off this thread; other credentials hash at once.
		if (typeof key === 'string') {
			return this.#lookup(plan, key, request, options, send, started);
		}

		return key === undefined ? this.#passBy(request, options, send, started) : key.then(async derived => (derived === undefined
			? this.#passBy(request, options, send, started)
			: this.#lookup(plan, derived, request, options, send, started)));
	}

	/** Without the cache: the request's identity cannot be derived now (too many new passwords at once). */
	async #passBy(request: PreparedRequest, options: EngineOptions, send: Send, started: number): Promise<Response> {
		this.#observe('bypass', request, '', started, {reason: 'credential derivation queue full'});
		return this.#forwarded(send(request, transportOptions(options)), 'bypass');
	}

	/** Count a decision for `stats()`, and publish it where someone listens. */
	#observe(event: CacheEvent, request: PreparedRequest, key: string, started: number, extra: {status?: number; bytes?: number; reason?: string} = {}): void {
		const {stats} = this.#storage;
		switch (event) {
			case 'hit': {
				stats.hits++;
				break;
			}

			case 'stale': {
				stats.staleServed++;
				break;
			}

			case 'miss': {
				stats.misses++;
				break;
			}

			case 'revalidated': {
				stats.revalidations++;
				break;
			}

			case 'stored': {
				stats.stores++;
				stats.bytesStored += extra.bytes ?? 0;
				break;
			}

			case 'bypass': {
				stats.bypassed++;
				break;
			}

			case 'waiter': {
				if (extra.reason === undefined) {
					stats.coalesced++;
				} else {
					stats.coalesceFallbacks++;
				}

				break;
			}

			case 'takeover': {
				stats.takeovers++;
				break;
			}

			default: {
				break;
			}
		}

		if (wanted(event)) {
			publish({event, cacheName: this.settings.cacheName, method: request.method, url: request.url, key, ms: performance.now() - started, ...extra});
		}
	}

	/** Wait for the background refreshes still running. */
	async settle(): Promise<void> {
		await Promise.all(this.#background);
		await this.#coalescer?.settle();
	}

	/** Wait for background refreshes, then close the cache if this engine opened it. */
	async close(): Promise<void> {
		// A body still arriving (a stream that never ends) is not waited for: it is not stored.
		for (const body of this.#collecting) {
			body.stopCollecting();
		}

		await this.settle();
		if (this.#owned) {
			await this.cache.close();
		} else {
			// A cache handed in stays open for its owner, with this engine's writes in it.
			await this.#storage.flush();
		}
	}

	[inspect.custom](): string {
		return `CacheEngine <${this.cache.backend} ${JSON.stringify(this.settings.cacheName)}>`;
	}

	/**
	 * The key of a request: at once (`'known'`: undefined when a password it carries is not
	 * stretched yet), or without blocking (`'nonBlocking'`: a promise when one must be stretched).
	 */
	#keyOf(request: PreparedRequest, followRedirects: boolean | undefined, mode: 'known'): string | undefined;
	#keyOf(request: PreparedRequest, followRedirects: boolean | undefined, mode: 'nonBlocking'): string | undefined | Promise<string | undefined>;
	#keyOf(request: PreparedRequest, followRedirects: boolean | undefined, mode: 'known' | 'nonBlocking'): string | undefined | Promise<string | undefined> {
		// A request that does not follow redirects gets the redirect itself: never the same answer.
		const suffix = followRedirects === false ? '-manual' : '';
		const {keyFn} = this.settings;
		if (keyFn === undefined) {
			const key = mode === 'nonBlocking' ? createKeyNonBlocking(request, this.settings) : createKeyIfKnown(request, this.settings);
			if (key === undefined || typeof key === 'string') {
				return key === undefined ? undefined : key + suffix;
			}

			return key.then(derived => (derived === undefined ? undefined : derived + suffix));
		}

		const key = keyFn(request);
		if (typeof key !== 'string' || key === '') {
			throw new TypeError(`keyFn must return a non-empty string, got ${typeof key}`);
		}

		return key + suffix;
	}

	#variantKey(request: PreparedRequest) {
		// 'rfc9111': values that differ only as RFC 9111 §4.1 allows (whitespace, list order, case) select the same variant.
		const rfc9111 = this.settings.cacheControl === 'rfc9111';
		// A credential a response varies on selects its own entry, derived, never stored in clear.
		return (primaryKey: string, names: readonly string[]): string | undefined => createVariantKey(primaryKey, names, rfc9111 ? {...request, headers: normalizeVaryHeaders(request.headers, names)} : request, this.settings);
	}

	async #lookup(plan: Lookup, key: string, request: PreparedRequest, options: EngineOptions, send: Send, started: number): Promise<Response> {
		const saving = this.#saving.get(key);
		if (saving !== undefined) {
			// The previous response's body is still arriving: this request is its repeat.
			await saving;
		}

		const misses = {vary: false};
		const found = plan.forceRefresh ? undefined : await this.#find(key, request, misses);
		const now = this.settings.clock();
		const action = decideLookup(plan, found?.entry, this.settings, now);
		if (plan.conditional === true) {
			return this.#answerConditional(action, found, key, request, options, send, now, started);
		}

		switch (action.kind) {
			case 'serve': {
				this.#observe(action.stale ? 'stale' : 'hit', request, key, started);
				// Nothing else uses this entry: a body decoded for this read alone is served as it is.
				return this.#withStatus(this.#serve(found!, request, now, plan.range, found!.owned), {hit: true, ttl: ttlAt(found!.entry.expires, now)});
			}

			case 'gatewayTimeout': {
				this.#observe('miss', request, key, started, {status: 504, reason: 'only-if-cached'});
				return this.#withStatus(this.#gatewayTimeout(request, key), {detail: 'only-if-cached'});
			}

			case 'fetch': {
				// Why it goes forward (RFC 9211 §2.2): nothing stored, no variant for this request, or a part that does not cover it.
				const fwd: ForwardReason = plan.forceRefresh ? 'request' : found === undefined ? (misses.vary ? 'vary-miss' : 'uri-miss') : 'partial';
				const flightKey = this.#flightKey(plan.forceRefresh ? 'force' : 'fetch', key, request, options, plan);
				return this.#inFlight(flightKey, async signal => {
					const fetch = async (flightSignal: AbortSignal | undefined): Promise<Response> => this.#fetchAndStore(plan, key, request, withSignal(options, flightSignal), send);
					// A forced refresh must reach the origin: it never waits for another process's flight.
					const response = this.#coalescer === undefined || plan.forceRefresh
						? await fetch(signal)
						: await this.#coalescer.run(flightKey, {
							fetch, signal, timeout: options.timeout,
							follow: async () => this.#follow(plan, key, request),
							note: (event, reason) => {
								this.#observe(event, request, key, started, reason === undefined ? {} : {reason});
							},
						});
					if (response.fromCache) {
						// Served what another process's flight stored.
						return this.#withStatus(response, {hit: true, ttl: ttlAt(response.expires?.getTime() ?? null, this.settings.clock())});
					}

					this.#observe('miss', request, key, started, {status: response.status});
					return this.#withStatus(response, this.#forwardStatus(response, fwd));
				}, options.signal);
			}

			case 'serveStaleAndRevalidate': {
				this.#refreshInBackground(plan, found!, key, request, options, send);
				this.#observe('stale', request, key, started, {reason: 'stale-while-revalidate'});
				return this.#withStatus(this.#serve(found!, request, now, plan.range), {hit: true, ttl: ttlAt(found!.entry.expires, now)});
			}

			case 'revalidate': {
				const fwd: ForwardReason = found!.entry.expires !== null && found!.entry.expires <= now ? 'stale' : 'request';
				return this.#inFlight(this.#flightKey('revalidate', key, request, options, plan), async signal => {
					const response = await this.#refresh(plan, found!, key, request, withSignal(options, signal), send, started);
					// A stale entry served because the origin failed was not answered by the origin.
					const status = response.fromCache && !response.revalidated ? {fwd, detail: 'stale-on-error'} : this.#forwardStatus(response, fwd);
					return this.#withStatus(response, status);
				}, options.signal);
			}
		}
	}

	/** The entry stored for `key` that this request may be served (its variant, and only its own `private` one). */
	async #find(key: string, request: PreparedRequest, misses?: {vary: boolean}): Promise<Found | undefined> {
		const found = await this.#storage.lookup(key, this.#variantKey(request), misses);
		// A `private` response is its requester's alone: never served to other credentials or cookies, whatever the key says.
		// An entry without an owner is anyone's, unless it is a `private` one an earlier version stored without one.
		if (found !== undefined && (found.entry.facts.owner !== undefined || parseCacheControl(found.entry.headers['cache-control']).has('private'))
			&& found.entry.facts.owner !== ownerOf(request, this.settings)) {
			return undefined;
		}

		return found;
	}

	/** What another process's flight stored for this request, served, or undefined when there is nothing it may be served. */
	async #follow(plan: Lookup, key: string, request: PreparedRequest): Promise<Response | undefined> {
		const found = await this.#find(key, request);
		const now = this.settings.clock();
		return decideLookup(plan, found?.entry, this.settings, now).kind === 'serve' ? this.#serve(found!, request, now, plan.range, found!.owned) : undefined;
	}

	/**
	 * `shared`: a client's own conditional request. A stored response the policy would serve
	 * answers it, as a `304` when it meets the condition; otherwise the request goes on untouched
	 * and nothing is stored (its answer may be a 304 meant for the client's copy).
	 */
	async #answerConditional(action: LookupAction, found: Found | undefined, key: string, request: PreparedRequest, options: EngineOptions, send: Send, now: number, started: number): Promise<Response> {
		if (action.kind !== 'serve') {
			this.#observe('bypass', request, key, started, {reason: 'conditional request'});
			return this.#forwarded(send(request, transportOptions(options)), 'bypass');
		}

		this.#observe(action.stale ? 'stale' : 'hit', request, key, started);
		const served = this.#serve(found!, request, now, undefined);
		if (notModified(request.headers, found!.entry.headers, now)) {
			served.status = 304;
			served.reason = 'Not Modified';
			served.body = Buffer.alloc(0);
		}

		return this.#withStatus(served, {hit: true, ttl: ttlAt(found!.entry.expires, now)});
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

	/** What `Cache-Status` says of a response the origin gave (a 304 renewing the stored one included). */
	#forwardStatus(response: Response, fwd: ForwardReason): CacheStatus {
		const stored = this.#stored.get(response);
		const ttl = stored === true || response.revalidated ? ttlAt(response.expires?.getTime() ?? null, this.settings.clock()) : undefined;
		return {
			fwd,
			fwdStatus: response.revalidated ? 304 : response.status,
			...(ttl === undefined ? {} : {ttl}),
			stored: stored === true || response.revalidated,
			...(stored === false ? {detail: 'store-failed'} : {}),
		};
	}

	/** An answer that went forward without the cache (bypassed, or an unsafe method), with its `Cache-Status`. */
	async #forwarded(response: Promise<Response>, fwd: 'bypass' | 'method'): Promise<Response> {
		if (this.settings.cacheStatus === undefined) {
			return response;
		}

		const answered = await response;
		return this.#withStatus(answered, this.#forwardStatus(answered, fwd));
	}

	/** `response` with this cache's `Cache-Status` member appended (RFC 9211), when the option is on. */
	#withStatus(response: Response, status: CacheStatus): Response {
		const name = this.settings.cacheStatus;
		if (name !== undefined) {
			response.headers = withCacheStatus(response.headers, cacheStatusMember(name, status));
		}

		return response;
	}

	/** Requests share a flight only when nothing about them could change the answer. */
	#flightKey(mode: string, key: string, request: PreparedRequest, options: EngineOptions, plan: Lookup): string {
		return JSON.stringify([mode, key, options.followRedirects ?? true, options.timeout ?? null, plan.expiration, plan.refresh, request.headers]);
	}

	#serve(found: Found, request: PreparedRequest, now: number, range: ByteRange | undefined, owned = false): Response {
		const age = this.settings.cacheControl ? Math.max(0, Math.floor(ageAt(found.entry, now))) : undefined;
		// The policy served a range only from an entry that covers it.
		const entry = range === undefined ? found.entry : partialEntry(found.entry, range)!;
		return servedResponse(entry, found.key, {now, url: request.url, age, owned});
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

	async #fetchAndStore(plan: Lookup, key: string, request: PreparedRequest, options: EngineOptions, send: Send): Promise<Response> {
		return this.#store(plan, key, request, await send(request, transportOptions(options)));
	}

	/** Store a response from the origin if the policy allows it; returns it with its cache facts. */
	async #store(plan: Lookup, key: string, request: PreparedRequest, response: Response): Promise<Response> {
		if (response.streaming !== undefined) {
			return this.#storeWhenWhole(plan, key, request, response, response.streaming);
		}

		const {settings} = this;
		const now = settings.clock();
		const decision = decideStore(plan, response, settings, now);
		const stored = decision.kind === 'store' && (settings.filterFn === undefined || settings.filterFn(response));
		const facts = {
			fromCache: false, createdAt: new Date(now), isExpired: false, revalidated: false, cacheKey: key,
			expires: stored && decision.expires !== null ? new Date(decision.expires) : null,
		};
		if (!stored) {
			if (decision.kind === 'skip' && wanted('bypass')) {
				publish({event: 'bypass', cacheName: settings.cacheName, method: request.method, url: request.url, key, ms: 0, status: response.status, reason: `not stored: ${decision.reason}`});
			}

			return withCacheFacts(response, facts);
		}

		const ignored = settings.ignoredParameters;
		const isPrivate = parseCacheControl(response.headers['cache-control']).has('private');
		const owner = isPrivate ? ownerOf(request, settings) : undefined;
		// A private response is varied on its owner too: each user of a shared cache keeps their own.
		const varyOn = isPrivate ? [...decision.vary, OWNER_VARY] : decision.vary;
		const variantKey = varyOn.length === 0 ? undefined : this.#variantKey(request)(key, varyOn);
		// Not stored: what a redirect hop's added credentials obtained, a private response reached
		// through redirects (its owner depends on hops a later lookup cannot see), or an identity
		// not derivable now.
		if ((isPrivate && (owner === undefined || response.history.length > 0)) || (varyOn.length > 0 && variantKey === undefined)
			|| (response.lastHopHeaders !== undefined && hopAddsIdentity(request, response.lastHopHeaders, settings, isPrivate))) {
			if (wanted('bypass')) {
				publish({event: 'bypass', cacheName: settings.cacheName, method: request.method, url: request.url, key, ms: 0, status: response.status, reason: 'not stored: a redirect hop added credentials'});
			}

			return withCacheFacts(response, {...facts, expires: null});
		}

		const entry: CachedEntry = {
			kind: 'response',
			status: response.status,
			reason: response.reason,
			headers: storableResponseHeaders(storableHeaders(response.headers, settings.shared), settings),
			// A secret in the query must not reach the store through the URLs either.
			url: redactUrl(response.url, ignored),
			history: redactHistory(response.history, settings),
			request: redactRequest(request, ignored),
			createdAt: now,
			expires: decision.expires,
			facts: owner === undefined ? decision.facts : {...decision.facts, owner},
			body: response.body,
		};
		const variant = variantKey === undefined ? undefined : {key: variantKey, names: varyOn};
		const saved = await this.#storage.save(key, entry, decision.deleteAt, this.#aliases(request, response), variant);
		if (saved) {
			this.#observe('stored', request, key, performance.now(), {status: response.status, bytes: response.body.length});
		}

		const answer = withCacheFacts(response, facts);
		this.#stored.set(answer, saved);
		return answer;
	}

	/**
	 * A response whose body is still arriving: decided from its status and headers now and handed
	 * back at once (its caller reads the body as it comes); when it could be stored, its body is
	 * kept up to `maxEntrySize` and stored once whole, in the background (`close()` waits).
	 */
	#storeWhenWhole(plan: Lookup, key: string, request: PreparedRequest, response: Response, streaming: StreamingBody): Response {
		const {settings} = this;
		const now = settings.clock();
		const decision = decideStoreHead(plan, response, settings, now);
		const expires = decision.kind === 'store' && decision.expires !== null ? new Date(decision.expires) : null;
		const facts = {fromCache: false, createdAt: new Date(now), isExpired: false, revalidated: false, cacheKey: key, expires};
		if (decision.kind === 'skip') {
			if (wanted('bypass')) {
				publish({event: 'bypass', cacheName: settings.cacheName, method: request.method, url: request.url, key, ms: 0, status: response.status, reason: `not stored: ${decision.reason}`});
			}

			return withCacheFacts(response, facts);
		}

		this.#collecting.add(streaming);
		const task: Promise<void> = streaming.collect(settings.maxEntrySize).then(async body => {
			this.#collecting.delete(streaming);
			if (body !== undefined) {
				const {status, reason, headers, url, history, lastHopHeaders} = response;
				await this.#store(plan, key, request, new Response({status, reason, headers, url, body, request, history, lastHopHeaders}));
			}
		}).catch(() => undefined).finally(() => {
			if (this.#saving.get(key) === task) {
				this.#saving.delete(key);
			}
		});
		// A repeat of this request waits for this body rather than asking the origin again (as a
		// shared cache's lock does); the wait ends when the body is whole, too large, or cancelled.
		this.#saving.set(key, task);
		this.#background.add(task);
		void task.finally(() => this.#background.delete(task));
		const answer = withCacheFacts(response, facts);
		// Cache-Status goes out with the head, before the body: it says what the cache is doing
		// (a failure of the write that follows is an 'error' event).
		this.#stored.set(answer, true);
		return answer;
	}

	/** Keys for each URL the redirect chain passed through, and the final one, all pointing at the response. */
	#aliases(request: PreparedRequest, response: Response): Array<{key: string; url: string}> {
		if (response.history.length === 0) {
			return [];
		}

		const urls = new Set([...response.history.slice(1).map(hop => hop.url), response.url]);
		urls.delete(request.url);
		// The same method: a HEAD that followed a redirect must not answer a later GET of the final URL.
		return [...urls].flatMap(url => {
			const key = this.#keyOf({method: request.method, url, headers: request.headers, body: undefined, tlsIdentity: request.tlsIdentity}, true, 'known');
			return key === undefined ? [] : [{key, url: redactUrl(url, this.settings.ignoredParameters)}];
		});
	}

	/**
	 * Refresh a stored entry: a conditional request when it has a validator (a 304 renews it), a
	 * plain one otherwise. Failures serve the stale entry within the stale-if-error window.
	 */
	async #refresh(plan: Lookup, found: Found, key: string, request: PreparedRequest, options: EngineOptions, send: Send, started = performance.now()): Promise<Response> {
		const {entry} = found;
		const {settings} = this;
		const conditional = hasValidator(entry.headers)
			? {...request, headers: {...request.headers, ...conditionalHeaders(entry.headers)}}
			: request;
		let response: Response;
		try {
			response = await send(conditional, transportOptions(options));
		} catch (error) {
			const now = settings.clock();
			if (canServeStaleOnError(entry, settings, now)) {
				this.#observe('stale', request, key, started, {reason: `stale-if-error: ${(error as Error).message}`});
				return this.#serve(found, request, now, plan.range);
			}

			throw error;
		}

		const now = settings.clock();
		if (response.status === 304 && conditional !== request) {
			this.#observe('revalidated', request, key, started, {status: 304});
			return this.#renew(plan, found, request, response, now);
		}

		if (canServeStaleOnError(entry, settings, now, response.status)) {
			response.streaming?.abort(new Error('not needed: a stale response is served'));
			this.#observe('stale', request, key, started, {status: response.status, reason: 'stale-if-error'});
			return this.#serve(found, request, now, plan.range);
		}

		this.#observe('miss', request, key, started, {status: response.status});
		return this.#store(plan, key, request, response);
	}

	/** A 304 confirmed the entry: merge its headers in, renew the expiry, rewrite only what changed. */
	async #renew(plan: Lookup, found: Found, request: PreparedRequest, notModified: Response, now: number): Promise<Response> {
		const {entry, key: foundKey, primaryKey} = found;
		const merged = mergeNotModified(entry.headers, notModified.headers);
		const headers = storableResponseHeaders(storableHeaders(merged.headers, this.settings.shared), this.settings);
		const expires = renewedExpiry(plan, entry, headers, this.settings, now);
		const renewedExpires = expires === 'noStore' ? now : expires;
		const rewrite = expires !== 'noStore' && (merged.changed || renewedExpires !== entry.expires);
		// A renewed entry counts its age from now (the 304 is the origin's word that it is current).
		const renewed: CachedEntry = rewrite
			? {...entry, headers, createdAt: now, facts: entry.facts.owner === undefined ? factsOf(headers, this.settings, now) : {...factsOf(headers, this.settings, now), owner: entry.facts.owner}, expires: renewedExpires}
			: {...entry, headers, expires: renewedExpires};
		if (expires === 'noStore') {
			await this.#storage.forget([foundKey]);
		} else if (rewrite) {
			const vary = varyNames(headers);
			const names = vary === '*' || renewed.facts.owner === undefined ? vary : [...vary, OWNER_VARY];
			const variant = foundKey === primaryKey || names === '*' || names.length === 0 ? undefined : {key: foundKey, names};
			if (await this.#storage.save(primaryKey, renewed, deleteAtOf(renewed.expires, this.settings), [], variant)) {
				this.#observe('stored', request, foundKey, performance.now(), {status: renewed.status, bytes: renewed.body.length, reason: 'renewed by a 304'});
			}
		}

		const age = this.settings.cacheControl ? Math.max(0, Math.floor(ageAt(renewed, now))) : undefined;
		const served = plan.range === undefined ? renewed : partialEntry(renewed, plan.range) ?? renewed;
		return servedResponse(served, foundKey, {now, url: request.url, age, revalidated: true});
	}

	/** Refresh in the background after serving stale; a failure is reported, never thrown. */
	#refreshInBackground(plan: Lookup, found: Found, key: string, request: PreparedRequest, options: EngineOptions, send: Send): void {
		// Nobody waits for a background refresh: it is not the caller's to abort.
		const {signal: _signal, ...unsignalled} = options;
		const task = this.#flights.run(this.#flightKey('revalidate', key, request, options, plan), async signal => this.#refresh(plan, found, key, request, withSignal(unsignalled, signal), send))
			.then(() => undefined, (error: unknown) => {
				publish({event: 'error', cacheName: this.settings.cacheName, method: request.method, url: request.url, key, ms: 0, reason: `background refresh failed: ${(error as Error).message}`});
				if (this.cache.listenerCount('error') > 0) {
					this.cache.emit('error', error instanceof RequestsCacheError ? error : new RequestsCacheError(`Background refresh of ${request.url} failed: ${(error as Error).message}`, 'ERR_REQUEST', {cause: error}));
				}
			});
		this.#background.add(task);
		void task.finally(() => this.#background.delete(task));
	}

	/** Send an unsafe request; when it succeeds, what is stored for its URLs is out of date (GET and HEAD alike). */
	async #sendAndInvalidate(request: PreparedRequest, options: EngineOptions, send: Send): Promise<Response> {
		const response = await send(request, transportOptions(options));
		if (response.status < 400) {
			// The keys of a request with a password need it stretched: off this thread, as for lookups.
			await prepareIdentity(request, this.settings);
			const keys = invalidatedUrls(request, response).flatMap(url => ['GET', 'HEAD'].flatMap(method => {
				const key = this.#keyOf({method, url, headers: request.headers, body: undefined, tlsIdentity: request.tlsIdentity}, true, 'known');
				return key === undefined ? [] : [key, `${key}-manual`];
			}));
			await this.#storage.forget(keys);
			// RFC 9875: the response may name Cache Groups whose stored responses on this origin it invalidates.
			const groups = invalidatedGroups(request.method, response.status, response.headers);
			if (groups.length > 0) {
				await this.#storage.invalidateGroups(new URL(request.url).origin, groups);
			}
		}

		// 'rfc9111': a fresh POST response whose Content-Location is its own URL answers later GETs.
		if (this.settings.cacheControl === 'rfc9111' && answersGet(request, response)) {
			const get: PreparedRequest = {method: 'GET', url: request.url, headers: request.headers, body: undefined, tlsIdentity: request.tlsIdentity};
			const plan = planRequest(get, {}, this.settings);
			if (plan.kind === 'lookup') {
				const key = this.#keyOf(get, options.followRedirects, 'known');
				return key === undefined ? response : this.#store(plan, key, get, response);
			}
		}

		return response;
	}
}
