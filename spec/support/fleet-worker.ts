/**
 * One process of the fleet specs and bench (spec/engine/coalesce.spec.ts, bench/fleet.ts): opens a
 * cached session on the store named in its JSON argument, prints `ready`, and on each `go` line on
 * stdin requests every URL at once; prints one JSON line of results per round, then `done`.
 */
import {createInterface} from 'node:readline';
import {CachedSession, installCache} from '../../lib/index.js';

type Config = {
	backend: 'redis' | 'sqlite';
	cacheName: string;
	/** Redis: a server's URL, or a cluster's node URLs. */
	url?: string | string[];
	urls: string[];
	/** Redis: a memory tier in front of it. */
	memoryTier?: {maxEntries?: number; maxBytes?: number};
	/** 'POST': each round POSTs the URLs instead of getting them (not with the fetch door). */
	method?: 'POST';
	/** Report each response's body (as text) in its result (not with the fetch door). */
	bodies?: boolean;
	coalesce?: boolean | {lease?: number; wait?: number};
	/** Per-request timeout, ms. */
	timeout?: number;
	/** A URL asked once before `ready` (with this process's id in the query): the first request pays for loading and connecting. */
	warmup?: string;
	/** Request headers (a credential keeps a request out of other credentials' flights). */
	headers?: Record<string, string>;
	/** Rounds before closing (each waits for its own `go`). @default 1 */
	rounds?: number;
	/** How to end: 'close' (await session.close()), 'exit' (process.exit() at once), 'flush-exit' (await session.cache.flush(), then process.exit()). @default 'close' */
	end?: 'close' | 'exit' | 'flush-exit';
	/** 'fetch': the requests go through the global fetch with `installCache()` (answered at the head, stored when whole). @default the session */
	door?: 'fetch';
};

const config = JSON.parse(process.argv[2]!) as Config;
const options = {
	backend: config.backend,
	cacheName: config.cacheName,
	...(config.url === undefined ? {} : {url: config.url}),
	...(config.coalesce === undefined ? {} : {coalesce: config.coalesce}),
	...(config.memoryTier === undefined ? {} : {memoryTier: config.memoryTier}),
	expireAfter: 3600,
	cacheControl: true,
	backendTimeout: 2000,
};
const session = new CachedSession(options);
if (config.door === 'fetch') {
	// The session's cache serves the fetch door too: one cache, one set of stats.
	const {backend: _backend, cacheName: _cacheName, url: _url, backendTimeout: _timeout, ...behaviour} = options as typeof options & {url?: string};
	installCache({...behaviour, backend: session.cache, patch: ['fetch'], fromCacheHeader: 'x-from-cache'});
}

// Pipes are written synchronously on Linux: an event from the exit handler still reaches the parent.
session.cache.on('error', (error: Error & {lost?: number}) => {
	process.stdout.write(`${JSON.stringify({error: error.message, lost: error.lost ?? 0})}\n`);
});

export type WorkerResult = {status: number; fromCache: boolean; ms: number; body?: string; error?: string};

async function round(): Promise<WorkerResult[]> {
	return Promise.all(config.urls.map(async url => {
		const started = performance.now();
		try {
			if (config.door === 'fetch') {
				const response = await fetch(url, config.headers === undefined ? {} : {headers: config.headers});
				await response.arrayBuffer();
				return {status: response.status, fromCache: response.headers.has('x-from-cache'), ms: performance.now() - started};
			}

			const requestOptions = {
				...(config.timeout === undefined ? {} : {timeout: config.timeout}),
				...(config.headers === undefined ? {} : {headers: config.headers}),
			};
			const response = config.method === 'POST' ? await session.post(url, requestOptions) : await session.get(url, requestOptions);
			return {status: response.status, fromCache: response.fromCache, ms: performance.now() - started, ...(config.bodies ? {body: response.text()} : {})};
		} catch (error) {
			return {status: 0, fromCache: false, ms: performance.now() - started, error: (error as Error).message};
		}
	}));
}

if (config.warmup !== undefined) {
	await session.get(`${config.warmup}?warmup=${process.pid}`);
}

let rounds = config.rounds ?? 1;
const lines = createInterface({input: process.stdin});
process.stdout.write('ready\n');
for await (const line of lines) {
	if (line.trim() !== 'go') {
		continue;
	}

	const results = await round();
	process.stdout.write(`${JSON.stringify({results, stats: session.cache.stats()})}\n`);
	if (--rounds === 0) {
		break;
	}
}

if (config.end === 'flush-exit') {
	await session.cache.flush();
}

if (config.end === 'exit' || config.end === 'flush-exit') {
	process.stdout.write('done\n');
	// eslint-disable-next-line unicorn/no-process-exit -- what the durability spec measures
	process.exit(0);
}

await session.close();
process.stdout.write('done\n');
lines.close();
