import assert from 'node:assert/strict';
import type {OutgoingHttpHeaders} from 'node:http';
import {CachedSession, type CacheOptions} from '../../lib/index.js';
import {mayStore, parseCacheControl, storableHeaders} from '../../lib/policy/cache-control.js';
import {freshnessLifetime, storable} from '../../lib/policy/freshness.js';
import {notModified} from '../../lib/policy/conditional.js';
import {sharableWithAuthorization, sharedMaxAge, sharedMustRevalidate} from '../../lib/policy/shared-cache.js';
import {FakeClock} from '../support/clock.js';
import {Origin} from '../support/origin.js';

describe('policy/shared-cache (cacheControl: \'rfc9111\', shared: true)', () => {
	describe('the rules', () => {
		const now = Date.parse('2026-01-01T00:00:00Z');

		it('takes s-maxage before max-age in a shared cache only (RFC 9111 §4.2.1, §5.2.2.10)', () => {
			const headers = {'cache-control': 'max-age=3600, s-maxage=5'};
			assert.equal(freshnessLifetime(200, headers, now, true), 5000);
			assert.equal(freshnessLifetime(200, headers, now), 3_600_000);
			assert.equal(freshnessLifetime(200, {'cache-control': 's-maxage=abc, max-age=60'}, now, true), 0);
			assert.equal(sharedMaxAge(parseCacheControl('max-age=60')), undefined);
		});

		it('counts proxy-revalidate and s-maxage as "never serve stale"', () => {
			assert.equal(sharedMustRevalidate(parseCacheControl('proxy-revalidate, max-age=1')), true);
			assert.equal(sharedMustRevalidate(parseCacheControl('s-maxage=1')), true);
			assert.equal(sharedMustRevalidate(parseCacheControl('max-age=1')), false);
		});

		it('never stores an unqualified private response; s-maxage, not private, allows storing (RFC 9111 §3)', () => {
			assert.equal(mayStore(200, {'cache-control': 'private, max-age=60'}, true), false);
			assert.equal(mayStore(200, {'cache-control': 'private, max-age=60'}), true);
			assert.equal(mayStore(500, {'cache-control': 's-maxage=60'}, true), true);
			assert.equal(mayStore(500, {'cache-control': 's-maxage=60'}), false);
			assert.equal(mayStore(500, {'cache-control': 'private'}, true), false);
			// A qualified private only withholds its fields.
			assert.equal(mayStore(200, {'cache-control': 'private="x-user", max-age=60'}, true), true);
		});

		it('stores the answer to a request with Authorization only with public, s-maxage or must-revalidate (RFC 9111 §3.5)', () => {
			for (const allowed of ['public', 's-maxage=60', 'must-revalidate, max-age=60']) {
				assert.equal(sharableWithAuthorization({'cache-control': allowed}), true, allowed);
				assert.equal(storable(200, {'cache-control': allowed}, undefined, true, true), true, allowed);
			}

			assert.equal(storable(200, {'cache-control': 'max-age=60'}, undefined, true, true), false);
			assert.equal(storable(200, {'cache-control': 'max-age=60'}, undefined, true, false), true);
			assert.equal(storable(200, {'cache-control': 'max-age=60'}, undefined, false, true), true);
		});

		it('evaluates a client\'s If-None-Match (weakly, before If-Modified-Since) and If-Modified-Since against a stored response', () => {
			const stored = {etag: 'W/"abc"', 'last-modified': 'Thu, 01 Jan 2026 00:00:00 GMT'};
			assert.equal(notModified({'if-none-match': '"x", "abc"'}, stored, now), true);
			assert.equal(notModified({'if-none-match': '*'}, {}, now), true);
			assert.equal(notModified({'if-none-match': '"x"', 'if-modified-since': 'Fri, 02 Jan 2026 00:00:00 GMT'}, stored, now), false);
			assert.equal(notModified({'if-modified-since': 'Fri, 02 Jan 2026 00:00:00 GMT'}, stored, now), true);
			assert.equal(notModified({'if-modified-since': 'Wed, 31 Dec 2025 00:00:00 GMT'}, stored, now), false);
			assert.equal(notModified({'if-modified-since': 'Fri, 02 Jan 2026 00:00:00 GMT'}, {}, now), false);
		});

		it('leaves out the fields a qualified private names, in a shared cache only (RFC 9111 §5.2.2.7)', () => {
			const headers = {'cache-control': 'private="x-user, x-token", max-age=60', 'x-user': 'ann', 'x-token': 't', 'x-other': '1'};
			assert.deepEqual(Object.keys(storableHeaders(headers, true)).sort(), ['cache-control', 'x-other']);
			assert.deepEqual(storableHeaders(headers), headers);
		});
	});

	describe('a session against a real origin', () => {
		let origin: Origin;
		let clock: FakeClock;
		const sessions: CachedSession[] = [];

		function session(options: CacheOptions = {}): CachedSession {
			const created = new CachedSession({backend: 'memory', cacheControl: 'rfc9111', shared: true, clock: clock.read, ...options});
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

		it('accepts shared only with cacheControl: \'rfc9111\', naming the option otherwise', () => {
			assert.throws(() => new CachedSession({backend: 'memory', cacheControl: true, shared: true}), {name: 'TypeError', message: /`shared` only applies with `cacheControl: 'rfc9111'`/});
			assert.throws(() => new CachedSession({backend: 'memory', shared: true}), {name: 'TypeError', message: /`shared`/});
			assert.throws(() => new CachedSession({backend: 'memory', cacheControl: 'rfc9111', shared: 'yes' as never}), {name: 'TypeError', message: /shared/});
			assert.equal(new CachedSession({backend: 'memory', cacheControl: true, shared: false}).settings.shared, false);
		});

		it('keeps a response for its s-maxage, not its max-age', async () => {
			serve('/s/smaxage', () => ({headers: {'cache-control': 'max-age=3600, s-maxage=10'}}));
			const s = session();
			await s.get(`${origin.url}/s/smaxage`);
			clock.advance(5);
			assert.equal((await s.get(`${origin.url}/s/smaxage`)).fromCache, true);
			assert.equal(origin.hits('/s/smaxage'), 1);
			clock.advance(10);
			assert.equal((await s.get(`${origin.url}/s/smaxage`)).fromCache, false);
			assert.equal(origin.hits('/s/smaxage'), 2);
		});

		it('does not store a private response, which the private mode does', async () => {
			serve('/s/private', () => ({headers: {'cache-control': 'private, max-age=3600'}}));
			const s = session();
			await s.get(`${origin.url}/s/private`);
			assert.equal((await s.get(`${origin.url}/s/private`)).fromCache, false);
			assert.equal(origin.hits('/s/private'), 2);
			const privateMode = session({shared: false});
			await privateMode.get(`${origin.url}/s/private`);
			assert.equal((await privateMode.get(`${origin.url}/s/private`)).fromCache, true);
			assert.equal(origin.hits('/s/private'), 3);
		});

		it('stores the answer to a request with Authorization only when the response allows sharing', async () => {
			serve('/s/auth-plain', () => ({headers: {'cache-control': 'max-age=3600'}}));
			serve('/s/auth-public', () => ({headers: {'cache-control': 'public, max-age=3600'}}));
			const s = session();
			const headers = {authorization: 'Bearer abc'};
			await s.get(`${origin.url}/s/auth-plain`, {headers});
			assert.equal((await s.get(`${origin.url}/s/auth-plain`, {headers})).fromCache, false);
			assert.equal(origin.hits('/s/auth-plain'), 2);
			await s.get(`${origin.url}/s/auth-public`, {headers});
			assert.equal((await s.get(`${origin.url}/s/auth-public`, {headers})).fromCache, true);
			assert.equal(origin.hits('/s/auth-public'), 1);
		});

		it('stores a response without the fields its qualified private names', async () => {
			serve('/s/private-fields', () => ({headers: {'cache-control': 'private="x-user", max-age=3600', 'x-user': 'ann', 'x-shared': 'yes'}}));
			const s = session();
			const first = await s.get(`${origin.url}/s/private-fields`);
			assert.equal(first.headers['x-user'], 'ann');
			const hit = await s.get(`${origin.url}/s/private-fields`);
			assert.equal(hit.fromCache, true);
			assert.equal(origin.hits('/s/private-fields'), 1);
			assert.equal(hit.headers['x-user'], undefined);
			assert.equal(hit.headers['x-shared'], 'yes');
		});

		it('answers a client\'s conditional request from a fresh stored response: 304 when it matches, the response when not', async () => {
			serve('/s/conditional', () => ({headers: {'cache-control': 'max-age=3600', etag: '"v1"'}, body: 'the body'}));
			const s = session();
			await s.get(`${origin.url}/s/conditional`);
			const matched = await s.get(`${origin.url}/s/conditional`, {headers: {'if-none-match': '"v1"'}});
			assert.equal(matched.status, 304);
			assert.equal(matched.fromCache, true);
			assert.equal(matched.body.length, 0);
			assert.equal(matched.headers['etag'], '"v1"');
			const other = await s.get(`${origin.url}/s/conditional`, {headers: {'if-none-match': '"v0"'}});
			assert.equal(other.status, 200);
			assert.equal(other.fromCache, true);
			assert.equal(other.text(), 'the body');
			const viaFetch = await s.fetch(`${origin.url}/s/conditional`, {headers: {'if-none-match': '"v1"'}});
			assert.equal(viaFetch.status, 304);
			assert.equal(origin.hits('/s/conditional'), 1);
			// Without a stored response, the request goes on untouched and nothing is stored.
			await s.get(`${origin.url}/s/conditional-new`, {headers: {'if-none-match': '"v1"'}});
			serve('/s/conditional-new', () => ({headers: {'cache-control': 'max-age=3600'}}));
			await s.get(`${origin.url}/s/conditional-new`, {headers: {'if-none-match': '"v1"'}});
			assert.equal(origin.hits('/s/conditional-new'), 2);
		});

		it('never serves an s-maxage or proxy-revalidate response stale, even with staleIfError', async () => {
			for (const directive of ['s-maxage=1', 'max-age=1, proxy-revalidate']) {
				const path = `/s/stale-${directive.replaceAll(/\W/g, '')}`;
				let calls = 0;
				serve(path, () => (++calls === 1 ? {headers: {'cache-control': directive}} : {status: 503, body: 'down'}));
				const s = session({staleIfError: true});
				// eslint-disable-next-line no-await-in-loop -- one path after another, each with its own counter
				await s.get(`${origin.url}${path}`);
				clock.advance(5);
				// eslint-disable-next-line no-await-in-loop
				const second = await s.get(`${origin.url}${path}`);
				assert.equal(second.status, 503, directive);
				assert.equal(second.fromCache, false, directive);
			}

			// The private mode lets staleIfError serve it (a clock of its own: the origin's Date must not make it stale on arrival).
			clock = new FakeClock();
			let calls = 0;
			serve('/s/stale-private', () => (++calls === 1 ? {headers: {'cache-control': 'max-age=1, s-maxage=1'}} : {status: 503, body: 'down'}));
			const privateMode = session({shared: false, staleIfError: true});
			await privateMode.get(`${origin.url}/s/stale-private`);
			clock.advance(5);
			const stale = await privateMode.get(`${origin.url}/s/stale-private`);
			assert.equal(stale.fromCache, true);
			assert.equal(stale.status, 200);
		});
	});
});
