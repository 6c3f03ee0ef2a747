import type {ResponseHeaders} from '../models/response.js';

/**
 * The `Cache-Status` response field (RFC 9211): how this cache handled a request, as one member
 * of the field's list, appended after the members the origin and any proxies before it added
 * (the RFC orders members from the origin outwards: the cache nearest the user comes last).
 * Pure: the engine (lib/engine/lookup.ts) tells what happened ({@link Outcome}), the member is
 * chosen here; every front door replays the engine's headers.
 */

/** The default cache name in `Cache-Status` with `cacheStatus: true`. */
export const DEFAULT_CACHE_STATUS_NAME = 'requests-cache';

/** Why a request went forward to the origin (RFC 9211 §2.2). */
export type ForwardReason =
	/** The cache was told not to be used (a `DO_NOT_CACHE` URL, a request `no-store`, disabled, an unsafe method the cache does not see). */
	| 'bypass'
	/** The method is not cacheable (an unsafe request, sent on and used to invalidate). */
	| 'method'
	/** Nothing stored for the URL. */
	| 'uri-miss'
	/** Something stored for the URL, but no variant for this request's `Vary` headers. */
	| 'vary-miss'
	/** What is stored is fresh, but the request asked for the origin (`no-cache`, `max-age`, a forced refresh). */
	| 'request'
	/** What is stored is stale and had to be revalidated or refetched. */
	| 'stale'
	/** What is stored covers only part of the range asked for. */
	| 'partial';

/** What a `Cache-Status` member says. */
export type CacheStatus = {
	/** Answered from the cache without going forward. */
	readonly hit?: boolean | undefined;
	readonly fwd?: ForwardReason | undefined;
	/** The status the origin answered the forwarded request with. */
	readonly fwdStatus?: number | undefined;
	/** Remaining freshness in seconds (negative when stale); absent for a response that never expires. */
	readonly ttl?: number | undefined;
	/** The response was stored. */
	readonly stored?: boolean | undefined;
	/** The request joined another one's flight to the origin instead of going forward itself. */
	readonly collapsed?: boolean | undefined;
	/** A short token saying more, e.g. `store-failed`. */
	readonly detail?: string | undefined;
};

const token = /^[A-Za-z*][!#$%&'*+\-.^_`|~\w:/]*$/;

/** A string as a Structured Field token when it is one, else as a quoted string (RFC 8941 §3.3.3, §3.3.4). */
function bareItem(value: string): string {
	return token.test(value) ? value : `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** Whether `name` can name a cache in `Cache-Status`: printable ASCII, as a Structured Field string needs. */
export function isCacheStatusName(name: string): boolean {
	return name !== '' && /^[\u0020-\u007E]+$/.test(name);
}

/** Seconds of freshness left at `now` for something that stops being fresh at `expires` (ms), rounded down. */
export function ttlAt(expires: number | null, now: number): number | undefined {
	return expires === null ? undefined : Math.floor((expires - now) / 1000);
}

/** What happened to a request, as the engine tells it; {@link cacheStatusOf} chooses what the member says. */
export type Outcome =
	/** Answered from the cache; `expires`: the served entry's. */
	| {readonly kind: 'hit'; readonly expires: number | null}
	/** `onlyIfCached` without a usable entry: a synthetic 504. */
	| {readonly kind: 'gatewayTimeout'}
	/** The origin failed and a stale entry was served (stale-if-error). */
	| {readonly kind: 'staleOnError'; readonly fwd: ForwardReason}
	/**
	 * The origin answered with `status` (`revalidated`: a 304 that renewed the stored entry, which
	 * expires at `expires`); `stored`: whether the store took it, undefined when it was not offered.
	 */
	| {readonly kind: 'forwarded'; readonly fwd: ForwardReason; readonly status: number; readonly revalidated: boolean; readonly expires: number | null; readonly stored: boolean | undefined};

/** Why a lookup's fetch went forward: a forced refresh, nothing stored, no variant for this request, or a part that does not cover it. */
export function fetchReason(forced: boolean, found: boolean, varyMiss: boolean): ForwardReason {
	return forced ? 'request' : found ? 'partial' : (varyMiss ? 'vary-miss' : 'uri-miss');
}

/** Why a revalidation went forward: the entry was stale, or fresh and the request asked for the origin. */
export function revalidateReason(expires: number | null, now: number): ForwardReason {
	return expires !== null && expires <= now ? 'stale' : 'request';
}

/** What the member says of an outcome at `now`. */
export function cacheStatusOf(outcome: Outcome, now: number): CacheStatus {
	switch (outcome.kind) {
		case 'hit': {
			return {hit: true, ttl: ttlAt(outcome.expires, now)};
		}

		case 'gatewayTimeout': {
			return {detail: 'only-if-cached'};
		}

		case 'staleOnError': {
			// Served stale because the origin failed: not the origin's answer.
			return {fwd: outcome.fwd, detail: 'stale-on-error'};
		}

		case 'forwarded': {
			const stored = outcome.stored === true || outcome.revalidated;
			return {
				fwd: outcome.fwd,
				fwdStatus: outcome.revalidated ? 304 : outcome.status,
				ttl: stored ? ttlAt(outcome.expires, now) : undefined,
				stored,
				detail: outcome.stored === false ? 'store-failed' : undefined,
			};
		}
	}
}

/** This cache's member of the field, e.g. `requests-cache; fwd=uri-miss; fwd-status=200; stored`. */
export function cacheStatusMember(name: string, status: CacheStatus): string {
	const parts = [bareItem(name)];
	if (status.hit === true) {
		parts.push('hit');
	}

	if (status.fwd !== undefined) {
		parts.push(`fwd=${status.fwd}`);
	}

	if (status.fwdStatus !== undefined) {
		parts.push(`fwd-status=${status.fwdStatus}`);
	}

	if (status.ttl !== undefined) {
		parts.push(`ttl=${status.ttl}`);
	}

	if (status.stored === true) {
		parts.push('stored');
	}

	if (status.collapsed === true) {
		parts.push('collapsed');
	}

	if (status.detail !== undefined) {
		parts.push(`detail=${bareItem(status.detail)}`);
	}

	return parts.join('; ');
}

/**
 * `headers` with `member` appended as the last member of `Cache-Status` (a new object; the
 * members already there, from the origin or a proxy, are kept in their order).
 */
export function withCacheStatus(headers: ResponseHeaders, member: string): ResponseHeaders {
	const existing = headers['cache-status'];
	const before = Array.isArray(existing) ? existing.join(', ') : existing;
	return {...headers, 'cache-status': before === undefined || before.trim() === '' ? member : `${before}, ${member}`};
}

/** The field with `collapsed` added to its last member (this cache's, for a request that joined another's flight). */
export function collapsedCacheStatus(headers: ResponseHeaders): ResponseHeaders {
	const existing = headers['cache-status'];
	if (typeof existing !== 'string' || existing.endsWith('; collapsed')) {
		return headers;
	}

	// `detail` is a parameter like the others: the order of parameters carries no meaning.
	return {...headers, 'cache-status': `${existing}; collapsed`};
}
