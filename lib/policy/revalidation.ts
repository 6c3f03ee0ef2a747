import type {CachedEntry, ResponseFacts} from '../codec/entry.js';
import type {PreparedRequest} from '../models/request.js';
import type {ResponseHeaders} from '../models/response.js';
import {type Lookup, expiryOf, factsOf, staleWindow, varyNames} from './actions.js';
import {conditionalHeaders, hasValidator, mergeNotModified, storableHeaders} from './cache-control.js';
import type {CacheSettings} from './settings.js';

/** The request that asks the origin about `entry`: conditional on its validators, or as it is without one. */
export function revalidationRequest(request: PreparedRequest, entry: Pick<CachedEntry, 'headers'>): PreparedRequest {
	return hasValidator(entry.headers) ? {...request, headers: {...request.headers, ...conditionalHeaders(entry.headers)}} : request;
}

/** What a refresh's answer means for the stored entry. */
type RefreshOutcome =
	/** A `304` to our conditional request: the entry is current (see {@link decideRenewal}). */
	| {readonly kind: 'renew'}
	/** The origin failed within the entry's stale-if-error window. */
	| {readonly kind: 'serveStale'}
	| {readonly kind: 'replace'}
	| {readonly kind: 'fail'};

/** Decide what the origin's answer to a refresh means (`status` undefined: sending failed). */
export function decideRefreshed(entry: Pick<CachedEntry, 'expires' | 'facts'>, conditional: boolean, status: number | undefined, settings: CacheSettings, now: number): RefreshOutcome {
	if (status === 304 && conditional) {
		return {kind: 'renew'};
	}

	// A 5xx the user asked to store (allowableCodes) is an answer like any other, outside 'rfc9111'.
	const failed = status === undefined || (status >= 500 && (settings.cacheControl === 'rfc9111' || !settings.allowableCodes.has(status)));
	if (!failed) {
		return {kind: 'replace'};
	}

	const window = staleWindow(entry, settings, 'staleIfError');
	if (window > 0 && entry.expires !== null && now - entry.expires <= window) {
		return {kind: 'serveStale'};
	}

	return status === undefined ? {kind: 'fail'} : {kind: 'replace'};
}

/** What a `304` does to the entry it confirmed. */
type Renewal = {
	/** `forget`: the merged headers now forbid storing; `keep`: nothing worth a write changed. */
	readonly kind: 'forget' | 'rewrite' | 'keep';
	/** The stored headers updated from the 304, before redaction. */
	readonly headers: ResponseHeaders;
	readonly expires: number | null;
	/** For `rewrite`: now, the 304 being the origin's word that it is current. */
	readonly createdAt: number;
	readonly facts: ResponseFacts;
	readonly vary: readonly string[] | '*';
};

/** Decide what a `304` confirming `entry` changes: merged headers, a renewed expiry, whether to rewrite it. */
export function decideRenewal(lookup: Lookup, entry: CachedEntry, notModified: ResponseHeaders, settings: CacheSettings, now: number): Renewal {
	const merged = mergeNotModified(entry.headers, notModified);
	const headers = storableHeaders(merged.headers, settings.shared);
	const vary = varyNames(headers);
	let expires = expiryOf(lookup.expiration, entry.status, headers, settings, now);
	if (expires === 'noStore') {
		return {kind: 'forget', headers, expires: now, createdAt: entry.createdAt, facts: entry.facts, vary};
	}

	// Stale on arrival before and after (EXPIRE_IMMEDIATELY, no-cache): the old expiry stands, nothing is rewritten.
	if (expires !== null && expires <= now && entry.expires !== null && entry.expires <= now) {
		expires = entry.expires;
	}

	if (!merged.changed && expires === entry.expires) {
		return {kind: 'keep', headers, expires, createdAt: entry.createdAt, facts: entry.facts, vary};
	}

	const facts = factsOf(headers, settings, now);
	return {kind: 'rewrite', headers, expires, createdAt: now, facts: entry.facts.owner === undefined ? facts : {...facts, owner: entry.facts.owner}, vary};
}
