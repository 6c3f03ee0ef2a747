import assert from 'node:assert/strict';
import * as requestsCache from '../lib/index.js';
import {Session, getDefaultSession, isInstalled, request} from '../lib/index.js';
import {Origin} from './support/origin.js';

describe('module-level functions', () => {
	let origin: Origin;

	before(async () => {
		origin = await Origin.start();
		assert.equal(isInstalled(), false, 'these specs run without an installed cache');
	});

	after(async () => {
		await origin.close();
	});

	const last = () => origin.seen.at(-1)!;

	it('sends each method through the default session', async () => {
		const functions = {
			get: requestsCache.get,
			post: requestsCache.post,
			put: requestsCache.put,
			patch: requestsCache.patch,
			delete: requestsCache.delete,
			head: requestsCache.head,
			options: requestsCache.options,
		};
		for (const [name, send] of Object.entries(functions)) {
			// eslint-disable-next-line no-await-in-loop -- one at a time, to read what the origin saw
			const response = await send(`${origin.url}/echo`);
			assert.equal(response.status, 200);
			assert.equal(last().method, name.toUpperCase());
			assert.equal(response.request.method, name.toUpperCase());
		}
	});

	it('passes the request options on: params, headers and bodies', async () => {
		const response = await request('post', `${origin.url}/echo`, {params: {a: 1}, headers: {'X-Api': 'module'}, json: {b: 2}});
		assert.equal(last().path, '/echo?a=1');
		assert.equal(last().headers['x-api'], 'module');
		assert.deepEqual(JSON.parse(last().body.toString('utf8')), {b: 2});
		assert.equal(response.json<{method: string}>().method, 'POST');
		await requestsCache.put(`${origin.url}/echo`, {form: {c: 3}});
		assert.equal(last().body.toString('utf8'), 'c=3');
	});

	it('uses one plain default Session, whose settings apply to every call', async () => {
		const session = getDefaultSession();
		assert.ok(session instanceof Session);
		assert.equal(getDefaultSession(), session);
		session.headers['x-default'] = 'yes';
		try {
			await requestsCache.get(`${origin.url}/echo`);
			assert.equal(last().headers['x-default'], 'yes');
		} finally {
			delete session.headers['x-default'];
		}
	});

	it('does not cache without installCache()', async () => {
		const before = origin.hits('/json');
		const first = await requestsCache.get(`${origin.url}/json?plain=1`);
		const second = await requestsCache.get(`${origin.url}/json?plain=1`);
		assert.equal(first.fromCache, false);
		assert.equal(second.fromCache, false);
		assert.equal(origin.hits('/json'), before + 2);
	});

	it('returns error statuses and rejects bad input like a Session', async () => {
		const response = await requestsCache.get(`${origin.url}/status/500`);
		assert.equal(response.ok, false);
		assert.throws(() => response.raiseForStatus(), requestsCache.HTTPError);
		await assert.rejects(requestsCache.get('nope'), {name: 'TypeError', message: /invalid URL/});
		await assert.rejects(requestsCache.get(`${origin.url}/json`, {params: 5 as never}), {name: 'TypeError', message: /`params`/});
		await assert.rejects(request('BAD METHOD', `${origin.url}/json`), {name: 'TypeError', message: /`method`/});
	});
});
