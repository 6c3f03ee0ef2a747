import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import got from 'got';
import {CachedSession, HTTPError, RequestError, RequestsCacheError, type Response, Session} from '../lib/index.js';
import {Origin} from './support/origin.js';

describe('Session', () => {
	let origin: Origin;

	before(async () => {
		origin = await Origin.start();
		origin.route('/headers', (request, response) => {
			response.writeHead(200, {'Content-Type': 'application/json', 'X-Mixed-Case': 'Yes', 'Set-Cookie': ['a=1', 'b=2']});
			response.end(JSON.stringify(request.headers));
		});
	});

	after(async () => {
		await origin.close();
	});

	const last = () => origin.seen.at(-1)!;

	describe('sending requests', () => {
		it('returns status, ok, lower-case headers, the final URL and the body as a Buffer', async () => {
			const session = new Session();
			const response = await session.get(`${origin.url}/headers`);
			assert.equal(response.status, 200);
			assert.equal(response.ok, true);
			assert.equal(response.headers['x-mixed-case'], 'Yes');
			assert.equal(response.headers['X-Mixed-Case'], undefined);
			assert.deepEqual(response.headers['set-cookie'], ['a=1', 'b=2']);
			assert.equal(response.url, `${origin.url}/headers`);
			assert.ok(Buffer.isBuffer(response.body));
			assert.equal(typeof response.json<Record<string, string>>()['host'], 'string');
		});

		it('sends each method shortcut with its own method', async () => {
			const session = new Session();
			const methods = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;
			for (const method of methods) {
				// eslint-disable-next-line no-await-in-loop -- one after another, to read `seen` in order
				const response = await session[method](`${origin.url}/echo`);
				assert.equal(last().method, method.toUpperCase());
				assert.equal(response.request.method, method.toUpperCase());
				assert.equal(response.status, 200);
			}

			const head = await session.head(`${origin.url}/echo`);
			assert.equal(head.body.length, 0, 'a HEAD response has no body');
		});

		it('accepts any method name through request(), upper-casing it', async () => {
			const response = await new Session().request('put', `${origin.url}/echo`, {body: 'x'});
			assert.equal(response.request.method, 'PUT');
			assert.equal(last().method, 'PUT');
		});

		it('merges params into the query the URL already has', async () => {
			const response = await new Session().get(`${origin.url}/json?a=1`, {params: {b: 2, c: [3, 'x'], d: null, e: undefined, f: true}});
			assert.equal(last().path, '/json?a=1&b=2&c=3&c=x&f=true');
			assert.equal(response.request.url, `${origin.url}/json?a=1&b=2&c=3&c=x&f=true`);
		});

		it('takes params as URLSearchParams, and a URL object as the URL', async () => {
			await new Session().get(new URL(`${origin.url}/json`), {params: new URLSearchParams([['q', 'a b'], ['q', 'c']])});
			assert.equal(last().path, '/json?q=a+b&q=c');
		});

		it('sends the session headers, with per-request headers winning whatever their case', async () => {
			const session = new Session({headers: {'User-Agent': 'spec/1.0', 'X-Team': 'core', 'X-Drop': undefined}});
			await session.get(`${origin.url}/echo`, {headers: {'x-team': 'cache', 'X-Count': 3}});
			const seen = last().headers;
			assert.equal(seen['user-agent'], 'spec/1.0');
			assert.equal(seen['x-team'], 'cache');
			assert.equal(seen['x-count'], '3');
			assert.equal(seen['x-drop'], undefined);
			assert.deepEqual(session.headers, {'user-agent': 'spec/1.0', 'x-team': 'core'});
		});

		it('sends json with a JSON content type', async () => {
			const response = await new Session().post(`${origin.url}/echo`, {json: {a: [1, 2], b: 'é'}});
			assert.equal(last().headers['content-type'], 'application/json');
			assert.deepEqual(JSON.parse(last().body.toString('utf8')), {a: [1, 2], b: 'é'});
			assert.deepEqual(JSON.parse(response.request.body!.toString('utf8')), {a: [1, 2], b: 'é'});
		});

		it('sends form fields URL-encoded, keeping a content type the caller gave', async () => {
			await new Session().post(`${origin.url}/echo`, {form: {name: 'a b', tags: ['x', 'y']}});
			assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded');
			assert.equal(last().body.toString('utf8'), 'name=a+b&tags=x&tags=y');
			await new Session().post(`${origin.url}/echo`, {form: {a: 1}, headers: {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}});
			assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded; charset=utf-8');
		});

		it('sends a raw body from a string, a Buffer or a Uint8Array', async () => {
			const session = new Session();
			await session.put(`${origin.url}/echo`, {body: 'plain text'});
			assert.equal(last().body.toString('utf8'), 'plain text');
			await session.put(`${origin.url}/echo`, {body: Buffer.from([1, 2, 3])});
			assert.deepEqual([...last().body], [1, 2, 3]);
			const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
			await session.put(`${origin.url}/echo`, {body: view});
			assert.deepEqual([...last().body], [8, 7]);
		});

		it('decompresses a gzip body', async () => {
			const response = await new Session().get(`${origin.url}/gzip`);
			assert.equal(response.text(), 'hello gzip');
		});

		it('records the request it sent: method, URL, headers and body', async () => {
			const response = await new Session({headers: {'x-a': '1'}}).post(`${origin.url}/echo`, {params: {p: 1}, body: 'payload'});
			assert.equal(response.request.method, 'POST');
			assert.equal(response.request.url, `${origin.url}/echo?p=1`);
			assert.equal(response.request.headers['x-a'], '1');
			assert.equal(response.request.body?.toString('utf8'), 'payload');
		});
	});

	describe('redirects', () => {
		it('follows redirects by default, reporting each hop in history and the final URL', async () => {
			const response = await new Session().get(`${origin.url}/redirect/2`);
			assert.equal(response.status, 200);
			assert.equal(response.url, `${origin.url}/json`);
			assert.deepEqual(response.history.map(hop => [hop.status, hop.url]), [
				[302, `${origin.url}/redirect/2`],
				[302, `${origin.url}/redirect/1`],
			]);
			assert.equal(response.history[0]!.headers['location'], '/redirect/1');
		});

		it('returns the redirect itself with followRedirects: false', async () => {
			const before = origin.hits('/json');
			const response = await new Session().get(`${origin.url}/redirect/1`, {followRedirects: false});
			assert.equal(response.status, 302);
			assert.equal(response.headers['location'], '/json');
			assert.equal(response.url, `${origin.url}/redirect/1`);
			assert.deepEqual(response.history, []);
			assert.equal(origin.hits('/json'), before);
		});
	});

	describe('errors and status codes', () => {
		it('returns 4xx and 5xx responses instead of throwing; raiseForStatus throws an HTTPError carrying the response', async () => {
			const session = new Session();
			for (const code of [404, 500]) {
				// eslint-disable-next-line no-await-in-loop -- sequential on purpose
				const response = await session.get(`${origin.url}/status/${code}`);
				assert.equal(response.status, code);
				assert.equal(response.ok, false);
				assert.throws(() => response.raiseForStatus(), (error: unknown) => {
					assert.ok(error instanceof HTTPError);
					assert.ok(error instanceof RequestsCacheError);
					assert.equal(error.code, 'ERR_HTTP_STATUS');
					assert.equal(error.response, response);
					assert.match(error.message, new RegExp(`^${code} ${code === 404 ? 'Client' : 'Server'} Error`));
					return true;
				});
			}
		});

		it('throws a RequestError with the cause when nothing answers', async () => {
			const server = createServer();
			await new Promise<void>(resolve => {
				server.listen(0, '127.0.0.1', resolve);
			});
			const {port} = server.address() as AddressInfo;
			await new Promise(resolve => {
				server.close(resolve);
			});
			await assert.rejects(new Session().get(`http://127.0.0.1:${port}/gone`), (error: unknown) => {
				assert.ok(error instanceof RequestError);
				assert.equal(error.code, 'ERR_REQUEST');
				assert.equal(error.method, 'GET');
				assert.equal(error.url, `http://127.0.0.1:${port}/gone`);
				assert.match(error.message, /ECONNREFUSED/);
				assert.ok(error.cause instanceof Error);
				return true;
			});
		});

		it('times out after the session timeout in milliseconds, and a per-request timeout overrides it', async () => {
			const session = new Session({timeout: 100});
			const started = Date.now();
			await assert.rejects(session.get(`${origin.url}/slow?ms=400`), (error: unknown) => error instanceof RequestError && /timeout/i.test(error.message));
			assert.ok(Date.now() - started < 380, 'gave up before the origin answered');
			const response = await session.get(`${origin.url}/slow?ms=150`, {timeout: 2000});
			assert.equal(response.status, 200);
			await assert.rejects(new Session().get(`${origin.url}/slow?ms=400`, {timeout: 50}), RequestError);
		});
	});

	describe('response hooks', () => {
		it('calls every hook in order with the response and the session', async () => {
			const calls: string[] = [];
			const session: Session = new Session({
				hooks: {
					response: [
						(response, s) => {
							calls.push(`first ${response.status} ${s === session}`);
						},
						async response => {
							calls.push(`second ${response.status}`);
						},
					],
				},
			});
			await session.get(`${origin.url}/json`);
			await session.get(`${origin.url}/status/404`);
			assert.deepEqual(calls, ['first 200 true', 'second 200', 'first 404 true', 'second 404']);
		});

		it('lets a hook replace the response, and the next hook sees the replacement', async () => {
			let seenByNext: Response | undefined;
			const session = new Session();
			session.hooks.response.push(
				response => {
					response.headers['x-hooked'] = 'one';
					return response;
				},
				async response => {
					const replacement = Object.assign(Object.create(Object.getPrototypeOf(response) as object) as Response, response, {status: 299});
					return replacement;
				},
				response => {
					seenByNext = response;
				},
			);
			const response = await session.get(`${origin.url}/json`);
			assert.equal(response.status, 299);
			assert.equal(response.headers['x-hooked'], 'one');
			assert.equal(seenByNext, response);
		});
	});

	describe('a user got instance', () => {
		it('sends with the given got instance and keeps its own settings and hooks', async () => {
			let calls = 0;
			const custom = got.extend({
				headers: {'x-from-got': 'yes'},
				hooks: {
					beforeRequest: [
						() => {
							calls++;
						},
					],
				},
			});
			const session = new Session({got: custom, headers: {'x-from-session': 'yes'}});
			assert.equal(session.got, custom);
			const response = await session.get(`${origin.url}/redirect/1`);
			assert.equal(calls, 2, 'the hook ran for the request and for the redirect');
			assert.equal(last().headers['x-from-got'], 'yes');
			assert.equal(last().headers['x-from-session'], 'yes');
			assert.equal(response.history.length, 1, 'our redirect hook still ran beside the user hooks');
		});

		it('does not retry by default: one request, one attempt', async () => {
			let attempts = 0;
			origin.route('/flaky', (_request, response) => {
				attempts++;
				response.writeHead(503).end('busy');
			});
			const response = await new Session().get(`${origin.url}/flaky`);
			assert.equal(response.status, 503);
			assert.equal(attempts, 1);
		});
	});

	describe('bad input', () => {
		it('rejects unknown, mistyped and impossible constructor options, naming them', () => {
			assert.throws(() => new Session({header: {}} as never), {name: 'TypeError', message: /unknown option `header`/});
			assert.throws(() => new Session('x' as never), {name: 'TypeError', message: /`options` must be an object/});
			assert.throws(() => new Session({timeout: '10' as never}), {name: 'TypeError', message: /`timeout` must be a number/});
			assert.throws(() => new Session({timeout: -1}), {name: 'RangeError', message: /`timeout`/});
			assert.throws(() => new Session({timeout: Number.POSITIVE_INFINITY}), {name: 'RangeError', message: /`timeout`/});
			assert.throws(() => new Session({timeout: Number.NaN}), {name: 'TypeError', message: /`timeout`/});
			assert.throws(() => new Session({headers: {a: {} as never}}), {name: 'TypeError', message: /`headers\['a'\]`/});
			assert.throws(() => new Session({headers: [] as never}), {name: 'TypeError', message: /`headers`/});
			assert.throws(() => new Session({hooks: {response: 'x' as never}}), {name: 'TypeError', message: /`hooks.response`/});
			assert.throws(() => new Session({hooks: {response: [1 as never]}}), {name: 'TypeError', message: /`hooks.response`/});
			assert.throws(() => new Session({hooks: {request: []} as never}), {name: 'TypeError', message: /unknown option `request`/});
			assert.throws(() => new Session({got: {} as never}), {name: 'TypeError', message: /`got` must be a got instance/});
		});

		it('rejects bad request arguments before sending anything', async () => {
			const session = new Session();
			const before = origin.hits();
			const url = `${origin.url}/json`;
			await assert.rejects(session.get(url, {param: {}} as never), {name: 'TypeError', message: /request: unknown option `param`/});
			await assert.rejects(session.get(url, {follow_redirects: true} as never), {name: 'TypeError', message: /unknown option `follow_redirects` \(did you mean `followRedirects`\?\)/});
			await assert.rejects(session.get(url, 'x' as never), {name: 'TypeError', message: /`options`/});
			await assert.rejects(session.get('not a url'), {name: 'TypeError', message: /invalid URL "not a url"/});
			await assert.rejects(session.get('/json'), {name: 'TypeError', message: /invalid URL/});
			await assert.rejects(session.get('ftp://127.0.0.1/x'), {name: 'TypeError', message: /unsupported URL scheme "ftp:"/});
			await assert.rejects(session.get(42 as never), {name: 'TypeError', message: /`url`/});
			await assert.rejects(session.request('GE T', url), {name: 'TypeError', message: /`method`/});
			await assert.rejects(session.get(url, {params: [['a', 'b']] as never}), {name: 'TypeError', message: /`params`/});
			await assert.rejects(session.get(url, {params: {a: {} as never}}), {name: 'TypeError', message: /`params\['a'\]`/});
			await assert.rejects(session.post(url, {json: {}, form: {}}), {name: 'TypeError', message: /`json` and `form` cannot be combined/});
			await assert.rejects(session.post(url, {json: 1n}), {name: 'TypeError', message: /`json` must be JSON-serializable/});
			await assert.rejects(session.post(url, {json: () => 1}), {name: 'TypeError', message: /`json`/});
			await assert.rejects(session.post(url, {body: 5 as never}), {name: 'TypeError', message: /`body`/});
			await assert.rejects(session.get(url, {timeout: 0}), {name: 'RangeError', message: /`timeout`/});
			await assert.rejects(session.get(url, {followRedirects: 'no' as never}), {name: 'TypeError', message: /`followRedirects` must be a boolean/});
			assert.equal(origin.hits(), before, 'nothing reached the origin');
		});

		it('refuses cache options on a session without a cache instead of ignoring them', async () => {
			const before = origin.hits();
			await assert.rejects(new Session().get(`${origin.url}/json`, {expireAfter: 60}), {name: 'TypeError', message: /`expireAfter` needs a cache/});
			await assert.rejects(new Session().get(`${origin.url}/json`, {forceRefresh: true}), {name: 'TypeError', message: /`forceRefresh` needs a cache/});
			assert.equal(origin.hits(), before);
		});
	});

	describe('await using', () => {
		it('closes a session at the end of the block, and when the block throws', async () => {
			const closed: string[] = [];
			class Tracked extends Session {
				override async close(): Promise<void> {
					closed.push('closed');
				}
			}

			{
				await using session = new Tracked();
				assert.equal((await session.get(`${origin.url}/json`)).status, 200);
				assert.deepEqual(closed, []);
			}

			assert.deepEqual(closed, ['closed']);
			await assert.rejects(async () => {
				await using _session = new Tracked();
				throw new Error('boom');
			}, {message: 'boom'});
			assert.deepEqual(closed, ['closed', 'closed']);
		});

		it('calls a cached session\'s close(), which closes its cache', async () => {
			let closes = 0;
			class TrackedCached extends CachedSession {
				override async close(): Promise<void> {
					closes++;
					await super.close();
				}
			}

			{
				await using session = new TrackedCached({backend: 'memory'});
				await session.get(`${origin.url}/json?disposed=1`);
				assert.equal((await session.get(`${origin.url}/json?disposed=1`)).fromCache, true);
			}

			assert.equal(closes, 1);
		});

		it('has Symbol.asyncDispose on Node 20', () => {
			assert.equal(typeof Symbol.asyncDispose, 'symbol');
			assert.equal(typeof Session.prototype[Symbol.asyncDispose], 'function');
		});
	});
});
