import assert from 'node:assert/strict';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {CachedSession, RequestError, Session} from '../lib/index.js';
import {networkCodeOf} from '../lib/errors.js';
import {Origin} from './support/origin.js';

/** A port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
	const server = createServer();
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	await new Promise(resolve => {
		server.close(resolve);
	});
	return port;
}

async function failure(promise: Promise<unknown>): Promise<RequestError> {
	try {
		await promise;
	} catch (error) {
		assert.ok(error instanceof RequestError, `expected a RequestError, got ${String(error)}`);
		return error;
	}

	assert.fail('the request succeeded');
}

describe('RequestError.networkCode', () => {
	let origin: Origin;

	before(async () => {
		origin = await Origin.start();
		// Accepts the connection and drops it without answering.
		origin.route('/drop', request => {
			request.socket.destroy();
		});
	});

	after(async () => {
		await origin.close();
	});

	it('is ECONNREFUSED when nothing listens on the port', async () => {
		const port = await closedPort();
		const error = await failure(new Session().get(`http://127.0.0.1:${port}/`));
		assert.equal(error.networkCode, 'ECONNREFUSED');
		assert.equal(error.code, 'ERR_REQUEST', 'the package-level code stays the same');
		assert.match(error.message, /\(ECONNREFUSED\)/);
	});

	it('is ETIMEDOUT when the origin is slower than the timeout, per session or per request', async () => {
		const bySession = await failure(new Session({timeout: 50}).get(`${origin.url}/slow?ms=400`));
		assert.equal(bySession.networkCode, 'ETIMEDOUT');
		const byRequest = await failure(new Session().get(`${origin.url}/slow?ms=400`, {timeout: 50}));
		assert.equal(byRequest.networkCode, 'ETIMEDOUT');
	});

	it('is ECONNRESET when the origin drops the connection', async () => {
		const error = await failure(new Session().get(`${origin.url}/drop`));
		assert.equal(error.networkCode, 'ECONNRESET');
	});

	it('is ENOTFOUND (or EAI_AGAIN without a resolver) for a host that does not exist', async () => {
		// .invalid is reserved (RFC 6761): it never resolves.
		const error = await failure(new Session().get('http://no-such-host.invalid/'));
		assert.ok(error.networkCode === 'ENOTFOUND' || error.networkCode === 'EAI_AGAIN', String(error.networkCode));
	});

	it('is the same through a cached session', async () => {
		const session = new CachedSession({backend: 'memory'});
		const port = await closedPort();
		const error = await failure(session.get(`http://127.0.0.1:${port}/`));
		assert.equal(error.networkCode, 'ECONNREFUSED');
		await session.close();
	});

	describe('networkCodeOf', () => {
		it('takes the first code along the cause chain, skipping got\'s generic one', () => {
			const socket = Object.assign(new Error('connect'), {code: 'EHOSTUNREACH'});
			const wrapper = Object.assign(new Error('request failed', {cause: socket}), {code: 'ERR_GOT_REQUEST_ERROR'});
			assert.equal(networkCodeOf(wrapper), 'EHOSTUNREACH');
		});

		it('calls any TimeoutError ETIMEDOUT, and ignores numeric codes (DOMException)', () => {
			assert.equal(networkCodeOf(new DOMException('signal timed out', 'TimeoutError')), 'ETIMEDOUT');
			assert.equal(networkCodeOf(new DOMException('aborted', 'AbortError')), undefined);
		});

		it('is undefined for what carries no code', () => {
			assert.equal(networkCodeOf(new Error('plain')), undefined);
			assert.equal(networkCodeOf('a string'), undefined);
			assert.equal(networkCodeOf(undefined), undefined);
		});

		it('is what the constructor computes from the cause unless given', () => {
			const request = {method: 'GET', url: 'http://x.test/'};
			assert.equal(new RequestError('m', request, {cause: Object.assign(new Error('x'), {code: 'EPIPE'})}).networkCode, 'EPIPE');
			assert.equal(new RequestError('m', request, {cause: new Error('x'), networkCode: 'ECONNRESET'}).networkCode, 'ECONNRESET');
			assert.equal(new RequestError('m', request).networkCode, undefined);
		});
	});
});
