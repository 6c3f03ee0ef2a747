import {Buffer} from 'node:buffer';
import {STATUS_CODES} from 'node:http';
import {isDecodable} from './content-coding.js';
import type {Response} from '../models/response.js';

/** How a door answers its caller with a response from the cache or the origin. */
export type AnswerOptions = {
	/** The request was a HEAD: no body, whatever the response holds. */
	readonly head: boolean;
	/** The URL the caller asked for (the first of the response's URL list). */
	readonly requestUrl: string;
	/** See `DoorOptions.fromCacheHeader`. */
	readonly fromCacheHeader?: string | undefined;
	/** The caller's abort signal: aborting errors the body stream, as the network's would. */
	readonly signal?: AbortSignal | undefined;
};

// The replayed body is whole: these described the connection and the framing on the wire.
const wireHeaders: ReadonlySet<string> = new Set([
	'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade', 'te',
]);
const bodilessStatuses: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);
// The size of the pieces a body is replayed in: a stream the caller reads at its own pace.
const chunkBytes = 64 * 1024;

async function drain(stream: ReadableStream<Uint8Array>): Promise<void> {
	try {
		// eslint-disable-next-line @typescript-eslint/no-unused-vars -- read and dropped
		for await (const _chunk of stream as unknown as AsyncIterable<Uint8Array>) {
			// Nothing to keep.
		}
	} catch {
		// The origin's failure is nobody's here.
	}
}

/** Whether an answer with this status to this method carries a body at all. */
export function answersWithBody(status: number, head: boolean): boolean {
	return !head && !bodilessStatuses.has(status);
}

/** The marker header's name for this answer, from a door's `fromCacheHeader` option. */
export function headerName(option: string | (() => string | undefined) | undefined): string | undefined {
	return typeof option === 'function' ? option() : option;
}

/** A readable stream that replays `body` in 64 KiB pieces, pulled by the reader. */
export function replayStream(body: Buffer, signal?: AbortSignal): ReadableStream<Uint8Array> {
	let offset = 0;
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			if (signal?.aborted) {
				controller.error(signal.reason);
				return;
			}

			const end = Math.min(offset + chunkBytes, body.length);
			// A copy per piece: the reader may transfer or keep it, and the cached bytes must not change.
			controller.enqueue(new Uint8Array(body.subarray(offset, end)));
			offset = end;
			if (offset >= body.length) {
				controller.close();
			}
		},
	});
}

type UndiciResponseState = {status: number; urlList: URL[]};

// Node's Response keeps its URL list and status in an internal record; the constructor takes
// neither a URL nor a status outside 200-599, which a replayed response needs.
function internalState(response: globalThis.Response): UndiciResponseState | undefined {
	const symbol = Object.getOwnPropertySymbols(response).find(candidate => candidate.description === 'state');
	const state = symbol === undefined ? undefined : (response as unknown as Record<symbol, unknown>)[symbol];
	return typeof state === 'object' && state !== null && Array.isArray((state as UndiciResponseState).urlList) ? state as UndiciResponseState : undefined;
}

function setUrlsAndStatus(answer: globalThis.Response, urls: readonly string[], status: number): void {
	const state = internalState(answer);
	if (state !== undefined) {
		state.urlList.push(...urls.map(url => new URL(url)));
		state.status = status;
		return;
	}

	// A runtime whose Response hides its state: own properties give the same reads.
	Object.defineProperties(answer, {
		url: {value: urls.at(-1) ?? '', enumerable: true},
		redirected: {value: urls.length > 1, enumerable: true},
		status: {value: status, enumerable: true},
		ok: {value: status >= 200 && status < 300, enumerable: true},
	});
}

function validReason(reason: string, status: number): string {
	// The Response constructor takes only a reason-phrase (RFC 9110 §5.6.2 tokens and spaces, obs-text).
	return /^[\t\u0020-\u007E\u0080-\u00FF]*$/.test(reason) ? reason : (STATUS_CODES[status] ?? '');
}

/**
 * A WHATWG `Response` that looks like the origin's: status and reason, every header (each
 * `set-cookie` on its own), the body replayed as a stream with its decoded length, and the URL
 * list (the asked URL, then the final one after redirects).
 */
export function answerResponse(response: Response, options: AnswerOptions): globalThis.Response {
	const {streaming} = response;
	const hasBody = answersWithBody(response.status, options.head) && (streaming !== undefined || response.body.length > 0);
	const headers = new Headers();
	// A whole body was decoded when it was received (as got and fetch do): say so, unless Node
	// could not. A body still arriving is answered as it comes, with the headers that describe it.
	const rewritten = streaming === undefined && !options.head && !bodilessStatuses.has(response.status);
	const decoded = streaming === undefined && isDecodable(response.headers['content-encoding']);
	for (const name in response.headers) {
		if (wireHeaders.has(name) || (name === 'content-encoding' && decoded) || (name === 'content-length' && rewritten)) {
			continue;
		}

		const value = response.headers[name]!;
		if (typeof value === 'string') {
			headers.append(name, value);
		} else {
			for (const item of value) {
				headers.append(name, item);
			}
		}
	}

	if (rewritten) {
		headers.set('content-length', String(response.body.length));
	}

	if (options.fromCacheHeader !== undefined && response.fromCache) {
		headers.set(options.fromCacheHeader, '1');
	}

	const {status} = response;
	const constructible = status >= 200 && status <= 599;
	if (!hasBody && streaming !== undefined) {
		// A HEAD's or a bodiless status's: empty, read to its end so that the connection is free (and the cache may keep it).
		void drain(streaming.stream);
	}

	const body = hasBody ? streaming?.stream ?? replayStream(response.body, options.signal) : null;
	const answer = new globalThis.Response(body, {
		status: constructible ? status : 200, statusText: validReason(response.reason, status), headers,
	});
	setUrlsAndStatus(answer, response.url === options.requestUrl ? [response.url] : [options.requestUrl, response.url], status);
	return answer;
}
