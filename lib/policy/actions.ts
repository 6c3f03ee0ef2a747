import type {CachedEntry, ResponseFacts} from '../codec/entry.js';
import {optionTypeError} from '../errors.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response, ResponseHeaders} from '../models/response.js';
import {type Directives, ageOf, hasValidator, headerFreshness, isConditional, parseCacheControl, seconds, storableHeaders} from './cache-control.js';
import {notModified} from './conditional.js';
import {type Expiration, expiresAt, matchUrlExpiration, parseExpireAfter} from './expiration.js';
import {initialAge, skipsReload, staleAt, storable} from './freshness.js';
import {type ByteRange, covers, parseRange} from './ranges.js';
import {sharedMustRevalidate} from './shared-cache.js';
import {ANY_STALE, type CacheRequestOptions, REVALIDATE} from './request-options.js';
import type {CacheSettings} from './settings.js';

/**
 * The cache's rules as pure functions, in the spirit of requests-cache's `CacheActions`: each
 * takes the request, the settings, what is stored and the time, and names what to do. Nothing
 * here reads a store, sends a request or looks at a clock; lib/engine/*.ts carries the actions
 * out (revalidation.ts and invalidation.ts hold the rules after the origin answers).
 * docs/http-caching.md lists the rules in order.
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
	/** Fetch's `no-cache`: revalidate whatever the entry's age (but a fresh immutable one with 'rfc9111'). */
	readonly revalidate?: true;
	/** `cacheControl: 'rfc9111'`: the byte range asked for, answered from what is stored when it covers it. */
	readonly range?: ByteRange;
	/** `shared`: the request carries `Authorization`, which limits what may be stored (RFC 9111 §3.5). */
	readonly authorized?: true;
	/**
	 * `shared`: the client's own conditional request, answered with a `304` from a stored response
	 * that is served and meets it (RFC 9111 §4.3.2); sent on untouched, storing nothing, otherwise.
	 * The request's headers, where its conditions are.
	 */
	readonly conditional?: Readonly<Record<string, string>>;
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

const booleanOptions = ['refresh', 'forceRefresh', 'onlyIfCached'] as const;

/**
 * The per-request expiration: `expireAfter` parsed (a `TypeError`/`RangeError` naming it when it
 * does not parse), or undefined for none. The other per-request options must be booleans.
 */
function requestExpiration(options: PlanOptions): Expiration | undefined {
	for (const name of booleanOptions) {
		const value: unknown = options[name];
		if (value !== undefined && typeof value !== 'boolean') {
			throw optionTypeError('request', name, 'a boolean', value);
		}
	}

	const {expireAfter} = options;
	return expireAfter === undefined || expireAfter === 'default' ? undefined : parseExpireAfter(expireAfter, 'request', 'expireAfter');
}

/**
 * Decide how a request meets the cache; the per-request options are checked here, where they are
 * read (before anything else, so a bad one throws whatever the request).
 */
export function planRequest(request: PreparedRequest, options: PlanOptions, settings: CacheSettings): RequestPlan {
	const perRequest = requestExpiration(options);
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

	// Precedence (docs/expiration.md): Cache-Control (when stored), the request's `expireAfter`
	// (`'default'` skips the URL patterns), the first matching `urlsExpireAfter` pattern, the session's.
	const patterns = options.expireAfter === 'default' || settings.urlsExpireAfter.length === 0 ? undefined : settings.urlsExpireAfter;
	const expiration = perRequest ?? (patterns === undefined ? undefined : matchUrlExpiration(patterns, request.url)) ?? settings.expireAfter;
	if (expiration.kind === 'doNotCache') {
		return bypass;
	}

	const onlyIfCached = options.onlyIfCached === true || directives.has('only-if-cached');
	const pragmaNoCache = request.headers['cache-control'] === undefined && request.headers['pragma']?.toLowerCase().includes('no-cache') === true;
	return {
		...(range === undefined ? {} : {range}),
		...(settings.shared && request.headers['authorization'] !== undefined ? {authorized: true} : {}),
		...(answersConditional ? {conditional: request.headers} : {}),
		kind: 'lookup',
		expiration,
		directives,
		onlyIfCached,
		noCache: !onlyIfCached && (directives.has('no-cache') || pragmaNoCache),
		forceRefresh: options.forceRefresh === true,
		refresh: options.refresh === true,
		anyStale: options[ANY_STALE] === true,
		...(options[REVALIDATE] === true && !onlyIfCached ? {revalidate: true} : {}),
	};
}

/** What to do once the store has been read. */
export type LookupAction =
	/** Nothing usable: send, and store what comes back. */
	| {readonly kind: 'fetch'}
	/**
	 * Serve the stored response (`stale` when past its expiry, e.g. allowed by max-stale); `notModified`:
	 * as a `304`, for a client's own conditional request it meets (`shared`).
	 */
	| {readonly kind: 'serve'; readonly stale: boolean; readonly notModified?: true}
	/** `shared`: a client's conditional request the cache cannot answer: sent on untouched, nothing stored. */
	| {readonly kind: 'pass'}
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
const passAction: LookupAction = Object.freeze({kind: 'pass'});

/** The entry's age in seconds at `now`: time since stored plus the age it arrived with. */
export function ageAt(entry: Pick<CachedEntry, 'createdAt' | 'facts'>, now: number): number {
	return ((now - entry.createdAt) / 1000) + entry.facts.age;
}

/** The `Age` a served entry carries (RFC 9111 §5.1), in whole seconds; none without `cacheControl`. */
export function servedAge(entry: Pick<CachedEntry, 'createdAt' | 'facts'>, settings: Pick<CacheSettings, 'cacheControl'>, now: number): number | undefined {
	return settings.cacheControl ? Math.max(0, Math.floor(ageAt(entry, now))) : undefined;
}

/**
 * Whether a stored entry may be served to this requester: a `private` response only to its owner
 * (`owner()`: the requester's identity, derived by the codec), whatever the key says. An entry
 * without an owner is anyone's, unless it is a `private` one an earlier version stored without one.
 */
export function servesRequester(entry: Pick<CachedEntry, 'facts' | 'headers'>, owner: () => string | undefined): boolean {
	if (entry.facts.owner === undefined && !parseCacheControl(entry.headers['cache-control']).has('private')) {
		return true;
	}

	return entry.facts.owner === owner();
}

/** Decide what to do with a lookup and what the store holds for it. */
export function decideLookup(lookup: Lookup, entry: CachedEntry | undefined, settings: CacheSettings, now: number): LookupAction {
	const action = lookupAction(lookup, entry, settings, now);
	if (lookup.conditional === undefined) {
		return action;
	}

	// `shared`: the client's own conditional request, answered only from what would be served (RFC 9111 §4.3.2).
	if (action.kind !== 'serve') {
		return passAction;
	}

	return notModified(lookup.conditional, entry!.headers, now) ? {...action, notModified: true} : action;
}

function lookupAction(lookup: Lookup, entry: CachedEntry | undefined, settings: CacheSettings, now: number): LookupAction {
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
	const immutable = rfc9111 && skipsReload(entry, now);
	const maxAge = immutable ? undefined : seconds(directives, 'max-age');
	const minFresh = seconds(directives, 'min-fresh');
	// The request's no-cache, or fetch's: nothing stored is used without the origin's word.
	const mustAsk = lookup.noCache || (lookup.revalidate === true && !immutable);
	let fresh = !mustAsk && (entry.expires === null || now < entry.expires)
		&& (maxAge === undefined || age <= maxAge)
		&& (minFresh === undefined || entry.expires === null || entry.expires - now >= minFresh * 1000);
	let stale = false;
	if (!fresh && !mustAsk && entry.expires !== null && !(settings.cacheControl && entry.facts.mustRevalidate) && !(rfc9111 && entry.facts.noCache)) {
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
	if (!fresh && !mustAsk && whileRevalidating > 0 && now - entry.expires! <= whileRevalidating) {
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

/** What to do with a response from the origin. */
export type StoreDecision =
	| {readonly kind: 'skip'; readonly reason: string}
	| {
		readonly kind: 'store';
		/** When it arrived: its age counts from then. */
		readonly createdAt: number;
		/** When it stops being fresh (null: never). */
		readonly expires: number | null;
		/** When a store with native expiry may drop it. */
		readonly deleteAt: number | null;
		/** What a read needs, `owner` included for a `private` response. */
		readonly facts: ResponseFacts;
		/** Request header names from Vary (sorted, lower-case), empty when none. */
		readonly vary: readonly string[];
		/** The headers worth storing (before redaction: lib/codec/redact.ts `storedEntryOf`). */
		readonly headers: ResponseHeaders;
	};

/** What storing a response needs to know of its requester, derived by the codec (lib/codec/keys.ts). */
export type Requester = {
	/** The requester's identity (credentials, cookies, certificate); undefined when it cannot be derived now. */
	readonly owner: () => string | undefined;
	/** True when the last redirect hop sent a credential the request did not (a cookie too, for a `private` response). */
	readonly hopAddsIdentity: (isPrivate: boolean) => boolean;
};

/** What the store decision reads of a response: the body only for its size. */
type StoreCandidate = Pick<Response, 'status' | 'headers' | 'history'>;

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
export function decideStore(lookup: Lookup, response: StoreCandidate & Pick<Response, 'body'>, settings: CacheSettings, now: number, requester: Requester): StoreDecision {
	if (response.body.length > settings.maxEntrySize && !settings.readOnly) {
		return {kind: 'skip', reason: `body of ${response.body.length} bytes is larger than maxEntrySize (${settings.maxEntrySize})`};
	}

	return storeDecision(lookup, response, settings, now, requester);
}

/**
 * Decide from the status and headers alone, before the body, whether a response could be
 * stored: a `skip` is final (the body can stream to its caller untouched); a `store` still waits
 * for the body to arrive within `maxEntrySize`. A declared `content-length` over it skips at once.
 */
export function decideStoreHead(lookup: Lookup, response: StoreCandidate, settings: CacheSettings, now: number, requester: Requester): StoreDecision {
	const declared = response.headers['content-length'];
	if (typeof declared === 'string' && Number(declared) > settings.maxEntrySize && !settings.readOnly) {
		return {kind: 'skip', reason: `content-length ${declared} is larger than maxEntrySize (${settings.maxEntrySize})`};
	}

	return storeDecision(lookup, response, settings, now, requester);
}

/** What the status and headers say about storing a response (its size aside). */
function storeDecision(lookup: Lookup, response: StoreCandidate, settings: CacheSettings, now: number, requester: Requester): StoreDecision {
	if (settings.readOnly) {
		return {kind: 'skip', reason: 'readOnly'};
	}

	// Only a final status is an answer to replay (the codec refuses any other: lib/codec/entry.ts).
	if (response.status < 200 || response.status > 599) {
		return {kind: 'skip', reason: `status ${response.status}`};
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

	// A `private` response is its requester's alone: stored with its owner, or not at all.
	const isPrivate = parseCacheControl(response.headers['cache-control']).has('private');
	const owner = isPrivate ? requester.owner() : undefined;
	if (isPrivate && owner === undefined) {
		return {kind: 'skip', reason: 'private, and the requester\'s identity cannot be derived now'};
	}

	// Its owner would depend on redirect hops a later lookup cannot see.
	if (isPrivate && response.history.length > 0) {
		return {kind: 'skip', reason: 'private, reached through redirects'};
	}

	// What a hop's added credentials obtained depends on something the key (or the owner) cannot see.
	if (requester.hopAddsIdentity(isPrivate)) {
		return {kind: 'skip', reason: 'a redirect hop added credentials'};
	}

	const facts = factsOf(response.headers, settings, now);
	return {
		kind: 'store', createdAt: now, expires, deleteAt: deleteAtOf(expires, settings), facts: owner === undefined ? facts : {...facts, owner}, vary,
		headers: storableHeaders(response.headers, settings.shared),
	};
}
