import type {CachedEntry} from '../codec/entry.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response, ResponseHeaders} from '../models/response.js';
import {ageOf, dateHeader, heuristicLifetime, mayStore, parseCacheControl, seconds} from './cache-control.js';
import {type Expiration, expiresAt} from './expiration.js';
import {type ByteRange, parseContentRange} from './ranges.js';
import {sharableWithAuthorization, sharedMaxAge} from './shared-cache.js';

/** The corrected initial age (RFC 9111 §4.2.3), in whole seconds, of a response received at `responseTime`. */
export function initialAge(headers: ResponseHeaders, responseTime: number): number {
	const ageValue = ageOf(headers);
	const date = dateHeader(headers, 'date', responseTime);
	// `Date` has a one-second resolution: the least age it allows, or a `max-age=1` response would often arrive stale.
	const apparentAge = date === undefined ? 0 : Math.max(0, Math.floor((responseTime - date - 999) / 1000));
	return Math.max(apparentAge, ageValue);
}

/** The freshness lifetime in ms (RFC 9111 §4.2.1); 0 for an unqualified `no-cache` or a malformed value. */
export function freshnessLifetime(status: number, headers: ResponseHeaders, responseTime: number, shared = false): number {
	const directives = parseCacheControl(headers['cache-control']);
	if (directives.get('no-cache') === true) {
		return 0;
	}

	const sMaxAge = shared ? sharedMaxAge(directives) : undefined;
	if (sMaxAge !== undefined) {
		return sMaxAge;
	}

	if (directives.has('max-age')) {
		return (seconds(directives, 'max-age') ?? 0) * 1000;
	}

	if (headers['expires'] !== undefined) {
		const expires = dateHeader(headers, 'expires', responseTime);
		if (expires === undefined) {
			return 0;
		}

		return Math.max(0, expires - (dateHeader(headers, 'date', responseTime) ?? responseTime));
	}

	return heuristicLifetime(status, headers, responseTime) ?? 0;
}

/** When a response received at `responseTime` stops being fresh (RFC 9111 §4.2), the session's expiration its cap. */
export function staleAt(status: number, headers: ResponseHeaders, expiration: Expiration, responseTime: number, shared = false): number {
	const age = initialAge(headers, responseTime);
	const expires = responseTime + freshnessLifetime(status, headers, responseTime, shared) - (age * 1000);
	const cap = expiration.kind === 'doNotCache' ? null : expiresAt(expiration, responseTime);
	return cap === null ? expires : Math.min(expires, cap);
}

/** Whether a response may be stored (RFC 9111 §3, and §3.5 for an `authorized` request to a `shared` cache), the method aside. */
export function storable(status: number, headers: ResponseHeaders, range: ByteRange | undefined, shared = false, authorized = false): boolean {
	if (shared && authorized && !sharableWithAuthorization(headers)) {
		return false;
	}

	// Whatever else answers a range request (a 416, a redirect) must not replace the stored representation.
	if (range !== undefined && status !== 200 && status !== 206) {
		return false;
	}

	if (status === 206) {
		// 206 is heuristically cacheable, as 200 is: the same rules decide.
		return range !== undefined && parseContentRange(headers) !== undefined && mayStore(200, headers, shared);
	}

	return mayStore(status, headers, shared);
}

/** Whether a fresh `immutable` response is spared a reload's revalidation (RFC 8246). */
export function skipsReload(entry: Pick<CachedEntry, 'expires' | 'headers'>, now: number): boolean {
	return entry.expires !== null && now < entry.expires && parseCacheControl(entry.headers['cache-control']).has('immutable');
}

/** Whether a fresh `POST` response whose `Content-Location` is its own URL answers later `GET`s (RFC 9110 §9.3.3). */
export function answersGet(request: Pick<PreparedRequest, 'method' | 'url'>, response: Pick<Response, 'status' | 'headers' | 'url'>): boolean {
	const location = response.headers['content-location'];
	if (request.method !== 'POST' || typeof location !== 'string' || !mayStore(response.status, response.headers)) {
		return false;
	}

	if (!parseCacheControl(response.headers['cache-control']).has('max-age') && response.headers['expires'] === undefined) {
		return false;
	}

	try {
		return new URL(location, response.url).href === new URL(request.url).href;
	} catch {
		return false;
	}
}
