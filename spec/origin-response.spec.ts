import assert from 'node:assert/strict';
import {Session} from '../lib/index.js';
import {responseHeaders} from '../lib/origin-response.js';
import {Origin} from './support/origin.js';

describe('origin-response', () => {
	let origin: Origin;
	const session = new Session();

	before(async () => {
		origin = await Origin.start();
		// Bytes beyond Content-Length, as the suite's origin sends for headers-store-Content-Length.
		origin.route('/excess', (_request, response) => {
			response.setHeader('content-length', '10');
			response.setHeader('cache-control', 'max-age=60');
			response.end('0123456789-and-more-than-announced');
		});
		origin.route('/age-lines', (_request, response) => {
			response.setHeader('age', ['0', '7200']);
			response.setHeader('set-cookie', ['a=1', 'b=2']);
			response.setHeader('x-one', 'one');
			response.end('ok');
		});
	});

	after(async () => {
		await origin.close();
	});

	it('keeps a complete response the origin follows with bytes beyond its Content-Length', async () => {
		for (let attempt = 0; attempt < 3; attempt++) {
			// eslint-disable-next-line no-await-in-loop -- each on a connection of its own, one after another
			const response = await session.get(`${origin.url}/excess`);
			assert.equal(response.status, 200);
			assert.equal(response.text(), '0123456789');
			assert.equal(response.headers['content-length'], '10');
		}

		assert.equal(origin.hits('/excess'), 3);
	});

	it('still fails a request whose response is cut short', async () => {
		origin.route('/short', (request, response) => {
			response.setHeader('content-length', '100');
			response.write('0123456789');
			setTimeout(() => request.socket.destroy(), 10);
		});
		await assert.rejects(session.get(`${origin.url}/short`), /failed/);
	});

	it('keeps every line of a repeated header, combined as fetch combines them', async () => {
		const response = await session.get(`${origin.url}/age-lines`);
		assert.equal(response.headers['age'], '0, 7200');
		assert.deepEqual(response.headers['set-cookie'], ['a=1', 'b=2']);
		assert.equal(response.headers['x-one'], 'one');
	});

	it('falls back to the combined headers when there is no per-line view', () => {
		assert.deepEqual(responseHeaders({}, {'x-a': '1', 'set-cookie': ['a=1'], 'x-none': undefined}), {'x-a': '1', 'set-cookie': ['a=1']});
	});
});
