import {debuglog} from 'node:util';
import type {PreparedRequest} from '../models/request.js';
import type {Response} from '../models/response.js';
import type {CachedSend, DoorRequestOptions, Send} from './types.js';

const debug = debuglog('requests-cache');

/** What became of a request a door handed to the cache: answer it, fail with the network's error, or send it on as if there were no door. */
export type Outcome = {readonly kind: 'answer'; readonly response: Response} | {readonly kind: 'error'; readonly error: unknown} | {readonly kind: 'passThrough'};

/**
 * Let the cache handle one request, never letting a failure of the cache reach the caller
 * (docs/global-install.md, "When the store fails").
 */
export async function askCache(cached: CachedSend, request: PreparedRequest, options: DoorRequestOptions, send: Send): Promise<Outcome> {
	let sent: {ok: true; response: Response} | {ok: false; error: unknown} | undefined;
	const tracked: Send = async (outgoing, sendOptions) => {
		try {
			const response = await send(outgoing, sendOptions);
			// Only the caller's own request: a conditional one made for revalidation is not its answer.
			if (outgoing === request) {
				sent = {ok: true, response};
			}

			return response;
		} catch (error) {
			sent = {ok: false, error};
			throw error;
		}
	};

	try {
		return {kind: 'answer', response: await cached(request, options, tracked)};
	} catch (error) {
		if (sent?.ok === false) {
			return {kind: 'error', error: sent.error};
		}

		debug('cache failed for %s %s, %s: %s', request.method, request.url, sent?.ok ? 'serving the origin\'s answer' : 'passing it through', (error as Error)?.message);
		return sent?.ok ? {kind: 'answer', response: sent.response} : {kind: 'passThrough'};
	}
}
