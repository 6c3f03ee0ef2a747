/**
 * Issue 18's table, re-measured: `node --import tsx bench/doors-streaming.ts`. Each case runs in
 * a child process of its own (bench/stream-probe.ts: time to first byte, peak RSS over its
 * baseline), against an origin in this process: plain, then through `installCache({backend:
 * 'memory'})` (every response kept up to maxEntrySize, `no-store` included, as `cacheControl:
 * false` does), then with `cacheControl: true` (`no-store` honoured). Prints a Markdown table.
 */
import {execFile} from 'node:child_process';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import os from 'node:os';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {createGzip} from 'node:zlib';
import {noStoreDownload} from './no-store-download.js';

const run = promisify(execFile);
const probe = fileURLToPath(new URL('stream-probe.ts', import.meta.url));
type Measure = {firstByteMs: number; rssDeltaMb: number; bytes: number};

/** 512 MiB of zeros, gzipped as it is produced (about 510 KB). */
async function gzipBomb(): Promise<Buffer> {
	const gzip = createGzip({level: 9});
	const chunks: Buffer[] = [];
	gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
	const zeros = Buffer.alloc(1024 * 1024);
	for (let index = 0; index < 512; index++) {
		if (!gzip.write(zeros)) {
			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => gzip.once('drain', resolve));
		}
	}

	await new Promise(resolve => gzip.end(resolve));
	return Buffer.concat(chunks);
}

const bomb = await gzipBomb();
const server = http.createServer((request, response) => {
	const {pathname} = new URL(request.url!, 'http://x');
	if (pathname === '/sse') {
		response.writeHead(200, {'content-type': 'text/event-stream'});
		response.write('data: first\n\n');
		const timer = setInterval(() => response.write('data: tick\n\n'), 100);
		response.on('close', () => clearInterval(timer));
		setTimeout(() => response.end(), 5000).unref();
	} else if (pathname === '/download') {
		noStoreDownload(response, 100);
	} else if (pathname === '/bomb') {
		response.writeHead(200, {'content-type': 'application/octet-stream', 'content-encoding': 'gzip', 'cache-control': 'no-store'});
		response.end(bomb);
	} else if (pathname === '/upload') {
		let bytes = 0;
		request.on('data', (chunk: Buffer) => {
			bytes += chunk.length;
		});
		request.on('end', () => response.end(String(bytes)));
	} else {
		response.end('ok');
	}
});
await new Promise<void>(resolve => {
	server.listen(0, '127.0.0.1', resolve);
});
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function measure(kind: string, mode: 'plain' | 'cached', path: string, options: object = {}): Promise<Measure> {
	const {stdout} = await run(process.execPath, ['--expose-gc', '--import', 'tsx', probe, kind, mode, `${base}${path}`, JSON.stringify(options)], {timeout: 300_000});
	return JSON.parse(stdout.trim().split('\n').at(-1)!) as Measure;
}

const cases: Array<{name: string; kind: string; path: string; show: (m: Measure) => string}> = [
	{name: '`fetch` of a server-sent event stream, first event', kind: 'fetch-first', path: '/sse', show: m => `${m.firstByteMs.toFixed(0)} ms`},
	{name: '`http.get` of the same, first data', kind: 'http-first', path: '/sse', show: m => `${m.firstByteMs.toFixed(0)} ms`},
	{name: '100 MB `no-store` download through fetch, read 64 KB then abort', kind: 'fetch-partial', path: '/download', show: m => `first chunk ${m.firstByteMs.toFixed(0)} ms, RSS +${m.rssDeltaMb} MB`},
	{name: 'the same through `http.get`', kind: 'http-partial', path: '/download', show: m => `first chunk ${m.firstByteMs.toFixed(0)} ms, RSS +${m.rssDeltaMb} MB`},
	{name: `${(bomb.length / 1024).toFixed(0)} KB gzip of 512 MiB of zeros (\`no-store\`), \`http.get\` reading raw bytes`, kind: 'http-raw', path: '/bomb', show: m => `${m.firstByteMs.toFixed(0)} ms, +${m.rssDeltaMb} MB (${(m.bytes / 1024).toFixed(0)} KB read)`},
	{name: 'the same through `fetch`, first chunk only', kind: 'fetch-first', path: '/bomb', show: m => `${m.firstByteMs.toFixed(0)} ms, +${m.rssDeltaMb} MB`},
	{name: 'POST with a 200 MB `ReadableStream` body', kind: 'post', path: '/upload', show: m => `peak RSS +${m.rssDeltaMb} MB`},
];

console.log(`Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores\n`);
console.log('| case | plain | `installCache()` | `installCache({cacheControl: true})` |');
console.log('| --- | --- | --- | --- |');
for (const {name, kind, path, show} of cases) {
	// eslint-disable-next-line no-await-in-loop
	const plain = await measure(kind, 'plain', path);
	// eslint-disable-next-line no-await-in-loop
	const cached = await measure(kind, 'cached', path);
	// eslint-disable-next-line no-await-in-loop
	const honoured = await measure(kind, 'cached', path, {cacheControl: true});
	console.log(`| ${name} | ${show(plain)} | ${show(cached)} | ${show(honoured)} |`);
}

server.closeAllConnections();
server.close();
