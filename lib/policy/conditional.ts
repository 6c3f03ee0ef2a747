import type {ResponseHeaders} from '../models/response.js';
import {parseHttpDate} from './cache-control.js';

/** The opaque part of an entity tag, for the weak comparison `If-None-Match` uses (RFC 9110 §8.8.3.2). */
function opaque(tag: string): string {
	const trimmed = tag.trim();
	return trimmed.startsWith('W/') ? trimmed.slice(2) : trimmed;
}

/** The entity tags of an `If-None-Match` list, or `*`. */
function entityTags(value: string): string[] {
	return value.match(/(?:W\/)?"[^"]*"|\*/g) ?? [];
}

/** Whether a client's conditional request is answered `304` from a stored response (RFC 9111 §4.3.2, RFC 9110 §13.2.2). */
export function notModified(requestHeaders: Readonly<Record<string, string>>, stored: ResponseHeaders, now: number): boolean {
	const ifNoneMatch = requestHeaders['if-none-match'];
	if (ifNoneMatch !== undefined) {
		const etag = stored['etag'];
		const tags = entityTags(ifNoneMatch);
		return tags.includes('*') || (typeof etag === 'string' && tags.some(tag => opaque(tag) === opaque(etag)));
	}

	const since = parseHttpDate(requestHeaders['if-modified-since']?.trim() ?? '', now);
	const modified = typeof stored['last-modified'] === 'string' ? parseHttpDate(stored['last-modified'].trim(), now) : undefined;
	return since !== undefined && modified !== undefined && modified <= since;
}
