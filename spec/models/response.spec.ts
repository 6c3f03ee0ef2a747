import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {HTTPError, Response, Session} from '../../lib/index.js';
import {Origin} from '../support/origin.js';

describe('Response', () => {
	let origin: Origin;
	const session = new Session();

	before(async () => {
		origin = await Origin.start();
		origin.route('/latin1', (_request, response) => {
			response.writeHead(200, {'content-type': 'text/plain; charset=ISO-8859-1'}).end(Buffer.from('café', 'latin1'));
		});
		origin.route('/not-json', (_request, response) => {
			response.writeHead(200, {'content-type': 'application/json'}).end('{oops');
		});
		origin.route('/reason', (_request, response) => {
			response.writeHead(418, 'Short And Stout').end();
		});
	});

	after(async () => {
		await origin.close();
	});

	it('keeps the body bytes exactly as received', async () => {
		const response = await session.get(`${origin.url}/bytes?n=1000`);
		assert.ok(Buffer.isBuffer(response.body));
		assert.equal(response.body.length, 1000);
		assert.equal(response.body[999], (999 * 7 + 3) % 256);
	});

	it('decodes text as UTF-8 by default and as Latin-1 when the content type says so', async () => {
		const utf8 = await session.post(`${origin.url}/echo`, {json: {word: 'café'}});
		assert.equal(JSON.parse(utf8.json<{body: string}>().body).word, 'café');
		const latin1 = await session.get(`${origin.url}/latin1`);
		assert.equal(latin1.body.length, 4);
		assert.equal(latin1.text(), 'café');
	});

	it('parses JSON, and names the URL in the SyntaxError when the body is not JSON', async () => {
		const response = await session.get(`${origin.url}/json?x=1`);
		assert.deepEqual(response.json<{query: unknown}>().query, {x: '1'});
		const bad = await session.get(`${origin.url}/not-json`);
		assert.throws(() => bad.json(), (error: unknown) => error instanceof SyntaxError && error.message.includes(`${origin.url}/not-json`) && error.cause instanceof SyntaxError);
	});

	it('is ok below 400 and not ok from 400 on', async () => {
		assert.equal((await session.get(`${origin.url}/status/204`)).ok, true);
		assert.equal((await session.get(`${origin.url}/status/399`)).ok, true);
		assert.equal((await session.get(`${origin.url}/status/400`)).ok, false);
		assert.equal((await session.get(`${origin.url}/status/503`)).ok, false);
	});

	it('raiseForStatus returns the response itself when the status is below 400', async () => {
		const response = await session.get(`${origin.url}/json`);
		assert.equal(response.raiseForStatus(), response);
		const redirect = await session.get(`${origin.url}/redirect/1`, {followRedirects: false});
		assert.equal(redirect.raiseForStatus(), redirect);
	});

	it('raiseForStatus puts the status, the reason phrase and the URL in the error message', async () => {
		const response = await session.get(`${origin.url}/reason`);
		assert.equal(response.reason, 'Short And Stout');
		assert.throws(() => response.raiseForStatus(), (error: unknown) => error instanceof HTTPError
			&& error.message === `418 Client Error: Short And Stout for url: ${origin.url}/reason` && error.response === response);
	});

	it('starts out as not cached: fromCache false, no expiry, no cache key, createdAt now', async () => {
		const before = Date.now();
		const response = await session.get(`${origin.url}/json`);
		assert.equal(response.fromCache, false);
		assert.equal(response.expires, null);
		assert.equal(response.isExpired, false);
		assert.equal(response.revalidated, false);
		assert.equal(response.cacheKey, '');
		assert.ok(response.createdAt instanceof Date);
		assert.ok(response.createdAt.getTime() >= before && response.createdAt.getTime() <= Date.now());
	});

	it('can be built directly, with an empty history and reason by default', () => {
		const response = new Response({
			status: 201,
			headers: {'content-type': 'application/json'},
			url: 'http://example.test/made',
			body: Buffer.from('{"made":true}'),
			request: {method: 'POST', url: 'http://example.test/make', headers: {}, body: undefined},
		});
		assert.deepEqual(response.history, []);
		assert.equal(response.reason, '');
		assert.deepEqual(response.json(), {made: true});
		assert.equal(response.ok, true);
	});
});
