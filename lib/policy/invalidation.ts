import type {PreparedRequest} from '../models/request.js';
import type {Response} from '../models/response.js';
import {invalidatedGroups} from './cache-groups.js';
import {answersGet} from './freshness.js';
import type {CacheSettings} from './settings.js';

/** The URLs an unsafe request invalidates: its own, and same-origin Location / Content-Location (RFC 9111 §4.4). */
function invalidatedUrls(request: Pick<PreparedRequest, 'url'>, response: Pick<Response, 'headers' | 'url'>): string[] {
	const urls = [request.url];
	const {origin} = new URL(request.url);
	for (const name of ['location', 'content-location']) {
		const value = response.headers[name];
		if (typeof value !== 'string') {
			continue;
		}

		try {
			const target = new URL(value, response.url);
			if (target.origin === origin) {
				urls.push(target.href);
			}
		} catch {}
	}

	return urls;
}

/** What to do after an unsafe request was answered. */
export type Invalidation = {
	/** URLs whose stored GET and HEAD responses are out of date: none when the request failed. */
	readonly urls: readonly string[];
	/** Cache Groups (RFC 9875) on the request's origin whose stored responses are out of date. */
	readonly groups: readonly string[];
	/** 'rfc9111': the response answers later GETs of its URL: store it as theirs. */
	readonly storeAsGet: boolean;
};

/** Decide what an unsafe request's answer invalidates, and whether it is stored for later GETs. */
export function decideInvalidation(request: Pick<PreparedRequest, 'method' | 'url'>, response: Pick<Response, 'status' | 'headers' | 'url'>, settings: Pick<CacheSettings, 'cacheControl'>): Invalidation {
	return {
		urls: response.status < 400 ? invalidatedUrls(request, response) : [],
		groups: invalidatedGroups(request.method, response.status, response.headers),
		storeAsGet: settings.cacheControl === 'rfc9111' && answersGet(request, response),
	};
}
