import assert from 'node:assert/strict';
import got from 'got';
import {CachedSession, Session} from '../../lib/index.js';
import {prepareRequest} from '../../lib/models/request.js';
import {Origin} from '../support/origin.js';

describe('prepareRequest with a base (got\'s prefixUrl)', () => {
	it('appends a relative URL to the base as text, as got does', () => {
		assert.equal(prepareRequest('GET', 'users?page=2', {}, {}, 'request', 'https://api.example.com/v1/').url, 'https://api.example.com/v1/users?page=2');
		assert.equal(prepareRequest('GET', '', {params: {q: 'x'}}, {}, 'request', 'https://api.example.com/v1/').url, 'https://api.example.com/v1/?q=x');
	});

	it('keeps an absolute URL as it is', () => {
		assert.equal(prepareRequest('GET', 'https://other.example.com/x', {}, {}, 'request', 'https://api.example.com/v1/').url, 'https://other.example.com/x');
	});

	it('rejects a leading slash under a base, and a relative URL without one', () => {
		assert.throws(() => prepareRequest('GET', '/users', {}, {}, 'request', 'https://api.example.com/v1/'), {name: 'TypeError', message: /must not start with a slash when the session's got has a prefixUrl/});
		assert.throws(() => prepareRequest('GET', 'users', {}, {}), {name: 'TypeError', message: /an absolute http\(s\) URL is required \(or a got instance with a prefixUrl\)/});
	});
});

describe('Session with a got prefixUrl', () => {
	let origin: Origin;

	before(async () => {
		origin = await Origin.start();
	});

	after(async () => {
		await origin.close();
	});

	it('sends relative URLs under the prefix, and absolute ones as they are', async () => {
		const session = new Session({got: got.extend({prefixUrl: origin.url, retry: {limit: 0}})});
		const relative = await session.get('json', {params: {a: 1}});
		assert.equal(relative.url, `${origin.url}/json?a=1`);
		assert.equal(relative.request.url, `${origin.url}/json?a=1`, 'the prepared request has the absolute URL');
		assert.deepEqual(relative.json<{query: Record<string, string>}>().query, {a: '1'});
		const absolute = await session.get(`${origin.url}/echo`);
		assert.equal(absolute.url, `${origin.url}/echo`);
		assert.equal(origin.seen.at(-1)!.path, '/echo', 'got did not put its prefix in front again');
	});

	it('keeps a path in the prefix', async () => {
		const session = new Session({got: got.extend({prefixUrl: `${origin.url}/status`})});
		const response = await session.get('418');
		assert.equal(response.status, 418);
		assert.equal(response.url, `${origin.url}/status/418`);
	});

	it('caches a relative URL under its absolute key', async () => {
		const session = new CachedSession({backend: 'memory', got: got.extend({prefixUrl: origin.url})});
		await session.get('json?cached=relative');
		const hits = origin.hits('/json');
		const again = await session.get(`${origin.url}/json?cached=relative`);
		assert.equal(again.fromCache, true);
		assert.equal(origin.hits('/json'), hits);
		await session.close();
	});
});
