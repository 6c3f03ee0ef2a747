import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {CachedSession} from '../../lib/index.js';
import type {CachedEntry} from '../../lib/codec/entry.js';
import {covers, parseContentRange, parseRange, partialEntry} from '../../lib/policy/ranges.js';
import {Origin} from '../support/origin.js';

function entry(status: number, body: string, headers: Record<string, string> = {}): CachedEntry {
	return {
		kind: 'response', status, reason: '', headers, url: 'http://example.test/', history: [],
		request: {method: 'GET', url: 'http://example.test/', headers: {}, body: null},
		createdAt: 0, expires: null, facts: {age: 0, mustRevalidate: false, noCache: false}, body: Buffer.from(body),
	};
}

describe('policy/ranges', () => {
	it('reads one byte range, and leaves every other Range to the origin', () => {
		assert.deepEqual(parseRange('bytes=0-1'), {kind: 'from', first: 0, last: 1});
		assert.deepEqual(parseRange('bytes=5-'), {kind: 'from', first: 5});
		assert.deepEqual(parseRange(' Bytes = -3 '), {kind: 'suffix', length: 3});
		for (const value of [undefined, 'bytes=0-1,3-4', 'items=0-1', 'bytes=5-1', 'bytes=-0', 'bytes=-', 'bytes=a-b']) {
			assert.equal(parseRange(value), undefined, String(value));
		}
	});

	it('reads Content-Range: bytes first-last/total', () => {
		assert.deepEqual(parseContentRange({'content-range': 'bytes 4-9/10'}), {first: 4, last: 9, total: 10});
		assert.deepEqual(parseContentRange({'content-range': 'bytes 0-4/*'}), {first: 0, last: 4, total: undefined});
		assert.equal(parseContentRange({'content-range': 'bytes 4-10/10'}), undefined);
		assert.equal(parseContentRange({'content-range': 'bytes */10'}), undefined);
		assert.equal(parseContentRange({}), undefined);
	});

	it('cuts a stored whole response down to the range asked for', () => {
		const whole = entry(200, '0123456789A', {'content-length': '11', 'x-a': '1'});
		const cut = partialEntry(whole, {kind: 'from', first: 0, last: 1})!;
		assert.equal(cut.status, 206);
		assert.equal(cut.body.toString(), '01');
		assert.deepEqual(cut.headers, {'content-length': '2', 'content-range': 'bytes 0-1/11', 'x-a': '1'});
		assert.equal(partialEntry(whole, {kind: 'from', first: 1})!.body.toString(), '123456789A');
		assert.equal(partialEntry(whole, {kind: 'suffix', length: 1})!.body.toString(), 'A');
		assert.equal(partialEntry(whole, {kind: 'from', first: 5, last: 99})!.headers['content-range'], 'bytes 5-10/11');
		assert.equal(covers(whole, {kind: 'from', first: 11}), false);
	});

	it('answers from a stored part only the ranges it holds', () => {
		const part = entry(206, '456789', {'content-range': 'bytes 4-9/10'});
		assert.equal(partialEntry(part, {kind: 'from', first: 6, last: 8})!.body.toString(), '678');
		assert.equal(partialEntry(part, {kind: 'from', first: 6})!.body.toString(), '6789');
		assert.equal(partialEntry(part, {kind: 'suffix', length: 2})!.body.toString(), '89');
		assert.equal(covers(part, {kind: 'from', first: 2, last: 5}), false);
		assert.equal(covers(entry(206, '01234', {'content-range': 'bytes 0-4/10'}), {kind: 'suffix', length: 2}), false);
		assert.equal(covers(entry(206, '01234', {}), {kind: 'from', first: 0, last: 1}), false);
	});

	describe('a session with cacheControl: \'rfc9111\', against a real origin', () => {
		let origin: Origin;
		let session: CachedSession;

		before(async () => {
			origin = await Origin.start();
			origin.route('/r/whole', (_request, response) => {
				response.writeHead(200, {'cache-control': 'max-age=60', 'content-type': 'text/plain'}).end('0123456789A');
			});
			origin.route('/r/part', (request, response) => {
				if (request.headers['range'] === undefined) {
					response.writeHead(200, {'cache-control': 'max-age=60'}).end('0123456789');
					return;
				}

				response.writeHead(206, {'cache-control': 'max-age=60', 'content-range': 'bytes 4-9/10'}).end('456789');
			});
		});

		beforeEach(() => {
			session = new CachedSession({backend: 'memory', cacheControl: 'rfc9111'});
		});

		afterEach(async () => {
			await session.close();
		});

		after(async () => {
			await origin.close();
		});

		it('serves ranges of a stored whole response as 206 without asking the origin', async () => {
			const before = origin.hits('/r/whole');
			await session.get(`${origin.url}/r/whole`);
			for (const [range, text, contentRange] of [['bytes=0-1', '01', 'bytes 0-1/11'], ['bytes=1-', '123456789A', 'bytes 1-10/11'], ['bytes=-1', 'A', 'bytes 10-10/11']]) {
				// eslint-disable-next-line no-await-in-loop -- one range after another
				const response = await session.get(`${origin.url}/r/whole`, {headers: {range: range!}});
				assert.equal(response.status, 206, range);
				assert.equal(response.fromCache, true, range);
				assert.equal(response.text(), text, range);
				assert.equal(response.headers['content-range'], contentRange, range);
			}

			assert.equal(origin.hits('/r/whole'), before + 1);
			// The stored whole is untouched: a plain request still gets all of it.
			assert.equal((await session.get(`${origin.url}/r/whole`)).text(), '0123456789A');
		});

		it('sends a range the stored response does not hold to the origin', async () => {
			const before = origin.hits('/r/whole');
			await session.get(`${origin.url}/r/whole`);
			const beyond = await session.get(`${origin.url}/r/whole`, {headers: {range: 'bytes=20-'}});
			assert.equal(beyond.fromCache, false);
			assert.equal(origin.hits('/r/whole'), before + 2);
		});

		it('stores a 206 and serves the ranges within it, never a whole request', async () => {
			const first = await session.get(`${origin.url}/r/part`, {headers: {range: 'bytes=4-'}});
			assert.equal(first.status, 206);
			const inside = await session.get(`${origin.url}/r/part`, {headers: {range: 'bytes=6-8'}});
			assert.equal(inside.fromCache, true);
			assert.equal(inside.text(), '678');
			assert.equal(origin.hits('/r/part'), 1);
			const whole = await session.get(`${origin.url}/r/part`);
			assert.equal(whole.status, 200);
			assert.equal(whole.fromCache, false);
			assert.equal(whole.text(), '0123456789');
		});

		it('passes ranges through untouched with cacheControl: true', async () => {
			const plain = new CachedSession({backend: 'memory', cacheControl: true});
			try {
				await plain.get(`${origin.url}/r/whole`);
				const before = origin.hits('/r/whole');
				const response = await plain.get(`${origin.url}/r/whole`, {headers: {range: 'bytes=0-1'}});
				assert.equal(response.fromCache, false);
				assert.equal(origin.hits('/r/whole'), before + 1);
			} finally {
				await plain.close();
			}
		});
	});
});
