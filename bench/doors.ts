/**
 * What a front door adds to a request: `node --import tsx bench/doors.ts [requests]`.
 *
 * The origin runs in its own process (bench/origin.ts, a 1 KB JSON document, keep-alive). For the
 * global fetch, got and http.get, the p50 time of one sequential request:
 * - `plain`: no door installed;
 * - `declined`: door installed, `wants()` declines the URL (the request goes on untouched);
 * - `miss`: the door takes it and the cache sends it every time (a miss without a store);
 * - `hit`: the door takes it and the cache answers with a stored response;
 * - `cache alone`: that same cache called directly, without a door: what the door itself costs
 *   on a hit is `hit - cache alone`, on a miss `miss - plain`.
 * That cache is a trivial one, so those figures are the door's alone. Then the same through
 * `installCache({backend: 'memory'})` (the real engine): `engine miss` (a new URL each time),
 * `engine hit`, and `engine alone` (CacheEngine.handle called directly on a hit).
 */
import {Buffer} from 'node:buffer';
import {fork} from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {performance} from 'node:perf_hooks';
import {ClientRequestInterceptor} from '@mswjs/interceptors/ClientRequest';
import got from 'got';
import {Agent, interceptors} from 'undici';
import {installFetchDoor} from '../lib/doors/fetch.js';
import {createEngine} from '../lib/config/assemble.js';
import {installCache, uninstallCache} from '../lib/install.js';
import {normalizeCacheOptions} from '../lib/config/options.js';
import {installHttpDoor} from '../lib/doors/http.js';
import type {CachedSend, EngineFor} from '../lib/doors/types.js';
import type {PreparedRequest} from '../lib/models/request.js';
import {Response} from '../lib/models/response.js';
import type {OriginReply} from './origin.js';
import {median} from './stats.js';

const requests = Number(process.argv[2] ?? 2000);
const warmup = Math.min(300, requests);
const here = path.dirname(fileURLToPath(import.meta.url));

async function startOrigin(): Promise<{url: string; stop: () => void}> {
	const child = fork(path.join(here, 'origin.ts'), [], {execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	const url = await new Promise<string>(resolve => {
		child.on('message', (message: OriginReply) => {
			if (message.type === 'listening') {
				resolve(message.url);
			}
		});
	});
	return {url, stop: () => child.disconnect()};
}

type Client = (url: string) => Promise<number>;
const keepAlive = new http.Agent({keepAlive: true});
const clients: Record<string, Client> = {
	fetch: async url => (await (await fetch(url)).arrayBuffer()).byteLength,
	got: async url => (await got(url, {retry: {limit: 0}, agent: {http: keepAlive}, responseType: 'buffer'})).body.length,
	'http.get': async url => new Promise((resolve, reject) => {
		http.get(url, {agent: keepAlive}, response => {
			let length = 0;
			response.on('data', (chunk: Buffer) => {
				length += chunk.length;
			});
			response.on('end', () => {
				resolve(length);
			});
		}).on('error', reject);
	}),
};

/** p50 microseconds of `requests` sequential calls, after a warm-up. */
async function measure(run: () => Promise<unknown>): Promise<number> {
	for (let index = 0; index < warmup; index++) {
		await run();
	}

	const times: number[] = [];
	for (let index = 0; index < requests; index++) {
		const started = performance.now();
		await run();
		times.push(performance.now() - started);
	}

	return median(times) * 1000;
}

function storedCopy(stored: Response): Response {
	return new Response({
		status: stored.status, reason: stored.reason, headers: {...stored.headers}, url: stored.url, body: stored.body, request: stored.request, history: [],
		cache: {fromCache: true, createdAt: new Date(), expires: null, isExpired: false, revalidated: false, cacheKey: 'bench'},
	});
}

/** A cache that answers every request from one stored response once it has one. */
function memoryCache(): CachedSend {
	let stored: Response | undefined;
	return async (request, options, send) => {
		if (stored !== undefined) {
			return storedCopy(stored);
		}

		const response = await send(request, options);
		// The door answers at the response head: keep the body once it has arrived, as the engine does.
		const body = response.streaming === undefined ? response.body : await response.streaming.collect(Number.POSITIVE_INFINITY);
		stored = new Response({status: response.status, reason: response.reason, headers: response.headers, url: response.url, body: body ?? Buffer.alloc(0), request: response.request});
		return response;
	};
}

const origin = await startOrigin();
const url = `${origin.url}/json?bench`;
const rows: Array<Record<string, string>> = [];
for (const [name, client] of Object.entries(clients)) {
	const install = (engineFor: EngineFor, wants?: (method: string, url: string) => boolean): (() => void) => {
		const options = wants === undefined ? {} : {wants};
		return name === 'fetch' ? installFetchDoor(engineFor, options) : installHttpDoor(engineFor, options);
	};

	// Twice, keeping the lower: the first requests of a client still warm it up (undici's fetch).
	const plain = Math.min(await measure(async () => client(url)), await measure(async () => client(url)));
	let restore = install(() => memoryCache(), () => false);
	const declined = await measure(async () => client(url));
	restore();
	const alwaysSend: CachedSend = async (request, options, send) => send(request, options);
	restore = install(() => alwaysSend);
	const miss = await measure(async () => client(url));
	restore();
	const cache = memoryCache();
	restore = install(() => cache);
	const hit = await measure(async () => client(url));
	restore();
	const request: PreparedRequest = {method: 'GET', url, headers: {}, body: undefined};
	const alone = await measure(async () => cache(request, {}, async () => {
		throw new Error('not reached');
	}));

	installCache({backend: 'memory', patch: [name === 'fetch' ? 'fetch' : 'http']});
	let unique = 0;
	const engineMiss = await measure(async () => client(`${url}-${name}-miss-${unique++}`));
	const engineHit = await measure(async () => client(`${url}-${name}-hit`));
	await uninstallCache();
	const engine = createEngine(normalizeCacheOptions({backend: 'memory'}));
	const engineRequest: PreparedRequest = {method: 'GET', url: `${url}-alone`, headers: {}, body: undefined};
	await engine.handle(engineRequest, {}, async (outgoing, options) => new Response({status: 200, headers: {'content-type': 'application/json'}, url: outgoing.url, body: Buffer.alloc(1024, 97), request: outgoing}));
	const engineAlone = await measure(async () => engine.handle(engineRequest, {}, async () => {
		throw new Error('not reached');
	}));
	await engine.close();
	rows.push({
		client: name, plain: plain.toFixed(0), declined: declined.toFixed(0), miss: miss.toFixed(0), 'miss overhead': (miss - plain).toFixed(0),
		hit: hit.toFixed(0), 'cache alone': alone.toFixed(1), 'hit overhead': (hit - alone).toFixed(0),
		'engine miss': engineMiss.toFixed(0), 'engine hit': engineHit.toFixed(0), 'engine alone': engineAlone.toFixed(1),
	});
}

// What the global fetch door's hit is compared with: undici's own cache interceptor (in memory)
// answering Node's fetch, through a dispatcher composed with it.
const undiciCache = new Agent({keepAliveTimeout: 10_000}).compose(interceptors.cache());
const undiciUrl = `${origin.url}/json?undici-cache`;
const fetchThroughUndiciCache = async (): Promise<number> => (await (await fetch(undiciUrl, {dispatcher: undiciCache} as unknown as RequestInit)).arrayBuffer()).byteLength;
const undiciHit = await measure(fetchThroughUndiciCache);
await undiciCache.close();

// The floor under the http door: @mswjs/interceptors answering http.get with a fixed response.
const interceptor = new ClientRequestInterceptor();
interceptor.apply();
const fixed = Buffer.alloc(1024, 97);
interceptor.on('request', ({controller}) => {
	controller.respondWith(new globalThis.Response(fixed, {headers: {'content-type': 'application/json'}}));
});
const bare = await measure(async () => clients['http.get']!(url));
interceptor.dispose();

console.log(`p50 microseconds per request, ${requests} sequential requests (after ${warmup} warm-up), 1 KB JSON, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
console.table(rows);
console.log(`bare interceptor (http.get answered by @mswjs/interceptors with a fixed response, no door): ${bare.toFixed(0)} us`);
console.log(`undici's cache interceptor, a hit through fetch: ${undiciHit.toFixed(0)} us`);
keepAlive.destroy();
origin.stop();
