import type {ResponseHeaders} from '../models/response.js';
import {type Directives, parseCacheControl, seconds} from './cache-control.js';

/** The freshness lifetime `s-maxage` gives a shared cache, in ms (RFC 9111 §5.2.2.10): 0 when malformed. */
export function sharedMaxAge(directives: Directives): number | undefined {
	if (!directives.has('s-maxage')) {
		return undefined;
	}

	return (seconds(directives, 's-maxage') ?? 0) * 1000;
}

/** Whether a shared cache must never serve the response stale (RFC 9111 §5.2.2.8, §5.2.2.10). */
export function sharedMustRevalidate(directives: Directives): boolean {
	return directives.has('proxy-revalidate') || directives.has('s-maxage');
}

/** Whether a shared cache may store the response to a request with `Authorization` (RFC 9111 §3.5). */
export function sharableWithAuthorization(headers: ResponseHeaders): boolean {
	const directives = parseCacheControl(headers['cache-control']);
	return directives.has('public') || directives.has('s-maxage') || directives.has('must-revalidate');
}
