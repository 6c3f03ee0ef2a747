import assert from 'node:assert/strict';
import type {OutgoingHttpHeaders} from 'node:http';
import {CachedSession, EXPIRE_IMMEDIATELY, RequestError, type CacheOptions} from '../../lib/index.js';
import {freshnessLifetime, initialAge, skipsReload, staleAt, storable} from '../../lib/policy/freshness.js';
import {FakeClock} from '../support/clock.js';
import {Origin} from '../support/origin.js';

const httpDate = (time: number): string => new Date(time).toUTCString();

describe('policy/freshness (cacheControl: \'rfc9111\')', () => {
	describe('the rules', () => {
		const now = Date.parse('2026-01-01T00:00:00Z');

		it('counts the time since Date and the Age header, whichever is larger (RFC 9111 §4.2.3)', () => {
			assert.equal(initialAge({date: httpDate(now)}, now + 500), 0);
			assert.equal(initialAge({date: httpDate(now - 7_200_000)}, now), 7199);
			assert.equal(initialAge({date: httpDate(now), age: '30'}, now), 30);
			assert.equal(initialAge({date: httpDate(now - 60_000), age: '30'}, now), 59);
			assert.equal(initialAge({age: '30'}, now), 30);
			// A Date in the future (a fast origin clock) is no negative age.
			assert.equal(initialAge({date: httpDate(now + 60_000)}, now), 0);
			// RFC 9111 §5.1: an invalid Age is ignored; a list uses its first member.
			assert.equal(initialAge({date: httpDate(now), age: '1.5'}, now), 0);
			assert.equal(initialAge({date: httpDate(now), age: '40, 0'}, now), 40);
		});

		it('takes the lifetime from max-age, then Expires - Date, then heuristics, else 0', () => {
			const date = httpDate(now);
			assert.equal(freshnessLifetime(200, {'cache-control': 'max-age=60, s-maxage=5', expires: httpDate(now + 3_600_000), date}, now), 60_000);
			assert.equal(freshnessLifetime(200, {expires: httpDate(now + 3_600_000), date}, now + 10_000), 3_600_000);
			assert.equal(freshnessLifetime(200, {expires: httpDate(now + 3_600_000)}, now + 600_000), 3_000_000);
			assert.equal(freshnessLifetime(200, {'last-modified': httpDate(now - 864_000_000), date}, now), 86_400_000);
			assert.equal(freshnessLifetime(200, {date}, now), 0);
			assert.equal(freshnessLifetime(500, {'last-modified': httpDate(now - 864_000_000), date}, now), 0);
		});

		it('makes a malformed max-age or Expires, and no-cache, stale at once', () => {
			assert.equal(freshnessLifetime(200, {'cache-control': 'max-age=abc', 'last-modified': httpDate(now - 864_000_000)}, now), 0);
			assert.equal(freshnessLifetime(200, {expires: '0'}, now), 0);
			assert.equal(freshnessLifetime(200, {'cache-control': 'no-cache, max-age=3600'}, now), 0);
		});

		it('subtracts the initial age, and caps by expireAfter', () => {
			const headers = {'cache-control': 'max-age=100', age: '30', date: httpDate(now)};
			assert.equal(staleAt(200, headers, {kind: 'never'}, now), now + 70_000);
			assert.equal(staleAt(200, headers, {kind: 'ttl', ms: 10_000}, now), now + 10_000);
			assert.equal(staleAt(200, headers, {kind: 'at', time: now + 5000}, now), now + 5000);
			assert.equal(staleAt(200, headers, {kind: 'immediately'}, now), now);
			assert.equal(staleAt(200, {'cache-control': 'max-age=100', age: '-1'}, {kind: 'never'}, now), now + 100_000);
			assert.equal(staleAt(200, {'cache-control': 'max-age=9999999999999'}, {kind: 'never'}, now), now + (2 ** 31 * 1000));
		});

		it('stores what RFC 9111 §3 allows, a 206 only as the answer to a range request', () => {
			assert.equal(storable(404, {}, undefined), true);
			assert.equal(storable(503, {}, undefined), false);
			assert.equal(storable(503, {'cache-control': 'max-age=5'}, undefined), true);
			assert.equal(storable(206, {'content-range': 'bytes 0-4/10', 'cache-control': 'max-age=60'}, {kind: 'from', first: 0, last: 4}), true);
			assert.equal(storable(206, {'content-range': 'bytes 0-4/10', 'cache-control': 'max-age=60'}, undefined), false);
			assert.equal(storable(206, {'cache-control': 'max-age=60'}, {kind: 'from', first: 0, last: 4}), false);
			assert.equal(storable(416, {'cache-control': 'max-age=60'}, {kind: 'from', first: 20}), false);
			assert.equal(storable(200, {'cache-control': 'max-age=60'}, {kind: 'from', first: 20}), true);
		});

		it('does not revalidate a fresh immutable response on reload (RFC 8246)', () => {
			assert.equal(skipsReload({expires: now + 1000, headers: {'cache-control': 'max-age=60, immutable'}}, now), true);
			assert.equal(skipsReload({expires: now - 1000, headers: {'cache-control': 'max-age=60, immutable'}}, now), false);
			assert.equal(skipsReload({expires: now + 1000, headers: {'cache-control': 'max-age=60'}}, now), false);
		});
	});

	describe('a session with cacheControl: \'rfc9111\', against a real origin', () => {
		let origin: Origin;
		let clock: FakeClock;
		const sessions: CachedSession[] = [];

		function session(options: CacheOptions = {}): CachedSession {
			const created = new CachedSession({backend: 'memory', cacheControl: 'rfc9111', clock: clock.read, ...options});
			sessions.push(created);
			return created;
		}

		function serve(path: string, reply: () => {status?: number; headers?: OutgoingHttpHeaders; body?: string}): void {
			origin.route(path, (_request, response) => {
				const {status = 200, headers = {}, body = 'ok'} = reply();
				response.writeHead(status, {'content-type': 'text/plain', ...headers}).end(body);
			});
		}

		before(async () => {
			origin = await Origin.start();
		});

		beforeEach(() => {
			clock = new FakeClock();
		});

		afterEach(async () => {
			await Promise.all(sessions.splice(0).map(async s => s.close()));
		});

		after(async () => {
			await origin.close();
		});

		it('accepts cacheControl: \'rfc9111\' and names the option for anything else', () => {
			assert.throws(() => new CachedSession({backend: 'memory', cacheControl: 'rfc7234' as never}), /cacheControl.*true, false or 'rfc9111'/);
		});

		it('counts the Age header into freshness and into the Age it serves', async () => {
			serve('/f/age', () => ({headers: {'cache-control': 'max-age=100', age: '30'}}));
			const s = session();
			await s.get(`${origin.url}/f/age`);
			clock.advance(10);
			const hit = await s.get(`${origin.url}/f/age`);
			assert.equal(hit.fromCache, true);
			assert.equal(hit.headers['age'], '40');
			clock.advance(59);
			assert.equal((await s.get(`${origin.url}/f/age`)).fromCache, true);
			clock.advance(2);
			assert.equal((await s.get(`${origin.url}/f/age`)).fromCache, false);
			assert.equal(origin.hits('/f/age'), 2);
		});

		it('counts a Date in the past as age: max-age=3600 two hours after Date is stale', async () => {
			serve('/f/old-date', () => ({headers: {'cache-control': 'max-age=3600', date: httpDate(Date.now() - 7_200_000)}}));
			const s = session();
			await s.get(`${origin.url}/f/old-date`);
			assert.equal((await s.get(`${origin.url}/f/old-date`)).fromCache, false);
			assert.equal(origin.hits('/f/old-date'), 2);
		});

		it('reads Age as RFC 9111 §5.1 says, in every cacheControl mode: the first member of a list, an invalid value ignored', async () => {
			for (const mode of ['rfc9111', true] as const) {
				const cases = [['invalid', 'abc', true], ['first-fresh', '0, 7200', true], ['first-old', '7200, 0', false]] as const;
				for (const [name, age, hit] of cases) {
					const path = `/f/age-${name}-${String(mode)}`;
					serve(path, () => ({headers: {'cache-control': 'max-age=3600', age}}));
					const s = session({cacheControl: mode});
					await s.get(`${origin.url}${path}`);
					const second = await s.get(`${origin.url}${path}`);
					assert.equal(second.fromCache, hit, `${String(mode)} Age: ${age}`);
					assert.equal(origin.hits(path), hit ? 1 : 2, `${String(mode)} Age: ${age}`);
				}
			}
		});

		it('keeps a response with an enormous max-age, with a valid expiry (delta-seconds capped at 2^31)', async () => {
			for (const mode of ['rfc9111', true] as const) {
				const path = `/f/huge-max-age-${String(mode)}`;
				serve(path, () => ({headers: {'cache-control': 'max-age=9999999999999'}}));
				const s = session({cacheControl: mode});
				const first = await s.get(`${origin.url}${path}`);
				assert.ok(first.expires instanceof Date && !Number.isNaN(first.expires.getTime()), String(mode));
				const second = await s.get(`${origin.url}${path}`);
				assert.equal(second.fromCache, true, String(mode));
				assert.ok(second.expires instanceof Date && !Number.isNaN(second.expires.getTime()), String(mode));
				assert.equal(origin.hits(path), 1, String(mode));
			}
		});

		it('gives a response with Last-Modified a heuristic lifetime of 10% of its age', async () => {
			const lastModified = Date.now() - (10 * 86_400_000);
			serve('/f/heuristic', () => ({headers: {'last-modified': httpDate(lastModified)}}));
			const s = session();
			const first = await s.get(`${origin.url}/f/heuristic`);
			assert.ok(first.expires !== null && Math.abs(first.expires.getTime() - (clock.now + 86_400_000)) < 2000, String(first.expires));
			clock.advance(23 * 3600);
			assert.equal((await s.get(`${origin.url}/f/heuristic`)).fromCache, true);
			clock.advance(2 * 3600);
			assert.equal((await s.get(`${origin.url}/f/heuristic`)).fromCache, false);
			assert.equal(origin.hits('/f/heuristic'), 2);
		});

		it('stores the statuses RFC 9111 allows: a 404 by heuristics, a 503 only with explicit freshness, never must-understand with an unknown status', async () => {
			const lastModified = httpDate(Date.now() - 86_400_000);
			const cases = [
				['/f/404', 404, {'last-modified': lastModified}, true],
				['/f/503', 503, {'last-modified': lastModified}, false],
				['/f/503-fresh', 503, {'cache-control': 'max-age=60'}, true],
				['/f/599-fresh', 599, {'cache-control': 'max-age=60'}, true],
				['/f/599-must-understand', 599, {'cache-control': 'max-age=60, must-understand'}, false],
			] as const;
			const s = session();
			for (const [path, status, headers, cached] of cases) {
				serve(path, () => ({status, headers}));
				// eslint-disable-next-line no-await-in-loop -- one path after another, each with its own counter
				await s.get(`${origin.url}${path}`);
				// eslint-disable-next-line no-await-in-loop
				const second = await s.get(`${origin.url}${path}`);
				assert.equal(second.status, status, path);
				assert.equal(second.fromCache, cached, path);
				assert.equal(origin.hits(path), cached ? 1 : 2, path);
			}
		});

		it('updates stored headers from a 304, except Content-Length, Content-Encoding, Content-MD5 and ETag', async () => {
			origin.route('/f/304', (request, response) => {
				if (request.headers['if-none-match'] === '"a"') {
					response.writeHead(304, {
						etag: '"b"', 'content-md5': 'N7UdGUp1E+RbVvZSTy1R8g==', 'content-type': 'text/plain;charset=utf-8', 'x-a': '2', 'cache-control': 'max-age=3600',
					}).end();
					return;
				}

				response.writeHead(200, {
					etag: '"a"', 'content-md5': 'rL0Y20zC+Fzt72VPzMSk2A==', 'content-type': 'text/plain', 'content-length': '10', 'x-a': '1', 'cache-control': 'max-age=1',
				}).end('0123456789');
			});
			const s = session();
			await s.get(`${origin.url}/f/304`);
			clock.advance(2);
			const renewed = await s.get(`${origin.url}/f/304`);
			assert.equal(renewed.revalidated, true);
			assert.equal(origin.seen.at(-1)?.headers['if-none-match'], '"a"');
			assert.equal(renewed.headers['x-a'], '2');
			assert.equal(renewed.headers['content-type'], 'text/plain;charset=utf-8');
			assert.equal(renewed.headers['cache-control'], 'max-age=3600');
			assert.equal(renewed.headers['etag'], '"a"');
			assert.equal(renewed.headers['content-md5'], 'rL0Y20zC+Fzt72VPzMSk2A==');
			assert.equal(renewed.headers['content-length'], '10');
			assert.equal(renewed.text(), '0123456789');
			clock.advance(60);
			const hit = await s.get(`${origin.url}/f/304`);
			assert.equal(hit.fromCache, true);
			assert.equal(hit.headers['x-a'], '2');
			assert.equal(origin.hits('/f/304'), 2);
		});

		it('matches Vary values that differ only in list order, case and whitespace', async () => {
			serve('/f/vary', () => ({headers: {'cache-control': 'max-age=60', vary: 'Accept-Language, Foo', 'content-language': 'de'}}));
			const s = session();
			await s.get(`${origin.url}/f/vary`, {headers: {'accept-language': 'en, de', foo: '1,2'}});
			for (const headers of [{'accept-language': 'De, EN', foo: '1, 2'}, {'accept-language': ' en ,   de', foo: ' 1 ,2 '}]) {
				// eslint-disable-next-line no-await-in-loop -- each request after the first is a hit
				assert.equal((await s.get(`${origin.url}/f/vary`, {headers})).fromCache, true, JSON.stringify(headers));
			}

			assert.equal((await s.get(`${origin.url}/f/vary`, {headers: {'accept-language': 'fr', foo: '1, 2'}})).fromCache, false);
			assert.equal((await s.get(`${origin.url}/f/vary`, {headers: {'accept-language': 'en, de', foo: '2, 1'}})).fromCache, false);
			assert.equal(origin.hits('/f/vary'), 3);
		});

		it('serves stale when a revalidation loses its connection only where stale-if-error allows it', async () => {
			let drop = false;
			for (const path of ['/f/drop-sie', '/f/drop-must-revalidate', '/f/drop-plain']) {
				origin.route(path, (request, response) => {
					if (drop) {
						request.socket.destroy();
						return;
					}

					const cacheControl = {'/f/drop-sie': 'max-age=1, stale-if-error=60', '/f/drop-must-revalidate': 'max-age=1, stale-if-error=60, must-revalidate', '/f/drop-plain': 'max-age=1'}[path];
					response.writeHead(200, {'cache-control': cacheControl ?? ''}).end('stored');
				});
			}

			const s = session();
			const optedIn = session({staleIfError: true});
			await Promise.all([s, optedIn].flatMap(cached => ['/f/drop-sie', '/f/drop-must-revalidate', '/f/drop-plain'].map(async path => cached.get(`${origin.url}${path}`))));
			clock.advance(5);
			drop = true;
			const stale = await s.get(`${origin.url}/f/drop-sie`);
			assert.equal(stale.fromCache, true);
			assert.equal(stale.isExpired, true);
			assert.equal(stale.text(), 'stored');
			await assert.rejects(s.get(`${origin.url}/f/drop-must-revalidate`), RequestError);
			await assert.rejects(s.get(`${origin.url}/f/drop-plain`), RequestError);
			// The staleIfError option allows it too, but never past must-revalidate.
			assert.equal((await optedIn.get(`${origin.url}/f/drop-plain`)).fromCache, true);
			await assert.rejects(optedIn.get(`${origin.url}/f/drop-must-revalidate`), RequestError);
		});

		it('does not revalidate a fresh immutable response on reload, but does once it is stale', async () => {
			origin.route('/f/immutable', (request, response) => {
				if (request.headers['if-none-match'] === '"i"') {
					response.writeHead(304, {etag: '"i"'}).end();
					return;
				}

				response.writeHead(200, {etag: '"i"', 'cache-control': 'max-age=100, immutable'}).end('immutable');
			});
			const s = session();
			await s.fetch(`${origin.url}/f/immutable`);
			clock.advance(10);
			const reload = await s.fetch(`${origin.url}/f/immutable`, {cache: 'no-cache'});
			assert.equal(await reload.text(), 'immutable');
			assert.equal(origin.hits('/f/immutable'), 1);
			// An explicit request no-cache is the user's word: it revalidates.
			await s.get(`${origin.url}/f/immutable`, {headers: {'cache-control': 'no-cache'}});
			assert.equal(origin.hits('/f/immutable'), 2);
			clock.advance(100);
			assert.equal((await s.get(`${origin.url}/f/immutable`)).revalidated, true);
			assert.equal(origin.hits('/f/immutable'), 3);
		});

		it('uses expireAfter as a cap on freshness', async () => {
			serve('/f/cap', () => ({headers: {'cache-control': 'max-age=60', etag: '"c"'}}));
			const capped = session({expireAfter: 10});
			await capped.get(`${origin.url}/f/cap`);
			clock.advance(11);
			assert.equal((await capped.get(`${origin.url}/f/cap`)).fromCache, false);
			const immediately = session({expireAfter: EXPIRE_IMMEDIATELY});
			const before = origin.hits('/f/cap');
			await immediately.get(`${origin.url}/f/cap`);
			await immediately.get(`${origin.url}/f/cap`);
			assert.equal(origin.hits('/f/cap'), before + 2);
		});

		it('answers a GET with a fresh POST response whose Content-Location is its own URL (RFC 9110 §9.3.3)', async () => {
			origin.route('/f/post', (request, response) => {
				const headers = request.method === 'POST' ? {'cache-control': 'max-age=60', 'content-location': '/f/post'} : {};
				response.writeHead(200, headers).end(`${request.method ?? ''} answer`);
			});
			origin.route('/f/post-elsewhere', (request, response) => {
				const headers = request.method === 'POST' ? {'cache-control': 'max-age=60', 'content-location': '/f/post'} : {};
				response.writeHead(200, headers).end(`${request.method ?? ''} answer`);
			});
			const s = session();
			await s.post(`${origin.url}/f/post`, {body: '12345'});
			const get = await s.get(`${origin.url}/f/post`);
			assert.equal(get.fromCache, true);
			assert.equal(get.text(), 'POST answer');
			assert.equal(origin.hits('/f/post'), 1);
			await s.post(`${origin.url}/f/post-elsewhere`, {body: '12345'});
			assert.equal((await s.get(`${origin.url}/f/post-elsewhere`)).fromCache, false);
			assert.equal(origin.hits('/f/post-elsewhere'), 2);
		});

		it('does not reuse a response without freshness or validator', async () => {
			serve('/f/none', () => ({}));
			const s = session();
			await s.get(`${origin.url}/f/none`);
			assert.equal((await s.get(`${origin.url}/f/none`)).fromCache, false);
			assert.equal(origin.hits('/f/none'), 2);
		});
	});
});
