import http, {type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions} from 'node:http';
import https from 'node:https';
import type {ResponseHeaders} from './models/response.js';

/**
 * A request function for got's `request` option: Node's, except that a parse error raised after
 * the response was complete (bytes beyond its `Content-Length`, `HPE_INVALID_CONSTANT`) does not
 * fail the request, as in undici and browsers. Node still closes the socket.
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

/** Node's headers without the names whose value is undefined (none when there are no headers: a got-decompressed response has no `headersDistinct`). */
export function definedHeaders(raw: Readonly<Record<string, string | string[] | undefined>> = {}): ResponseHeaders {
	return Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined)) as ResponseHeaders;
}

/**
 * Response headers from Node's per-line view, a field sent on several lines combined with `, `
 * (RFC 9110 §5.3; Node's `headers` keeps only the first line of some, hiding an invalid repeat).
 */
export function responseHeaders(distinct: Record<string, string[] | undefined> | undefined, fallback: IncomingHttpHeaders): ResponseHeaders {
	const headers = Object.fromEntries(Object.entries(definedHeaders(distinct)).map(([name, lines]) => [name, name === 'set-cookie' ? lines : [lines].flat().join(', ')]));
	// A response that did not come from Node's parser (a got cache or a test double) has no per-line view.
	return Object.keys(headers).length === 0 ? definedHeaders(fallback) : headers;
}
