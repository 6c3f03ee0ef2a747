import {createHash} from 'node:crypto';
import {debuglog} from 'node:util';
import {Buffer} from 'node:buffer';
import {createKey, redactRequest, redactUrl} from '../cache-keys.js';
import type {CachedEntry} from '../cache/entry.js';
import {entryToResponse} from '../cache/base-cache.js';
import type {PreparedRequest} from '../models/request.js';
import {Response} from '../models/response.js';
import type {CacheState} from '../cache-mixin.js';
import {cloneResponse} from '../cache-mixin.js';
import {RequestsCacheError} from '../errors.js';
import type {SendOptions} from '../session.js';
import {type Expiration, expiresAt, parseExpireAfter, resolveExpiration} from './expiration.js';
import {
	type Directives, ageOf, conditionalHeaders, hasValidator, headerFreshness, mergeNotModified, parseCacheControl, seconds, storableHeaders,
} from './cache-control.js';

const debug = debuglog('requests-cache');

/** The base session's send: how a request reaches the origin. */
export type Transport = (request: PreparedRequest, options: SendOptions) => Promise<Response>;

/** Everything decided about one request before it is served or sent. */
type Context = {
	readonly state: CacheState;
	readonly request: PreparedRequest;
	readonly options: SendOptions;
	readonly transport: Transport;
	readonly key: string;
	readonly expiration: Expiration;
	readonly directives: Directives;
};

/** A stored entry as found: its key, and the key it was reached through (before any Vary index). */
type Found = {readonly entry: CachedEntry; readonly key: string; readonly primaryKey: string};

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

function keyOf(state: CacheState, request: PreparedRequest): string {
	const {keyFn} = state.settings;
	if (keyFn === undefined) {
		return createKey(request, state.settings);
	}

	const key = keyFn(request);
	if (typeof key !== 'string' || key === '') {
		throw new TypeError(`keyFn must return a non-empty string, got ${typeof key}`);
	}

	return key;
}

function headerValue(request: PreparedRequest, name: string): string | null {
	return request.headers[name] ?? null;
}

/** The Vary header's names, or '*' when the response varies on everything. */
function varyNames(response: {headers: Response['headers']}): string[] | '*' {
	const raw = response.headers['vary'];
	const text = Array.isArray(raw) ? raw.join(',') : raw;
	if (text === undefined || text.trim() === '') {
		return [];
	}

	const names = [...new Set(text.split(',').map(name => name.trim().toLowerCase()).filter(Boolean))].sort();
	return names.includes('*') ? '*' : names;
}

/**
 * The key of one variant: the primary key plus the varied request headers' values, hashed (so
 * that a credential a response varies on selects its own entry without being stored in clear).
 */
function variantKeyOf(request: PreparedRequest) {
	return (primaryKey: string, names: readonly string[]): string => createHash('sha256')
		.update(JSON.stringify([primaryKey, names.map(name => [name, headerValue(request, name)])]))
		.digest('hex')
		.slice(0, 32);
}

function aliasesOf(state: CacheState, request: PreparedRequest, response: Response): Array<{key: string; url: string}> {
	if (response.history.length === 0) {
		return [];
	}

	// Each URL the redirect chain passed through, and the final one, points at this response.
	const urls = new Set([...response.history.slice(1).map(hop => hop.url), response.url]);
	urls.delete(request.url);
	return [...urls].map(url => ({key: keyOf(state, {method: 'GET', url, headers: request.headers, body: undefined}), url: redactUrl(url, state.settings.ignoredParameters)}));
}

/** Redirect hops as stored: URLs and Location headers with ignored parameters redacted. */
function redactHistory(history: Response['history'], ignored: ReadonlySet<string>): CachedEntry['history'] {
	return history.map(hop => {
		const {location} = hop.headers;
		const headers = typeof location === 'string'
			? {...hop.headers, location: redactUrl(new URL(location, hop.url).href, ignored)}
			: hop.headers;
		return {status: hop.status, url: redactUrl(hop.url, ignored), headers};
	});
}

function toEntry(context: Context, response: Response, createdAt: number, expires: number | null): CachedEntry {
	const ignored = context.state.settings.ignoredParameters;
	return {
		kind: 'response',
		v: 1,
		status: response.status,
		reason: response.reason,
		headers: storableHeaders(response.headers),
		// A secret in the query must not reach the store through the URLs either.
		url: redactUrl(response.url, ignored),
		history: redactHistory(response.history, ignored),
		request: redactRequest(context.request, context.state.settings.ignoredParameters),
		createdAt,
		expires,
		body: response.body,
	};
}

/** When a response received at `now` expires, or 'noStore'. Cache-Control headers win in cacheControl mode. */
function expiryFor(context: Context, headers: Response['headers'], now: number): number | null | 'noStore' {
	if (context.state.settings.cacheControl) {
		const freshness = headerFreshness(headers, now);
		if (freshness.kind === 'noStore') {
			return 'noStore';
		}

		if (freshness.kind === 'explicit') {
			return freshness.expires;
		}
	}

	if (context.expiration.kind === 'immediately') {
		return now;
	}

	return expiresAt(context.expiration, now);
}

/** Store a fresh response from the origin if the rules allow it; marks the response either way. */
async function store(context: Context, response: Response): Promise<Response> {
	const {state, key} = context;
	const {settings, cache} = state;
	const now = settings.clock();
	response.cacheKey = key;
	response.createdAt = new Date(now);
	// A 206 is one part of a resource: never stored under the resource's key.
	if (settings.readOnly || !settings.allowableCodes.has(response.status) || response.status === 206 || context.directives.has('no-store')) {
		return response;
	}

	const expires = expiryFor(context, response.headers, now);
	// Stale on arrival: worth keeping only when it can be revalidated.
	if (expires === 'noStore' || (expires !== null && expires <= now && !hasValidator(response.headers))) {
		return response;
	}

	const vary = varyNames(response);
	if (vary === '*') {
		return response;
	}

	if (settings.filterFn !== undefined && !settings.filterFn(response)) {
		return response;
	}

	response.expires = expires === null ? null : new Date(expires);
	const variant = vary.length === 0 ? undefined : {key: variantKeyOf(context.request)(key, vary), names: vary};
	await cache.saveEntry(key, toEntry(context, response, now, expires), aliasesOf(state, context.request, response), variant);
	return response;
}

/** Share one origin request among concurrent identical ones; each caller gets its own copy. */
async function deduplicated(context: Context, send: () => Promise<Response>): Promise<Response> {
	const {inFlight} = context.state;
	// Identical requests only: the same key and the same headers (a Vary may select on any header).
	const flightKey = `${context.key} ${JSON.stringify(context.request.headers)}`;
	const pending = inFlight.get(flightKey);
	if (pending !== undefined) {
		pending.waiters++;
		return cloneResponse(await pending.promise);
	}

	const flight = {promise: send(), waiters: 0};
	inFlight.set(flightKey, flight);
	try {
		const response = await flight.promise;
		// The original stays untouched until every waiter has copied it.
		return flight.waiters > 0 ? cloneResponse(response) : response;
	} finally {
		inFlight.delete(flightKey);
	}
}

async function fetchAndStore(context: Context): Promise<Response> {
	return deduplicated(context, async () => store(context, await context.transport(context.request, context.options)));
}

function serve(context: Context, entry: CachedEntry, key: string, now: number): Response {
	const response = entryToResponse(entry, key, context.request, context.state.cache.store.sharesObjects);
	// The stored URL has secrets redacted; without redirects the caller's own URL is the final one.
	if (entry.history.length === 0) {
		response.url = context.request.url;
	}

	response.isExpired = entry.expires !== null && entry.expires <= now;
	if (context.state.settings.cacheControl) {
		const stored = Number.parseInt(String(entry.headers['age'] ?? '0'), 10);
		response.headers['age'] = String(Math.max(0, Math.floor((now - entry.createdAt) / 1000)) + (Number.isFinite(stored) ? stored : 0));
	}

	return response;
}

/** A 504 made here, for `onlyIfCached` without a usable entry: the origin is not contacted. */
function gatewayTimeout(context: Context): Response {
	const response = new Response({
		status: 504,
		reason: 'Gateway Timeout',
		headers: {'content-type': 'text/plain; charset=utf-8'},
		url: context.request.url,
		body: Buffer.from('504 Gateway Timeout: not in the cache (only-if-cached)'),
		request: context.request,
	});
	response.cacheKey = context.key;
	return response;
}

/** How long a stale entry may still be served when refreshing it fails, in ms (0: not at all). */
function staleWindow(context: Context, entry: CachedEntry, which: 'stale-if-error' | 'stale-while-revalidate'): number {
	const {settings} = context.state;
	let window = which === 'stale-if-error' ? settings.staleIfError : settings.staleWhileRevalidate;
	if (settings.cacheControl) {
		const directives = parseCacheControl(entry.headers['cache-control']);
		if (directives.has('must-revalidate') || directives.has('proxy-revalidate') || directives.has('no-cache')) {
			return 0;
		}

		const fromHeader = seconds(directives, which);
		if (fromHeader !== undefined) {
			window = Math.max(window, fromHeader * 1000);
		}
	}

	return window;
}

function withinWindow(entry: CachedEntry, window: number, now: number): boolean {
	return window > 0 && entry.expires !== null && now - entry.expires <= window;
}

/**
 * Refresh a stored entry: a conditional request when it has a validator (a 304 renews it), a
 * plain one otherwise. Failures serve the stale entry within the stale-if-error window.
 */
async function refresh(context: Context, found: Found): Promise<Response> {
	const {entry, key: foundKey, primaryKey} = found;
	const {state, request, options, transport} = context;
	const {settings, cache} = state;
	const conditional = hasValidator(entry.headers)
		? {...request, headers: {...request.headers, ...conditionalHeaders(entry.headers)}}
		: request;
	let response: Response;
	try {
		response = await deduplicated(context, async () => transport(conditional, options));
	} catch (error) {
		const now = settings.clock();
		if (withinWindow(entry, staleWindow(context, entry, 'stale-if-error'), now)) {
			debug('serving stale %s after error: %s', request.url, (error as Error).message);
			return serve(context, entry, foundKey, now);
		}

		throw error;
	}

	const now = settings.clock();
	if (response.status === 304 && conditional !== request) {
		const merged = mergeNotModified(entry.headers, response.headers);
		const headers = storableHeaders(merged.headers);
		const {changed} = merged;
		let expires = expiryFor(context, headers, now);
		// Stale on arrival before and after (EXPIRE_IMMEDIATELY, no-cache): nothing worth rewriting.
		if (typeof expires === 'number' && expires <= now && entry.expires !== null && entry.expires <= now) {
			expires = entry.expires;
		}

		const renewed: CachedEntry = {...entry, headers, expires: expires === 'noStore' ? now : expires};
		if (expires === 'noStore') {
			await cache.forget([foundKey]);
		} else if (changed || renewed.expires !== entry.expires) {
			const names = varyNames(renewed);
			const variant = foundKey === primaryKey || names === '*' || names.length === 0 ? undefined : {key: foundKey, names};
			await cache.saveEntry(primaryKey, renewed, [], variant);
		}

		const served = serve(context, {...renewed, headers: {...headers}}, foundKey, now);
		served.revalidated = true;
		served.isExpired = false;
		return served;
	}

	if (!settings.allowableCodes.has(response.status) && response.status >= 500
		&& withinWindow(entry, staleWindow(context, entry, 'stale-if-error'), now)) {
		debug('serving stale %s after status %d', request.url, response.status);
		return serve(context, entry, foundKey, now);
	}

	return store(context, response);
}

/** Refresh in the background after serving stale; a failure is reported, never thrown. */
function refreshInBackground(context: Context, found: Found): void {
	const {state} = context;
	const task = refresh(context, found).then(() => undefined, (error: unknown) => {
		debug('background refresh of %s failed: %s', context.request.url, (error as Error).message);
		if (state.cache.listenerCount('error') > 0) {
			state.cache.emit('error', error instanceof RequestsCacheError ? error : new RequestsCacheError(`Background refresh of ${context.request.url} failed: ${(error as Error).message}`, 'ERR_REQUEST', {cause: error}));
		}
	});
	state.background.add(task);
	void task.finally(() => state.background.delete(task));
}

/** The URLs an unsafe request invalidates: its own, and same-origin Location / Content-Location (RFC 9111 §4.4). */
function invalidatedUrls(request: PreparedRequest, response: Response): string[] {
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

/**
 * The cache's decision for one request: bypass, serve from the cache, revalidate, serve stale,
 * or fetch (and maybe store). See docs/http-caching.md for the rules in order.
 */
export async function decideAndSend(state: CacheState, request: PreparedRequest, options: SendOptions, transport: Transport): Promise<Response> {
	const {settings, cache} = state;
	const directives = parseCacheControl(request.headers['cache-control']);
	if (directives.has('no-store')) {
		return transport(request, options);
	}

	const perRequest = options.expireAfter === undefined ? undefined : parseExpireAfter(options.expireAfter, 'request', 'expireAfter');
	const expiration = resolveExpiration(perRequest, settings.urlsExpireAfter, request.url, settings.expireAfter);
	if (!settings.allowableMethods.has(request.method)) {
		const response = await transport(request, options);
		// An unsafe method that succeeded makes what is stored for its URL out of date (RFC 9111 §4.4).
		if (settings.cacheControl && !safeMethods.has(request.method) && response.status < 400 && !settings.readOnly) {
			await cache.forget(invalidatedUrls(request, response).map(url => keyOf(state, {method: 'GET', url, headers: request.headers, body: undefined})));
		}

		return response;
	}

	if (expiration.kind === 'doNotCache'
		// The caller's own conditional or range request is theirs to answer: pass it through untouched.
		|| request.headers['if-none-match'] !== undefined || request.headers['if-modified-since'] !== undefined
		|| request.headers['range'] !== undefined) {
		return transport(request, options);
	}

	const key = keyOf(state, request);
	const context: Context = {state, request, options, transport, key, expiration, directives};
	const onlyIfCached = options.onlyIfCached === true || directives.has('only-if-cached');
	if (options.forceRefresh === true) {
		return fetchAndStore(context);
	}

	// no-cache: nothing stored may be used without the origin's say-so (a 304 to a conditional request).
	const noCache = !onlyIfCached && (directives.has('no-cache')
		|| (request.headers['pragma']?.toLowerCase().includes('no-cache') === true && request.headers['cache-control'] === undefined));

	const found = await cache.getEntry(key, variantKeyOf(request));
	if (found === undefined) {
		return onlyIfCached ? gatewayTimeout(context) : fetchAndStore(context);
	}

	const {entry, key: foundKey} = found;
	const now = settings.clock();
	const age = ((now - entry.createdAt) / 1000) + ageOf(entry.headers);
	let fresh = !noCache && (entry.expires === null || now < entry.expires);
	const maxAge = seconds(directives, 'max-age');
	const minFresh = seconds(directives, 'min-fresh');
	if (maxAge !== undefined && age > maxAge) {
		fresh = false;
	}

	if (minFresh !== undefined && entry.expires !== null && entry.expires - now < minFresh * 1000) {
		fresh = false;
	}

	if (!fresh && !noCache && directives.has('max-stale') && entry.expires !== null) {
		const maxStale = seconds(directives, 'max-stale');
		const mustRevalidate = settings.cacheControl && parseCacheControl(entry.headers['cache-control']).has('must-revalidate');
		if (!mustRevalidate && (maxStale === undefined || now - entry.expires <= maxStale * 1000) && (maxAge === undefined || age <= maxAge)) {
			fresh = true;
		}
	}

	const validator = hasValidator(entry.headers);
	const revalidate = validator && (options.refresh === true || settings.alwaysRevalidate);
	if (fresh && !revalidate) {
		return serve(context, entry, foundKey, now);
	}

	if (onlyIfCached) {
		return fresh ? serve(context, entry, foundKey, now) : gatewayTimeout(context);
	}

	if (options.refresh === true && !validator && fresh) {
		return serve(context, entry, foundKey, now);
	}

	if (!fresh && !noCache && withinWindow(entry, staleWindow(context, entry, 'stale-while-revalidate'), now)) {
		refreshInBackground(context, found);
		return serve(context, entry, foundKey, now);
	}

	return refresh(context, found);
}
