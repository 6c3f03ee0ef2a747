import type {CachedEntry, ResponseFacts} from '../codec/entry.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response, ResponseHeaders} from '../models/response.js';
import {type Directives, ageOf, hasValidator, headerFreshness, parseCacheControl, seconds} from './cache-control.js';
import {type Expiration, expiresAt, parseExpireAfter, resolveExpiration} from './expiration.js';
import {initialAge, skipsReload, staleAt, storable} from './freshness.js';
import {isConditional} from './conditional.js';
import {type ByteRange, covers, parseRange} from './ranges.js';
import {sharedMustRevalidate} from './shared-cache.js';
import {ANY_STALE, type CacheRequestOptions} from './request-options.js';
import type {CacheSettings} from './settings.js';

/**
 * The cache's rules as pure functions, in the spirit of requests-cache's `CacheActions`: each
 * takes the request, the settings, what is stored and the time, and names what to do. Nothing
 * here reads a store, sends a request or looks at a clock; lib/engine/engine.ts carries the
 * actions out. docs/http-caching.md lists the rules in order.
 */

/** How a request is looked up: the request's own directives and the per-request options, resolved. */
export type Lookup = {
	readonly kind: 'lookup';
	readonly expiration: Expiration;
	readonly directives: Directives;
	/** Answer only from the cache; a synthetic 504 otherwise. */
	readonly onlyIfCached: boolean;
	/** Nothing stored may be used without the origin's 304. */
	readonly noCache: boolean;
	/** Skip the read: fetch and store. */
	readonly forceRefresh: boolean;
	/** Revalidate an entry that has a validator, even when fresh. */
	readonly refresh: boolean;
	/** Accept a stale entry of any age (fetch's `force-cache`). */
	readonly anyStale: boolean;
	/** `cacheControl: 'rfc9111'`: the byte range asked for, answered from what is stored when it covers it. */
	readonly range?: ByteRange;
	/** `shared`: the request carries `Authorization`, which limits what may be stored (RFC 9111 §3.5). */
	readonly authorized?: true;
	/**
	 * `shared`: the client's own conditional request, answered with a `304` from a stored response
	 * that is served and meets it (RFC 9111 §4.3.2); sent on untouched, storing nothing, otherwise.
	 */
	readonly conditional?: true;
};

/** What to do with a request before anything is read. */
export type RequestPlan =
	/** Send untouched and store nothing. */
	| {readonly kind: 'bypass'}
	/** An unsafe method: send, and on success make what is stored for the URLs out of date (RFC 9111 §4.4). */
	| {readonly kind: 'invalidate'}
	| Lookup;

const safeMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const bypass: RequestPlan = Object.freeze({kind: 'bypass'});
const invalidate: RequestPlan = Object.freeze({kind: 'invalidate'});

/** The per-request options the policy reads, validated by the front door. */
export type PlanOptions = CacheRequestOptions;

/** Decide how a request meets the cache. */
export function planRequest(request: PreparedRequest, options: PlanOptions, settings: CacheSettings): RequestPlan {
	const directives = parseCacheControl(request.headers['cache-control']);
	if (directives.has('no-store')) {
		return bypass;
	}

	if (!settings.allowableMethods.has(request.method)) {
		return !safeMethods.has(request.method) && settings.cacheControl && !settings.readOnly ? invalidate : bypass;
	}

	// The caller's own conditional or range request is theirs to answer: pass it through untouched
	// (in 'rfc9111' mode, a single byte range of a GET is answered from the cache when it can be;
	// a shared cache answers its clients' conditional requests from what it holds).
	const range = settings.cacheControl === 'rfc9111' && request.method === 'GET' && request.headers['if-range'] === undefined ? parseRange(request.headers['range']) : undefined;
	const conditional = isConditional(request);
	const answersConditional = conditional && settings.shared && request.headers['range'] === undefined;
	if ((conditional && !answersConditional) || (request.headers['range'] !== undefined && range === undefined)) {
		return bypass;
	}

	const {expireAfter} = options;
	const expiration = expireAfter === 'default'
		? settings.expireAfter
		: resolveExpiration(expireAfter === undefined ? undefined : parseExpireAfter(expireAfter, 'request', 'expireAfter'), settings.urlsExpireAfter, request.url, settings.expireAfter);
	if (expiration.kind === 'doNotCache') {
		return bypass;
	}

	const onlyIfCached = options.onlyIfCached === true || directives.has('only-if-cached');
	const pragmaNoCache = request.headers['cache-control'] === undefined && request.headers['pragma']?.toLowerCase().includes('no-cache') === true;
	return {
		...(range === undefined ? {} : {range}),
		...(settings.shared && request.headers['authorization'] !== undefined ? {authorized: true} : {}),
		...(answersConditional ? {conditional: true} : {}),
		kind: 'lookup',
		expiration,
		directives,
		onlyIfCached,
		noCache: !onlyIfCached && (directives.has('no-cache') || pragmaNoCache),
		forceRefresh: options.forceRefresh === true,
		refresh: options.refresh === true,
		anyStale: options[ANY_STALE] === true,
	};
}

/** What to do once the store has been read. */
export type LookupAction =
	/** Nothing usable: send, and store what comes back. */
	| {readonly kind: 'fetch'}
	/** Serve the stored response (`stale` when past its expiry, e.g. allowed by max-stale). */
	| {readonly kind: 'serve'; readonly stale: boolean}
	/** Ask the origin: conditionally when the entry has a validator (a 304 renews it). */
	| {readonly kind: 'revalidate'}
	/** Serve the stale entry now and refresh it in the background (stale-while-revalidate). */
	| {readonly kind: 'serveStaleAndRevalidate'}
	/** `onlyIfCached` without a usable entry: a synthetic 504, no origin contact. */
	| {readonly kind: 'gatewayTimeout'};

const fetchAction: LookupAction = Object.freeze({kind: 'fetch'});
const serveFresh: LookupAction = Object.freeze({kind: 'serve', stale: false});
const serveStale: LookupAction = Object.freeze({kind: 'serve', stale: true});
const revalidateAction: LookupAction = Object.freeze({kind: 'revalidate'});
const staleAndRevalidate: LookupAction = Object.freeze({kind: 'serveStaleAndRevalidate'});
const gatewayTimeoutAction: LookupAction = Object.freeze({kind: 'gatewayTimeout'});

/** The entry's age in seconds at `now`: time since stored plus the age it arrived with. */
export function ageAt(entry: Pick<CachedEntry, 'createdAt' | 'facts'>, now: number): number {
	return ((now - entry.createdAt) / 1000) + entry.facts.age;
}

/** Decide what to do with a lookup and what the store holds for it. */
export function decideLookup(lookup: Lookup, entry: CachedEntry | undefined, settings: CacheSettings, now: number): LookupAction {
	if (lookup.forceRefresh) {
		return fetchAction;
	}

	// 'rfc9111': a stored part answers only a range it covers; a range beyond a stored whole is the origin's.
	const usable = entry !== undefined && (lookup.range === undefined ? entry.status !== 206 : covers(entry, lookup.range));
	if (entry === undefined || !usable) {
		return lookup.onlyIfCached ? gatewayTimeoutAction : fetchAction;
	}

	const {directives} = lookup;
	const rfc9111 = settings.cacheControl === 'rfc9111';
	const age = ageAt(entry, now);
	const maxAge = rfc9111 && skipsReload(entry, now) ? undefined : seconds(directives, 'max-age');
	const minFresh = seconds(directives, 'min-fresh');
	let fresh = !lookup.noCache && (entry.expires === null || now < entry.expires)
		&& (maxAge === undefined || age <= maxAge)
		&& (minFresh === undefined || entry.expires === null || entry.expires - now >= minFresh * 1000);
	let stale = false;
	if (!fresh && !lookup.noCache && entry.expires !== null && !(settings.cacheControl && entry.facts.mustRevalidate) && !(rfc9111 && entry.facts.noCache)) {
		const maxStale = directives.has('max-stale') ? seconds(directives, 'max-stale') ?? Number.POSITIVE_INFINITY : undefined;
		if (lookup.anyStale || (maxStale !== undefined && now - entry.expires <= maxStale * 1000 && (maxAge === undefined || age <= maxAge))) {
			fresh = true;
			stale = now >= entry.expires;
		}
	}

	const validator = hasValidator(entry.headers);
	if (fresh && !(validator && (lookup.refresh || settings.alwaysRevalidate))) {
		return stale ? serveStale : serveFresh;
	}

	if (lookup.onlyIfCached) {
		return fresh ? serveFresh : gatewayTimeoutAction;
	}

	// `refresh` without a validator has nothing to ask: the fresh entry stands.
	if (fresh && !validator) {
		return serveFresh;
	}

	const whileRevalidating = staleWindow(entry, settings, 'staleWhileRevalidate');
	if (!fresh && !lookup.noCache && whileRevalidating > 0 && now - entry.expires! <= whileRevalidating) {
		return staleAndRevalidate;
	}

	return revalidateAction;
}

/** How long (ms) past its expiry an entry may be served when refreshing fails or while it refreshes. */
export function staleWindow(entry: Pick<CachedEntry, 'expires' | 'facts'>, settings: CacheSettings, which: 'staleIfError' | 'staleWhileRevalidate'): number {
	if (entry.expires === null) {
		return 0;
	}

	let window = settings[which];
	if (settings.cacheControl) {
		if (entry.facts.mustRevalidate || entry.facts.noCache) {
			return 0;
		}

		const fromHeader = entry.facts[which];
		if (fromHeader !== undefined) {
			window = Math.max(window, fromHeader * 1000);
		}
	}

	return window;
}

/** After a failed refresh (an error, or a 5xx status when `status` is given): serve the stale entry, or not. */
export function canServeStaleOnError(entry: CachedEntry, settings: CacheSettings, now: number, status?: number): boolean {
	if (status !== undefined && (status < 500 || (settings.cacheControl !== 'rfc9111' && settings.allowableCodes.has(status)))) {
		return false;
	}

	const window = staleWindow(entry, settings, 'staleIfError');
	return window > 0 && entry.expires !== null && now - entry.expires <= window;
}

/** What to do with a response from the origin. */
export type StoreDecision =
	| {readonly kind: 'skip'; readonly reason: string}
	| {
		readonly kind: 'store';
		/** When it stops being fresh (null: never). */
		readonly expires: number | null;
		/** When a store with native expiry may drop it. */
		readonly deleteAt: number | null;
		readonly facts: ResponseFacts;
		/** Request header names from Vary (sorted, lower-case), empty when none. */
		readonly vary: readonly string[];
	};

/** The Vary header's names (sorted, unique, lower-case), or '*' when the response varies on everything. */
export function varyNames(headers: ResponseHeaders): readonly string[] | '*' {
	const raw = headers['vary'];
	const text = Array.isArray(raw) ? raw.join(',') : raw;
	if (text === undefined || text.trim() === '') {
		return [];
	}

	const names = [...new Set(text.split(',').map(name => name.trim().toLowerCase()).filter(Boolean))].sort();
	return names.includes('*') ? '*' : names;
}

/**
 * The facts kept with an entry, read once from its headers. In 'rfc9111' mode (given the settings
 * and the time it arrived) its age counts `Date` too (RFC 9111 §4.2.3).
 */
export function factsOf(headers: ResponseHeaders, settings?: CacheSettings, now?: number): ResponseFacts {
	const directives = parseCacheControl(headers['cache-control']);
	const facts: {-readonly [K in keyof ResponseFacts]: ResponseFacts[K]} = {
		age: settings?.cacheControl === 'rfc9111' && now !== undefined ? initialAge(headers, now) : ageOf(headers),
		mustRevalidate: directives.has('must-revalidate') || directives.has('proxy-revalidate') || (settings?.shared === true && sharedMustRevalidate(directives)),
		noCache: directives.get('no-cache') === true,
	};
	const staleIfError = seconds(directives, 'stale-if-error');
	const staleWhileRevalidate = seconds(directives, 'stale-while-revalidate');
	if (staleIfError !== undefined) {
		facts.staleIfError = staleIfError;
	}

	if (staleWhileRevalidate !== undefined) {
		facts.staleWhileRevalidate = staleWhileRevalidate;
	}

	return facts;
}

/**
 * When a response received at `now` expires, or 'noStore'. Cache-Control headers win in
 * cacheControl mode; 'rfc9111' computes it as RFC 9111 does (lib/policy/freshness.ts).
 */
export function expiryOf(expiration: Expiration, status: number, headers: ResponseHeaders, settings: CacheSettings, now: number): number | null | 'noStore' {
	if (settings.cacheControl === 'rfc9111') {
		return staleAt(status, headers, expiration, now, settings.shared);
	}

	if (settings.cacheControl) {
		const freshness = headerFreshness(headers, now);
		if (freshness.kind === 'noStore') {
			return 'noStore';
		}

		if (freshness.kind === 'explicit') {
			return freshness.expires;
		}
	}

	return expiration.kind === 'immediately' ? now : expiresAt(expiration, now);
}

/** When a store may drop an entry that expires at `expires`: `ttlOffset` later, so it can still be revalidated. */
export function deleteAtOf(expires: number | null, settings: Pick<CacheSettings, 'ttlOffset'>): number | null {
	return expires === null ? null : expires + (settings.ttlOffset * 1000);
}

/** Decide whether (and until when) to store a response from the origin. */
export function decideStore(lookup: Lookup, response: Pick<Response, 'status' | 'headers' | 'body'>, settings: CacheSettings, now: number): StoreDecision {
	if (settings.readOnly) {
		return {kind: 'skip', reason: 'readOnly'};
	}

	if (response.body.length > settings.maxEntrySize) {
		return {kind: 'skip', reason: `body of ${response.body.length} bytes is larger than maxEntrySize (${settings.maxEntrySize})`};
	}

	// A 206 is one part of a resource: never stored under the resource's key ('rfc9111': RFC 9111 §3
	// decides, a 206 answering a byte range included).
	if (settings.cacheControl === 'rfc9111'
		? !storable(response.status, response.headers, lookup.range, settings.shared, lookup.authorized === true)
		: !settings.allowableCodes.has(response.status) || response.status === 206) {
		return {kind: 'skip', reason: `status ${response.status}`};
	}

	if (lookup.directives.has('no-store')) {
		return {kind: 'skip', reason: 'request no-store'};
	}

	const expires = expiryOf(lookup.expiration, response.status, response.headers, settings, now);
	if (expires === 'noStore') {
		return {kind: 'skip', reason: 'response no-store'};
	}

	// Stale on arrival: worth keeping only when it can be revalidated.
	if (expires !== null && expires <= now && !hasValidator(response.headers)) {
		return {kind: 'skip', reason: 'stale on arrival without a validator'};
	}

	const vary = varyNames(response.headers);
	if (vary === '*') {
		return {kind: 'skip', reason: 'Vary: *'};
	}

	return {kind: 'store', expires, deleteAt: deleteAtOf(expires, settings), facts: factsOf(response.headers, settings, now), vary};
}

/**
 * The new expiry of an entry a 304 confirmed, from its merged headers: 'noStore' when the headers
 * now forbid storing. An entry stale on arrival before and after (EXPIRE_IMMEDIATELY, no-cache)
 * keeps its old expiry, so nothing is rewritten for it.
 */
export function renewedExpiry(lookup: Lookup, entry: CachedEntry, headers: ResponseHeaders, settings: CacheSettings, now: number): number | null | 'noStore' {
	const expires = expiryOf(lookup.expiration, entry.status, headers, settings, now);
	if (typeof expires === 'number' && expires <= now && entry.expires !== null && entry.expires <= now) {
		return entry.expires;
	}

	return expires;
}

/** The URLs an unsafe request invalidates: its own, and same-origin Location / Content-Location (RFC 9111 §4.4). */
export function invalidatedUrls(request: Pick<PreparedRequest, 'url'>, response: Pick<Response, 'headers' | 'url'>): string[] {
	const urls = [request.url];
	const {origin} = new URL(request.url);
	for (const name of ['location', 'content-location']) {
		const value = response.headers[name];
		if (typeof value !== 'string') {
			continue;
		}

		try {
			const target = new URL(value, response.url);
			if (target.origin === origin) {
				urls.push(target.href);
			}
		} catch {
			// Not a URL: nothing to invalidate.
		}
	}

	return urls;
}
