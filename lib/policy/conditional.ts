import type {ResponseHeaders} from '../models/response.js';
import {parseHttpDate} from './cache-control.js';

/**
 * A client's own conditional request answered from the cache (RFC 9111 §4.3.2), as a shared
 * cache answers the clients behind it: with a `304` when the stored response it would serve
 * meets the condition, with the stored response itself otherwise. Pure; the engine decides when
 * a stored response would be served at all.
 */

/** The opaque part of an entity tag, for the weak comparison `If-None-Match` uses (RFC 9110 §8.8.3.2). */
function opaque(tag: string): string {
	const trimmed = tag.trim();
	return trimmed.startsWith('W/') ? trimmed.slice(2) : trimmed;
}

/** The entity tags of an `If-None-Match` list; `*` stands alone. Commas inside quotes do not split. */
function entityTags(value: string): string[] {
	return value.match(/(?:W\/)?"[^"]*"|\*/g) ?? [];
}

/**
 * Whether a stored response with `stored` headers makes the request's condition false, so the
 * answer is `304 Not Modified` (RFC 9110 §13.1.2, §13.1.3, §13.2.2): `If-None-Match` when
 * present (`*`, or any tag weakly equal to the stored `ETag`), else `If-Modified-Since` against
 * the stored `Last-Modified` (RFC 9111 §4.3.2; without it the condition is not evaluated and the
 * full response is sent).
 */
export function notModified(requestHeaders: Readonly<Record<string, string>>, stored: ResponseHeaders, now: number): boolean {
	const ifNoneMatch = requestHeaders['if-none-match'];
	if (ifNoneMatch !== undefined) {
		const etag = stored['etag'];
		const tags = entityTags(ifNoneMatch);
		if (tags.includes('*')) {
			return true;
		}

		return typeof etag === 'string' && tags.some(tag => opaque(tag) === opaque(etag));
	}

	const ifModifiedSince = requestHeaders['if-modified-since'];
	const lastModified = stored['last-modified'];
	if (ifModifiedSince === undefined || typeof lastModified !== 'string') {
		return false;
	}

	const since = parseHttpDate(ifModifiedSince.trim(), now);
	const modified = parseHttpDate(lastModified.trim(), now);
	return since !== undefined && modified !== undefined && modified <= since;
}
