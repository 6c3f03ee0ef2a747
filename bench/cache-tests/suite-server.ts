/**
 * The suite's origin server, in a process of its own: the request handlers of
 * `http-cache-tests/server/` (`handle-config`, `handle-test`, `handle-state`, the code that answers
 * every test request and records what it saw), dispatched exactly as the package's `server.mjs`
 * does, but listening on 127.0.0.1 and a port the system picks (`server.mjs` listens on every
 * interface, on a port given in advance). Prints `Listening on http://127.0.0.1:<port>/`, as
 * `server.mjs` does, once ready; the handlers' own warnings and dumps go to stdout too.
 *
 *   node --import tsx bench/cache-tests/suite-server.ts
 */
import {type IncomingMessage, type ServerResponse, createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import handleConfig from 'http-cache-tests/server/handle-config.mjs';
import handleState from 'http-cache-tests/server/handle-state.mjs';
import handleTest from 'http-cache-tests/server/handle-test.mjs';

const handlers: Readonly<Record<string, (segments: string[], request: IncomingMessage, response: ServerResponse) => void>> = {
	config: handleConfig,
	test: handleTest,
	state: handleState,
};

const server = createServer((request, response) => {
	const segments = new URL(request.url ?? '/', 'http://127.0.0.1').pathname.split('/');
	segments.shift();
	const handler = handlers[segments.shift() ?? ''];
	if (handler === undefined) {
		// server.mjs serves the suite's web pages here; the runner never asks for them.
		response.writeHead(404, {'content-type': 'text/plain'}).end('not found\n');
		return;
	}

	handler(segments, request, response);
});

server.listen(0, '127.0.0.1', () => {
	const {port} = server.address() as AddressInfo;
	console.log(`Listening on http://127.0.0.1:${port}/`);
});

process.on('SIGTERM', () => {
	server.closeAllConnections();
	server.close(() => process.exit(0));
});
