#!/usr/bin/env node
// The main job in one screen: ten calls to a slow endpoint take about one call's time, because
// nine of them come from the SQLite cache (the default backend, a file: demo_cache.sqlite).
// First through a CachedSession, then through the whole program: after a two-line
// installCache(), the global fetch and got (and so axios, node-fetch, node:http…) are cached too.
//
//   npm run demo                        # starts a local slow origin (500 ms per response)
//   npm run demo                        # again: a new process, answered from demo_cache.sqlite
//   npm run demo -- https://example.com/api/thing   # or any URL you can reach
import {createServer} from 'node:http';
import {performance} from 'node:perf_hooks';
import got from 'got';
import {CachedSession, installCache, uninstallCache} from 'requests-cache';

const delayMs = 500;
// A fixed port, so that a second run asks for the same URLs and finds them in the file.
const demoPort = Number(process.env.DEMO_PORT ?? 47_923);

async function listen(server, port) {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => {
			server.off('error', reject);
			resolve();
		});
	});
}

async function startSlowOrigin() {
	let hits = 0;
	const server = createServer((request, response) => {
		hits++;
		setTimeout(() => {
			response.writeHead(200, {'content-type': 'application/json'});
			response.end(JSON.stringify({path: request.url, servedAt: new Date().toISOString(), hit: hits}));
		}, delayMs);
	});
	await listen(server, demoPort).catch(async () => listen(server, 0));
	const {port} = server.address();
	return {url: `http://127.0.0.1:${port}/slow`, hits: () => hits, close: () => new Promise(resolve => server.close(resolve))};
}

/** Ten sequential calls; `call` returns [status, fromCache]. */
async function tenCalls(label, call) {
	const started = performance.now();
	const times = [];
	for (let index = 1; index <= 10; index++) {
		const callStarted = performance.now();
		// eslint-disable-next-line no-await-in-loop -- sequential on purpose: that is the demo
		const [status, fromCache] = await call();
		const ms = performance.now() - callStarted;
		times.push(ms);
		console.log(`${label} call ${String(index).padStart(2)}  status ${status}  fromCache=${String(fromCache).padEnd(5)}  ${ms.toFixed(1).padStart(7)} ms`);
	}

	console.log(`${label}: total ${(performance.now() - started).toFixed(0)} ms for 10 calls; the slowest took ${Math.max(...times).toFixed(0)} ms`);
}

const target = process.argv[2];
const origin = target ? undefined : await startSlowOrigin();
const url = target ?? origin.url;

// 1. A CachedSession.
const session = new CachedSession({cacheName: 'demo_cache', expireAfter: {minutes: 5}});
console.log(`requests-cache demo: 10 sequential GET ${url}`);
console.log(`backend: ${session.cache.backend} (file demo_cache.sqlite)${origin ? `, local origin answering in ${delayMs} ms` : ''}\n`);
await tenCalls('session', async () => {
	const response = await session.get(url);
	return [response.status, response.fromCache];
});
if (origin) {
	console.log(`the origin was reached ${origin.hits()} time(s)`);
}

console.log(`cached URLs: ${(await session.cache.urls()).length}; the cache persists in demo_cache.sqlite (delete it to start over)`);
await session.close();

// 2. The whole program: two lines, and every fetch and got call below goes through the cache.
console.log('\ninstallCache(\'demo_cache\', {expireAfter: {minutes: 5}}): now the global fetch and got, unchanged\n');
installCache('demo_cache', {expireAfter: {minutes: 5}, fromCacheHeader: 'x-from-cache'});
const before = origin?.hits() ?? 0;
const fetchUrl = target ?? `${url}?client=fetch`;
const gotUrl = target ?? `${url}?client=got`;
await tenCalls('fetch', async () => {
	const response = await fetch(fetchUrl);
	await response.arrayBuffer();
	return [response.status, response.headers.get('x-from-cache') === '1'];
});
await tenCalls('got  ', async () => {
	const response = await got(gotUrl, {retry: {limit: 0}});
	return [response.statusCode, response.headers['x-from-cache'] === '1'];
});
if (origin) {
	console.log(`global fetch and got: ${origin.hits() - before} origin request(s) for 20 calls (one per client on a first run, none on a second)`);
}

await uninstallCache();
await origin?.close();
