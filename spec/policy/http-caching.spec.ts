import {storeOf} from '../../lib/cache/base-cache.js';
import assert from 'node:assert/strict';
import {rm} from 'node:fs/promises';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {CachedSession, EXPIRE_IMMEDIATELY, RequestError, type CacheOptions} from '../../lib/index.js';
import {FakeClock} from '../support/clock.js';
import {Origin} from '../support/origin.js';

type Reply = {status?: number; headers?: Record<string, string>; body?: string};

/**
 * A validating resource: answers 304 to a matching If-None-Match / If-Modified-Since, else 200
 * with the current version. Tests change `version`, `headers` and `fail` between requests.
 */
class Resource {
	version = 1;
	headers: Record<string, string> = {};
	fail: 'none' | 'status' | 'network' = 'none';
	notModifiedHeaders: Record<string, string> = {};
	readonly conditional: Array<{ifNoneMatch?: string; ifModifiedSince?: string}> = [];

	readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
		if (this.fail === 'network') {
			request.socket.destroy();
			return;
		}

		if (this.fail === 'status') {
			response.writeHead(503, {'content-type': 'text/plain'}).end('down');
			return;
		}

		const etag = `"v${this.version}"`;
		const ifNoneMatch = request.headers['if-none-match'];
		const ifModifiedSince = request.headers['if-modified-since'];
		if (ifNoneMatch !== undefined || ifModifiedSince !== undefined) {
			this.conditional.push({...(ifNoneMatch ? {ifNoneMatch} : {}), ...(ifModifiedSince ? {ifModifiedSince} : {})});
		}

		const validators: Record<string, string> = {};
		if (this.headers['etag'] !== '') {
			validators['etag'] = etag;
		}

		if (ifNoneMatch === etag || (ifNoneMatch === undefined && ifModifiedSince !== undefined && this.headers['last-modified'] === ifModifiedSince)) {
			response.writeHead(304, {...validators, ...this.notModifiedHeaders}).end();
			return;
		}

		const headers = Object.fromEntries(Object.entries({'content-type': 'text/plain', ...validators, ...this.headers}).filter(([, v]) => v !== ''));
		response.writeHead(200, headers).end(`version ${this.version}`);
	};
}

describe('HTTP caching semantics', () => {
	let origin: Origin;
	let clock: FakeClock;
	const sessions: CachedSession[] = [];

	function session(options: CacheOptions = {}): CachedSession {
		const created = new CachedSession({backend: 'memory', clock: clock.read, ...options});
		sessions.push(created);
		return created;
	}

	function serve(path: string, reply: () => Reply): void {
		origin.route(path, (_request, response) => {
			const {status = 200, headers = {}, body = 'ok'} = reply();
			response.writeHead(status, {'content-type': 'text/plain', ...headers}).end(body);
		});
	}

	function resource(path: string, init: Partial<Pick<Resource, 'headers'>> = {}): Resource {
		const created = new Resource();
		Object.assign(created, init);
		origin.route(path, created.handle);
		return created;
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

	describe('Cache-Control mode (cacheControl: true)', () => {
		it('does not store a response marked no-store', async () => {
			serve('/cc/no-store', () => ({headers: {'cache-control': 'no-store'}}));
			const s = session({cacheControl: true});
			await s.get(`${origin.url}/cc/no-store`);
			const second = await s.get(`${origin.url}/cc/no-store`);
			assert.equal(second.fromCache, false);
			assert.equal(origin.hits('/cc/no-store'), 2);
			assert.equal(await s.cache.count(), 0);
		});

		it('never expires an immutable response', async () => {
			serve('/cc/immutable', () => ({headers: {'cache-control': 'public, max-age=60, immutable'}}));
			const s = session({cacheControl: true});
			const first = await s.get(`${origin.url}/cc/immutable`);
			assert.equal(first.expires, null);
			clock.advance(10 * 365 * 86_400);
			const later = await s.get(`${origin.url}/cc/immutable`);
			assert.equal(later.fromCache, true);
			assert.equal(origin.hits('/cc/immutable'), 1);
		});

		it('lets max-age beat Expires and the session expireAfter', async () => {
			serve('/cc/max-age', () => ({headers: {'cache-control': 'max-age=60', expires: new Date(Date.now() + 3_600_000).toUTCString()}}));
			const s = session({cacheControl: true, expireAfter: 3600});
			const first = await s.get(`${origin.url}/cc/max-age`);
			assert.equal(first.expires?.getTime(), clock.now + 60_000);
			clock.advance(59);
			assert.equal((await s.get(`${origin.url}/cc/max-age`)).fromCache, true);
			clock.advance(2);
			assert.equal((await s.get(`${origin.url}/cc/max-age`)).fromCache, false);
			assert.equal(origin.hits('/cc/max-age'), 2);
		});

		it('uses an Expires date when there is no max-age', async () => {
			serve('/cc/expires', () => ({headers: {date: new Date().toUTCString(), expires: new Date(Date.now() + 120_000).toUTCString()}}));
			const s = session({cacheControl: true});
			const first = await s.get(`${origin.url}/cc/expires`);
			assert.ok(first.expires !== null);
			assert.ok(Math.abs(first.expires.getTime() - (clock.now + 120_000)) < 2000, `expires ${first.expires.toISOString()}`);
			clock.advance(60);
			assert.equal((await s.get(`${origin.url}/cc/expires`)).fromCache, true);
			clock.advance(70);
			assert.equal((await s.get(`${origin.url}/cc/expires`)).fromCache, false);
		});

		for (const expires of ['0', '-1', 'garbage']) {
			it(`treats Expires: ${expires} as already expired (not stored without a validator)`, async () => {
				const path = `/cc/expires-${expires}`;
				serve(path, () => ({headers: {expires}}));
				const s = session({cacheControl: true});
				await s.get(origin.url + path);
				assert.equal((await s.get(origin.url + path)).fromCache, false);
				assert.equal(origin.hits(path), 2);
			});
		}

		it('falls back to the configured expiration when the headers say nothing', async () => {
			serve('/cc/silent', () => ({}));
			const s = session({cacheControl: true, expireAfter: 30});
			assert.equal((await s.get(`${origin.url}/cc/silent`)).expires?.getTime(), clock.now + 30_000);
			clock.advance(20);
			assert.equal((await s.get(`${origin.url}/cc/silent`)).fromCache, true);
		});

		for (const cacheControl of ['no-cache', 'max-age=0, must-revalidate', 'max-age=0']) {
			it(`stores "${cacheControl}" with a validator and revalidates it before every use`, async () => {
				const path = `/cc/revalidate-${cacheControl.replaceAll(/\W/g, '')}`;
				const r = resource(path, {headers: {'cache-control': cacheControl}});
				const s = session({cacheControl: true});
				assert.equal((await s.get(origin.url + path)).fromCache, false);
				const second = await s.get(origin.url + path);
				assert.equal(second.fromCache, true);
				assert.equal(second.revalidated, true);
				assert.equal(second.text(), 'version 1');
				assert.deepEqual(r.conditional, [{ifNoneMatch: '"v1"'}]);
			});
		}

		it('does not store no-cache without a validator', async () => {
			serve('/cc/no-cache-plain', () => ({headers: {'cache-control': 'no-cache'}}));
			const s = session({cacheControl: true});
			await s.get(`${origin.url}/cc/no-cache-plain`);
			assert.equal(await s.cache.count(), 0);
		});

		it('sets Age on responses served from the cache', async () => {
			serve('/cc/age', () => ({headers: {'cache-control': 'max-age=600'}}));
			const s = session({cacheControl: true});
			await s.get(`${origin.url}/cc/age`);
			clock.advance(42);
			assert.equal((await s.get(`${origin.url}/cc/age`)).headers['age'], '42');
		});

		it('invalidates the stored GET after a successful unsafe request to the same URL', async () => {
			serve('/cc/resource', () => ({headers: {'cache-control': 'max-age=600'}}));
			const s = session({cacheControl: true});
			await s.get(`${origin.url}/cc/resource`);
			assert.equal((await s.get(`${origin.url}/cc/resource`)).fromCache, true);
			await s.post(`${origin.url}/cc/resource`, {json: {a: 1}});
			assert.equal((await s.get(`${origin.url}/cc/resource`)).fromCache, false);
		});
	});

	describe('what the public HTTP cache test suite found', () => {
		it('accepts any token as a method (M-SEARCH)', async () => {
			const s = session({cacheControl: true});
			const response = await s.request('M-SEARCH', `${origin.url}/echo`);
			assert.equal(response.json<{method: string}>().method, 'M-SEARCH');
		});

		it('passes range requests through and never stores a 206', async () => {
			origin.route('/range', (request, response) => {
				if (request.headers.range) {
					response.writeHead(206, {'content-type': 'text/plain', 'content-range': 'bytes 0-1/10', 'cache-control': 'max-age=600'}).end('01');
					return;
				}

				response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=600'}).end('0123456789');
			});
			const s = session({cacheControl: true, allowableCodes: [200, 206]});
			assert.equal((await s.get(`${origin.url}/range`, {headers: {range: 'bytes=0-1'}})).status, 206);
			assert.equal(await s.cache.count(), 0);
			const full = await s.get(`${origin.url}/range`);
			assert.equal(full.text(), '0123456789');
			const part = await s.get(`${origin.url}/range`, {headers: {range: 'bytes=0-1'}});
			assert.equal(part.status, 206);
			assert.equal(part.fromCache, false);
		});

		it('revalidates a stored response that has a validator when the request says no-cache', async () => {
			const r = resource('/v/request-no-cache');
			const s = session({expireAfter: 600});
			await s.get(`${origin.url}/v/request-no-cache`);
			const response = await s.get(`${origin.url}/v/request-no-cache`, {headers: {'cache-control': 'no-cache'}});
			assert.equal(response.revalidated, true);
			assert.deepEqual(r.conditional, [{ifNoneMatch: '"v1"'}]);
		});

		it('invalidates same-origin Location and Content-Location after an unsafe request', async () => {
			serve('/inv/target', () => ({headers: {'cache-control': 'max-age=600'}}));
			serve('/inv/other', () => ({headers: {'cache-control': 'max-age=600'}}));
			origin.route('/inv/post', (_request, response) => {
				response.writeHead(201, {location: '/inv/target', 'content-location': '/inv/other'}).end();
			});
			const s = session({cacheControl: true});
			await s.get(`${origin.url}/inv/target`);
			await s.get(`${origin.url}/inv/other`);
			await s.post(`${origin.url}/inv/post`, {json: {}});
			assert.equal((await s.get(`${origin.url}/inv/target`)).fromCache, false);
			assert.equal((await s.get(`${origin.url}/inv/other`)).fromCache, false);
		});

		it('does not store the headers the Connection header names', async () => {
			serve('/hop', () => ({headers: {connection: 'x-hop', 'x-hop': 'yes', 'cache-control': 'max-age=600'}}));
			const s = session({cacheControl: true});
			assert.equal((await s.get(`${origin.url}/hop`)).headers['x-hop'], 'yes');
			const cached = await s.get(`${origin.url}/hop`);
			assert.equal(cached.fromCache, true);
			assert.equal(cached.headers['x-hop'], undefined);
		});
	});

	describe('request Cache-Control (always honoured)', () => {
		it('no-store skips both the read and the write', async () => {
			const s = session({expireAfter: 600});
			const first = await s.get(`${origin.url}/json?rq=no-store`);
			const bypass = await s.get(`${origin.url}/json?rq=no-store`, {headers: {'cache-control': 'no-store'}});
			assert.equal(bypass.fromCache, false);
			const again = await s.get(`${origin.url}/json?rq=no-store`);
			assert.equal(again.fromCache, true);
			assert.deepEqual(again.json(), first.json(), 'the no-store response did not replace the entry');
		});

		it('no-cache skips the read but stores the new response', async () => {
			const s = session({expireAfter: 600});
			await s.get(`${origin.url}/json?rq=no-cache`);
			const fresh = await s.get(`${origin.url}/json?rq=no-cache`, {headers: {'cache-control': 'no-cache'}});
			assert.equal(fresh.fromCache, false);
			const again = await s.get(`${origin.url}/json?rq=no-cache`);
			assert.equal(again.fromCache, true);
			assert.deepEqual(again.json(), fresh.json());
		});

		it('max-age refuses entries older than it allows', async () => {
			const s = session({expireAfter: 600});
			await s.get(`${origin.url}/json?rq=max-age`);
			clock.advance(30);
			assert.equal((await s.get(`${origin.url}/json?rq=max-age`, {headers: {'cache-control': 'max-age=60'}})).fromCache, true);
			assert.equal((await s.get(`${origin.url}/json?rq=max-age`, {headers: {'cache-control': 'max-age=10'}})).fromCache, false);
		});

		it('max-stale accepts an expired entry within the staleness given', async () => {
			const s = session({expireAfter: 60});
			await s.get(`${origin.url}/json?rq=max-stale`);
			clock.advance(90);
			const stale = await s.get(`${origin.url}/json?rq=max-stale`, {headers: {'cache-control': 'max-stale=60'}});
			assert.equal(stale.fromCache, true);
			assert.equal(stale.isExpired, true);
			const tooStale = await s.get(`${origin.url}/json?rq=max-stale`, {headers: {'cache-control': 'max-stale=10'}});
			assert.equal(tooStale.fromCache, false);
		});

		it('min-fresh refuses entries that expire too soon', async () => {
			const s = session({expireAfter: 60});
			await s.get(`${origin.url}/json?rq=min-fresh`);
			clock.advance(30);
			assert.equal((await s.get(`${origin.url}/json?rq=min-fresh`, {headers: {'cache-control': 'min-fresh=20'}})).fromCache, true);
			assert.equal((await s.get(`${origin.url}/json?rq=min-fresh`, {headers: {'cache-control': 'min-fresh=40'}})).fromCache, false);
		});

		it('only-if-cached answers 504 without contacting the origin when nothing is stored', async () => {
			const s = session();
			const before = origin.hits();
			const response = await s.get(`${origin.url}/json?rq=only-if-cached`, {headers: {'cache-control': 'only-if-cached'}});
			assert.equal(response.status, 504);
			assert.equal(response.fromCache, false);
			assert.equal(origin.hits(), before);
		});
	});

	describe('validators and revalidation', () => {
		it('revalidates an expired entry with If-None-Match; a 304 serves the cached body with merged headers and a new expiry', async () => {
			const r = resource('/v/etag');
			r.notModifiedHeaders = {'x-revalidated': 'yes'};
			const s = session({expireAfter: 60});
			await s.get(`${origin.url}/v/etag`);
			clock.advance(61);
			const response = await s.get(`${origin.url}/v/etag`);
			assert.equal(response.status, 200);
			assert.equal(response.text(), 'version 1');
			assert.equal(response.fromCache, true);
			assert.equal(response.revalidated, true);
			assert.equal(response.headers['x-revalidated'], 'yes');
			assert.equal(response.expires?.getTime(), clock.now + 60_000);
			assert.deepEqual(r.conditional, [{ifNoneMatch: '"v1"'}]);
			// The renewed expiry was stored: the next request is a plain hit.
			const hits = origin.hits('/v/etag');
			const next = await s.get(`${origin.url}/v/etag`);
			assert.equal(next.fromCache, true);
			assert.equal(next.revalidated, false);
			assert.equal(next.headers['x-revalidated'], 'yes');
			assert.equal(origin.hits('/v/etag'), hits);
		});

		it('revalidates with If-Modified-Since when the entry has only Last-Modified', async () => {
			const lastModified = 'Wed, 01 Jan 2025 00:00:00 GMT';
			const r = resource('/v/last-modified', {headers: {etag: '', 'last-modified': lastModified}});
			const s = session({expireAfter: 60, backend: 'sqlite', cacheName: `.tmp/http-caching/lm-${process.pid}`});
			await s.cache.clear();
			await s.get(`${origin.url}/v/last-modified`);
			clock.advance(120);
			const response = await s.get(`${origin.url}/v/last-modified`);
			assert.equal(response.revalidated, true);
			assert.equal(response.text(), 'version 1');
			assert.deepEqual(r.conditional, [{ifModifiedSince: lastModified}]);
		});

		it('rewrites the store after a 304 only when something changed', async () => {
			resource('/v/unchanged');
			const s = session({expireAfter: EXPIRE_IMMEDIATELY});
			await s.get(`${origin.url}/v/unchanged`);
			const store = storeOf(s.cache);
			let writes = 0;
			const set = store.set.bind(store);
			(store as {set: typeof set}).set = async (...args: Parameters<typeof set>) => {
				writes++;
				return set(...args);
			};

			for (let index = 0; index < 3; index++) {
				clock.advance(1);
				// eslint-disable-next-line no-await-in-loop
				assert.equal((await s.get(`${origin.url}/v/unchanged`)).revalidated, true);
			}

			assert.equal(writes, 0);
		});

		it('replaces the entry when revalidation returns a new 200', async () => {
			const r = resource('/v/changed');
			const s = session({expireAfter: 60});
			await s.get(`${origin.url}/v/changed`);
			r.version = 2;
			clock.advance(61);
			const response = await s.get(`${origin.url}/v/changed`);
			assert.equal(response.fromCache, false);
			assert.equal(response.text(), 'version 2');
			const next = await s.get(`${origin.url}/v/changed`);
			assert.equal(next.fromCache, true);
			assert.equal(next.text(), 'version 2');
		});

		it('EXPIRE_IMMEDIATELY stores responses with a validator and revalidates them on every use', async () => {
			const r = resource('/v/immediately');
			serve('/v/immediately-plain', () => ({}));
			const s = session({expireAfter: EXPIRE_IMMEDIATELY});
			await s.get(`${origin.url}/v/immediately`);
			for (let index = 0; index < 3; index++) {
				// eslint-disable-next-line no-await-in-loop
				const response = await s.get(`${origin.url}/v/immediately`);
				assert.equal(response.revalidated, true);
			}

			assert.equal(r.conditional.length, 3);
			await s.get(`${origin.url}/v/immediately-plain`);
			assert.equal(await s.cache.contains({url: `${origin.url}/v/immediately-plain`}), false);
		});

		it('alwaysRevalidate revalidates fresh entries that have a validator', async () => {
			const r = resource('/v/always');
			const s = session({expireAfter: 3600, alwaysRevalidate: true});
			await s.get(`${origin.url}/v/always`);
			const response = await s.get(`${origin.url}/v/always`);
			assert.equal(response.revalidated, true);
			assert.equal(r.conditional.length, 1);
		});

		it('refresh: true revalidates when there is a validator and otherwise serves the cache', async () => {
			const r = resource('/v/refresh');
			const s = session({expireAfter: 3600});
			await s.get(`${origin.url}/v/refresh`);
			assert.equal((await s.get(`${origin.url}/v/refresh`, {refresh: true})).revalidated, true);
			assert.equal(r.conditional.length, 1);
			await s.get(`${origin.url}/json?refresh-plain`);
			const hits = origin.hits('/json');
			const plain = await s.get(`${origin.url}/json?refresh-plain`, {refresh: true});
			assert.equal(plain.fromCache, true);
			assert.equal(origin.hits('/json'), hits);
		});

		it('forceRefresh always fetches and overwrites', async () => {
			const r = resource('/v/force');
			const s = session({expireAfter: 3600});
			await s.get(`${origin.url}/v/force`);
			r.version = 2;
			const forced = await s.get(`${origin.url}/v/force`, {forceRefresh: true});
			assert.equal(forced.fromCache, false);
			assert.equal(forced.text(), 'version 2');
			assert.equal(r.conditional.length, 0);
			assert.equal((await s.get(`${origin.url}/v/force`)).text(), 'version 2');
		});

		it('onlyIfCached serves a usable entry and otherwise a synthetic 504 with zero origin hits', async () => {
			const s = session({expireAfter: 60});
			await s.get(`${origin.url}/json?oic=1`);
			const before = origin.hits();
			assert.equal((await s.get(`${origin.url}/json?oic=1`, {onlyIfCached: true})).fromCache, true);
			const missing = await s.get(`${origin.url}/json?oic=2`, {onlyIfCached: true});
			assert.equal(missing.status, 504);
			clock.advance(61);
			assert.equal((await s.get(`${origin.url}/json?oic=1`, {onlyIfCached: true})).status, 504);
			assert.equal(origin.hits(), before);
		});
	});

	describe('stale-if-error', () => {
		for (const failure of ['network', 'status'] as const) {
			it(`serves an entry that expired 10 s ago within a 15 s window when the refresh fails (${failure})`, async () => {
				const path = `/stale/if-error-${failure}`;
				const r = resource(path, {headers: {etag: ''}});
				const s = session({expireAfter: 60, staleIfError: 15});
				await s.get(origin.url + path);
				clock.advance(70);
				r.fail = failure;
				const response = await s.get(origin.url + path);
				assert.equal(response.status, 200);
				assert.equal(response.fromCache, true);
				assert.equal(response.isExpired, true);
				assert.equal(response.text(), 'version 1');
			});

			it(`returns the error when the entry expired 10 s ago and the window is 5 s (${failure})`, async () => {
				const path = `/stale/if-error-short-${failure}`;
				const r = resource(path, {headers: {etag: ''}});
				const s = session({expireAfter: 60, staleIfError: {seconds: 5}});
				await s.get(origin.url + path);
				clock.advance(70);
				r.fail = failure;
				if (failure === 'network') {
					await assert.rejects(s.get(origin.url + path), RequestError);
				} else {
					const response = await s.get(origin.url + path);
					assert.equal(response.status, 503);
					assert.equal(response.fromCache, false);
				}
			});
		}

		it('honours the response stale-if-error directive in cacheControl mode', async () => {
			const r = resource('/stale/directive', {headers: {etag: '', 'cache-control': 'max-age=60, stale-if-error=30'}});
			const s = session({cacheControl: true});
			await s.get(`${origin.url}/stale/directive`);
			clock.advance(80);
			r.fail = 'status';
			assert.equal((await s.get(`${origin.url}/stale/directive`)).fromCache, true);
			clock.advance(20);
			assert.equal((await s.get(`${origin.url}/stale/directive`)).status, 503);
		});
	});

	describe('stale-while-revalidate', () => {
		it('returns the stale entry at once and refreshes it in the background', async () => {
			let version = 1;
			origin.route('/stale/swr', async (_request, response) => {
				await new Promise(resolve => {
					setTimeout(resolve, 300);
				});
				response.writeHead(200, {'content-type': 'text/plain'}).end(`version ${version}`);
			});
			const s = session({expireAfter: 60, staleWhileRevalidate: 120});
			await s.get(`${origin.url}/stale/swr`);
			clock.advance(70);
			version = 2;
			const started = performance.now();
			const stale = await s.get(`${origin.url}/stale/swr`);
			const elapsed = performance.now() - started;
			assert.equal(stale.fromCache, true);
			assert.equal(stale.isExpired, true);
			assert.equal(stale.text(), 'version 1');
			assert.ok(elapsed < 150, `stale response took ${elapsed.toFixed(1)} ms; the origin takes 300 ms`);
			// The background refresh lands in the store; the next request sees it.
			const refreshed = async (): Promise<boolean> => {
				for await (const stored of s.cache.responses()) {
					if (stored.text() === 'version 2') {
						return true;
					}
				}

				return false;
			};

			for (let tries = 0; tries < 100 && !(await refreshed()); tries++) {
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => {
					setTimeout(resolve, 20);
				});
			}

			const next = await s.get(`${origin.url}/stale/swr`);
			assert.equal(next.fromCache, true);
			assert.equal(next.isExpired, false);
			assert.equal(next.text(), 'version 2');
			assert.equal(origin.hits('/stale/swr'), 2);
		});

		it('never surfaces a background failure as an unhandled rejection', async () => {
			const r = resource('/stale/swr-fail', {headers: {etag: ''}});
			const unhandled: unknown[] = [];
			const listener = (reason: unknown): void => {
				unhandled.push(reason);
			};

			process.on('unhandledRejection', listener);
			try {
				const errors: Error[] = [];
				const s = session({expireAfter: 60, staleWhileRevalidate: true, onError: error => errors.push(error)});
				await s.get(`${origin.url}/stale/swr-fail`);
				clock.advance(70);
				r.fail = 'network';
				const stale = await s.get(`${origin.url}/stale/swr-fail`);
				assert.equal(stale.fromCache, true);
				await s.close();
				await new Promise(resolve => {
					setTimeout(resolve, 50);
				});
				assert.deepEqual(unhandled, []);
				assert.equal(errors.length, 1, 'the background failure is reported on the error event');
			} finally {
				process.off('unhandledRejection', listener);
			}
		});
	});

	describe('Vary', () => {
		it('keeps variants side by side: alternating Accept values both hit after the first round', async () => {
			origin.route('/vary/accept', (request, response) => {
				const json = request.headers.accept === 'application/json';
				response.writeHead(200, {'content-type': json ? 'application/json' : 'text/html', vary: 'Accept'});
				response.end(json ? '{"kind":"json"}' : '<p>html</p>');
			});
			const s = session({expireAfter: 600, backend: 'sqlite', cacheName: `.tmp/http-caching/vary-${process.pid}`});
			await s.cache.clear();
			const accepts = ['application/json', 'text/html', 'application/json', 'text/html', 'application/json', 'text/html'];
			const results = [];
			for (const accept of accepts) {
				// eslint-disable-next-line no-await-in-loop
				results.push(await s.get(`${origin.url}/vary/accept`, {headers: {accept}}));
			}

			assert.equal(origin.hits('/vary/accept'), 2);
			assert.deepEqual(results.map(r => r.fromCache), [false, false, true, true, true, true]);
			for (const [index, response] of results.entries()) {
				assert.equal(response.text(), accepts[index] === 'application/json' ? '{"kind":"json"}' : '<p>html</p>');
			}

			assert.equal(await s.cache.count(), 2);
		});

		it('never matches Vary: *', async () => {
			serve('/vary/star', () => ({headers: {vary: '*'}}));
			const s = session({expireAfter: 600});
			await s.get(`${origin.url}/vary/star`);
			assert.equal((await s.get(`${origin.url}/vary/star`)).fromCache, false);
			assert.equal(origin.hits('/vary/star'), 2);
		});

		it('never serves one credential\'s entry to a request with another credential the response varies on', async () => {
			origin.route('/vary/auth', (request, response) => {
				// The body names the user, not the token: bodies are stored as received, and this checks the request's credential.
				response.writeHead(200, {'content-type': 'text/plain', vary: 'Authorization'}).end(`for ${request.headers.authorization?.split(' ')[1]?.split('-')[0] ?? 'nobody'}`);
			});
			const cacheName = `.tmp/http-caching/auth-${process.pid}`;
			const s = session({expireAfter: 600, backend: 'sqlite', cacheName});
			await s.cache.clear();
			const alice = await s.get(`${origin.url}/vary/auth`, {headers: {authorization: 'Bearer alice-secret-token'}});
			const bob = await s.get(`${origin.url}/vary/auth`, {headers: {authorization: 'Bearer bob-secret-token'}});
			assert.equal(alice.text(), 'for alice');
			assert.equal(bob.fromCache, false);
			assert.equal(bob.text(), 'for bob');
			const aliceAgain = await s.get(`${origin.url}/vary/auth`, {headers: {authorization: 'Bearer alice-secret-token'}});
			assert.equal(aliceAgain.fromCache, true);
			assert.equal(aliceAgain.text(), 'for alice');
			const anonymous = await s.get(`${origin.url}/vary/auth`);
			assert.equal(anonymous.fromCache, false);
			await s.close();
			const {readFile} = await import('node:fs/promises');
			const raw = Buffer.concat(await Promise.all(['.sqlite', '.sqlite-wal'].map(async suffix => readFile(cacheName + suffix).catch(() => Buffer.alloc(0)))));
			assert.equal(raw.includes('alice-secret-token'), false, 'a credential reached the store');
			await rm('.tmp/http-caching', {recursive: true, force: true});
		});
	});

	describe('concurrency', () => {
		it('deduplicates 50 concurrent identical GETs on a cold key: one origin hit, 50 independent equal responses', async () => {
			const s = session({expireAfter: 600});
			const url = `${origin.url}/slow?ms=200&dedup=1`;
			const before = origin.hits('/slow');
			const responses = await Promise.all(Array.from({length: 50}, async () => s.get(url)));
			assert.equal(origin.hits('/slow') - before, 1);
			const bodies = new Set(responses.map(r => r.text()));
			assert.equal(bodies.size, 1);
			assert.equal(new Set(responses).size, 50);
			assert.equal(new Set(responses.map(r => r.body)).size, 50, 'each caller has its own body buffer');
			responses[0]!.body.fill(0);
			responses[0]!.headers['x-mutated'] = 'yes';
			assert.equal(responses[1]!.text(), [...bodies][0]);
			assert.equal(responses[1]!.headers['x-mutated'], undefined);
			assert.equal((await s.get(url)).fromCache, true);
		});

		it('does not share one in-flight request between requests that differ in headers', async () => {
			origin.route('/vary/slow', async (request, response) => {
				await new Promise(resolve => {
					setTimeout(resolve, 100);
				});
				response.writeHead(200, {'content-type': 'text/plain', vary: 'Accept'}).end(String(request.headers.accept));
			});
			const s = session({expireAfter: 600});
			const [a, b] = await Promise.all([
				s.get(`${origin.url}/vary/slow`, {headers: {accept: 'a/a'}}),
				s.get(`${origin.url}/vary/slow`, {headers: {accept: 'b/b'}}),
			]);
			assert.equal(a.text(), 'a/a');
			assert.equal(b.text(), 'b/b');
		});
	});

	describe('session.fetch', () => {
		it('returns a WHATWG Response through the cache and maps cache modes', async () => {
			const s = session({expireAfter: 600});
			const first = await s.fetch(`${origin.url}/json?fetch=1`);
			assert.ok(first instanceof globalThis.Response);
			assert.equal(first.status, 200);
			const body = await first.json() as {hit: number};
			const hits = origin.hits('/json');
			const second = await s.fetch(`${origin.url}/json?fetch=1`);
			assert.deepEqual(await second.json(), body);
			assert.equal(origin.hits('/json'), hits);
			await s.fetch(`${origin.url}/json?fetch=1`, {cache: 'reload'});
			assert.equal(origin.hits('/json'), hits + 1);
			const missing = await s.fetch(`${origin.url}/json?fetch=2`, {cache: 'only-if-cached'});
			assert.equal(missing.status, 504);
		});
	});
});
