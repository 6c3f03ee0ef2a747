import type {Buffer} from 'node:buffer';
import {STATUS_CODES} from 'node:http';
import {isDecodable} from './content-coding.js';
import type {Response} from '../models/response.js';
import type {DoorOptions} from './types.js';

/** How a door answers its caller with a response from the cache or the origin. */
type AnswerOptions = {
	readonly head: boolean;
	/** The URL the caller asked for (the first of the response's URL list). */
	readonly requestUrl: string;
	readonly fromCacheHeader?: DoorOptions['fromCacheHeader'];
	/** Aborting errors the replayed body stream, as the network's would. */
	readonly signal?: AbortSignal | undefined;
};

// The replayed body is whole: these described the connection and the framing on the wire.
const wireHeaders: ReadonlySet<string> = new Set([
	'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'trailer', 'upgrade', 'te',
]);
const bodilessStatuses: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);
const chunkBytes = 64 * 1024;

/** Whether an answer with this status to this method carries a body at all. */
export function answersWithBody(status: number, head: boolean): boolean {
	return !head && !bodilessStatuses.has(status);
}

/** A readable stream that replays `body` in 64 KiB pieces, pulled by the reader. */
function replayStream(body: Buffer, signal?: AbortSignal): ReadableStream<Uint8Array> {
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

// The constructor takes neither a URL nor a status outside 200-599: docs/architecture.md, "Private internals we rely on" (#8).
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

/** A WHATWG `Response` that looks like the origin's: status and reason, every header, the body as a stream, the URL list. */
export function answerResponse(response: Response, options: AnswerOptions): globalThis.Response {
	const {streaming, status} = response;
	const hasBody = answersWithBody(status, options.head) && (streaming !== undefined || response.body.length > 0);
	const headers = new Headers();
	// A whole body was decoded when received (unless Node could not); a body still arriving is answered as it comes.
	const rewritten = streaming === undefined && answersWithBody(status, options.head);
	const decoded = streaming === undefined && isDecodable(response.headers['content-encoding']);
	for (const name in response.headers) {
		if (!wireHeaders.has(name) && !(name === 'content-encoding' && decoded) && !(name === 'content-length' && rewritten)) {
			for (const value of [response.headers[name]!].flat()) {
				headers.append(name, value);
			}
		}
	}

	if (rewritten) {
		headers.set('content-length', String(response.body.length));
	}

	const marker = response.fromCache && typeof options.fromCacheHeader === 'function' ? options.fromCacheHeader() : options.fromCacheHeader;
	if (typeof marker === 'string' && response.fromCache) {
		headers.set(marker, '1');
	}

	if (!hasBody && streaming !== undefined) {
		// Read to its end, so that the connection is free (and the cache may keep it).
		void streaming.stream.pipeTo(new WritableStream()).catch(() => undefined);
	}

	const body = hasBody ? streaming?.stream ?? replayStream(response.body, options.signal) : null;
	// The constructor takes only a reason-phrase (RFC 9110 §5.6.2 tokens and spaces, obs-text) and a status in 200-599.
	const statusText = /^[\t\u0020-\u007E\u0080-\u00FF]*$/.test(response.reason) ? response.reason : (STATUS_CODES[status] ?? '');
	const answer = new globalThis.Response(body, {status: status >= 200 && status <= 599 ? status : 200, statusText, headers});
	setUrlsAndStatus(answer, response.url === options.requestUrl ? [response.url] : [options.requestUrl, response.url], status);
	return answer;
}
