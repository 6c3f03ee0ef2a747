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
	/** The client's own agent, `false` for none, undefined for Node's global one. */
	readonly agent: Agent | false | undefined;
	/** The socket and TLS options the client gave (`ca`, `rejectUnauthorized`, `socketPath`, …). */
	readonly connection: Readonly<Record<string, unknown>>;
};

/** A request body the door does not read, with the client's `content-length` if it gave one (else chunked). */
export type StreamedRequestBody = {readonly stream: ReadableStream<Uint8Array>; readonly length: string | undefined};

const emptyBody = Buffer.alloc(0);

// About the URL, the message or the agent: the prepared request and the route say it now.
const notConnectionOptions: ReadonlySet<string> = new Set([
	'protocol', 'hostname', 'host', 'port', 'path', 'pathname', 'search', 'hash', 'href', 'auth',
	'method', 'headers', 'agent', '_defaultAgent', '_agentKey', 'encoding', 'timeout', 'signal', 'h2session',
]);

/** The connection-level part of the options a client's request was made with. */
export function connectionOptionsOf(options: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
	return Object.fromEntries(Object.entries(options).filter(([name, value]) => !notConnectionOptions.has(name) && value !== undefined));
}

/**
 * Send one request over `node:http(s)` the way the client would have, without following redirects.
 * The response comes with its head, its body streaming as received (still encoded: the cache
 * decodes what it keeps, with an output limit).
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
			// Pulled at the reader's pace (no read-ahead); cancelling destroys the response, so its connection is not kept.
			const streaming = new StreamingBody(ReadableStream.from(incoming as AsyncIterable<Buffer>), async (raw, limit) => decodeBody(raw, encoding, limit));
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
			// Bytes past a complete response fail Node's parser, not the response (lib/origin-response.ts).
			if (received?.complete === true && error.code?.startsWith('HPE_') === true) {
				return;
			}

			reject(error);
		});
		const {signal} = options;
		const onAbort = (): void => {
			outgoing.destroy(signal!.reason as Error);
		};

		if (signal?.aborted) {
			onAbort();
		}

		signal?.addEventListener('abort', onAbort, {once: true});
		outgoing.once('close', () => signal?.removeEventListener('abort', onAbort));

		if (options.timeout !== undefined) {
			outgoing.setTimeout(options.timeout, () => {
				outgoing.destroy(Object.assign(new Error(`Timeout of ${options.timeout} ms exceeded for ${request.method} ${request.url}`), {code: 'ETIMEDOUT'}));
			});
		}

		if (streamedBody === undefined) {
			outgoing.end(request.body);
		} else {
			Readable.fromWeb(streamedBody.stream as import('node:stream/web').ReadableStream<Uint8Array>).on('error', error => outgoing.destroy(error)).pipe(outgoing);
		}
	});
}
