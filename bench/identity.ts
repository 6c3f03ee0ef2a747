/**
 * What a new credential costs (issue 16): `node --import tsx bench/identity.ts [requests]`, also
 * run by `npm run bench` as the `identity` scenario.
 *
 * Through `installCache({backend: 'memory'})`'s global fetch, 50 requests in flight, against the
 * benchmark origin (bench/origin.ts, in its own process): `requests` misses to distinct URLs
 * without `Authorization`, then as many with a distinct bearer token each (so each request's key
 * derives a new credential), then the plain run again; throughput and p50/p99 of each. Then the
 * derivation alone: `createKey()` for a request with a new bearer token, and with a known
 * Basic password (memoized), in microseconds. Prints one JSON line with `--json`.
 */
import {fork} from 'node:child_process';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {createKey} from '../lib/cache-keys.js';
import {installCache, uninstallCache} from '../lib/install.js';
import {prepareRequest} from '../lib/models/request.js';
import type {OriginReply} from './origin.js';

const requests = Number(process.argv.find(argument => /^\d+$/.test(argument)) ?? 10_000);
const inFlight = 50;
const here = path.dirname(fileURLToPath(import.meta.url));
const asJson = process.argv.includes('--json');

type Run = {rps: number; p50: number; p99: number};

async function startOrigin(): Promise<{url: string; stop: () => void}> {
	const origin = path.join(here, `origin${path.extname(fileURLToPath(import.meta.url))}`);
	const child = fork(origin, [], {execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	const url = await new Promise<string>(resolve => {
		child.on('message', (message: OriginReply) => {
			if (message.type === 'listening') {
				resolve(message.url);
			}
		});
	});
	return {url, stop: () => child.disconnect()};
}

function percentile(sorted: readonly number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** `requests` fetches, `inFlight` at a time; `headers(index)` gives each one's headers. */
async function run(url: string, label: string, headers: (index: number) => Record<string, string>): Promise<Run> {
	const times: number[] = [];
	let next = 0;
	const started = performance.now();
	await Promise.all(Array.from({length: inFlight}, async () => {
		while (next < requests) {
			const index = next++;
			const sent = performance.now();
			// eslint-disable-next-line no-await-in-loop -- each lane one request at a time
			const response = await fetch(`${url}/json?${label}=${index}`, {headers: headers(index)});
			// eslint-disable-next-line no-await-in-loop
			await response.arrayBuffer();
			times.push(performance.now() - sent);
		}
	}));
	const seconds = (performance.now() - started) / 1000;
	times.sort((a, b) => a - b);
	return {rps: requests / seconds, p50: percentile(times, 0.5), p99: percentile(times, 0.99)};
}

function keyMicros(make: (index: number) => Record<string, string>, count: number): number {
	const settings = {ignoredParameters: new Set<string>(), matchHeaders: false as const};
	const prepared = Array.from({length: count}, (_, index) => prepareRequest('GET', 'https://api.example.com/items?page=2', {headers: make(index)}, {}));
	const started = performance.now();
	for (const request of prepared) {
		createKey(request, settings);
	}

	return ((performance.now() - started) * 1000) / count;
}

export type IdentityResult = {requests: number; inFlight: number; plain: Run; bearer: Run; plainAgain: Run; newTokenKeyMicros: number; knownPasswordKeyMicros: number; noCredentialKeyMicros: number};

async function main(): Promise<void> {
	const origin = await startOrigin();
	installCache('bench-identity', {backend: 'memory', expireAfter: 300});
	try {
		const salt = Date.now().toString(36);
		await run(origin.url, `warm-${salt}`, () => ({}));
		const plain = await run(origin.url, `plain-${salt}`, () => ({}));
		const bearer = await run(origin.url, `bearer-${salt}`, index => ({authorization: `Bearer ${salt}.${index}.${Math.random().toString(36).slice(2)}`}));
		const plainAgain = await run(origin.url, `again-${salt}`, () => ({}));
		const basic = `Basic ${Buffer.from('user:correct horse').toString('base64')}`;
		keyMicros(() => ({authorization: basic}), 1);
		const result: IdentityResult = {
			requests,
			inFlight,
			plain,
			bearer,
			plainAgain,
			newTokenKeyMicros: keyMicros(index => ({authorization: `Bearer t${index}.${Math.random()}`}), 10_000),
			knownPasswordKeyMicros: keyMicros(() => ({authorization: basic}), 10_000),
			noCredentialKeyMicros: keyMicros(() => ({}), 10_000),
		};
		if (asJson) {
			console.log(JSON.stringify(result));
		} else {
			const show = (name: string, r: Run) => `${name.padEnd(28)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`;
			console.log(`${requests} misses through installCache()'d fetch, ${inFlight} in flight:`);
			console.log(show('without Authorization', plain));
			console.log(show('a new bearer token each', bearer));
			console.log(show('without Authorization again', plainAgain));
			const worse = Math.min(plain.rps, plainAgain.rps) / bearer.rps;
			const p99 = bearer.p99 / Math.max(plain.p99, plainAgain.p99);
			console.log(`throughput ratio ${worse.toFixed(2)}x, p99 ratio ${p99.toFixed(2)}x (target: within 1.25x)`);
			console.log(`createKey: new bearer token ${result.newTokenKeyMicros.toFixed(1)} µs (target ≤ 50), known password ${result.knownPasswordKeyMicros.toFixed(1)} µs, no credential ${result.noCredentialKeyMicros.toFixed(1)} µs`);
		}
	} finally {
		uninstallCache();
		origin.stop();
	}
}

await main();
