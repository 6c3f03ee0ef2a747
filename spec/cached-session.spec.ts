import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import path from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import {Keyv} from 'keyv';
import {
	BaseCache, CacheMixin, CachedSession, DEFAULT_CACHE_OPTIONS, DEFAULT_IGNORED_PARAMETERS, DO_NOT_CACHE, Session, createStore,
} from '../lib/index.js';
import type {CacheOptions} from '../lib/index.js';
import {FakeClock} from './support/clock.js';
import {Origin} from './support/origin.js';
import {removeDir, tempDir} from './support/temp-dir.js';

describe('CachedSession', () => {
	let origin: Origin;
	let dir: string;

	before(async () => {
		origin = await Origin.start();
		dir = tempDir('cached-session');
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	/** Two GETs of one URL: the second must come from the cache without reaching the origin. */
	async function assertCaches(session: CachedSession, query: string): Promise<void> {
		const url = `${origin.url}/json?${query}`;
		const before = origin.hits('/json');
		const first = await session.get(url);
		const second = await session.get(url);
		assert.equal(first.fromCache, false);
		assert.equal(second.fromCache, true);
		assert.equal(origin.hits('/json'), before + 1);
		assert.deepEqual(second.json(), first.json());
	}

	it('is a named class, a Session and a CacheMixin(Session)', async () => {
		assert.equal(CachedSession.name, 'CachedSession');
		const session = new CachedSession({backend: 'memory'});
		assert.ok(session instanceof CachedSession);
		assert.ok(session instanceof Session);
		assert.equal(typeof session.get, 'function');
		assert.equal(typeof session.cacheDisabled, 'function');
		await session.close();
	});

	it('has frozen defaults: sqlite in http_cache, never expiring, 200 only, GET and HEAD, no ignored parameters of the user\'s', async () => {
		assert.ok(Object.isFrozen(DEFAULT_CACHE_OPTIONS));
		const session = new CachedSession({cacheName: path.join(dir, 'defaults')});
		const {settings} = session;
		assert.ok(Object.isFrozen(settings));
		assert.equal(settings.backend, 'sqlite');
		assert.equal(DEFAULT_CACHE_OPTIONS.cacheName, 'http_cache');
		assert.equal(settings.expireAfter.kind, 'never');
		assert.deepEqual([...settings.allowableCodes], [200]);
		assert.deepEqual([...settings.allowableMethods], ['GET', 'HEAD']);
		assert.deepEqual([...settings.ignoredParameters], [], 'none of the user\'s: the built-in credential names need no listing');
		assert.equal(settings.matchHeaders, false);
		assert.equal(settings.readOnly, false);
		assert.equal(session.cache.backend, 'sqlite');
		await session.close();
	});

	it('stores in ./http_cache.sqlite when no cacheName is given', async () => {
		const cwd = process.cwd();
		const here = tempDir('default-name');
		process.chdir(here);
		try {
			const session = new CachedSession();
			assert.equal(session.settings.cacheName, 'http_cache');
			await assertCaches(session, 'default-name=1');
			await session.close();
			assert.ok(existsSync(path.join(here, 'http_cache.sqlite')));
		} finally {
			process.chdir(cwd);
			removeDir(here);
		}
	});

	describe('backends', () => {
		it('caches in memory with backend: \'memory\'', async () => {
			const session = new CachedSession({backend: 'memory'});
			assert.equal(session.cache.backend, 'memory');
			await assertCaches(session, 'backend=memory');
			await session.close();
		});

		it('caches in a SQLite file named by cacheName', async () => {
			const session = new CachedSession({cacheName: path.join(dir, 'named')});
			await assertCaches(session, 'backend=sqlite');
			await session.close();
			assert.ok(existsSync(path.join(dir, 'named.sqlite')));
		});

		it('caches through a Keyv instance given as the backend', async () => {
			const keyv = new Keyv({namespace: 'spec'});
			const session = new CachedSession({backend: keyv});
			assert.equal(session.cache.backend, 'keyv');
			await assertCaches(session, 'backend=keyv');
			assert.equal(await session.cache.count(), 1);
			await session.close();
		});

		it('caches through a Keyv store adapter given as the backend', async () => {
			const adapter = new KeyvSqlite({uri: `sqlite://${path.join(dir, 'adapter.sqlite')}`});
			const session = new CachedSession({backend: adapter, cacheName: 'adapter-ns'});
			assert.equal(session.cache.backend, 'keyv');
			await assertCaches(session, 'backend=adapter');
			assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?backend=adapter`]);
			await session.close();
		});

		it('shares a BaseCache given as the backend between sessions', async () => {
			const cache = new BaseCache(createStore({backend: 'memory', cacheName: 'shared', url: undefined, ttlOffset: 0}));
			const a = new CachedSession({backend: cache});
			const b = new CachedSession({backend: cache});
			assert.equal(a.cache, cache);
			const url = `${origin.url}/json?backend=basecache`;
			const before = origin.hits('/json');
			await a.get(url);
			const fromB = await b.get(url);
			assert.equal(fromB.fromCache, true);
			assert.equal(origin.hits('/json'), before + 1);
			await a.close();
		});
	});

	it('passes the options it does not own to the base class', async () => {
		const session = new CachedSession({backend: 'memory', headers: {'x-base': 'yes'}, timeout: 1234});
		assert.equal(session.timeout, 1234);
		assert.deepEqual(session.headers, {'x-base': 'yes'});
		await session.get(`${origin.url}/echo`);
		assert.equal(origin.seen.at(-1)!.headers['x-base'], 'yes');
		await session.close();
	});

	it('marks responses with fromCache, createdAt, expires, isExpired, revalidated and cacheKey', async () => {
		const clock = new FakeClock(Date.UTC(2030, 0, 1));
		const session = new CachedSession({backend: 'memory', expireAfter: 60, clock: clock.read});
		const url = `${origin.url}/json?fields=1`;
		const fresh = await session.get(url);
		assert.equal(fresh.fromCache, false);
		assert.equal(fresh.createdAt.getTime(), clock.now);
		assert.equal(fresh.expires?.getTime(), clock.now + 60_000);
		assert.equal(fresh.isExpired, false);
		assert.equal(fresh.revalidated, false);
		assert.match(fresh.cacheKey, /^[\da-f]{32}$/);
		const created = clock.now;
		clock.advance(30);
		const cached = await session.get(url);
		assert.equal(cached.fromCache, true);
		assert.ok(cached.createdAt instanceof Date);
		assert.equal(cached.createdAt.getTime(), created, 'createdAt is when it was stored');
		assert.equal(cached.expires?.getTime(), created + 60_000);
		assert.equal(cached.isExpired, false);
		assert.equal(cached.revalidated, false);
		assert.equal(cached.cacheKey, fresh.cacheKey);
		await session.close();
	});

	it('gives a response it did not store a cache key but no expiry', async () => {
		const session = new CachedSession({backend: 'memory'});
		const response = await session.get(`${origin.url}/status/404`);
		assert.equal(response.fromCache, false);
		assert.equal(response.expires, null);
		assert.match(response.cacheKey, /^[\da-f]{32}$/);
		await session.close();
	});

	it('lets a per-request expireAfter override the session\'s', async () => {
		const clock = new FakeClock();
		const session = new CachedSession({backend: 'memory', expireAfter: 60, clock: clock.read});
		const response = await session.get(`${origin.url}/json?per-request=1`, {expireAfter: {hours: 2}});
		assert.equal(response.expires?.getTime(), clock.now + 7_200_000);
		clock.advance(3600);
		assert.equal((await session.get(`${origin.url}/json?per-request=1`)).fromCache, true);
		await session.close();
	});

	describe('what is stored', () => {
		it('stores only the allowable methods and status codes: GET and HEAD, 200, by default', async () => {
			const session = new CachedSession({backend: 'memory'});
			const before = origin.hits();
			await session.post(`${origin.url}/echo`, {json: {a: 1}});
			assert.equal((await session.post(`${origin.url}/echo`, {json: {a: 1}})).fromCache, false, 'POST is neither stored nor read');
			await session.get(`${origin.url}/status/404`);
			assert.equal((await session.get(`${origin.url}/status/404`)).fromCache, false, '404 is not stored');
			await session.head(`${origin.url}/json?head=1`);
			const head = await session.head(`${origin.url}/json?head=1`);
			assert.equal(head.fromCache, true, 'HEAD is stored');
			assert.equal((await session.get(`${origin.url}/json?head=1`)).fromCache, false, 'a GET is not answered with a HEAD response');
			assert.equal(origin.hits(), before + 6);
			assert.equal(await session.cache.count(), 2);
			await session.close();
		});

		it('stores other methods and codes when allowed', async () => {
			const session = new CachedSession({backend: 'memory', allowableMethods: ['get', 'post'], allowableCodes: [200, 404]});
			await session.post(`${origin.url}/echo`, {json: {a: 1}});
			assert.equal((await session.post(`${origin.url}/echo`, {json: {a: 1}})).fromCache, true);
			await session.get(`${origin.url}/status/404`);
			const notFound = await session.get(`${origin.url}/status/404`);
			assert.equal(notFound.fromCache, true);
			assert.equal(notFound.status, 404);
			await session.head(`${origin.url}/json?head=2`);
			assert.equal((await session.head(`${origin.url}/json?head=2`)).fromCache, false, 'HEAD is no longer in the list');
			await session.close();
		});

		it('lets filterFn veto storing a response it is shown', async () => {
			const shown: Array<[number, string]> = [];
			const session = new CachedSession({
				backend: 'memory',
				filterFn(response) {
					shown.push([response.status, response.url]);
					return !response.url.includes('private');
				},
			});
			await session.get(`${origin.url}/json?private=1`);
			assert.equal((await session.get(`${origin.url}/json?private=1`)).fromCache, false);
			await session.get(`${origin.url}/json?public=1`);
			assert.equal((await session.get(`${origin.url}/json?public=1`)).fromCache, true);
			await session.get(`${origin.url}/status/500`);
			assert.deepEqual(shown, [
				[200, `${origin.url}/json?private=1`], [200, `${origin.url}/json?private=1`], [200, `${origin.url}/json?public=1`],
			], 'only for responses that would otherwise be stored');
			await session.close();
		});

		it('serves what is stored but stores nothing with readOnly: true', async () => {
			const cacheName = path.join(dir, 'read-only');
			const writer = new CachedSession({cacheName});
			await writer.get(`${origin.url}/json?read-only=stored`);
			const reader = new CachedSession({cacheName, readOnly: true});
			assert.equal((await reader.get(`${origin.url}/json?read-only=stored`)).fromCache, true);
			const before = origin.hits('/json');
			await reader.get(`${origin.url}/json?read-only=new`);
			const again = await reader.get(`${origin.url}/json?read-only=new`);
			assert.equal(again.fromCache, false);
			assert.equal(origin.hits('/json'), before + 2);
			assert.deepEqual(await reader.cache.urls(), [`${origin.url}/json?read-only=stored`]);
			await writer.close();
			await reader.close();
		});
	});

	describe('options validation', () => {
		const cases: Array<[string, Record<string, unknown>, 'TypeError' | 'RangeError', RegExp]> = [
			['an unknown option', {expire_after: 60}, 'TypeError', /unknown option `expire_after` \(did you mean `expireAfter`\?\)/],
			['an option no class knows', {colour: 'red'}, 'TypeError', /unknown option `colour`/],
			['options that are not an object', {__self: 'x'}, 'TypeError', /`options`/],
			['a cacheName that is not a string', {cacheName: 5}, 'TypeError', /`cacheName` must be a non-empty string, got number 5/],
			['an empty cacheName', {cacheName: ' '}, 'TypeError', /`cacheName`/],
			['an unknown backend name', {backend: 'sqlite3'}, 'TypeError', /`backend` must be one of 'sqlite', 'memory', 'redis', 'mongodb'/],
			['a backend object that cannot get and set', {backend: {}}, 'TypeError', /`backend`/],
			['a url for a backend that takes none', {backend: 'memory', url: 'redis://x'}, 'TypeError', /`url` only applies/],
			['a url that is not a URL', {backend: 'redis', url: 'localhost'}, 'TypeError', /`url`/],
			['an empty list of cluster nodes', {backend: 'redis', url: []}, 'TypeError', /`url` must be a connection URL such as redis:\/\/localhost:6379, or an array of a Redis Cluster's node URLs/],
			['a cluster node that is not a URL', {backend: 'redis', url: ['redis://a:7001', 'b:7002']}, 'TypeError', /`url`/],
			['a list of URLs for MongoDB', {backend: 'mongodb', url: ['mongodb://a', 'mongodb://b']}, 'TypeError', /an array of URLs, a Redis Cluster, to 'redis' only/],
			['an expireAfter string', {expireAfter: '1h'}, 'TypeError', /`expireAfter` must be seconds/],
			['a negative expireAfter other than -1', {expireAfter: -5}, 'RangeError', /`expireAfter`/],
			['an infinite expireAfter', {expireAfter: Number.POSITIVE_INFINITY}, 'RangeError', /`expireAfter` must be a finite number/],
			['a NaN expireAfter', {expireAfter: Number.NaN}, 'RangeError', /`expireAfter`/],
			['an invalid Date', {expireAfter: new Date('nope')}, 'RangeError', /`expireAfter` must be a valid Date/],
			['a duration with an unknown unit', {expireAfter: {weeks: 1}}, 'TypeError', /unknown unit `weeks`/],
			['a duration with a negative part', {expireAfter: {hours: -1}}, 'RangeError', /`expireAfter.hours`/],
			['a duration with a string part', {expireAfter: {hours: '1'}}, 'TypeError', /`expireAfter.hours`/],
			['urlsExpireAfter as an array', {urlsExpireAfter: [['a', 1]]}, 'TypeError', /`urlsExpireAfter`/],
			['a bad value in urlsExpireAfter', {urlsExpireAfter: {'example.com': 'soon'}}, 'TypeError', /`urlsExpireAfter\['example.com'\]`/],
			['an empty urlsExpireAfter pattern', {urlsExpireAfter: {'': 60}}, 'RangeError', /`urlsExpireAfter`/],
			['allowableCodes that are not integers', {allowableCodes: [200.5]}, 'TypeError', /`allowableCodes`/],
			['allowableCodes as a number', {allowableCodes: 200}, 'TypeError', /`allowableCodes`/],
			['an impossible status code', {allowableCodes: [200, 700]}, 'RangeError', /`allowableCodes` must be status codes from 100 to 599, got number 700/],
			['allowableMethods as a string', {allowableMethods: 'GET'}, 'TypeError', /`allowableMethods`/],
			['an empty ignored parameter', {ignoredParameters: ['']}, 'TypeError', /`ignoredParameters`/],
			['matchHeaders as a string', {matchHeaders: 'accept'}, 'TypeError', /`matchHeaders`/],
			['a filterFn that is not a function', {filterFn: true}, 'TypeError', /`filterFn` must be a function/],
			['a keyFn that is not a function', {keyFn: 'url'}, 'TypeError', /`keyFn` must be a function/],
			['readOnly as a string', {readOnly: 'yes'}, 'TypeError', /`readOnly` must be a boolean/],
			['a clock that is not a function', {clock: 0}, 'TypeError', /`clock` must be a function/],
			['a zero backendTimeout', {backendTimeout: 0}, 'RangeError', /`backendTimeout`/],
			['a negative ttlOffset', {ttlOffset: -1}, 'RangeError', /`ttlOffset`/],
			['a base-class option of the wrong type', {timeout: 'slow'}, 'TypeError', /`timeout`/],
		];
		for (const [what, options, name, message] of cases) {
			it(`throws a ${name} at construction for ${what}`, () => {
				const given = '__self' in options ? options['__self'] : {backend: 'memory', ...options};
				assert.throws(() => new CachedSession(given as CacheOptions), (error: unknown) => {
					assert.equal((error as Error).name, name);
					assert.match((error as Error).message, message);
					return true;
				});
			});
		}

		it('names the subclass in its messages', () => {
			class BooksSession extends CacheMixin(Session) {}
			assert.throws(() => new BooksSession({expireAfter: 'x' as never}), {message: /^BooksSession option `expireAfter`/});
			assert.throws(() => new CachedSession({expireAfter: 'x' as never}), {message: /^CachedSession option `expireAfter`/});
		});

		it('validates a per-request expireAfter before sending', async () => {
			const session = new CachedSession({backend: 'memory'});
			const before = origin.hits();
			await assert.rejects(session.get(`${origin.url}/json`, {expireAfter: 'soon' as never}), {name: 'TypeError', message: /`expireAfter`/});
			await assert.rejects(session.get(`${origin.url}/json`, {expireAfter: -2}), {name: 'RangeError', message: /`expireAfter`/});
			assert.equal(origin.hits(), before);
			await session.close();
		});

		it('accepts every documented form of every option', async () => {
			const session = new CachedSession({
				cacheName: path.join(dir, 'all-options'),
				backend: 'sqlite',
				expireAfter: new Date(Date.now() + 60_000),
				urlsExpireAfter: {'127.0.0.1/api/*': {minutes: 5}, '*.example.com': DO_NOT_CACHE},
				allowableCodes: [200, 203, 404],
				allowableMethods: ['get', 'HEAD', 'post'],
				ignoredParameters: ['token'],
				matchHeaders: ['Accept'],
				filterFn: () => true,
				keyFn: request => request.url,
				readOnly: false,
				clock: Date.now,
			});
			assert.deepEqual([...session.settings.allowableMethods], ['GET', 'HEAD', 'POST']);
			assert.deepEqual(session.settings.matchHeaders, ['accept']);
			assert.deepEqual([...session.settings.ignoredParameters], ['token']);
			await session.close();
		});
	});
});
