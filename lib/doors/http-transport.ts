import {Buffer} from 'node:buffer';
import type {Agent, ClientRequest, IncomingMessage, RequestOptions} from 'node:http';
import {Readable} from 'node:stream';
import type {PreparedRequest} from '../models/request.js';
import {Response} from '../models/response.js';
import {StreamingBody} from '../models/streaming-body.js';
import {responseHeaders} from '../origin-response.js';
import {decodeBody} from './content-coding.js';
import type {SendOptions} from './types.js';

/** A `node:http`/`node:https` `request` function, as Node's or as an interceptor below the door has it. */
export type RequestFunction = (url: URL, options: RequestOptions, callback: (response: IncomingMessage) => void) => ClientRequest;

/** Where a door sends a request to reach the origin the way its client would have. */
export type HttpRoute = {
	/** The `request` function below the door, for the URL's protocol. */
	readonly request: RequestFunction;
	/** The client's own agent (a proxy, keep-alive or TLS settings), `false` for none, undefined for Node's global one. */
	readonly agent: Agent | false | undefined;
	/** The socket and TLS options the client gave (`ca`, `rejectUnauthorized`, `socketPath`, `lookup`, …). */
	readonly connection: Readonly<Record<string, unknown>>;
};

/** A request body the door does not read: piped to the origin as the client writes it. */
export type StreamedRequestBody = {
	readonly stream: ReadableStream<Uint8Array>;
	/** The client's own `content-length`, when it gave one (else the body goes chunked). */
	readonly length: string | undefined;
};

const emptyBody = Buffer.alloc(0);

// What a client's options say about the URL, the message or the agent: the prepared request
// and the route say it now.
const notConnectionOptions: ReadonlySet<string> = new Set([
	'protocol', 'hostname', 'host', 'port', 'path', 'pathname', 'search', 'hash', 'href', 'auth',
	'method', 'headers', 'agent', '_defaultAgent', '_agentKey', 'encoding', 'timeout', 'signal', 'h2session',
]);

/** The connection-level part of the options a client's request was made with. */
export function connectionOptionsOf(options: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
	const connection: Record<string, unknown> = {};
	if (options === undefined) {
		return connection;
	}

	for (const name of Object.keys(options)) {
		if (!notConnectionOptions.has(name) && options[name] !== undefined) {
			connection[name] = options[name];
		}
	}

	return connection;
}

/** The bytes of a response as a web stream pulled at its reader's pace (no read-ahead). */
function pulledStream(incoming: IncomingMessage): ReadableStream<Uint8Array> {
	const chunks = incoming[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			const {done, value} = await chunks.next();
			if (done === true) {
				controller.close();
			} else {
				controller.enqueue(value);
			}
		},
		async cancel() {
			// Ends the iteration, which destroys the response: the connection is not kept for bytes nobody reads.
			await chunks.return?.();
		},
	}, {highWaterMark: 0});
}

/**
 * Send one request over `node:http(s)` the way the client would have (its agent, its TLS and
 * socket options). The response is given as soon as its head arrives: its body streams as
 * received, content coding and all (what the client would have read from the network); the
 * cache, when it keeps it, decodes what it keeps with an output limit. Redirects are not
 * followed: the client follows them, each hop a request of its own. A `streamedBody` (a body
 * the cache does not key on) is piped to the origin as the client writes it.
 */
export async function sendOverHttp(request: PreparedRequest, options: SendOptions, route: HttpRoute, streamedBody?: StreamedRequestBody): Promise<Response> {
	return new Promise<Response>((resolve, reject) => {
		const headers: Record<string, string> = {...request.headers};
		if (request.body !== undefined) {
			headers['content-length'] = String(request.body.length);
		} else if (streamedBody?.length !== undefined) {
			headers['content-length'] = streamedBody.length;
		}

		let received: IncomingMessage | undefined;
		const outgoing = route.request(new URL(request.url), {...route.connection, method: request.method, headers, agent: route.agent}, incoming => {
			received = incoming;
			const encoding = incoming.headers['content-encoding'];
			const streaming = new StreamingBody(pulledStream(incoming), async (raw, limit) => decodeBody(raw, encoding, limit));
			resolve(new Response({
				status: incoming.statusCode ?? 0,
				reason: incoming.statusMessage ?? '',
				headers: responseHeaders(incoming.headersDistinct, incoming.headers),
				url: request.url,
				body: emptyBody,
				request,
				history: [],
				streaming,
			}));
		});
		outgoing.on('error', (error: NodeJS.ErrnoException) => {
			// Bytes past a complete response (beyond its Content-Length) fail Node's parser, not the
			// response: keep it, as the session's transport does (lib/origin-response.ts).
			if (received?.complete === true && error.code?.startsWith('HPE_') === true) {
				return;
			}

			reject(error);
		});
		const {signal} = options;
		if (signal !== undefined) {
			if (signal.aborted) {
				outgoing.destroy(signal.reason as Error);
			} else {
				const onAbort = (): void => {
					outgoing.destroy(signal.reason as Error);
				};

				signal.addEventListener('abort', onAbort, {once: true});
				outgoing.once('close', () => {
					signal.removeEventListener('abort', onAbort);
				});
			}
		}

		if (options.timeout !== undefined) {
			outgoing.setTimeout(options.timeout, () => {
				outgoing.destroy(Object.assign(new Error(`Timeout of ${options.timeout} ms exceeded for ${request.method} ${request.url}`), {code: 'ETIMEDOUT'}));
			});
		}

		if (streamedBody === undefined) {
			outgoing.end(request.body);
		} else {
			// Backpressure from the origin's socket reaches the client's writes.
			Readable.fromWeb(streamedBody.stream as import('node:stream/web').ReadableStream<Uint8Array>).on('error', error => outgoing.destroy(error)).pipe(outgoing);
		}
	});
}
