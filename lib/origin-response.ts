import http, {type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions} from 'node:http';
import https from 'node:https';
import type {ResponseHeaders} from './models/response.js';

/**
 * Reading an origin's response the way HTTP clients that cache must, where Node's HTTP client is
 * lossier: used by `Session.send()` (lib/session.ts) for got.
 */

/**
 * A request function for got's `request` option: Node's `http.request`/`https.request`, except
 * that a parse error raised after the response was complete does not fail the request. Node's
 * parser reads bytes an origin sends beyond its `Content-Length` as the start of the next
 * response and fails the request (`HPE_INVALID_CONSTANT`) although the response itself arrived
 * whole; undici and browsers keep the response and drop the connection. Node still closes the
 * socket, so nothing of the excess is ever read.
 */
export function tolerantRequest(url: URL, options: RequestOptions): ClientRequest {
	const request = (url.protocol === 'https:' ? https : http).request(url, options);
	let response: IncomingMessage | undefined;
	request.once('response', (received: IncomingMessage) => {
		response = received;
	});
	const emit = request.emit;
	request.emit = function (this: ClientRequest, event: string | symbol, ...args: unknown[]): boolean {
		const error = args[0] as {code?: unknown} | undefined;
		if (event === 'error' && typeof error?.code === 'string' && error.code.startsWith('HPE_') && response?.complete === true) {
			return false;
		}

		return emit.call(this, event, ...args);
	} as ClientRequest['emit'];
	return request;
}

/**
 * Response headers from Node's per-line view (`IncomingMessage.headersDistinct`): a field sent on
 * several lines is combined with `, ` (RFC 9110 §5.3, as fetch's `Headers` does), `set-cookie`
 * kept as a list. Node's own `headers` keeps only the first line of some fields (`Age`,
 * `Expires`, `ETag`, `Content-Type`, …), which hides an invalid repeated field from the cache.
 */
export function responseHeaders(distinct: Record<string, string[] | undefined>, fallback: IncomingHttpHeaders): ResponseHeaders {
	const headers: ResponseHeaders = {};
	for (const name in distinct) {
		const lines = distinct[name];
		if (lines !== undefined) {
			headers[name] = name === 'set-cookie' ? lines : lines.join(', ');
		}
	}

	// A response that did not come from Node's parser (a got cache or a test double) has no per-line view.
	if (Object.keys(headers).length === 0) {
		for (const name in fallback) {
			const value = fallback[name];
			if (value !== undefined) {
				headers[name] = value;
			}
		}
	}

	return headers;
}
