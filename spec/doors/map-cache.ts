import {Buffer} from 'node:buffer';
import type {CachedSend, DoorRequestOptions, EngineFor, Send} from '../../lib/doors/types.js';
import type {PreparedRequest} from '../../lib/models/request.js';
import {Response} from '../../lib/models/response.js';

/**
 * A test-only cache for the doors, standing in for the engine: GET and HEAD 200s are stored by
 * method, URL and redirect mode; other methods are sent and invalidate the URL. It counts what
 * it is asked and what it sends, so a spec can tell a hit (no send) from a miss.
 */
export class MapCache {
	readonly entries = new Map<string, Response>();
	/** Requests the cache was asked to handle. */
	asked: PreparedRequest[] = [];
	/** Requests it sent to the origin. */
	sent = 0;
	/** Make the next calls fail before sending (a broken store). */
	failing: 'beforeSend' | 'afterSend' | undefined;

	/** An engineFor that gives this cache every request (or those `filter` accepts). */
	engineFor(filter: (request: PreparedRequest) => boolean = () => true): EngineFor {
		return request => filter(request) ? this.handle : undefined;
	}

	readonly handle: CachedSend = async (request: PreparedRequest, options: DoorRequestOptions, send: Send): Promise<Response> => {
		this.asked.push(request);
		if (this.failing === 'beforeSend') {
			throw new Error('store is down');
		}

		const key = `${request.method} ${request.url} ${String(options.followRedirects ?? true)}`;
		if (request.method !== 'GET' && request.method !== 'HEAD') {
			this.sent++;
			const response = await send(request, options);
			for (const stored of [...this.entries.keys()]) {
				if (stored.split(' ')[1] === request.url) {
					this.entries.delete(stored);
				}
			}

			return response;
		}

		await this.#saving;
		const stored = options.forceRefresh ? undefined : this.entries.get(key);
		if (stored !== undefined) {
			return new Response({
				status: stored.status, reason: stored.reason, headers: {...stored.headers, age: '7'}, url: stored.url,
				body: stored.body, request: stored.request, history: stored.history,
				cache: {fromCache: true, createdAt: new Date(), expires: null, isExpired: false, revalidated: false, cacheKey: key},
			});
		}

		if (options.onlyIfCached) {
			return new Response({status: 504, reason: 'Gateway Timeout', headers: {}, url: request.url, body: Buffer.from('not cached'), request, history: []});
		}

		this.sent++;
		const response = await send(request, options);
		if (this.failing === 'afterSend') {
			throw new Error('store is down');
		}

		if (response.status === 200) {
			if (response.streaming === undefined) {
				this.entries.set(key, response);
			} else {
				// As the engine does: the caller reads the body as it arrives, the cache keeps it once whole.
				const {status, reason, headers, url, history} = response;
				// The next request waits for it, as the engine's does.
				this.#saving = response.streaming.collect(this.maxEntrySize).then(body => {
					if (body !== undefined) {
						this.entries.set(key, new Response({status, reason, headers, url, body, request, history}));
					}
				});
			}
		}

		return response;
	};

	/** The bytes a streamed body may have to be kept. */
	maxEntrySize = 50 * 1024 * 1024;

	#saving: Promise<void> | undefined;
}
