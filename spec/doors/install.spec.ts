import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import got from 'got';
import nodeFetch from 'node-fetch';
import type {CacheStore} from '../../lib/backends/store.js';
import {BaseCache, Session, disabled, enabled, installCache, uninstallCache} from '../../lib/index.js';
import {Origin} from '../support/origin.js';
import {httpGet} from '../support/http-get.js';

/** The door's answer to a plain http.get: whether it came from the cache, as the header says. */
const fromCacheOf = (got: {headers: Record<string, unknown>}): string | undefined => got.headers['x-from-cache'] as string | undefined;

/** A store whose every operation fails, as a database that went away. */
function brokenStore(): CacheStore {
	const fail = async (): Promise<never> => {
		throw new Error('connection lost');
	};

	return {
		name: 'broken', local: false, get: fail, set: fail, delete: fail, clear: fail,
		async close() {
			// Nothing to release.
		},
		// eslint-disable-next-line require-yield -- fails before yielding
		async * scan() {
			throw new Error('connection lost');
		},
	};
}

describe('installCache(): the doors', () => {
	let origin: Origin;
	const originals = {fetch: globalThis.fetch, request: http.request, get: http.get, httpsRequest: https.request, httpsGet: https.get, send: Session.prototype.send};

	before(async () => {
		origin = await Origin.start();
		origin.route('/t/*', (request, response, body) => {
			const url = new URL(request.url!, origin.url);
			response.writeHead(200, {'content-type': 'application/json'});
			response.end(JSON.stringify({path: url.pathname, method: request.method, hit: origin.hits(url.pathname), body: body.toString('utf8')}));
		});
		origin.route('/cc/*', (request, response) => {
			const url = new URL(request.url!, origin.url);
			response.writeHead(200, {'content-type': 'application/json', 'cache-control': 'max-age=60'});
			response.end(JSON.stringify({path: url.pathname, method: request.method, hit: origin.hits(url.pathname)}));
		});
	});

	afterEach(async () => {
		await uninstallCache();
		assert.deepEqual(
			{fetch: globalThis.fetch, request: http.request, get: http.get, httpsRequest: https.request, httpsGet: https.get, send: Session.prototype.send},
			originals,
			'every test leaves the doors as it found them',
		);
	});

	after(async () => {
		await origin.close();
	});

	it('caches the global fetch, node:http, got, axios and node-fetch after a two-line install, and nothing after uninstall', async () => {
		installCache({backend: 'memory', fromCacheHeader: 'x-from-cache'});
		const clients: Array<[string, (url: string) => Promise<string | undefined>]> = [
			['fetch', async url => (await fetch(url)).headers.get('x-from-cache') ?? undefined],
			['http-get', async url => fromCacheOf(await httpGet(url))],
			['got', async url => (await got(url, {retry: {limit: 0}})).headers['x-from-cache'] as string | undefined],
			['axios', async url => (await axios.get(url)).headers['x-from-cache'] as string | undefined],
			['node-fetch', async url => (await nodeFetch(url)).headers.get('x-from-cache') ?? undefined],
		];
		for (const [name, client] of clients) {
			const url = `${origin.url}/t/${name}`;
			assert.equal(await client(url), undefined, `${name}: a miss first`);
			assert.equal(await client(url), '1', `${name}: then a hit`);
			assert.equal(origin.hits(`/t/${name}`), 1, `${name}: the origin was reached once`);
		}

		await uninstallCache();
		for (const [name, client] of clients) {
			assert.equal(await client(`${origin.url}/t/${name}`), undefined);
			assert.equal(origin.hits(`/t/${name}`), 2, `${name}: after uninstallCache() every request reaches the origin`);
		}
	});

	it('takes only the doors `patch` names', async () => {
		installCache({backend: 'memory', patch: ['fetch']});
		assert.equal(http.get, originals.get, 'the http door is not put up');
		for (let round = 0; round < 2; round++) {
			await fetch(`${origin.url}/t/patch-fetch`);
			await got(`${origin.url}/t/patch-got`, {retry: {limit: 0}});
			await new Session().get(`${origin.url}/t/patch-session`);
		}

		assert.deepEqual([origin.hits('/t/patch-fetch'), origin.hits('/t/patch-got'), origin.hits('/t/patch-session')], [1, 2, 2]);
		installCache({backend: 'memory', patch: ['http', 'session']});
		assert.equal(globalThis.fetch, originals.fetch, 'a second install takes down the door it does not name');
		for (let round = 0; round < 2; round++) {
			await fetch(`${origin.url}/t/patch2-fetch`);
			await got(`${origin.url}/t/patch2-got`, {retry: {limit: 0}});
			await new Session().get(`${origin.url}/t/patch2-session`);
		}

		assert.deepEqual([origin.hits('/t/patch2-fetch'), origin.hits('/t/patch2-got'), origin.hits('/t/patch2-session')], [2, 1, 1]);
	});

	it('caches only the URLs `urls` matches (urlsExpireAfter globs); the rest pass untouched', async () => {
		installCache({backend: 'memory', urls: [`${origin.url}/t/api/*`]});
		for (let round = 0; round < 2; round++) {
			await fetch(`${origin.url}/t/api/items`);
			await got(`${origin.url}/t/api/users`, {retry: {limit: 0}});
			await new Session().get(`${origin.url}/t/api/orders`);
			await fetch(`${origin.url}/t/other-fetch`);
			await got(`${origin.url}/t/other-got`, {retry: {limit: 0}});
			await new Session().get(`${origin.url}/t/other-session`);
		}

		assert.deepEqual(['/t/api/items', '/t/api/users', '/t/api/orders'].map(path => origin.hits(path)), [1, 1, 1]);
		assert.deepEqual(['/t/other-fetch', '/t/other-got', '/t/other-session'].map(path => origin.hits(path)), [2, 2, 2]);
	});

	it('validates patch, urls and fromCacheHeader, naming the option, and installs nothing then', () => {
		assert.throws(() => installCache({backend: 'memory', patch: ['fetch', 'xhr' as 'fetch']}), {name: 'TypeError', message: /patch.*unknown door "xhr"/});
		assert.throws(() => installCache({backend: 'memory', patch: 'fetch' as unknown as ['fetch']}), {name: 'TypeError', message: /option `patch`/});
		assert.throws(() => installCache({backend: 'memory', urls: 'https://api.example.com/*' as unknown as string[]}), {name: 'TypeError', message: /option `urls`/});
		assert.throws(() => installCache({backend: 'memory', urls: ['']}), {name: 'RangeError', message: /option `urls`/});
		assert.throws(() => installCache({backend: 'memory', fromCacheHeader: 'x from cache'}), {name: 'TypeError', message: /option `fromCacheHeader`/});
		assert.throws(() => installCache({backend: 'memory', pach: ['fetch']} as never), {name: 'TypeError', message: /unknown option `pach`/});
		assert.equal(globalThis.fetch, originals.fetch);
		assert.equal(http.get, originals.get);
	});

	it('scopes disabled() to its async context for every door, with concurrent requests', async () => {
		installCache({backend: 'memory', fromCacheHeader: 'x-from-cache'});
		const url = `${origin.url}/t/scoped`;
		await fetch(url);
		await got(url, {retry: {limit: 0}});
		const before = origin.hits('/t/scoped');
		const marks = await Promise.all([
			disabled(async () => (await fetch(url)).headers.get('x-from-cache')),
			(async () => (await fetch(url)).headers.get('x-from-cache'))(),
			disabled(async () => (await got(url, {retry: {limit: 0}})).headers['x-from-cache'] ?? null),
			(async () => (await got(url, {retry: {limit: 0}})).headers['x-from-cache'] ?? null)(),
			disabled(async () => fromCacheOf(await httpGet(url)) ?? null),
			(async () => fromCacheOf(await httpGet(url)) ?? null)(),
		]);
		assert.deepEqual(marks, [null, '1', null, '1', null, '1']);
		assert.equal(origin.hits('/t/scoped'), before + 3, 'only the disabled requests reached the origin');
	});

	it('scopes enabled() to its async context for every door, and takes the doors down after it', async () => {
		const url = `${origin.url}/t/enabled`;
		const outside = async (): Promise<void> => {
			await fetch(`${url}-outside`);
			await got(`${url}-outside`, {retry: {limit: 0}});
		};

		const inside = enabled(async () => {
			const marks: Array<string | null> = [];
			for (let round = 0; round < 2; round++) {
				marks.push((await fetch(url)).headers.get('x-from-cache'), ((await got(`${url}-got`, {retry: {limit: 0}})).headers['x-from-cache'] as string | undefined) ?? null);
			}

			return marks;
		}, {backend: 'memory', fromCacheHeader: 'x-from-cache'});
		await Promise.all([inside, outside(), outside()]);
		assert.deepEqual(await inside, [null, null, '1', '1']);
		assert.equal(origin.hits('/t/enabled'), 1);
		assert.equal(origin.hits('/t/enabled-got'), 1);
		assert.equal(origin.hits('/t/enabled-outside'), 4, 'requests made outside fn at the same time are not cached');
		assert.equal(globalThis.fetch, originals.fetch);
		assert.equal(http.get, originals.get);
	});

	it('invalidates a cached GET after a POST to the URL through fetch (cacheControl: true)', async () => {
		installCache({backend: 'memory', cacheControl: true, fromCacheHeader: 'x-from-cache'});
		const url = `${origin.url}/cc/invalidate`;
		await fetch(url);
		assert.equal((await fetch(url)).headers.get('x-from-cache'), '1');
		assert.equal((await fetch(url, {method: 'POST', body: 'changed'})).status, 200);
		const after = await fetch(url);
		assert.equal(after.headers.get('x-from-cache'), null, 'the POST invalidated the stored GET');
		assert.equal(origin.hits('/cc/invalidate'), 3);
	});

	it('never breaks a patched client when the store fails: the network answers, the failure is an error event', async () => {
		const cache = new BaseCache(brokenStore(), {backendTimeout: 200});
		const errors: Error[] = [];
		cache.on('error', (error: Error) => errors.push(error));
		installCache({backend: cache});
		for (let round = 0; round < 2; round++) {
			assert.equal((await fetch(`${origin.url}/t/broken-fetch`)).status, 200);
			assert.equal((await got(`${origin.url}/t/broken-got`, {retry: {limit: 0}})).statusCode, 200);
			assert.equal(JSON.parse((await httpGet(`${origin.url}/t/broken-http`)).body).path, '/t/broken-http');
		}

		assert.deepEqual(['/t/broken-fetch', '/t/broken-got', '/t/broken-http'].map(path => origin.hits(path)), [2, 2, 2]);
		assert.ok(errors.length > 0, 'the failures were reported');
		await cache.close();
	});

	it('answers concurrent identical requests from one origin request, through every door', async () => {
		installCache({backend: 'memory'});
		const url = `${origin.url}/slow?ms=150&concurrent=1`;
		const before = origin.hits('/slow');
		await Promise.all([fetch(url), fetch(url), fetch(url), fetch(url)].map(async response => (await response).text()));
		assert.equal(origin.hits('/slow'), before + 1, 'fetch: one flight');
		// Identical requests: the same client, so the same headers (the engine keys its flights by them).
		await Promise.all([got(`${url}&got`, {retry: {limit: 0}}), got(`${url}&got`, {retry: {limit: 0}}), got(`${url}&got`, {retry: {limit: 0}})]);
		assert.equal(origin.hits('/slow'), before + 2, 'http: one flight');
	});

	it('lets a request in flight finish when the cache is uninstalled', async () => {
		installCache({backend: 'memory'});
		const inFlight = [fetch(`${origin.url}/slow?ms=150&flight=fetch`), got(`${origin.url}/slow?ms=150&flight=got`, {retry: {limit: 0}})];
		await new Promise(resolve => {
			setTimeout(resolve, 30);
		});
		await uninstallCache();
		const [viaFetch, viaGot] = await Promise.all(inFlight) as [Response, {statusCode: number}];
		assert.equal(viaFetch.status, 200);
		assert.equal(viaGot.statusCode, 200);
	});
});
