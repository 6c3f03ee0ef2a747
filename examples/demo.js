#!/usr/bin/env node
// The main job in one screen: ten calls to a slow endpoint take about one call's time, because
// nine of them come from the SQLite cache (the default backend, a file: demo_cache.sqlite).
//
//   npm run demo                        # starts a local slow origin (500 ms per response)
//   npm run demo -- https://example.com/api/thing   # or any URL you can reach
import {createServer} from 'node:http';
import {performance} from 'node:perf_hooks';
import {CachedSession} from 'requests-cache';

const delayMs = 500;

async function startSlowOrigin() {
	let hits = 0;
	const server = createServer((request, response) => {
		hits++;
		setTimeout(() => {
			response.writeHead(200, {'content-type': 'application/json'});
			response.end(JSON.stringify({path: request.url, servedAt: new Date().toISOString(), hit: hits}));
		}, delayMs);
	});
	await new Promise(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address();
	return {url: `http://127.0.0.1:${port}/slow`, hits: () => hits, close: () => new Promise(resolve => server.close(resolve))};
}

const target = process.argv[2];
const origin = target ? undefined : await startSlowOrigin();
const url = target ?? origin.url;

const session = new CachedSession({cacheName: 'demo_cache', expireAfter: {minutes: 5}});
console.log(`requests-cache demo: 10 sequential GET ${url}`);
console.log(`backend: ${session.cache.store.name} (file demo_cache.sqlite)${origin ? `, local origin answering in ${delayMs} ms` : ''}\n`);

const started = performance.now();
const times = [];
for (let call = 1; call <= 10; call++) {
	const callStarted = performance.now();
	// eslint-disable-next-line no-await-in-loop -- sequential on purpose: that is the demo
	const response = await session.get(url);
	const ms = performance.now() - callStarted;
	times.push(ms);
	console.log(`call ${String(call).padStart(2)}  status ${response.status}  fromCache=${String(response.fromCache).padEnd(5)}  ${ms.toFixed(1).padStart(7)} ms`);
}

const total = performance.now() - started;
console.log(`\ntotal ${total.toFixed(0)} ms for 10 calls; one uncached call took ${Math.max(...times).toFixed(0)} ms`);
if (origin) {
	console.log(`the origin was reached ${origin.hits()} time(s)`);
}

console.log(`cached URLs: ${(await session.cache.urls()).length}; the cache persists in demo_cache.sqlite (delete it to start over)`);
await session.close();
await origin?.close();
