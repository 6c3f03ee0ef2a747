/**
 * Peak memory of storing one large body (issue 10: "a 100 MB body peaks at ~1 GB RSS on SQLite").
 * The origin runs in this process; each case runs in a child process of its own, which reports the
 * growth of its peak RSS (`resourceUsage().maxRSS`) over its RSS before the request: once for the
 * miss that stores the body, once for the hit that reads it back.
 *
 *   node --import tsx bench/size-bounds-rss.ts [megabytes]
 */
import {spawn} from 'node:child_process';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {removeDir, tempDir} from '../spec/support/temp-dir.js';

const here = fileURLToPath(import.meta.url);

async function child(backend: string, url: string, dir: string): Promise<void> {
	const {CachedSession, Session} = await import('../lib/index.js');
	const mb = (kb: number): string => `${Math.round(kb / 1024)} MB`;
	const rss = (): number => process.memoryUsage().rss / 1024;
	const session = backend === 'none'
		? new Session()
		: new CachedSession({backend: backend as 'sqlite' | 'memory', cacheName: path.join(dir, 'rss'), maxEntrySize: 1024 * 1024 * 1024});
	await session.get(`${url}/small`);
	globalThis.gc?.();
	const before = rss();
	const miss = await session.get(`${url}/big`);
	const afterMiss = process.resourceUsage().maxRSS;
	const bytes = miss.body.length;
	const hit = await session.get(`${url}/big`);
	const afterHit = process.resourceUsage().maxRSS;
	const fromCache = 'fromCache' in hit ? hit.fromCache : false;
	console.log(`${backend.padEnd(6)} body ${mb(bytes / 1024)}: RSS before ${mb(before)}, peak growth on the miss ${mb(afterMiss - before)}, peak after the hit ${mb(afterHit - before)} (served from cache: ${fromCache})`);
	await (session as {close?: () => Promise<void>}).close?.();
}

if (process.argv[2] === '--child') {
	await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else {
	const size = Number(process.argv[2] ?? 100) * 1024 * 1024;
	const body = Buffer.alloc(size, 'x');
	const server = createServer((request, response) => {
		response.writeHead(200, {'content-type': 'application/octet-stream'});
		response.end(request.url === '/big' ? body : 'small');
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	const dir = tempDir('rss');
	try {
		for (const backend of ['none', 'memory', 'sqlite']) {
			// The origin must keep answering while the child runs: spawnSync would block it.
			// eslint-disable-next-line no-await-in-loop
			await new Promise<void>((resolve, reject) => {
				const run = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', here, '--child', backend, url, dir], {stdio: 'inherit'});
				run.on('exit', code => {
					if (code === 0) {
						resolve();
					} else {
						reject(new Error(`${backend}: exit ${code}`));
					}
				});
			});
		}
	} finally {
		server.close();
		removeDir(dir);
	}
}

