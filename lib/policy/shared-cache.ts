import type {ResponseHeaders} from '../models/response.js';
import {type Directives, parseCacheControl, seconds} from './cache-control.js';

/**
 * What RFC 9111 asks of a *shared* cache beyond a private one (`cacheControl: 'rfc9111', shared:
 * true`): one cache answering many users, as a service's or a fleet's cache does. Pure functions,
 * called by lib/policy/freshness.ts and lib/policy/actions.ts (the rest of a shared cache's storage
 * rules is `mayStore(…, shared)` and `storableHeaders(…, shared)` in lib/policy/cache-control.ts);
 * the private cache's rules apply to everything these do not mention.
 */

/**
 * The freshness lifetime `s-maxage` gives a shared cache, in ms (RFC 9111 §5.2.2.10, which beats
 * `max-age` and `Expires` in §4.2.1): undefined when absent, 0 when malformed (stale at once, as a
 * malformed `max-age` is).
 */
export function sharedMaxAge(directives: Directives): number | undefined {
	if (!directives.has('s-maxage')) {
		return undefined;
	}

	return (seconds(directives, 's-maxage') ?? 0) * 1000;
}

/**
 * Whether a shared cache must never serve the response stale without revalidating it:
 * `proxy-revalidate` (§5.2.2.8), and `s-maxage`, which implies it (§5.2.2.10).
 */
export function sharedMustRevalidate(directives: Directives): boolean {
	return directives.has('proxy-revalidate') || directives.has('s-maxage');
}

/**
 * RFC 9111 §3.5: a shared cache stores the response to a request with `Authorization` only when
 * the response says it may be shared: `public`, `s-maxage` or `must-revalidate`.
 */
export function sharableWithAuthorization(headers: ResponseHeaders): boolean {
	const directives = parseCacheControl(headers['cache-control']);
	return directives.has('public') || directives.has('s-maxage') || directives.has('must-revalidate');
}
