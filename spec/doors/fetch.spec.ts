import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {Readable} from 'node:stream';
import {Agent} from 'undici';
import {outsideDoors} from '../../lib/doors/bypass.js';
import {installFetchDoor} from '../../lib/doors/fetch.js';
import {Origin} from '../support/origin.js';
import {MapCache} from './map-cache.js';

/** The init Node's fetch takes, with what its types leave out. */
type Init = Omit<RequestInit, 'cache' | 'dispatcher'> & {cache?: string; dispatcher?: unknown; duplex?: 'half'};

/** Fetch with the full init. */
async function fetchWith(url: string, init: Init): Promise<Response> {
	return fetch(url, init as RequestInit);
}

describe('doors: the global fetch', () => {
	let origin: Origin;
	let cache: MapCache;
	let restore: (() => void) | undefined;
	const nativeFetch = globalThis.fetch;

	before(async () => {
		origin = await Origin.start();
		origin.route('/cookies', (_request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'set-cookie': ['a=1; Path=/', 'b=2; Path=/']});
			response.end(`cookies ${origin.hits('/cookies')}`);
		});
		// /t/<name>: a JSON document for one test's own path, so hit counts start at 0 per test.
		origin.route('/t/*', (request, response, body) => {
			const url = new URL(request.url!, origin.url);
			response.writeHead(200, {'content-type': 'application/json'});
			response.end(JSON.stringify({path: url.pathname, method: request.method, hit: origin.hits(url.pathname), body: body.toString('utf8')}));
		});
	});

	beforeEach(() => {
		cache = new MapCache();
	});

	afterEach(() => {
		restore?.();
		restore = undefined;
		assert.equal(globalThis.fetch, nativeFetch, 'every test leaves the global fetch as it found it');
	});

	after(async () => {
		await origin.close();
	});

	function install(options = {}): void {
		restore = installFetchDoor(cache.engineFor(), options);
	}

	it('answers a repeated GET from the cache, looking like the network\'s answer', async () => {
		install();
		const url = `${origin.url}/cookies?fetch=1`;
		const first = await fetch(url);
		const firstText = await first.text();
		const second = await fetch(url);
		assert.equal(origin.hits('/cookies'), 1, 'the second request did not reach the origin');
		assert.equal(cache.sent, 1);
		assert.equal(second.status, 200);
		assert.equal(second.statusText, 'OK');
		assert.equal(second.ok, true);
		assert.equal(second.url, url);
		assert.equal(second.redirected, false);
		assert.deepEqual(second.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/'], 'each set-cookie stays its own');
		assert.equal(second.headers.get('content-type'), 'text/plain');
		assert.equal(second.headers.get('age'), '7', 'the age the cache gives is passed on');
		assert.equal(second.headers.get('x-from-cache'), null, 'no marker unless asked for');
		assert.equal(await second.text(), firstText);
	});

	it('answers a repeated HEAD from the cache with the headers and no body', async () => {
		install();
		const first = await fetch(`${origin.url}/t/head`, {method: 'HEAD'});
		const second = await fetch(`${origin.url}/t/head`, {method: 'HEAD'});
		assert.equal(origin.hits('/t/head'), 1);
		assert.equal(second.status, 200);
		assert.equal(second.headers.get('content-length'), first.headers.get('content-length'));
		assert.equal(await second.text(), '');
	});

	it('marks cached answers with the fromCacheHeader it is given', async () => {
		install({fromCacheHeader: 'x-from-cache'});
		const url = `${origin.url}/json?marked=1`;
		assert.equal((await fetch(url)).headers.get('x-from-cache'), null);
		assert.equal((await fetch(url)).headers.get('x-from-cache'), '1');
	});

	it('replays a cached body as a stream, in pieces, and supports clone()', async () => {
		install();
		const url = `${origin.url}/bytes?n=${1024 * 1024}`;
		const expected = Buffer.from(await (await fetch(url)).arrayBuffer());
		const response = await fetch(url);
		assert.equal(origin.hits('/bytes'), 1);
		assert.equal(response.headers.get('content-length'), String(1024 * 1024));
		const copy = response.clone();
		const reader = response.body!.getReader();
		const pieces: Uint8Array[] = [];
		for (let read = await reader.read(); !read.done; read = await reader.read()) {
			pieces.push(read.value);
		}

		assert.ok(pieces.length > 1, `read in ${pieces.length} piece(s)`);
		assert.ok(Buffer.concat(pieces).equals(expected));
		assert.ok(Buffer.from(await copy.arrayBuffer()).equals(expected), 'the clone has the same bytes');
	});

	it('follows redirects itself, recording the hops: the cached answer has the final URL and redirected=true', async () => {
		install();
		const url = `${origin.url}/redirect/2?to=/json`;
		const first = await fetch(url);
		const hits = origin.hits();
		const second = await fetch(url);
		assert.equal(origin.hits(), hits, 'no hop reached the origin the second time');
		for (const response of [first, second]) {
			assert.equal(response.status, 200);
			assert.equal(response.url, `${origin.url}/json`);
			assert.equal(response.redirected, true);
		}

		assert.deepEqual(cache.entries.values().next().value?.history.map(hop => hop.status), [302, 302]);
	});

	it('gives the redirect itself for redirect: manual, and rejects it for redirect: error', async () => {
		install();
		const manual = await fetch(`${origin.url}/redirect/1?to=/json`, {redirect: 'manual'});
		assert.equal(manual.status, 302);
		assert.equal(manual.headers.get('location'), '/json');
		await assert.rejects(fetch(`${origin.url}/redirect/1?to=/json`, {redirect: 'error'}), (error: Error) => error instanceof TypeError && error.message === 'fetch failed');
	});

	it('answers a compressed miss as fetch does, and a hit decoded without the content-encoding it no longer has', async () => {
		install();
		const plain = await outsideDoors(async () => fetch(`${origin.url}/gzip`));
		const miss = await fetch(`${origin.url}/gzip`);
		// The miss streams: its headers are the origin's, as Node's fetch gives them.
		assert.equal(miss.headers.get('content-encoding'), plain.headers.get('content-encoding'));
		assert.equal(miss.headers.get('content-length'), plain.headers.get('content-length'));
		assert.equal(await miss.text(), await plain.text());
		const hit = await fetch(`${origin.url}/gzip`);
		assert.equal(hit.headers.get('content-encoding'), null);
		assert.equal(hit.headers.get('content-length'), String('hello gzip'.length));
		assert.equal(await hit.text(), 'hello gzip');

		assert.equal(origin.hits('/gzip'), 2, 'one plain request, one miss');
	});

	it('sends POSTs every time, with the body the caller gave, whatever its kind', async () => {
		install();
		const form = new FormData();
		form.set('field', 'value');
		const bodies: Array<[NonNullable<RequestInit['body']>, string]> = [
			['plain text', 'plain text'],
			[Buffer.from('buffer bytes'), 'buffer bytes'],
			[new URLSearchParams({a: '1', b: 'x y'}), 'a=1&b=x+y'],
			[Readable.toWeb(Readable.from([Buffer.from('str'), Buffer.from('eam')])) as ReadableStream, 'stream'],
			[form, 'name="field"'],
		];
		for (const [body, expected] of bodies) {
			const before = origin.hits('/echo');
			const echoed = await (await fetchWith(`${origin.url}/echo`, {method: 'POST', body, duplex: 'half'})).json() as {body: string; method: string};
			assert.equal(origin.hits('/echo'), before + 1, 'every POST reaches the origin');
			assert.equal(echoed.method, 'POST');
			assert.ok(echoed.body.includes(expected), `origin saw ${JSON.stringify(echoed.body)}`);
			const asked = cache.asked.at(-1)!;
			assert.equal(asked.method, 'POST');
			assert.ok(asked.body?.toString('utf8').includes(expected), 'the cache was shown the same bytes');
		}
	});

	it('invalidates what a POST to the URL changed', async () => {
		install();
		const url = `${origin.url}/t/invalidate`;
		await fetch(url);
		await fetch(url);
		assert.equal(origin.hits('/t/invalidate'), 1);
		await fetch(url, {method: 'POST', body: 'x'});
		const after = await (await fetch(url)).json() as {method: string};
		assert.equal(after.method, 'GET');
		assert.equal(origin.hits('/t/invalidate'), 3, 'the GET after the POST went to the origin');
	});

	it('maps the fetch cache modes: no-store passes by, reload refreshes, only-if-cached never sends', async () => {
		install();
		const url = `${origin.url}/t/modes`;
		await fetch(url);
		await fetchWith(url, {cache: 'no-store'});
		assert.equal(cache.asked.length, 1, 'no-store is not shown to the cache');
		assert.equal(origin.hits('/t/modes'), 2);
		await fetchWith(url, {cache: 'reload'});
		assert.equal(origin.hits('/t/modes'), 3, 'reload sent the request');
		assert.equal(origin.seen.at(-1)!.headers['cache-control'], 'no-cache', 'with the header fetch itself adds');
		assert.equal((await fetch(url)).headers.get('age'), '7', 'and stored what it got');
		const onlyIfCached = await fetchWith(`${origin.url}/t/modes-never`, {cache: 'only-if-cached', mode: 'same-origin'});
		assert.equal(onlyIfCached.status, 504);
		assert.equal(origin.hits('/t/modes-never'), 0);
	});

	it('leaves alone what wants() or engineFor() declines, and what runs outsideDoors()', async () => {
		const shown: string[] = [];
		const engineFor = cache.engineFor(request => !request.url.includes('skip-engine'));
		restore = installFetchDoor(request => {
			shown.push(new URL(request.url).pathname);
			return engineFor(request);
		}, {wants: (_method, url) => !url.includes('skip-wants')});
		await fetch(`${origin.url}/t/skip-wants`);
		await fetch(`${origin.url}/t/skip-engine`);
		await fetchWith(`${origin.url}/t/skip-engine`, {method: 'PUT', body: Readable.toWeb(Readable.from([Buffer.from('once')])) as ReadableStream, duplex: 'half'});
		await outsideDoors(async () => fetch(`${origin.url}/t/outside`));
		assert.deepEqual(shown, ['/t/skip-engine', '/t/skip-engine'], 'wants() and outsideDoors() keep requests from engineFor');
		assert.equal(cache.asked.length, 0);
		assert.equal(origin.hits('/t/skip-engine'), 2);
		assert.equal(origin.seen.at(-2)!.body.toString(), 'once', 'a declined stream body still reaches the origin, read once');
	});

	it('keeps the caller\'s dispatcher on the requests it sends', async () => {
		install();
		let dispatched = 0;
		class CountingAgent extends Agent {
			override dispatch(...args: Parameters<Agent['dispatch']>): boolean {
				dispatched++;
				return super.dispatch(...args);
			}
		}

		const dispatcher = new CountingAgent();
		const url = `${origin.url}/json?dispatcher=1`;
		await fetchWith(url, {dispatcher});
		await fetchWith(url, {dispatcher});
		await fetchWith(`${origin.url}/json?dispatcher=passed`, {dispatcher, cache: 'no-store'});
		assert.equal(dispatched, 2, 'the miss and the passed-through request went through the dispatcher; the hit did not');
		await dispatcher.close();
	});

	it('passes by the cache an https request with a dispatcher of its own: it may present a client certificate', async () => {
		install();
		const dispatcher = new Agent();
		await assert.rejects(fetchWith('https://127.0.0.1:1/own-dispatcher', {dispatcher}), TypeError);
		assert.equal(cache.asked.length, 0, 'the cache was not asked');
		await assert.rejects(fetch('https://127.0.0.1:1/global-dispatcher'), TypeError);
		assert.equal(cache.asked.length, 1, 'without one, it is');
		await dispatcher.close();
	});

	it('stops waiting when the caller aborts, as fetch does', async () => {
		install();
		const controller = new AbortController();
		const pending = fetch(`${origin.url}/slow?ms=300`, {signal: controller.signal});
		setTimeout(() => {
			controller.abort();
		}, 30);
		await assert.rejects(pending, (error: Error) => error.name === 'AbortError');
	});

	it('lets the network\'s error through and never a failure of the cache', async () => {
		install();
		await assert.rejects(fetch('http://127.0.0.1:1/unreachable'), (error: Error) => error instanceof TypeError && error.message === 'fetch failed');
		cache.failing = 'beforeSend';
		assert.equal((await fetch(`${origin.url}/t/broken-before`)).status, 200);
		assert.equal(origin.hits('/t/broken-before'), 1, 'a cache that fails before sending: the request passes through');
		cache.failing = 'afterSend';
		const answered = await (await fetch(`${origin.url}/t/broken-after`)).json() as {hit: number};
		assert.equal(answered.hit, 1, 'a cache that fails after sending: the origin\'s answer is served');
		assert.equal(origin.hits('/t/broken-after'), 1, 'and not sent twice');
	});

	it('restores the global fetch on uninstall: every request reaches the origin again', async () => {
		install();
		const url = `${origin.url}/t/restore`;
		await fetch(url);
		await fetch(url);
		restore!();
		restore = undefined;
		assert.equal(globalThis.fetch, nativeFetch);
		await fetch(url);
		await fetch(url);
		assert.equal(origin.hits('/t/restore'), 3);
	});

	it('replaces an installed door instead of stacking, and steps aside inside a wrapper put on top of it', async () => {
		const first = installFetchDoor(cache.engineFor());
		const second = new MapCache();
		restore = installFetchDoor(second.engineFor());
		await fetch(`${origin.url}/json?replaced=1`);
		assert.equal(cache.asked.length, 0, 'the first door is gone');
		assert.equal(second.asked.length, 1);
		first();
		const door = globalThis.fetch;
		let wrapped = 0;
		globalThis.fetch = async (input, init) => {
			wrapped++;
			return door(input, init);
		};

		restore();
		restore = undefined;
		assert.notEqual(globalThis.fetch, nativeFetch, 'the wrapper stays in place');
		await fetch(`${origin.url}/json?replaced=2`);
		assert.equal(wrapped, 1);
		assert.equal(second.asked.length, 1, 'the door inside the wrapper steps aside');
		globalThis.fetch = nativeFetch;
	});
});
