import {Buffer} from 'node:buffer';
import type {PreparedRequest} from '../models/request.js';
import {Response, type ResponseHeaders} from '../models/response.js';
import type {CachedEntry} from './entry.js';

/** How a stored entry is served. */
export type ServeOptions = {
	/** The time of serving, ms since the epoch. */
	readonly now: number;
	/** The caller's URL, shown when the entry had no redirect (the stored one has secrets redacted). */
	readonly url?: string | undefined;
	/** The value of the `Age` header to add, in seconds (RFC 9111 §5.1), if any. */
	readonly age?: number | undefined;
	/** True when the origin just confirmed the entry with a 304. */
	readonly revalidated?: boolean | undefined;
	/** True when the entry's body is nobody else's (see `Found.owned`): it is served without a copy. */
	readonly owned?: boolean | undefined;
};

/** A copy of headers that shares no array (`set-cookie`) with the original. */
export function copyHeaders(headers: ResponseHeaders): ResponseHeaders {
	// A spread is the fast copy; only array values need their own copy.
	const copy = {...headers};
	for (const name in copy) {
		const value = copy[name];
		if (Array.isArray(value)) {
			copy[name] = [...value];
		}
	}

	return copy;
}

/** The stored request as a prepared request: what a cached response's `request` is. */
function storedRequest(entry: CachedEntry): PreparedRequest {
	const {method, url, headers, body} = entry.request;
	return {method, url, headers, body: body === null ? undefined : Buffer.from(body)};
}

/**
 * The `Response` a stored entry stands for, with its own copies of everything mutable (the
 * decoded entry may be handed out again; an owned body is not copied), and its cache facts: from the cache, when stored, when
 * it expires, whether it is past that.
 */
export function servedResponse(entry: CachedEntry, key: string, options: ServeOptions): Response {
	const headers = copyHeaders(entry.headers);
	if (options.age !== undefined) {
		headers['age'] = String(options.age);
	}

	return new Response({
		status: entry.status,
		reason: entry.reason,
		headers,
		url: entry.history.length === 0 && options.url !== undefined ? options.url : entry.url,
		body: options.owned === true ? entry.body : Buffer.from(entry.body),
		request: storedRequest(entry),
		history: entry.history,
		cache: {
			fromCache: true,
			createdAt: new Date(entry.createdAt),
			expires: entry.expires === null ? null : new Date(entry.expires),
			isExpired: options.revalidated !== true && entry.expires !== null && entry.expires <= options.now,
			revalidated: options.revalidated === true,
			cacheKey: key,
		},
	});
}
