import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import http, {get as namedGet} from 'node:http';
import https from 'node:https';
import type {AddressInfo, Socket} from 'node:net';
import path from 'node:path';
import {Readable} from 'node:stream';
import axios from 'axios';
import got from 'got';
import nodeFetch from 'node-fetch';
import {ClientRequestInterceptor} from '@mswjs/interceptors/ClientRequest';
import {outsideDoors} from '../../lib/doors/bypass.js';
import {installHttpDoor} from '../../lib/doors/http.js';
import {tlsIdentityOf} from '../../lib/tls-identity.js';
import {Origin} from '../support/origin.js';
import {removeDir, tempDir} from '../support/temp-dir.js';
import {MapCache} from './map-cache.js';

type Got = {status: number; headers: http.IncomingHttpHeaders; body: Buffer; chunks: number; events: string[]};

/** A GET with node:http, recording what the client sees. */
async function httpGet(url: string, options: https.RequestOptions = {}, module: typeof http | typeof https = http): Promise<Got> {
	return new Promise((resolve, reject) => {
		const events: string[] = [];
		const request = module.get(url, options, response => {
			events.push('response');
			const chunks: Buffer[] = [];
			response.on('data', (chunk: Buffer) => chunks.push(chunk));
			response.on('end', () => {
				events.push('end');
				resolve({status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks), chunks: chunks.length, events});
			});
		});
		request.on('socket', (socket: Socket) => {
			events.push('socket');
			socket.once('connect', () => events.push('connect'));
		});
		request.on('error', reject);
	});
}

describe('doors: node:http and node:https', () => {
	let origin: Origin;
	let cache: MapCache;
	let restore: (() => void) | undefined;
	const originals = [http.request, http.get, https.request, https.get, http.ClientRequest];

	before(async () => {
		origin = await Origin.start();
		origin.route('/t/*', (request, response, body) => {
			const url = new URL(request.url!, origin.url);
			response.writeHead(200, {'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2']});
			response.end(JSON.stringify({path: url.pathname, method: request.method, hit: origin.hits(url.pathname), body: body.toString('utf8')}));
		});
	});

	beforeEach(() => {
		cache = new MapCache();
	});

	afterEach(() => {
		restore?.();
		restore = undefined;
		assert.deepEqual([http.request, http.get, https.request, https.get, http.ClientRequest], originals, 'every test leaves node:http as it found it');
	});

	after(async () => {
		await origin.close();
	});

	function install(options = {}): void {
		restore = installHttpDoor(cache.engineFor(), options);
	}

	it('answers a repeated http.get from the cache without a connection, with the same status, headers and events', async () => {
		install();
		let connections = 0;
		const count = (): void => {
			connections++;
		};

		origin.server.on('connection', count);
		const url = `${origin.url}/t/http-get`;
		const first = await httpGet(url);
		const second = await httpGet(url);
		origin.server.off('connection', count);
		assert.equal(origin.hits('/t/http-get'), 1, 'the second request did not reach the origin');
		assert.equal(connections <= 1, true, 'the hit opened no connection');
		assert.equal(second.status, 200);
		assert.deepEqual(second.headers['set-cookie'], ['a=1', 'b=2']);
		assert.equal(second.headers['content-type'], 'application/json');
		assert.equal(second.headers['content-length'], String(first.body.length));
		assert.equal(second.headers['age'], '7');
		assert.ok(second.body.equals(first.body));
		assert.deepEqual(second.events, ['socket', 'connect', 'response', 'end']);
	});

	it('caches got 14, axios and node-fetch 3: a miss, then a hit that leaves the origin alone', async () => {
		install({fromCacheHeader: 'x-from-cache'});
		const clients: Array<[string, (url: string) => Promise<{body: string; fromCache: string | undefined}>]> = [
			['got', async url => {
				const response = await got(url, {retry: {limit: 0}});
				return {body: response.body, fromCache: response.headers['x-from-cache'] as string | undefined};
			}],
			['axios', async url => {
				const response = await axios.get<string>(url, {responseType: 'text'});
				return {body: response.data, fromCache: response.headers['x-from-cache'] as string | undefined};
			}],
			['node-fetch', async url => {
				const response = await nodeFetch(url);
				return {body: await response.text(), fromCache: response.headers.get('x-from-cache') ?? undefined};
			}],
		];
		for (const [name, client] of clients) {
			const url = `${origin.url}/t/${name}`;
			const first = await client(url);
			const second = await client(url);
			assert.equal(origin.hits(`/t/${name}`), 1, `${name}: the origin was reached once`);
			assert.equal(first.fromCache, undefined);
			assert.equal(second.fromCache, '1', `${name}: the second came from the cache`);
			assert.equal(second.body, first.body);
		}
	});

	it('answers a repeated HEAD from the cache with the headers and no body', async () => {
		install();
		const head = async (): Promise<{status: number; length: string | undefined; body: string}> => new Promise((resolve, reject) => {
			const request = http.request(`${origin.url}/t/head`, {method: 'HEAD'}, response => {
				let body = '';
				response.on('data', (chunk: Buffer) => {
					body += chunk.toString();
				});
				response.on('end', () => {
					resolve({status: response.statusCode!, length: response.headers['content-length'], body});
				});
			});
			request.on('error', reject);
			request.end();
		});
		const first = await head();
		const second = await head();
		assert.equal(origin.hits('/t/head'), 1);
		assert.deepEqual(second, first);
		assert.equal(second.body, '');
	});

	it('streams a 10 MB miss and replays it through http.get as a stream, with no warning on the way', async function () {
		this.timeout(60_000);
		install();
		const warnings: Error[] = [];
		const onWarning = (warning: Error) => warnings.push(warning);
		process.on('warning', onWarning);
		const url = `${origin.url}/bytes?n=${10 * 1024 * 1024}`;
		const first = await httpGet(url);
		const second = await httpGet(url);
		process.off('warning', onWarning);
		assert.deepEqual(warnings.map(warning => warning.message), [], 'a body streamed through the emulated socket leaks no listeners');
		assert.equal(origin.hits('/bytes'), 1);
		assert.equal(second.body.length, 10 * 1024 * 1024);
		assert.ok(second.body.equals(first.body));
		assert.ok(second.chunks > 1, `delivered in ${second.chunks} chunk(s)`);
	});

	it('sends POSTs every time with their body, whatever the client streams, and shows the cache the same bytes', async () => {
		install();
		const sends: Array<[string, () => Promise<unknown>, string]> = [
			['got json', async () => got.post(`${origin.url}/t/post`, {json: {a: 1}, retry: {limit: 0}}), '{"a":1}'],
			['got stream', async () => got.post(`${origin.url}/t/post`, {body: Readable.from(['str', 'eam']), retry: {limit: 0}}), 'stream'],
			['axios form', async () => axios.post(`${origin.url}/t/post`, new URLSearchParams({a: '1', b: 'x y'})), 'a=1&b=x+y'],
			['http.request piped', async () => new Promise((resolve, reject) => {
				const request = http.request(`${origin.url}/t/post`, {method: 'POST'}, response => {
					response.resume();
					response.on('end', resolve);
				});
				request.on('error', reject);
				Readable.from([Buffer.from('pi'), Buffer.from('ped')]).pipe(request);
			}), 'piped'],
		];
		for (const [name, send, expected] of sends) {
			const before = origin.hits('/t/post');
			await send();
			assert.equal(origin.hits('/t/post'), before + 1, `${name}: reached the origin`);
			assert.equal(origin.seen.at(-1)!.body.toString(), expected, `${name}: the origin got the body`);
			assert.equal(cache.asked.at(-1)!.body?.toString(), expected, `${name}: the cache saw it`);
		}
	});

	it('reads the body of a GET that has one (a search API\'s) into the prepared request', async () => {
		install();
		await new Promise((resolve, reject) => {
			const request = http.request(`${origin.url}/t/get-body`, {method: 'GET', headers: {'content-type': 'application/json', 'content-length': '11'}}, response => {
				response.resume();
				response.on('end', resolve);
			});
			request.on('error', reject);
			request.end('{"query":1}');
		});
		assert.equal(cache.asked.at(-1)!.body?.toString(), '{"query":1}');
		assert.equal(origin.seen.at(-1)!.body.toString(), '{"query":1}');
	});

	it('sends a miss through the client\'s own agent (its keep-alive pool)', async () => {
		install();
		let created = 0;
		class CountingAgent extends http.Agent {
			override createConnection(...args: Parameters<http.Agent['createConnection']>): ReturnType<http.Agent['createConnection']> {
				created++;
				return super.createConnection(...args);
			}
		}

		const agent = new CountingAgent({keepAlive: true});
		for (const name of ['one', 'two', 'three']) {
			await httpGet(`${origin.url}/t/agent-${name}`, {agent});
		}

		await httpGet(`${origin.url}/t/agent-one`, {agent});
		assert.equal(origin.hits('/t/agent-three'), 1);
		assert.equal(created, 1, 'three misses, one pooled connection');
		agent.destroy();
	});

	it('sees `import {get} from \'node:http\'` too (the ESM bindings follow the module)', async () => {
		install();
		await new Promise(resolve => namedGet(`${origin.url}/t/named`, response => response.resume().on('end', resolve)));
		await new Promise(resolve => namedGet(`${origin.url}/t/named`, response => response.resume().on('end', resolve)));
		assert.equal(origin.hits('/t/named'), 1);
		restore!();
		restore = undefined;
		assert.equal(namedGet, http.get, 'and are restored with it');
	});

	it('leaves alone what wants() declines (no interception, connections pooled) and what runs outsideDoors()', async () => {
		restore = installHttpDoor(cache.engineFor(), {wants: (_method, url) => !url.includes('/t/skip')});
		let connections = 0;
		const count = (): void => {
			connections++;
		};

		const agent = new http.Agent({keepAlive: true});
		await httpGet(`${origin.url}/t/warm`, {agent});
		origin.server.on('connection', count);
		for (let round = 0; round < 3; round++) {
			await httpGet(`${origin.url}/t/skip`, {agent});
		}

		await outsideDoors(async () => httpGet(`${origin.url}/t/outside`));
		origin.server.off('connection', count);
		assert.deepEqual(cache.asked.map(request => new URL(request.url).pathname), ['/t/warm']);
		assert.equal(origin.hits('/t/skip'), 3);
		assert.equal(connections <= 1, true, `declined requests reuse the agent's connection (${connections} new)`);
		agent.destroy();
	});

	it('keeps the client\'s timeouts meaningful: connected at once, the response timeout runs while the origin works', async () => {
		install();
		const slow = `${origin.url}/slow?ms=300`;
		const response = await got(slow, {retry: {limit: 0}, timeout: {connect: 50, send: 50}});
		assert.equal(response.statusCode, 200, 'connect and send timeouts do not fire on a slow miss');
		await assert.rejects(got(`${slow}&again`, {retry: {limit: 0}, timeout: {response: 100}}), {name: 'TimeoutError'});
	});

	it('lets the network\'s error through and never a failure of the cache', async () => {
		install();
		await assert.rejects(httpGet('http://127.0.0.1:1/unreachable'), {code: 'ECONNREFUSED'});
		cache.failing = 'beforeSend';
		assert.equal((await httpGet(`${origin.url}/t/broken-before`)).status, 200);
		assert.equal(origin.hits('/t/broken-before'), 1, 'a cache that fails before sending: the request passes through');
		cache.failing = 'afterSend';
		const answered = JSON.parse((await httpGet(`${origin.url}/t/broken-after`)).body.toString()) as {hit: number};
		assert.equal(answered.hit, 1);
		assert.equal(origin.hits('/t/broken-after'), 1, 'a cache that fails after sending: the origin\'s answer, sent once');
	});

	it('restores node:http on uninstall; a request in flight finishes; every request reaches the origin again', async () => {
		install();
		const url = `${origin.url}/t/restore`;
		await httpGet(url);
		const inFlight = httpGet(`${origin.url}/slow?ms=150`);
		await new Promise(resolve => {
			setTimeout(resolve, 30);
		});
		restore!();
		restore = undefined;
		assert.deepEqual([http.request, http.get, https.request, https.get, http.ClientRequest], originals);
		assert.equal((await inFlight).status, 200);
		await httpGet(url);
		await httpGet(url);
		assert.equal(origin.hits('/t/restore'), 3);
	});

	it('replaces an installed door instead of stacking, and steps aside inside a layer put on top of it', async () => {
		const first = installHttpDoor(cache.engineFor());
		const second = new MapCache();
		restore = installHttpDoor(second.engineFor());
		await httpGet(`${origin.url}/t/replaced`);
		assert.equal(cache.asked.length, 0);
		assert.equal(second.asked.length, 1);
		first();
		const door = http.get;
		let layered = 0;
		http.get = ((...args: Parameters<typeof http.get>) => {
			layered++;
			return door(...args);
		}) as typeof http.get;
		restore();
		restore = undefined;
		assert.notEqual(http.get, originals[1], 'the layer stays in place');
		await httpGet(`${origin.url}/t/replaced-2`);
		assert.equal(layered, 1);
		assert.equal(second.asked.length, 1, 'the door inside the layer steps aside');
		http.get = originals[1] as typeof http.get;
	});

	it('joins an interceptor another library applied first (as MSW does) instead of patching twice: its mocks still answer, and it stays applied after the door closes', async () => {
		// Relies on the interceptor's protected `emitter` on the instance kept under its global symbol (docs/architecture.md).
		const theirs = new ClientRequestInterceptor();
		theirs.on('request', ({request, controller}) => {
			if (new URL(request.url).pathname === '/mocked') {
				controller.respondWith(new globalThis.Response('from their mock', {status: 200}));
			}
		});
		theirs.apply();
		try {
			install();
			const url = `${origin.url}/t/joined`;
			const first = await httpGet(url);
			const second = await httpGet(url);
			assert.deepEqual(second.body, first.body);
			assert.equal(origin.hits('/t/joined'), 1, 'the repeat was served from the cache');
			assert.equal(cache.sent, 1);
			assert.equal((await httpGet(`${origin.url}/mocked`)).body.toString(), 'from their mock', 'their mock answered first');
			restore!();
			restore = undefined;
			assert.equal((await httpGet(`${origin.url}/mocked`)).body.toString(), 'from their mock', 'still applied after the door closed');
			await httpGet(url);
			assert.equal(origin.hits('/t/joined'), 2, 'the door is gone: the origin is asked');
		} finally {
			theirs.dispose();
		}
	});

	describe('https, against a self-signed origin', () => {
		let server: https.Server | undefined;
		let base = '';
		let ca: Buffer;
		let dir = '';

		before(async function () {
			dir = tempDir('doors-tls');
			try {
				execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
					'-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {stdio: 'ignore'});
			} catch {
				this.skip();
			}

			ca = readFileSync(path.join(dir, 'cert.pem'));
			let hits = 0;
			server = https.createServer({key: readFileSync(path.join(dir, 'key.pem')), cert: ca}, (_request, response) => {
				hits++;
				response.writeHead(200, {'content-type': 'text/plain'}).end(`tls hit ${hits}`);
			});
			await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve));
			base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
		});

		after(async () => {
			server?.closeAllConnections();
			await new Promise(resolve => server ? server.close(resolve) : resolve(undefined));
			removeDir(dir);
		});

		it('sends a miss with the client\'s TLS options (its ca) and answers the repeat from the cache', async () => {
			install();
			const first = await httpGet(`${base}/tls`, {ca}, https);
			const second = await httpGet(`${base}/tls`, {ca}, https);
			assert.equal(first.body.toString(), 'tls hit 1');
			assert.equal(second.body.toString(), 'tls hit 1');
			assert.deepEqual(second.events, ['socket', 'connect', 'response', 'end']);
			const viaGot = await got(`${base}/tls-got`, {https: {certificateAuthority: ca}, retry: {limit: 0}});
			assert.equal(viaGot.body, 'tls hit 2');
		});

		it('gives a request sent with a client certificate (in its options or its agent\'s) that certificate\'s fingerprint as its TLS identity', async () => {
			install();
			const key = readFileSync(path.join(dir, 'key.pem'));
			// The same identity a Session's got instance gets for that certificate (lib/tls-identity.ts).
			const expected = tlsIdentityOf({cert: ca});
			assert.ok(expected !== undefined);
			await httpGet(`${base}/id-options`, {ca, cert: ca, key}, https);
			const agent = new https.Agent({ca, cert: ca, key});
			await httpGet(`${base}/id-agent`, {agent}, https);
			await httpGet(`${base}/id-none`, {ca}, https);
			agent.destroy();
			const identities = Object.fromEntries(cache.asked.map(request => [new URL(request.url).pathname, request.tlsIdentity]));
			assert.deepEqual(identities, {'/id-options': expected, '/id-agent': expected, '/id-none': undefined});
		});

		it('fails a miss without the ca as the network would: the certificate is not trusted', async () => {
			install();
			await assert.rejects(httpGet(`${base}/untrusted`, {}, https), (error: NodeJS.ErrnoException) => /self[- ]signed/i.test(error.message) || error.code === 'DEPTH_ZERO_SELF_SIGNED_CERT');
		});
	});
});
