import {createKey, redactRequest} from '../cache-keys.js';
import type {CachedEntry} from '../cache/entry.js';
import {entryToResponse} from '../cache/base-cache.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response} from '../models/response.js';
import type {CacheState} from '../cache-mixin.js';
import {cloneResponse} from '../cache-mixin.js';
import type {SendOptions} from '../session.js';
import {type Expiration, expiresAt, parseExpireAfter, resolveExpiration} from './expiration.js';

/** The base session's send: how a request reaches the origin. */
export type Transport = (request: PreparedRequest, options: SendOptions) => Promise<Response>;

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

function aliasesOf(state: CacheState, request: PreparedRequest, response: Response): Array<{key: string; url: string}> {
	if (response.history.length === 0) {
		return [];
	}

	// Each URL the redirect chain passed through, and the final one, points at this response.
	const urls = new Set([...response.history.slice(1).map(hop => hop.url), response.url]);
	urls.delete(request.url);
	return [...urls].map(url => ({key: keyOf(state, {method: 'GET', url, headers: request.headers, body: undefined}), url}));
}

function toEntry(state: CacheState, request: PreparedRequest, response: Response, createdAt: number, expires: number | null): CachedEntry {
	return {
		kind: 'response',
		v: 1,
		status: response.status,
		reason: response.reason,
		headers: response.headers,
		url: response.url,
		history: [...response.history],
		request: redactRequest(request, state.settings.ignoredParameters),
		createdAt,
		expires,
		body: response.body,
	};
}

async function fetchAndStore(state: CacheState, request: PreparedRequest, options: SendOptions, transport: Transport, key: string, expiration: Expiration): Promise<Response> {
	const {settings, cache} = state;
	const response = await transport(request, options);
	const now = settings.clock();
	response.cacheKey = key;
	response.createdAt = new Date(now);
	if (settings.readOnly || expiration.kind === 'immediately' || !settings.allowableCodes.has(response.status)) {
		return response;
	}

	const expires = expiresAt(expiration, now);
	if (expires !== null && expires <= now) {
		return response;
	}

	if (settings.filterFn !== undefined && !settings.filterFn(response)) {
		return response;
	}

	response.expires = expires === null ? null : new Date(expires);
	await cache.saveEntry(key, toEntry(state, request, response, now, expires), aliasesOf(state, request, response));
	return response;
}

/** Share one origin request among concurrent identical ones; each caller gets its own copy. */
async function deduplicated(state: CacheState, key: string, send: () => Promise<Response>): Promise<Response> {
	const pending = state.inFlight.get(key);
	if (pending !== undefined) {
		pending.waiters++;
		return cloneResponse(await pending.promise);
	}

	const flight = {promise: send(), waiters: 0};
	state.inFlight.set(key, flight);
	try {
		const response = await flight.promise;
		// The original stays untouched until every waiter has copied it.
		return flight.waiters > 0 ? cloneResponse(response) : response;
	} finally {
		state.inFlight.delete(key);
	}
}

/**
 * The cache's decision for one request: bypass, serve from the cache, or fetch (and maybe store).
 */
export async function decideAndSend(state: CacheState, request: PreparedRequest, options: SendOptions, transport: Transport): Promise<Response> {
	const {settings, cache} = state;
	const perRequest = options.expireAfter === undefined ? undefined : parseExpireAfter(options.expireAfter, 'request', 'expireAfter');
	const expiration = resolveExpiration(perRequest, settings.urlsExpireAfter, request.url, settings.expireAfter);
	if (expiration.kind === 'doNotCache' || !settings.allowableMethods.has(request.method)) {
		return transport(request, options);
	}

	const key = keyOf(state, request);
	if (options.forceRefresh !== true) {
		if (state.inFlight.has(key)) {
			return deduplicated(state, key, async () => fetchAndStore(state, request, options, transport, key, expiration));
		}

		const found = await cache.getEntry(key);
		if (found !== undefined && !cache.isExpired(found.entry, settings.clock())) {
			return entryToResponse(found.entry, found.key, request, cache.store.sharesObjects);
		}
	}

	return deduplicated(state, key, async () => fetchAndStore(state, request, options, transport, key, expiration));
}
