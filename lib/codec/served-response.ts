import {Buffer} from 'node:buffer';
import type {PreparedRequest} from '../models/request.js';
import {Response, type ResponseHeaders} from '../models/response.js';
import type {CachedEntry} from './entry.js';

/** How a stored entry is served. */
export type ServeOptions = {
	readonly now: number;
	/** The caller's URL, shown when the entry had no redirect (the stored one has secrets redacted). */
	readonly url?: string | undefined;
	/** The `Age` header to add, in seconds. */
	readonly age?: number | undefined;
	/** True when the origin just confirmed the entry with a 304. */
	readonly revalidated?: boolean | undefined;
	/** True when the entry's body is nobody else's: it is served without a copy. */
	readonly owned?: boolean | undefined;
};

function copyHeaders(headers: ResponseHeaders): ResponseHeaders {
	const copy = {...headers};
	for (const name in copy) {
		const value = copy[name];
		if (Array.isArray(value)) {
			copy[name] = [...value];
		}
	}

	return copy;
}

function storedRequest(entry: CachedEntry): PreparedRequest {
	const {method, url, headers, body} = entry.request;
	return {method, url, headers, body: body === null ? undefined : Buffer.from(body)};
}

/** The `Response` a stored entry stands for, with its cache facts and its own copies of everything mutable (entries are handed out again). */
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
