import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import http from 'node:http';
import got from 'got';
import {storeOf} from '../../lib/cache/base-cache.js';
import {type CachedEntry, decodeValue, encodeValue} from '../../lib/codec/entry.js';
import {getCache, installCache, uninstallCache} from '../../lib/index.js';
import {Origin} from '../support/origin.js';
import {httpGet} from '../support/http-get.js';

/** Rewrite every stored response record with `change` applied, as another program writing into a shared store would. */
async function tamper(change: (entry: CachedEntry) => CachedEntry): Promise<number> {
	const store = storeOf(getCache()!);
	let changed = 0;
	for await (const page of store.scan()) {
		for (const meta of page) {
			const record = await store.get(meta.key);
			if (record?.kind !== 'response') {
				continue;
			}

			const entry = change(decodeValue(record.value, 'response') as CachedEntry);
			await store.set([{...record, value: encodeValue(entry)}]);
			changed++;
		}
	}

	return changed;
}

describe('doors: fetch\'s contract and what a door can replay (issue 18)', () => {
	let origin: Origin;
	const body = 'the genuine body';
	const sri = `sha256-${createHash('sha256').update(body).digest('base64')}`;

	before(async () => {
		origin = await Origin.start();
		origin.route('/c/*', (_request, response) => {
			response.writeHead(200, {'content-type': 'text/plain'});
			response.end(body);
		});
	});

	afterEach(async () => {
		await uninstallCache();
	});

	after(async () => {
		await origin.close();
	});

	it('passes through a status fetch\'s Response constructor refuses (600) as the network gives it, on fetch and http.get', async () => {
		// Node's Response takes no status outside 200-599 and no URL: the door sets both on its
		// internal record (lib/doors/answer.ts), so this fails when that record changes shape.
		origin.route('/s/600', (_request, response) => {
			response.writeHead(600, {'content-type': 'text/plain'});
			response.end('six hundred');
		});
		const url = `${origin.url}/s/600`;
		const network = await fetch(url);
		const expected = [network.status, network.ok, network.url, await network.text()];
		assert.deepEqual(expected, [600, false, url, 'six hundred'], 'fetch without the cache');
		installCache({backend: 'memory'});
		const passed = await fetch(url);
		assert.deepEqual([passed.status, passed.ok, passed.url, await passed.text()], expected, 'fetch through the cache');
		const viaHttp = await httpGet(url);
		assert.deepEqual([viaHttp.status, viaHttp.body], [600, 'six hundred'], 'http.get through the cache');
		assert.equal(origin.hits('/s/600'), 3, 'not stored: each request reached the origin');
	});

	it('checks fetch\'s integrity on the miss and on the hit: a TypeError on mismatch, as fetch without the cache', async () => {
		const wrong = `sha256-${createHash('sha256').update('another body').digest('base64')}`;
		await assert.rejects(fetch(`${origin.url}/c/plain`, {integrity: wrong}), TypeError, 'fetch itself rejects');
		installCache({backend: 'memory'});
		const url = `${origin.url}/c/sri`;
		await assert.rejects(fetch(url, {integrity: wrong}), (error: Error) => error instanceof TypeError && (error.cause as Error).message === 'integrity mismatch', 'the miss');
		assert.equal(origin.hits('/c/sri'), 1);
		await assert.rejects(fetch(url, {integrity: wrong}), TypeError, 'the hit');
		const good = await fetch(url, {integrity: sri});
		assert.equal(await good.text(), body);
		assert.equal(good.url, url);
		assert.equal(origin.hits('/c/sri'), 1, 'the hit and the matching request were served from the cache');
	});

	for (const [door, get] of [
		['fetch', async (url: string) => {
			const response = await fetch(url);
			return {status: response.status, body: await response.text()};
		}],
		['http.get', httpGet],
	] as const) {
		it(`deletes and reports once a foreign record ${door} cannot replay (a bad header name), then asks the origin`, async () => {
			installCache({backend: 'memory'});
			const errors: Error[] = [];
			getCache()!.on('error', (error: Error) => errors.push(error));
			const url = `${origin.url}/c/foreign-${door}`;
			const path = new URL(url).pathname;
			await get(url);
			assert.equal(await tamper(entry => ({...entry, headers: {...entry.headers, 'bad header': 'x'}})), 1);
			const first = await get(url);
			assert.equal(first.status, 200);
			assert.equal(first.body, body);
			assert.equal(origin.hits(path), 2, 'the record was refused: the origin answered');
			assert.equal(errors.length, 1, 'reported once');
			assert.match(errors[0]!.message + String((errors[0]!.cause as Error | undefined)?.message), /not a token/);
			const second = await get(url);
			assert.equal(second.body, body);
			assert.equal(origin.hits(path), 2, 'the fresh response replaced it: a hit again');
			assert.equal(errors.length, 1, 'and never reported again');
		});
	}

	it('refuses a record with a status no client can be answered with (999, a 204 with a body)', async () => {
		installCache({backend: 'memory'});
		const errors: Error[] = [];
		getCache()!.on('error', (error: Error) => errors.push(error));
		const url = `${origin.url}/c/status`;
		await fetch(url).then(async response => response.text());
		assert.equal(await tamper(entry => ({...entry, status: 999})), 1);
		const refused = await fetch(url);
		assert.equal(refused.status, 200);
		assert.equal(await refused.text(), body);
		await getCache()!.count();
		assert.equal(await tamper(entry => ({...entry, status: 204})), 1);
		const again = await fetch(url);
		assert.equal(again.status, 200);
		assert.equal(await again.text(), body);
		assert.equal(origin.hits('/c/status'), 3);
		assert.equal(errors.length, 2, errors.map(error => String((error.cause as Error | undefined)?.message)).join(" | "));
	});

	it('tells got a response came from the cache: response.isFromCache', async () => {
		installCache({backend: 'memory'});
		const url = `${origin.url}/c/got`;
		const first = await got(url);
		const second = await got(url);
		assert.equal(first.isFromCache, false);
		assert.equal(second.isFromCache, true);
		assert.equal(second.body, body);
		assert.equal(origin.hits('/c/got'), 1);
	});
});
