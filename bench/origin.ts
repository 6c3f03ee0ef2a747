/**
 * The benchmark's origin, run in its own process (forked by bench/run.ts) so that it never shares
 * an event loop with the client being measured. It counts every request that reaches it; the
 * parent asks for the count over IPC before and after each round, so a "hit" figure is only
 * reported when no request reached the origin.
 *
 * Routes (all GET, all cacheable by every peer: `cache-control: public, max-age=3600`):
 * - `/json?...` a 1 KB JSON document (the query only makes URLs unique)
 * - `/big?...`  a 100 KB JSON document
 */
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';

export type OriginRequest = {type: 'hits'; id: number};
export type OriginReply = {type: 'hits'; id: number; hits: number} | {type: 'listening'; url: string};

/** A JSON document of exactly `size` bytes. */
export function jsonOfSize(size: number): Buffer {
	const head = '{"items":[';
	const item = '{"id":1234,"name":"benchmark item","tags":["a","b","c"],"ok":true}';
	const parts: string[] = [];
	let length = head.length + 2;
	while (length + item.length + 1 < size - 16) {
		parts.push(item);
		length += item.length + 1;
	}

	const text = `${head}${parts.join(',')}],"pad":""}`;
	const padded = text.replace('"pad":""', `"pad":"${'x'.repeat(size - text.length)}"`);
	return Buffer.from(padded);
}

const bodies: Record<string, Buffer> = {
	'/json': jsonOfSize(1024),
	'/big': jsonOfSize(100 * 1024),
};

let hits = 0;
const server = createServer((request, response) => {
	hits++;
	const path = (request.url ?? '/').split('?')[0]!;
	const body = bodies[path];
	// Drain any request body so keep-alive connections stay usable.
	request.resume();
	if (body === undefined) {
		response.writeHead(404, {'content-type': 'text/plain'}).end('not found');
		return;
	}

	response.writeHead(200, {
		'content-type': 'application/json',
		'content-length': body.length,
		'cache-control': 'public, max-age=3600',
		date: new Date().toUTCString(),
	});
	response.end(body);
});
server.keepAliveTimeout = 60_000;

if (process.send === undefined) {
	throw new Error('bench/origin.ts runs as a forked child of bench/run.ts (it reports over IPC)');
}

process.on('message', (message: OriginRequest) => {
	if (message.type === 'hits') {
		process.send!({type: 'hits', id: message.id, hits} satisfies OriginReply);
	}
});
process.on('disconnect', () => {
	server.closeAllConnections();
	server.close();
});

server.listen(0, '127.0.0.1', () => {
	const {port} = server.address() as AddressInfo;
	process.send!({type: 'listening', url: `http://127.0.0.1:${port}`} satisfies OriginReply);
});
