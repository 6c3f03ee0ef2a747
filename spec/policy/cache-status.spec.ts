import assert from 'node:assert/strict';
import http from 'node:http';
import {setTimeout as delay} from 'node:timers/promises';
import {CachedSession, type CacheOptions, installCache, uninstallCache} from '../../lib/index.js';
import {cacheStatusMember, collapsedCacheStatus, isCacheStatusName, ttlAt, withCacheStatus} from '../../lib/policy/cache-status.js';
import {randomUUID} from 'node:crypto';
import path from 'node:path';
import {FakeClock} from '../support/clock.js';
import {Origin} from '../support/origin.js';
import {redisProblem, redisUrl, skipOrFail} from '../support/services.js';
import {removeDir, tempDir} from '../support/temp-dir.js';
import {httpGet} from '../support/http-get.js';

/** The last member of a Cache-Status field: this cache's. */
function ours(value: string | string[] | null | undefined): string {
	const text = Array.isArray(value) ? value.join(', ') : value ?? '';
	return text.split(/,\s*(?=[^,]*$)/).at(-1) ?? '';
}

describe('policy/cache-status (RFC 9211)', () => {
	describe('the field', () => {
		it('writes one member with the cache name first and its parameters', () => {
			assert.equal(cacheStatusMember('requests-cache', {hit: true, ttl: 30}), 'requests-cache; hit; ttl=30');
			assert.equal(cacheStatusMember('requests-cache', {fwd: 'uri-miss', fwdStatus: 200, ttl: 60, stored: true}), 'requests-cache; fwd=uri-miss; fwd-status=200; ttl=60; stored');
			assert.equal(cacheStatusMember('requests-cache', {fwd: 'stale', fwdStatus: 503, stored: false, detail: 'store-failed'}), 'requests-cache; fwd=stale; fwd-status=503; detail=store-failed');
			// A name that is no token is a quoted string.
			assert.equal(cacheStatusMember('my "edge" cache', {hit: true}), '"my \\"edge\\" cache"; hit');
			assert.equal(cacheStatusMember('api.example', {hit: true, ttl: -5}), 'api.example; hit; ttl=-5');
		});

		it('appends after the members the origin and proxies sent, and marks a collapsed request', () => {
			assert.deepEqual(withCacheStatus({a: '1'}, 'me; hit'), {a: '1', 'cache-status': 'me; hit'});
			assert.equal(withCacheStatus({'cache-status': 'Origin; fwd=uri-miss'}, 'me; hit')['cache-status'], 'Origin; fwd=uri-miss, me; hit');
			assert.equal(withCacheStatus({'cache-status': ['A; hit', 'B; fwd=stale']}, 'me; hit')['cache-status'], 'A; hit, B; fwd=stale, me; hit');
			assert.equal(collapsedCacheStatus({'cache-status': 'A; hit, me; fwd=uri-miss'})['cache-status'], 'A; hit, me; fwd=uri-miss; collapsed');
		});

		it('gives the remaining freshness in whole seconds, negative when stale, none when it never expires', () => {
			assert.equal(ttlAt(10_500, 0), 10);
			assert.equal(ttlAt(0, 5000), -5);
			assert.equal(ttlAt(null, 0), undefined);
			assert.equal(isCacheStatusName('edge-1'), true);
			assert.equal(isCacheStatusName('é'), false);
			assert.equal(isCacheStatusName(''), false);
		});
	});

	describe('on every front door, against a real origin', () => {
		let origin: Origin;
		const sessions: CachedSession[] = [];

		function session(options: CacheOptions = {}): CachedSession {
			const created = new CachedSession({backend: 'memory', cacheControl: true, cacheStatus: true, ...options});
			sessions.push(created);
			return created;
		}

		before(async () => {
			origin = await Origin.start();
			origin.route('/cs/*', (request, response) => {
				const {pathname} = new URL(request.url!, origin.url);
				const headers: http.OutgoingHttpHeaders = {'content-type': 'text/plain', 'cache-control': 'max-age=60'};
				if (pathname.endsWith('/proxied')) {
					headers['cache-status'] = 'UpstreamProxy; fwd=uri-miss; stored';
				}

				if (pathname.endsWith('/vary')) {
					headers['vary'] = 'accept';
				}

				if (pathname.endsWith('/etag')) {
					headers['etag'] = '"v1"';
					headers['cache-control'] = 'max-age=1';
					if (request.headers['if-none-match'] === '"v1"') {
						response.writeHead(304, headers).end();
						return;
					}
				}

				if (pathname.endsWith('/slow')) {
					setTimeout(() => response.writeHead(200, headers).end('slow'), 100);
					return;
				}

				response.writeHead(200, headers).end('ok');
			});
		});

		afterEach(async () => {
			await Promise.all(sessions.splice(0).map(async s => s.close()));
			await uninstallCache();
		});

		after(async () => {
			await origin.close();
		});

		it('is off by default, and validates the option by name', () => {
			assert.throws(() => new CachedSession({backend: 'memory', cacheStatus: 5 as never}), {name: 'TypeError', message: /`cacheStatus`/});
			assert.throws(() => new CachedSession({backend: 'memory', cacheStatus: ''}), {name: 'RangeError', message: /`cacheStatus`/});
			assert.equal(new CachedSession({backend: 'memory'}).settings.cacheStatus, undefined);
		});

		it('says uri-miss and stored on a miss, hit with a ttl on a hit (Session)', async () => {
			const s = session();
			const miss = await s.get(`${origin.url}/cs/session`);
			assert.equal(miss.fromCache, false);
			assert.match(String(miss.headers['cache-status']), /^requests-cache; fwd=uri-miss; fwd-status=200; ttl=(59|60); stored$/);
			const hit = await s.get(`${origin.url}/cs/session`);
			assert.equal(hit.fromCache, true);
			assert.equal(origin.hits('/cs/session'), 1);
			assert.match(String(hit.headers['cache-status']), /^requests-cache; hit; ttl=(59|60)$/);
		});

		it('says the same on SQLite and Redis as on memory', async function () {
			const problem = await redisProblem();
			if (problem !== undefined) {
				skipOrFail(this, 'the Redis Cache-Status spec', problem);
			}

			const dir = tempDir('cache-status');
			try {
				const backends: CacheOptions[] = [{cacheName: path.join(dir, 'status.sqlite')}, {backend: 'redis', url: redisUrl, cacheName: `status-${randomUUID()}`}];
				for (const [index, options] of backends.entries()) {
					const pathname = `/cs/backend-${index}`;
					const s = session(options);
					// eslint-disable-next-line no-await-in-loop -- one backend after another, each counted
					const miss = await s.get(`${origin.url}${pathname}`);
					assert.match(ours(miss.headers['cache-status']), /^requests-cache; fwd=uri-miss; fwd-status=200; ttl=\d+; stored$/, String(options.backend ?? 'sqlite'));
					// eslint-disable-next-line no-await-in-loop
					const hit = await s.get(`${origin.url}${pathname}`);
					assert.equal(hit.fromCache, true);
					assert.equal(origin.hits(pathname), 1);
					assert.match(ours(hit.headers['cache-status']), /^requests-cache; hit; ttl=\d+$/, String(options.backend ?? 'sqlite'));
					// eslint-disable-next-line no-await-in-loop
					await s.cache.clear();
				}
			} finally {
				await Promise.all(sessions.splice(0).map(async s => s.close()));
				removeDir(dir);
			}
		});

		it('appends after what an upstream cache sent, under its own name', async () => {
			const s = session({cacheStatus: 'edge-1'});
			const miss = await s.get(`${origin.url}/cs/proxied`);
			assert.match(String(miss.headers['cache-status']), /^UpstreamProxy; fwd=uri-miss; stored, edge-1; fwd=uri-miss; fwd-status=200; ttl=\d+; stored$/);
			const hit = await s.get(`${origin.url}/cs/proxied`);
			assert.match(String(hit.headers['cache-status']), /^UpstreamProxy; fwd=uri-miss; stored, edge-1; hit; ttl=\d+$/);
		});

		it('says why a request went forward: vary-miss, request, stale with a 304, bypass, method', async () => {
			const s = session();
			await s.get(`${origin.url}/cs/vary`, {headers: {accept: 'text/plain'}});
			const varyMiss = await s.get(`${origin.url}/cs/vary`, {headers: {accept: 'text/html'}});
			assert.match(ours(varyMiss.headers['cache-status']), /; fwd=vary-miss; fwd-status=200;/);
			const forced = await s.get(`${origin.url}/cs/vary`, {headers: {accept: 'text/html'}, forceRefresh: true});
			assert.match(ours(forced.headers['cache-status']), /; fwd=request; fwd-status=200/);

			const clock = new FakeClock();
			const timed = session({clock: clock.read});
			await timed.get(`${origin.url}/cs/etag`);
			clock.advance(5);
			const revalidated = await timed.get(`${origin.url}/cs/etag`);
			assert.equal(revalidated.revalidated, true);
			assert.match(ours(revalidated.headers['cache-status']), /^requests-cache; fwd=stale; fwd-status=304; ttl=\d+; stored$/);

			const bypassed = await s.get(`${origin.url}/cs/bypass`, {headers: {'cache-control': 'no-store'}});
			assert.equal(ours(bypassed.headers['cache-status']), 'requests-cache; fwd=bypass; fwd-status=200');
			const posted = await s.post(`${origin.url}/cs/post`, {body: 'x'});
			assert.equal(ours(posted.headers['cache-status']), 'requests-cache; fwd=method; fwd-status=200');
		});

		it('marks the requests that joined another one\'s flight as collapsed', async () => {
			const s = session();
			const answers = await Promise.all([1, 2, 3].map(async () => s.get(`${origin.url}/cs/slow`)));
			assert.equal(origin.hits('/cs/slow'), 1);
			const statuses = answers.map(answer => ours(answer.headers['cache-status']));
			assert.equal(statuses.filter(status => status.endsWith('; collapsed')).length, 2, statuses.join(' | '));
			assert.equal(statuses.filter(status => /fwd=uri-miss; fwd-status=200; ttl=\d+; stored$/.test(status)).length, 1, statuses.join(' | '));
		});

		it('reports a store failure in detail, and the response still reaches the caller', async () => {
			// A Redis nobody listens on: every read and write fails, and the cache fails open.
			const errors: Error[] = [];
			const s = session({backend: 'redis', url: 'redis://127.0.0.1:1', backendTimeout: 200, onError(error) {
				errors.push(error);
			}});
			const answer = await s.get(`${origin.url}/cs/broken-store`);
			assert.equal(answer.status, 200);
			assert.equal(answer.text(), 'ok');
			assert.ok(errors.length > 0);
			assert.match(ours(answer.headers['cache-status']), /; detail=store-failed$/);
		});

		it('is on the responses of session.fetch, the installed global fetch and node:http', async () => {
			const s = session();
			await s.fetch(`${origin.url}/cs/session-fetch`);
			const viaSessionFetch = await s.fetch(`${origin.url}/cs/session-fetch`);
			assert.match(viaSessionFetch.headers.get('cache-status') ?? '', /^requests-cache; hit; ttl=\d+$/);
			assert.equal(origin.hits('/cs/session-fetch'), 1);

			installCache({backend: 'memory', cacheControl: true, cacheStatus: 'installed'});
			const fetchMiss = await fetch(`${origin.url}/cs/global-fetch`);
			await fetchMiss.text();
			assert.match(fetchMiss.headers.get('cache-status') ?? '', /^installed; fwd=uri-miss; fwd-status=200; ttl=\d+; stored$/);
			const fetchHit = await fetch(`${origin.url}/cs/global-fetch`);
			assert.equal(await fetchHit.text(), 'ok');
			assert.match(fetchHit.headers.get('cache-status') ?? '', /^installed; hit; ttl=\d+$/);
			assert.equal(origin.hits('/cs/global-fetch'), 1);

			await httpGet(`${origin.url}/cs/node-http`);
			// The http door stores behind the response; give it the turn it takes.
			await delay(20);
			const httpHit = await httpGet(`${origin.url}/cs/node-http`);
			assert.equal(httpHit.body, 'ok');
			// The last member: after nock has been active in the process (spec/doors/nock.spec.ts), the
			// http door replays every header line twice (Cache-Control and Date too); that is the
			// door's, reported apart, and Cache-Status is one member per engine answer.
			assert.match(ours(httpHit.headers['cache-status']), /^installed; hit; ttl=\d+$/);
			assert.equal(origin.hits('/cs/node-http'), 1);
		});
	});
});
