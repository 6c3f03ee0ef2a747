import type {CachedEntry} from '../codec/entry.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response, ResponseHeaders} from '../models/response.js';
import {ageOf, headerText, heuristicLifetime, mayStore, parseCacheControl, parseHttpDate, seconds} from './cache-control.js';
import type {Expiration} from './expiration.js';
import {type ByteRange, parseContentRange} from './ranges.js';
import {sharableWithAuthorization, sharedMaxAge} from './shared-cache.js';

/**
 * The rules of `cacheControl: 'rfc9111'`: a private cache as RFC 9111 computes freshness (§4.2),
 * age (§4.2.3) and storability (§3), with RFC 8246 `immutable`. Pure functions, called by
 * lib/policy/actions.ts; times in ms since the epoch, ages in seconds.
 */

/**
 * The corrected initial age (RFC 9111 §4.2.3) of a response received at `responseTime`, in whole
 * seconds: the larger of its `Age` and its apparent age, the time since its `Date`. `Date` has a
 * one-second resolution, so a response generated up to 999 ms after the second it names is not
 * counted a second old: the apparent age is the least the `Date` allows (otherwise a
 * `max-age=1` response would often arrive stale). The request is taken as sent when the response
 * arrived (the delay is the engine's to know). `Age` is read as RFC 9111 §5.1 says (`ageOf`).
 */
export function initialAge(headers: ResponseHeaders, responseTime: number): number {
	const ageValue = ageOf(headers);
	const date = parseHttpDate(headerText(headers['date'])?.trim() ?? '', responseTime);
	const apparentAge = date === undefined ? 0 : Math.max(0, Math.floor((responseTime - date - 999) / 1000));
	return Math.max(apparentAge, ageValue);
}

/**
 * The freshness lifetime in ms (RFC 9111 §4.2.1): in a `shared` cache `s-maxage` first (a
 * private cache ignores it); then `max-age`; else `Expires` minus `Date` (or minus the response
 * time without a valid `Date`); else the heuristic lifetime (lib/policy/cache-control.ts
 * `heuristicLifetime`); else 0. A malformed `max-age`, `s-maxage` or `Expires`, or an unqualified
 * `no-cache`, gives 0: stale at once.
 */
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

	const expiresHeader = headerText(headers['expires']);
	if (expiresHeader !== undefined) {
		const expires = parseHttpDate(expiresHeader.trim(), responseTime);
		if (expires === undefined) {
			return 0;
		}

		const date = parseHttpDate(headerText(headers['date'])?.trim() ?? '', responseTime) ?? responseTime;
		return Math.max(0, expires - date);
	}

	return heuristicLifetime(status, headers, responseTime) ?? 0;
}

/**
 * When a response received at `responseTime` stops being fresh: the response time plus its
 * freshness lifetime less its initial age, no later than the session's expiration allows
 * (`expireAfter` and `urlsExpireAfter` are a cap in this mode: `NEVER_EXPIRE` none,
 * `EXPIRE_IMMEDIATELY` stale at once, a duration or a date the latest expiry). `shared`: see
 * {@link freshnessLifetime}.
 */
export function staleAt(status: number, headers: ResponseHeaders, expiration: Expiration, responseTime: number, shared = false): number {
	const age = initialAge(headers, responseTime);
	let expires = responseTime + freshnessLifetime(status, headers, responseTime, shared) - (age * 1000);
	switch (expiration.kind) {
		case 'immediately': {
			expires = Math.min(expires, responseTime);
			break;
		}

		case 'ttl': {
			expires = Math.min(expires, responseTime + expiration.ms);
			break;
		}

		case 'at': {
			expires = Math.min(expires, expiration.time);
			break;
		}

		case 'never':
		case 'doNotCache': {
			break;
		}
	}

	return expires;
}

/**
 * Whether a response may be stored (RFC 9111 §3), the method and the request's own `no-store`
 * aside: `mayStore` (lib/policy/cache-control.ts); a `206` only as the answer to a single
 * byte-range request, with a `Content-Range` of bytes; for a range request, nothing but a `200`
 * or a `206`. A `shared` cache adds its own rules (`mayStore`'s `shared`), and for a request that
 * carried `Authorization` (`authorized`) §3.5's (lib/policy/shared-cache.ts).
 */
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

/**
 * RFC 8246: a fresh `immutable` response is not revalidated on a reload (a request `max-age=0`,
 * fetch's `cache: 'no-cache'`); an explicit request `no-cache` still revalidates it.
 */
export function skipsReload(entry: Pick<CachedEntry, 'expires' | 'headers'>, now: number): boolean {
	return entry.expires !== null && now < entry.expires && parseCacheControl(entry.headers['cache-control']).has('immutable');
}

/**
 * Whether the response to a `POST` answers later `GET`s of its URL (RFC 9110 §9.3.3): a storable
 * status, explicit freshness (`max-age` or `Expires`) and a `Content-Location` naming the
 * request's own URL.
 */
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
