import assert from 'node:assert/strict';
import http from 'node:http';
import axios from 'axios';
import got from 'got';
import type nockModule from 'nock';
import {installFetchDoor} from '../../lib/doors/fetch.js';
import {installHttpDoor} from '../../lib/doors/http.js';
import {disabled, installCache, uninstallCache} from '../../lib/index.js';
import {MapCache} from './map-cache.js';
import {httpGet} from '../support/http-get.js';

type Nock = typeof nockModule;

describe('doors: with nock 14', () => {
	let nock: Nock;
	let cache: MapCache;
	const restores: Array<() => void> = [];

	before(async () => {
		// nock activates itself when imported: imported here, it stays out of the other specs.
		nock = (await import('nock')).default;
	});

	beforeEach(() => {
		cache = new MapCache();
		if (!nock.isActive()) {
			nock.activate();
		}
	});

	afterEach(async () => {
		for (const restore of restores.splice(0).reverse()) {
			restore();
		}

		await uninstallCache();

		nock.cleanAll();
		nock.enableNetConnect();
	});

	after(() => {
		nock.restore();
	});

	function installDoors(): void {
		restores.push(installFetchDoor(cache.engineFor(), {fromCacheHeader: 'x-from-cache'}), installHttpDoor(cache.engineFor(), {fromCacheHeader: 'x-from-cache'}));
	}

	it('installed after nock (nock activates on import), the cache is in front: a mock is the origin\'s answer, and the repeat never reaches nock', async () => {
		installDoors();
		const clients: Array<[string, (url: string) => Promise<string>]> = [
			['fetch', async url => (await fetch(url)).text()],
			['http-get', async url => (await httpGet(url)).body],
			['got', async url => (await got(url, {retry: {limit: 0}})).body],
			['axios', async url => (await axios.get<string>(url, {responseType: 'text'})).data],
		];
		for (const [name, client] of clients) {
			// One reply each, no .persist(): a second request reaching nock would fail.
			const scope = nock('http://api.example.test').get(`/${name}`).reply(200, `mocked ${name}`, {'content-type': 'text/plain'});
			assert.equal(await client(`http://api.example.test/${name}`), `mocked ${name}`);
			assert.ok(scope.isDone(), `${name}: the miss was answered by nock`);
			assert.equal(await client(`http://api.example.test/${name}`), `mocked ${name}`, `${name}: the repeat came from the cache`);
		}

		assert.equal(cache.sent, 4);
	});

	it('lets nock\'s own errors through (no match, net connect disabled), as without the cache', async () => {
		installDoors();
		nock.disableNetConnect();
		await assert.rejects(fetch('http://unmocked.test/x'), (error: Error) => /Nock: Disallowed net connect/.test(`${error.message} ${String((error.cause as Error | undefined)?.message)}`));
		await assert.rejects(httpGet('http://unmocked.test/y'), /Nock: Disallowed net connect/);
	});

	it('installed before nock is activated, nock is in front: its mocks answer first and are not stored', async () => {
		nock.restore();
		installDoors();
		nock.activate();
		nock('http://api.example.test').get('/first').times(2).reply(200, 'mocked').get('/fetch-first').times(2).reply(200, 'mocked');
		assert.equal((await httpGet('http://api.example.test/first')).body, 'mocked');
		assert.equal((await httpGet('http://api.example.test/first')).body, 'mocked');
		assert.equal(await (await fetch('http://api.example.test/fetch-first')).text(), 'mocked');
		assert.equal(await (await fetch('http://api.example.test/fetch-first')).text(), 'mocked');
		assert.equal(cache.asked.length, 0, 'the cache never saw a mocked request');
		assert.ok(nock.isDone());
	});

	// The requests-cache user guide's requests-mock examples (tests/compat), with nock and installCache().
	describe('the Python guide\'s requests-mock examples, translated', () => {
		const url = 'https://some-test-url.example/';

		it('test_mock_session: a mock behind the cache answers the miss, the cache the repeat', async () => {
			installCache({backend: 'memory', fromCacheHeader: 'x-from-cache'});
			nock(url).get('/').reply(200, 'Mock response!', {'content-type': 'text/plain'});
			const response1 = await fetch(url);
			assert.equal(await response1.text(), 'Mock response!');
			assert.equal(response1.headers.get('x-from-cache'), null);
			const response2 = await fetch(url);
			assert.equal(await response2.text(), 'Mock response!');
			assert.equal(response2.headers.get('x-from-cache'), '1');
		});

		it('test_requests_cache_mock: inside disabled(), requests are mocked and not cached', async () => {
			installCache({backend: 'memory', fromCacheHeader: 'x-from-cache'});
			nock(url).get('/').times(2).reply(200, 'Mock response!');
			await disabled(async () => {
				const response1 = await got(url);
				assert.equal(response1.body, 'Mock response!');
				const response2 = await got(url);
				assert.equal(response2.headers['x-from-cache'], undefined);
			});
			assert.ok(nock.isDone(), 'both requests reached the mock');
		});
	});
});
