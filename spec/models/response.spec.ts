import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {CachedSession, HTTPError, Response, Session} from '../../lib/index.js';
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
		// Exactly the bytes of `hex`, with the Content-Type `type` (none when absent).
		origin.route('/raw', (request, response) => {
			const query = new URL(request.url!, origin.url).searchParams;
			const type = query.get('type');
			response.writeHead(200, type === null ? {} : {'content-type': type}).end(Buffer.from(query.get('hex') ?? '', 'hex'));
		});
	});

	const raw = (type: string | undefined, bytes: number[] | Buffer): string => {
		const query = new URLSearchParams({hex: Buffer.from(bytes).toString('hex')});
		if (type !== undefined) {
			query.set('type', type);
		}

		return `${origin.url}/raw?${query}`;
	};

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

	describe('text() and charsets', () => {
		it('decodes windows-1252 and Shift_JIS bytes with the charset the response declares', async () => {
			// "café €" in windows-1252: é is 0xE9, € is 0x80.
			const cp1252 = await session.get(raw('text/plain; charset=windows-1252', [0x63, 0x61, 0x66, 0xE9, 0x20, 0x80]));
			assert.equal(cp1252.text(), 'café €');
			// 0x80-0x9F are where windows-1252 differs from Latin-1 (Node 20's own decoder gets them wrong).
			const quotes = await session.get(raw('text/plain; charset=cp1252', [0x93, 0x48, 0x94, 0x20, 0x96, 0x20, 0x91, 0x99, 0x92, 0x81]));
			assert.equal(quotes.text(), '\u201CH\u201D \u2013 \u2018\u2122\u2019\u0081');
			// "日本語" in Shift_JIS, the label quoted and in mixed case.
			const sjis = await session.get(raw('text/html; charset="Shift_JIS"', [0x93, 0xFA, 0x96, 0x7B, 0x8C, 0xEA]));
			assert.equal(sjis.text(), '日本語');
			const eucKr = await session.get(raw('text/plain;charset=euc-kr', [0xC7, 0xD1, 0xB1, 0xDB]));
			assert.equal(eucKr.text(), '한글');
		});

		it('decodes utf-16le, and json() parses a body in the declared charset', async () => {
			const text = await session.get(raw('text/plain; charset=utf-16le', Buffer.from('héllo wörld', 'utf16le')));
			assert.equal(text.text(), 'héllo wörld');
			const json = await session.get(raw('application/json; charset=UTF-16LE', Buffer.from('{"word":"café"}', 'utf16le')));
			assert.deepEqual(json.json(), {word: 'café'});
		});

		it('reads latin1 and iso-8859-1 as windows-1252, as browsers do', async () => {
			for (const label of ['latin1', 'ISO-8859-1']) {
				// eslint-disable-next-line no-await-in-loop -- two labels, one after the other
				const response = await session.get(raw(`text/plain; charset=${label}`, [0xE9, 0x80]));
				assert.equal(response.text(), 'é€', label);
			}
		});

		it('decodes UTF-8 without a charset, and with a label it does not know', async () => {
			const utf8 = Buffer.from('naïve ☕', 'utf8');
			assert.equal((await session.get(raw(undefined, utf8))).text(), 'naïve ☕');
			assert.equal((await session.get(raw('text/plain', utf8))).text(), 'naïve ☕');
			assert.equal((await session.get(raw('text/plain; charset=x-klingon', utf8))).text(), 'naïve ☕');
			// "replacement" labels of the Encoding Standard are not decodable either: UTF-8.
			assert.equal((await session.get(raw('text/plain; charset=iso-2022-kr', utf8))).text(), 'naïve ☕');
		});

		it('lets a byte order mark win over the label, and leaves it out of the text', async () => {
			const bom8 = await session.get(raw('application/json', [0xEF, 0xBB, 0xBF, ...Buffer.from('{"a":1}')]));
			assert.deepEqual(bom8.json(), {a: 1});
			const bom16be = await session.get(raw('text/plain; charset=windows-1252', [0xFE, 0xFF, 0x00, 0x68, 0x00, 0xE9]));
			assert.equal(bom16be.text(), 'hé');
		});

		it('turns bytes invalid in the encoding into U+FFFD instead of throwing', async () => {
			const response = await session.get(raw('text/plain; charset=utf-8', [0x61, 0xFF, 0x62]));
			assert.equal(response.text(), 'a\uFFFDb');
		});

		it('decodes a cached response with its stored charset', async () => {
			const cached = new CachedSession({backend: 'memory'});
			const url = raw('text/plain; charset=windows-1252', [0x63, 0x61, 0x66, 0xE9]);
			await cached.get(url);
			const response = await cached.get(url);
			assert.equal(response.fromCache, true);
			assert.equal(response.text(), 'café');
			await cached.close();
		});
	});
});
