/**
 * One streaming measurement in a process of its own (so that RSS is this case's alone), run by
 * spec/doors/streaming.spec.ts and bench/doors-streaming.ts: `node --import tsx bench/stream-probe.ts <case> <plain|cached> <url> [installCache options as JSON]`.
 * Prints one JSON line: {firstByteMs, rssDeltaMb, bytes}.
 *
 * Cases: `fetch-partial` / `http-partial` read 64 KiB then abort; `fetch-raw` / `http-raw` read
 * the whole body as the client gives it (fetch decodes, http.get does not); `fetch-first` /
 * `http-first` wait for the first chunk only; `post` sends a 200 MB ReadableStream body with fetch.
 */
import http from 'node:http';
import {installCache, uninstallCache} from '../lib/index.js';

const [kind = '', mode = '', url = '', options = '{}'] = process.argv.slice(2);
const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);

type Result = {firstByteMs: number; rssDeltaMb: number; bytes: number};

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
	peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5);

async function viaFetch(limit: number): Promise<Omit<Result, 'rssDeltaMb'>> {
	const started = performance.now();
	const controller = new AbortController();
	const response = await fetch(url, {signal: controller.signal});
	const reader = response.body!.getReader();
	let firstByteMs = -1;
	let bytes = 0;
	for (;;) {
		// eslint-disable-next-line no-await-in-loop
		const {done, value} = await reader.read();
		if (done) {
			break;
		}

		if (firstByteMs < 0) {
			firstByteMs = performance.now() - started;
		}

		bytes += value.byteLength;
		peakRss = Math.max(peakRss, process.memoryUsage().rss);
		if (bytes >= limit) {
			controller.abort();
			await reader.cancel().catch(() => undefined);
			break;
		}
	}

	return {firstByteMs, bytes};
}

async function viaHttp(limit: number): Promise<Omit<Result, 'rssDeltaMb'>> {
	const started = performance.now();
	return new Promise((resolve, reject) => {
		const request = http.get(url, response => {
			let firstByteMs = -1;
			let bytes = 0;
			response.on('data', (chunk: Buffer) => {
				if (firstByteMs < 0) {
					firstByteMs = performance.now() - started;
				}

				bytes += chunk.length;
				peakRss = Math.max(peakRss, process.memoryUsage().rss);
				if (bytes >= limit) {
					request.destroy();
					resolve({firstByteMs, bytes});
				}
			});
			response.on('end', () => {
				resolve({firstByteMs, bytes});
			});
			response.on('error', () => {
				resolve({firstByteMs, bytes});
			});
		});
		request.on('error', reject);
	});
}

async function post(): Promise<Omit<Result, 'rssDeltaMb'>> {
	const total = 200 * 1024 * 1024;
	const piece = new Uint8Array(64 * 1024).fill(97);
	let sent = 0;
	const body = new ReadableStream<Uint8Array>({
		pull(controller) {
			if (sent >= total) {
				controller.close();
				return;
			}

			sent += piece.byteLength;
			// A fresh copy: the sender may transfer what it is given.
			controller.enqueue(piece.slice());
		},
	});
	const started = performance.now();
	const response = await fetch(url, {method: 'POST', body, duplex: 'half'} as RequestInit);
	const text = await response.text();
	return {firstByteMs: performance.now() - started, bytes: Number(text)};
}

async function run(): Promise<Omit<Result, 'rssDeltaMb'>> {
	switch (kind) {
		case 'fetch-partial': {
			return viaFetch(64 * 1024);
		}

		case 'http-partial': {
			return viaHttp(64 * 1024);
		}

		case 'fetch-first': {
			return viaFetch(1);
		}

		case 'http-first': {
			return viaHttp(1);
		}

		case 'fetch-raw': {
			return viaFetch(Number.POSITIVE_INFINITY);
		}

		case 'http-raw': {
			return viaHttp(Number.POSITIVE_INFINITY);
		}

		case 'post': {
			return post();
		}

		default: {
			throw new Error(`unknown case ${kind}`);
		}
	}
}

if (mode === 'cached') {
	installCache({backend: 'memory', ...JSON.parse(options) as object});
}

// Warm up both clients (and the cache, when installed) on another path, so that what is measured
// is a request's own cost, not a first request's module loading.
const warm = url.replace(/\/[^/]*$/, '/warm');
await fetch(warm).then(async response => response.arrayBuffer()).catch(() => undefined);
await new Promise<void>(resolve => {
	http.get(warm, response => {
		response.resume().on('end', resolve).on('error', resolve);
	}).on('error', () => {
		resolve();
	});
});

global.gc?.();
const baseline = process.memoryUsage().rss;
peakRss = baseline;
const result = await run();
clearInterval(sampler);
if (mode === 'cached') {
	await uninstallCache();
}

process.stdout.write(`${JSON.stringify({...result, rssDeltaMb: mb(peakRss - baseline)})}\n`);
process.exit(0);
