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

/** How a request is looked up: the request's own directives and the per-request options, resolved. */
export type Lookup = {
	readonly kind: 'lookup';
	readonly expiration: Expiration;
	readonly directives: Directives;
	readonly onlyIfCached: boolean;
	/** Nothing stored may be used without the origin's 304. */
	readonly noCache: boolean;
	readonly forceRefresh: boolean;
	readonly refresh: boolean;
	/** Accept a stale entry of any age (fetch's `force-cache`). */
	readonly anyStale: boolean;
	/** Fetch's `no-cache`: revalidate whatever the entry's age (but a fresh immutable one with 'rfc9111'). */
	readonly revalidate?: true;
	/** 'rfc9111': the byte range asked for. */
	readonly range?: ByteRange;
	/** `shared`: the request carries `Authorization` (RFC 9111 §3.5). */
	readonly authorized?: true;
	/** `shared`: the headers of the client's own conditional request, answered from the cache (RFC 9111 §4.3.2). */
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

/** Decide how a request meets the cache; a bad per-request option throws first, whatever the request. */
export function planRequest(request: PreparedRequest, options: PlanOptions, settings: CacheSettings): RequestPlan {
	const perRequest = requestExpiration(options);
	const directives = parseCacheControl(request.headers['cache-control']);
	if (directives.has('no-store')) {
		return bypass;
	}

	if (!settings.allowableMethods.has(request.method)) {
		return !safeMethods.has(request.method) && settings.cacheControl && !settings.readOnly ? invalidate : bypass;
	}

	// The caller's own conditional or range request is theirs, except a single GET range ('rfc9111') or a shared cache's client.
	const range = settings.cacheControl === 'rfc9111' && request.method === 'GET' && request.headers['if-range'] === undefined ? parseRange(request.headers['range']) : undefined;
	const conditional = isConditional(request);
	const answersConditional = conditional && settings.shared && request.headers['range'] === undefined;
	if ((conditional && !answersConditional) || (request.headers['range'] !== undefined && range === undefined)) {
		return bypass;
	}

	// Precedence: docs/expiration.md (`'default'` skips the URL patterns).
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
	/** Serve the stored response; `notModified`: as a `304` to a client's conditional request (`shared`). */
	| {readonly kind: 'serve'; readonly stale: boolean; readonly notModified?: true}
	/** `shared`: a client's conditional request the cache cannot answer: sent on untouched, nothing stored. */
	| {readonly kind: 'pass'}
	| {readonly kind: 'revalidate'}
	| {readonly kind: 'serveStaleAndRevalidate'}
	/** `onlyIfCached` without a usable entry: a synthetic 504. */
	| {readonly kind: 'gatewayTimeout'};

const fetchAction: LookupAction = Object.freeze({kind: 'fetch'});
const serveFresh: LookupAction = Object.freeze({kind: 'serve', stale: false});
const serveStale: LookupAction = Object.freeze({kind: 'serve', stale: true});
const revalidateAction: LookupAction = Object.freeze({kind: 'revalidate'});
const staleAndRevalidate: LookupAction = Object.freeze({kind: 'serveStaleAndRevalidate'});
const gatewayTimeoutAction: LookupAction = Object.freeze({kind: 'gatewayTimeout'});
const passAction: LookupAction = Object.freeze({kind: 'pass'});

function ageAt(entry: Pick<CachedEntry, 'createdAt' | 'facts'>, now: number): number {
	return ((now - entry.createdAt) / 1000) + entry.facts.age;
}

/** The `Age` a served entry carries (RFC 9111 §5.1), in whole seconds; none without `cacheControl`. */
export function servedAge(entry: Pick<CachedEntry, 'createdAt' | 'facts'>, settings: Pick<CacheSettings, 'cacheControl'>, now: number): number | undefined {
	return settings.cacheControl ? Math.max(0, Math.floor(ageAt(entry, now))) : undefined;
}

/** Whether a stored entry may be served to this requester: a `private` one (even stored ownerless by an earlier version) only to its owner. */
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

	const whileRevalidating = staleWindow(entry, settings, 'staleWhileRevalidate');
	if (!fresh && !mustAsk && whileRevalidating > 0 && now - entry.expires! <= whileRevalidating) {
		return staleAndRevalidate;
	}

	return revalidateAction;
}

/** How long (ms) past its expiry an entry may be served when refreshing fails or while it refreshes. */
export function staleWindow(entry: Pick<CachedEntry, 'expires' | 'facts'>, settings: CacheSettings, which: 'staleIfError' | 'staleWhileRevalidate'): number {
	if (entry.expires === null || (settings.cacheControl && (entry.facts.mustRevalidate || entry.facts.noCache))) {
		return 0;
	}

	const fromHeader = settings.cacheControl ? entry.facts[which] : undefined;
	return fromHeader === undefined ? settings[which] : Math.max(settings[which], fromHeader * 1000);
}

/** What to do with a response from the origin. */
export type StoreDecision =
	| {readonly kind: 'skip'; readonly reason: string}
	| {
		readonly kind: 'store';
		readonly createdAt: number;
		readonly expires: number | null;
		readonly deleteAt: number | null;
		readonly facts: ResponseFacts;
		/** Request header names from Vary (sorted, lower-case). */
		readonly vary: readonly string[];
		/** The headers worth storing, before redaction. */
		readonly headers: ResponseHeaders;
	};

/** What storing a response needs to know of its requester, derived by the codec (lib/codec/keys.ts). */
export type Requester = {
	/** The requester's identity; undefined when it cannot be derived now. */
	readonly owner: () => string | undefined;
	/** True when the last redirect hop sent a credential the request did not (a cookie too, for a `private` response). */
	readonly hopAddsIdentity: (isPrivate: boolean) => boolean;
};

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

/** The facts kept with an entry, read once from its headers; 'rfc9111' counts `Date` in its age (RFC 9111 §4.2.3). */
export function factsOf(headers: ResponseHeaders, settings?: CacheSettings, now?: number): ResponseFacts {
	const directives = parseCacheControl(headers['cache-control']);
	const staleIfError = seconds(directives, 'stale-if-error');
	const staleWhileRevalidate = seconds(directives, 'stale-while-revalidate');
	return {
		age: settings?.cacheControl === 'rfc9111' && now !== undefined ? initialAge(headers, now) : ageOf(headers),
		mustRevalidate: directives.has('must-revalidate') || directives.has('proxy-revalidate') || (settings?.shared === true && sharedMustRevalidate(directives)),
		noCache: directives.get('no-cache') === true,
		...(staleIfError === undefined ? {} : {staleIfError}),
		...(staleWhileRevalidate === undefined ? {} : {staleWhileRevalidate}),
	};
}

/** When a response received at `now` expires, or 'noStore': its headers win with `cacheControl`. */
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

	return expiresAt(expiration, now);
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

/** Decide from the status and headers alone, before the body: a `skip` is final, a `store` still waits for the body. */
export function decideStoreHead(lookup: Lookup, response: StoreCandidate, settings: CacheSettings, now: number, requester: Requester): StoreDecision {
	const declared = response.headers['content-length'];
	if (typeof declared === 'string' && Number(declared) > settings.maxEntrySize && !settings.readOnly) {
		return {kind: 'skip', reason: `content-length ${declared} is larger than maxEntrySize (${settings.maxEntrySize})`};
	}

	return storeDecision(lookup, response, settings, now, requester);
}

function storeDecision(lookup: Lookup, response: StoreCandidate, settings: CacheSettings, now: number, requester: Requester): StoreDecision {
	if (settings.readOnly) {
		return {kind: 'skip', reason: 'readOnly'};
	}

	// The codec refuses any other status (lib/codec/entry.ts).
	if (response.status < 200 || response.status > 599) {
		return {kind: 'skip', reason: `status ${response.status}`};
	}

	// A 206 is one part of a resource: stored only by 'rfc9111', where RFC 9111 §3 decides.
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

	if (expires !== null && expires <= now && !hasValidator(response.headers)) {
		return {kind: 'skip', reason: 'stale on arrival without a validator'};
	}

	const vary = varyNames(response.headers);
	if (vary === '*') {
		return {kind: 'skip', reason: 'Vary: *'};
	}

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
