import type {ResponseHeaders} from '../models/response.js';

/** The default cache name in `Cache-Status` with `cacheStatus: true`. */
export const DEFAULT_CACHE_STATUS_NAME = 'requests-cache';

/** Why a request went forward to the origin (RFC 9211 §2.2). */
export type ForwardReason =
	| 'bypass'
	| 'method'
	| 'uri-miss'
	| 'vary-miss'
	/** What is stored is fresh, but the request asked for the origin. */
	| 'request'
	| 'stale'
	/** What is stored covers only part of the range asked for. */
	| 'partial';

/** What a `Cache-Status` member says. */
export type CacheStatus = {
	readonly hit?: boolean | undefined;
	readonly fwd?: ForwardReason | undefined;
	readonly fwdStatus?: number | undefined;
	/** Remaining freshness in seconds (negative when stale); absent for a response that never expires. */
	readonly ttl?: number | undefined;
	readonly stored?: boolean | undefined;
	/** The request joined another one's flight to the origin. */
	readonly collapsed?: boolean | undefined;
	readonly detail?: string | undefined;
};

const token = /^[A-Za-z*][!#$%&'*+\-.^_`|~\w:/]*$/;

/** A string as a Structured Field token when it is one, else quoted (RFC 8941 §3.3.3, §3.3.4). */
function bareItem(value: string): string {
	return token.test(value) ? value : `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** Whether `name` can name a cache in `Cache-Status`: printable ASCII, as a Structured Field string. */
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
	/** The origin answered (`revalidated`: with a 304); `stored`: whether the store took it, undefined when not offered. */
	| {readonly kind: 'forwarded'; readonly fwd: ForwardReason; readonly status: number; readonly revalidated: boolean; readonly expires: number | null; readonly stored: boolean | undefined};

/** Why a lookup's fetch went forward. */
export function fetchReason(forced: boolean, found: boolean, varyMiss: boolean): ForwardReason {
	return forced ? 'request' : found ? 'partial' : (varyMiss ? 'vary-miss' : 'uri-miss');
}

/** Why a revalidation went forward. */
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

/** The parameters of a member, in the order RFC 9211 §2 lists them. */
const parameters = [['hit', 'hit'], ['fwd', 'fwd'], ['fwdStatus', 'fwd-status'], ['ttl', 'ttl'], ['stored', 'stored'], ['collapsed', 'collapsed'], ['detail', 'detail']] as const;

/** This cache's member of the field, e.g. `requests-cache; fwd=uri-miss; fwd-status=200; stored`. */
export function cacheStatusMember(name: string, status: CacheStatus): string {
	const parts = [bareItem(name)];
	for (const [key, parameter] of parameters) {
		const value = status[key];
		if (value === true) {
			parts.push(parameter);
		} else if (value !== undefined && value !== false) {
			parts.push(`${parameter}=${key === 'detail' ? bareItem(String(value)) : value}`);
		}
	}

	return parts.join('; ');
}

/** `headers` with `member` appended last to `Cache-Status`: RFC 9211 orders members from the origin out. */
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

	// After `detail` is fine: the order of parameters carries no meaning.
	return {...headers, 'cache-status': `${existing}; collapsed`};
}
