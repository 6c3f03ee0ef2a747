import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import path from 'node:path';
import {monitorEventLoopDelay} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import got from 'got';
import {createEngine} from '../../lib/config/assemble.js';
import {CachedSession} from '../../lib/cached-session.js';
import {Lru, SLOW_MEMO_SIZE, derivationCounts} from '../../lib/codec/credentials.js';
import type {PreparedRequest} from '../../lib/models/request.js';
import {normalizeCacheOptions} from '../../lib/config/options.js';
import {Session} from '../../lib/session.js';
import {Origin} from '../support/origin.js';
import {settled} from '../support/settled.js';
import {tempDir} from '../support/temp-dir.js';

/*
 * The identity model (docs/security.md): a session's cookies are its state, not a new user;
 * explicit credentials keep users apart; a `private` response is its owner's alone, "no
 * credentials" included; a redirect hop that adds credentials gets nothing stored; a new
 * credential never blocks the event loop. Against a real origin, counting what reaches it.
 */

const modes = [false, true, 'rfc9111'] as const;
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('security: the identity of a request (lib/codec/keys.ts, credentials.ts)', function () {
	this.timeout(60_000);
	let origin: Origin;
	let rotation = 0;

	before(async () => {
		origin = await Origin.start();
		origin.route('/fixed-cookie', (request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=60', 'set-cookie': 'sid=fixed; Path=/'}).end('fixed');
		});
		origin.route('/rotating-cookie', (request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=60', 'set-cookie': `AWSALB=${++rotation}; Path=/`}).end('rotating');
		});
		origin.route('/visit/*', (request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=60', 'set-cookie': `visit=${Math.random()}; Path=/`}).end(request.url);
		});
		origin.route('/vary-cookie', (request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=60', vary: 'Cookie'}).end(`for ${request.headers.cookie ?? 'nobody'}`);
		});
		origin.route('/private', (request, response) => {
			const who = request.headers.authorization ?? request.headers.cookie ?? 'nobody';
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'private, max-age=60'}).end(`profile of ${who}`);
		});
		origin.route('/me', (request, response) => {
			response.writeHead(302, {location: '/api/profile'}).end();
		});
		origin.route('/api/profile', (request, response) => {
			const who = request.headers.authorization ?? request.headers.cookie ?? 'nobody';
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'private, max-age=60'}).end(`profile of ${who}`);
		});
		origin.route('/public-after-hop', (request, response) => {
			response.writeHead(302, {location: '/api/public'}).end();
		});
		origin.route('/api/public', (request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=60'}).end(`public for ${request.headers.authorization ?? 'nobody'}`);
		});
		origin.route('/items', (request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=60'}).end(`items ${request.method}`);
		});
		origin.route('/flood', (request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'private, max-age=60', vary: 'Authorization'}).end('flood');
		});
		origin.route('/flood-hop', (request, response) => {
			response.writeHead(302, {location: '/flood'}).end();
		});
	});

	after(async () => origin.close());

	describe('a session\'s own cookies are its state, not a new user', () => {
		for (const cacheControl of modes) {
			for (const [route, kind] of [['/fixed-cookie', 'a fixed'], ['/rotating-cookie', 'a rotating']] as const) {
				it(`${kind} cookie: hits from the second call, one entry (cacheControl: ${String(cacheControl)})`, async () => {
					const session = new CachedSession({backend: 'memory', cacheControl});
					const before = origin.hits(route);
					const served = [];
					for (let call = 0; call < 4; call++) {
						// eslint-disable-next-line no-await-in-loop -- one after another, as a script calls
						served.push((await session.get(`${origin.url}${route}`)).fromCache);
					}

					assert.deepEqual(served, [false, true, true, true]);
					assert.equal(origin.hits(route) - before, 1, 'the origin saw one request');
					assert.equal(await session.cache.count(), 1, 'one entry, not one per cookie value');
					assert.notEqual(session.cookieJar?.getCookieStringSync(origin.url), '', 'the jar did take the cookie');
					await session.close();
				});
			}
		}

		it('a per-visit cookie: a second process on the same SQLite file is served every URL from the cache', async () => {
			const dir = tempDir('identity-visit');
			const cacheName = path.join(dir, 'visits');
			const lib = fileURLToPath(new URL('../../lib/index.ts', import.meta.url));
			const script = `
				const {CachedSession} = await import(${JSON.stringify(lib)});
				const session = new CachedSession({cacheName: ${JSON.stringify(cacheName)}});
				const served = [];
				for (let page = 0; page < 5; page++) {
					served.push((await session.get(${JSON.stringify(origin.url)} + '/visit/' + page)).fromCache);
				}
				await session.close();
				console.log(JSON.stringify(served));`;
			const run = async (): Promise<boolean[]> => {
				const {stdout} = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {encoding: 'utf8'});
				return JSON.parse(stdout.trim()) as boolean[];
			};

			const before = origin.hits();
			assert.deepEqual(await run(), [false, false, false, false, false]);
			assert.deepEqual(await run(), [true, true, true, true, true], 'the second run, with its own new visit cookie, is served from the file');
			assert.equal(origin.hits() - before, 5);
		});

		it('Vary: Cookie keys by cookie value: the same cookie hits, another cookie misses', async () => {
			const session = new CachedSession({backend: 'memory', cacheControl: true, cookieJar: false});
			const get = async (cookie: string) => session.get(`${origin.url}/vary-cookie`, {headers: {cookie}});
			const before = origin.hits('/vary-cookie');
			assert.equal((await get('sid=a')).fromCache, false);
			assert.equal((await get('sid=a')).fromCache, true);
			const other = await get('sid=b');
			assert.equal(other.fromCache, false);
			assert.equal(other.text(), 'for sid=b');
			assert.equal((await get('sid=b')).fromCache, true);
			assert.equal(origin.hits('/vary-cookie') - before, 2);
			await session.close();
		});
	});

	describe('a private response is its owner\'s alone', () => {
		for (const cacheControl of modes) {
			it(`never served to other cookies, other credentials or no credentials, nor theirs to the owner (cacheControl: ${String(cacheControl)})`, async () => {
				const dir = tempDir('identity-private');
				const cacheName = path.join(dir, 'shared');
				// Two users (and an anonymous caller) on one cache file, each with a session of their own.
				const alice = new CachedSession({cacheName, cacheControl, expireAfter: 60});
				const bob = new CachedSession({cacheName, cacheControl, expireAfter: 60});
				const anonymous = new CachedSession({cacheName, cacheControl, expireAfter: 60, shareCredentials: true});
				await alice.cookieJar!.setCookie('sid=alice', origin.url);
				await bob.cookieJar!.setCookie('sid=bob', origin.url);
				const url = `${origin.url}/private`;
				const before = origin.hits('/private');
				assert.equal((await anonymous.get(url)).text(), 'profile of nobody');
				assert.equal((await anonymous.get(url)).fromCache, true, 'the anonymous caller is served its own');
				const first = await alice.get(url);
				assert.equal(first.text(), 'profile of sid=alice', 'nobody\'s response is not served to a user with cookies');
				assert.equal((await alice.get(url)).fromCache, true, 'alice is served hers');
				const second = await bob.get(url);
				assert.equal(second.fromCache, false);
				assert.equal(second.text(), 'profile of sid=bob');
				const token = await anonymous.get(url, {headers: {authorization: 'Bearer carol'}});
				assert.equal(token.text(), 'profile of Bearer carol', 'a shared credential is still part of the owner');
				const none = await anonymous.get(url);
				assert.equal(none.text(), 'profile of nobody');
				assert.equal(origin.hits('/private') - before, 4 + (none.fromCache ? 0 : 1));
				await Promise.all([alice.close(), bob.close(), anonymous.close()]);
			});
		}
	});

	it('two users alternating on one cache each keep their own private copy', async () => {
		const session = new CachedSession({backend: 'memory', cacheControl: true, cookieJar: false});
		const url = `${origin.url}/private?alternating=1`;
		const before = origin.hits('/private');
		const served = [];
		for (const user of ['alice', 'bob', 'alice', 'bob']) {
			// eslint-disable-next-line no-await-in-loop -- in turn
			const response = await session.get(url, {headers: {cookie: `sid=${user}`}});
			assert.equal(response.text(), `profile of sid=${user}`);
			served.push(response.fromCache);
		}

		assert.deepEqual(served, [false, false, true, true]);
		assert.equal(origin.hits('/private') - before, 2);
		await session.close();
	});

	describe('everything that authenticates a request is part of its identity, on every hop', () => {
		it('an anonymous caller first, then a user whose jar sends a cookie only to the redirect target: each gets their own', async () => {
			const dir = tempDir('identity-hop-anonymous');
			const cacheName = path.join(dir, 'hop');
			const anonymous = new CachedSession({cacheName, cacheControl: true});
			const alice = new CachedSession({cacheName, cacheControl: true});
			await alice.cookieJar!.setCookie('sid=alice; Path=/api', origin.url);
			assert.equal((await anonymous.get(`${origin.url}/me`)).text(), 'profile of nobody');
			const hers = await alice.get(`${origin.url}/me`);
			assert.equal(hers.fromCache, false);
			assert.equal(hers.text(), 'profile of sid=alice');
			await Promise.all([anonymous.close(), alice.close()]);
		});

		it('a cookie the jar sends only to the redirect target: the private profile is not stored for another user', async () => {
			const dir = tempDir('identity-hop');
			const cacheName = path.join(dir, 'hop');
			const alice = new CachedSession({cacheName, cacheControl: true});
			await alice.cookieJar!.setCookie('sid=alice; Path=/api', origin.url);
			const bob = new CachedSession({cacheName, cacheControl: true});
			assert.equal((await alice.get(`${origin.url}/me`)).text(), 'profile of sid=alice');
			const bobs = await bob.get(`${origin.url}/me`);
			assert.equal(bobs.fromCache, false);
			assert.equal(bobs.text(), 'profile of nobody');
			const again = await bob.get(`${origin.url}/api/profile`);
			assert.equal(again.text(), 'profile of nobody', 'nor under the target URL');
			await Promise.all([alice.close(), bob.close()]);
		});

		it('an Authorization a hook sets on the hop: the response is not stored under the first request\'s key', async () => {
			const hooked = got.extend({hooks: {beforeRedirect: [options => {
				options.headers.authorization = 'Bearer alice';
			}]}});
			const dir = tempDir('identity-hook');
			const cacheName = path.join(dir, 'hook');
			const alice = new CachedSession({cacheName, got: hooked});
			const anonymous = new CachedSession({cacheName});
			assert.equal((await alice.get(`${origin.url}/public-after-hop`)).text(), 'public for Bearer alice');
			const other = await anonymous.get(`${origin.url}/public-after-hop`);
			assert.equal(other.fromCache, false);
			assert.equal(other.text(), 'public for nobody');
			await Promise.all([alice.close(), anonymous.close()]);
		});

		it('two client certificates (a door\'s tlsIdentity) never share an entry; the same one does', async () => {
			const transport = new Session();
			const engine = createEngine(normalizeCacheOptions({backend: 'memory'}, 'CacheEngine'));
			const request = (tlsIdentity: string): PreparedRequest => ({method: 'GET', url: `${origin.url}/items`, headers: {}, body: undefined, tlsIdentity});
			const send = async (prepared: PreparedRequest) => transport.send(prepared);
			assert.equal((await engine.handle(request('sha256:alice'), {}, send)).fromCache, false);
			assert.equal((await engine.handle(request('sha256:bob'), {}, send)).fromCache, false, 'bob\'s certificate is another user');
			assert.equal((await engine.handle(request('sha256:alice'), {}, send)).fromCache, true);
			await engine.close();
		});
	});

	it('a session whose got instance carries a client certificate is its own user', async () => {
		const dir = tempDir('identity-cert');
		const cacheName = path.join(dir, 'certs');
		const alice = new CachedSession({cacheName, got: got.extend({https: {certificate: '-----BEGIN CERTIFICATE-----\nalice\n-----END CERTIFICATE-----'}})});
		const bob = new CachedSession({cacheName, got: got.extend({https: {certificate: '-----BEGIN CERTIFICATE-----\nbob\n-----END CERTIFICATE-----'}})});
		const url = `${origin.url}/items?cert=1`;
		assert.equal((await alice.get(url)).fromCache, false);
		assert.equal((await bob.get(url)).fromCache, false);
		assert.equal((await alice.get(url)).fromCache, true);
		assert.equal((await bob.get(url)).fromCache, true);
		await Promise.all([alice.close(), bob.close()]);
	});

	it('a built-in name the user lists in ignoredParameters is shared and redacted', async () => {
		const session = new CachedSession({backend: 'memory', ignoredParameters: ['token']});
		const before = origin.hits('/items');
		await session.get(`${origin.url}/items?id=1&token=A`);
		const second = await session.get(`${origin.url}/items?id=1&token=B`);
		assert.equal(second.fromCache, true);
		assert.equal(origin.hits('/items') - before, 1);
		assert.deepEqual(await session.cache.urls(), [`${origin.url}/items?id=1&token=REDACTED`]);
		const other = await session.get(`${origin.url}/items?id=1&api_key=A`);
		assert.equal(other.fromCache, false, 'a built-in name not listed stays isolated');
		await session.close();
	});

	// Without cacheControl an unsafe method invalidates nothing: expiry is the user's (docs/expiration.md).
	for (const cacheControl of [true, 'rfc9111'] as const) {
		it(`an unsafe method invalidates every stored method of the URL, GET and HEAD (cacheControl: ${String(cacheControl)})`, async () => {
			const session = new CachedSession({backend: 'memory', cacheControl, allowableMethods: ['GET', 'HEAD']});
			const url = `${origin.url}/items?invalidate=${String(cacheControl)}`;
			await session.get(url);
			await session.head(url);
			assert.equal((await session.head(url)).fromCache, true);
			await session.post(url, {json: {a: 1}});
			assert.equal((await session.head(url)).fromCache, false, 'HEAD');
			assert.equal((await session.get(url)).fromCache, false, 'GET');
			await session.close();
		});
	}

	describe('a new credential is cheap and cannot stall the process', () => {
		it('a flood of new passwords on every path (key, Vary, owner, redirect alias, invalidation) never blocks the event loop', async () => {
			const session = new CachedSession({backend: 'memory', cacheControl: true, allowableMethods: ['GET', 'HEAD']});
			const delay = monitorEventLoopDelay({resolution: 10});
			const slowBefore = derivationCounts.slow;
			const onLoopBefore = derivationCounts.onLoop;
			delay.enable();
			const users = Array.from({length: 40}, (_, index) => basic(`user${index}`, `pw-${index}-${Math.random()}`));
			const responses = await Promise.all(users.flatMap(authorization => [
				session.get(`${origin.url}/flood-hop`, {headers: {authorization}}),
				session.post(`${origin.url}/flood`, {headers: {authorization}, json: {}}),
			]));
			delay.disable();
			assert.ok(responses.every(response => response.status === 200));
			const maxMs = delay.max / 1e6;
			assert.equal(derivationCounts.onLoop, onLoopBefore, 'no password was stretched on the event loop, on any path');
			// A derivation on the loop costs 40-300 ms each (more on a loaded machine), and many at once stall it for seconds.
			assert.ok(maxMs < 1000, `the event loop was blocked ${maxMs.toFixed(0)} ms`);
			assert.ok(derivationCounts.peakOnPool <= 1, `at most one stretch at a time on the thread pool (three of its four threads stay free for fs, dns and crypto): ${derivationCounts.peakOnPool}`);
			assert.ok(derivationCounts.slow - slowBefore <= users.length, `each password stretched once: ${derivationCounts.slow - slowBefore} for ${users.length}`);
			const known = await session.get(`${origin.url}/flood-hop`, {headers: {authorization: users[0]!}});
			assert.equal(known.status, 200);
			await session.close();
		});

		it('more new passwords at once than the queue holds: the rest pass by the cache, every one answered', async () => {
			const session = new CachedSession({backend: 'memory'});
			const refusedBefore = derivationCounts.refused;
			const before = origin.hits('/items');
			const responses = await Promise.all(Array.from({length: 90}, async (_, index) => session.get(`${origin.url}/items?queue=1`, {headers: {authorization: basic('u', `queue-${index}-${Math.random()}`)}})));
			assert.equal(responses.length, 90);
			assert.ok(responses.every(response => response.text() === 'items GET'));
			assert.equal(origin.hits('/items') - before, 90);
			assert.ok(derivationCounts.refused > refusedBefore, 'some passed by the cache instead of queueing');
			await session.close();
		});

		it('1,000 users with bearer tokens cycling: every second round is a hit, nothing derived slowly', async () => {
			const session = new CachedSession({backend: 'memory'});
			const slowBefore = derivationCounts.slow;
			const tokens = Array.from({length: 1000}, (_, index) => `Bearer user-${index}-${Math.random()}`);
			const before = origin.hits('/items');
			for (let round = 0; round < 2; round++) {
				const served: boolean[] = [];
				let next = 0;
				// 50 at a time, as a service would: 1,000 new connections at once overflow the origin's backlog.
				// eslint-disable-next-line no-await-in-loop -- one round after the other
				await Promise.all(Array.from({length: 50}, async () => {
					while (next < tokens.length) {
						const authorization = tokens[next++]!;
						// eslint-disable-next-line no-await-in-loop -- one lane, one request at a time
						served.push((await session.get(`${origin.url}/items?cycle=1`, {headers: {authorization}})).fromCache);
					}
				}));
				assert.equal(served.filter(Boolean).length, round === 0 ? 0 : 1000, `round ${round}`);
			}

			assert.equal(origin.hits('/items') - before, 1000);
			assert.equal(derivationCounts.slow, slowBefore, 'tokens are hashed, never stretched');
			await settled(session);
			await session.close();
		});

		it('the memo of stretched passwords holds exactly what it says, least recently used out', () => {
			const memo = new Lru<number>(SLOW_MEMO_SIZE);
			for (let index = 0; index < SLOW_MEMO_SIZE; index++) {
				memo.set(`user${index}`, index);
			}

			assert.equal(memo.get('user0'), 0, 'the oldest, used again, becomes the youngest');
			memo.set('newcomer', -1);
			assert.equal(memo.count, SLOW_MEMO_SIZE);
			assert.equal(memo.get('user1'), undefined, 'the least recently used left');
			for (let index = 2; index < SLOW_MEMO_SIZE; index++) {
				assert.equal(memo.get(`user${index}`), index);
			}

			assert.equal(memo.get('user0'), 0);
		});
	});
});
