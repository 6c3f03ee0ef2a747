import {storeOf} from '../lib/cache/base-cache.js';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {
	BaseCache, CachedSession, DO_NOT_CACHE, Session, clear, disabled, enabled, get, getCache, getDefaultSession, installCache,
	isInstalled, uninstallCache,
} from '../lib/index.js';
import {Origin} from './support/origin.js';
import {removeDir, tempDir} from './support/temp-dir.js';

describe('installCache()', () => {
	let origin: Origin;
	let dir: string;
	const originalSend = Session.prototype.send;

	before(async () => {
		origin = await Origin.start();
		dir = tempDir('install');
	});

	afterEach(async () => {
		await uninstallCache();
		assert.equal(Session.prototype.send, originalSend, 'every test leaves Session as it found it');
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	/** GET through `send` twice; true when the second came from the cache without reaching the origin. */
	async function cachesTwice(send: (url: string) => Promise<{fromCache: boolean}>, query: string): Promise<boolean> {
		const url = `${origin.url}/json?${query}`;
		const before = origin.hits('/json');
		const first = await send(url);
		const second = await send(url);
		assert.equal(first.fromCache, false);
		const untouched = origin.hits('/json') === before + 1;
		assert.equal(second.fromCache, untouched, 'fromCache agrees with the origin\'s hit counter');
		return second.fromCache;
	}

	it('caches module-level requests and every plain Session, created before or after', async () => {
		const before = new Session();
		class Subclass extends Session {}
		assert.equal(await cachesTwice(async url => get(url), 'not-yet'), false);
		const cache = installCache('install-memory', {backend: 'memory'});
		const after = new Session();
		assert.equal(await cachesTwice(async url => get(url), 'module'), true);
		assert.equal(await cachesTwice(async url => before.get(url), 'before'), true);
		assert.equal(await cachesTwice(async url => after.get(url), 'after'), true);
		assert.equal(await cachesTwice(async url => new Subclass().get(url), 'subclass'), true);
		assert.equal(await cache.count(), 4);
		assert.equal((await getDefaultSession().get(`${origin.url}/json?after`)).fromCache, true, 'module-level functions use the default session');
	});

	it('shares one cache between all plain sessions', async () => {
		installCache({backend: 'memory'});
		const url = `${origin.url}/json?shared=1`;
		await new Session().get(url);
		const other = await new Session().get(url);
		assert.equal(other.fromCache, true);
		assert.equal((await get(url)).fromCache, true);
	});

	it('uses a SQLite file by default, named by cacheName', async () => {
		const name = path.join(dir, 'installed');
		const cache = installCache(name);
		assert.equal(cache.backend, 'sqlite');
		await get(`${origin.url}/json?sqlite=1`);
		assert.ok(existsSync(`${name}.sqlite`));
		assert.deepEqual(await cache.urls(), [`${origin.url}/json?sqlite=1`]);
	});

	it('leaves a cached session with its own cache', async () => {
		const installed = installCache({backend: 'memory'});
		const own = new CachedSession({backend: 'memory'});
		assert.equal(await cachesTwice(async url => own.get(url), 'own'), true);
		assert.equal(await installed.count(), 0);
		assert.equal(await own.cache.count(), 1);
		await own.close();
	});

	// Issue 17: the plain Session knows no door; the send installCache() puts in place steps around them.
	it('keeps a plain session\'s own requests out of the http door when the session door is not patched', async () => {
		const installed = installCache({backend: 'memory', patch: ['http']});
		assert.equal(await cachesTwice(async url => new Session().get(url), 'http-door-only'), false);
		assert.equal(await installed.count(), 0);
	});

	it('runs the session hooks for responses from the installed cache', async () => {
		installCache({backend: 'memory'});
		const seen: boolean[] = [];
		const session = new Session({hooks: {response: [response => {
			seen.push(response.fromCache);
		}]}});
		await session.get(`${origin.url}/json?hooks=1`);
		await session.get(`${origin.url}/json?hooks=1`);
		assert.deepEqual(seen, [false, true]);
	});

	it('takes cache options as the second argument, or as the only one', async () => {
		const named = installCache('with-options', {backend: 'memory', expireAfter: 60});
		assert.equal(getCache(), named);
		const response = await get(`${origin.url}/json?options=1`);
		assert.ok(response.expires instanceof Date);
		const fromObject = installCache({backend: 'memory', allowableCodes: [200, 404]});
		await get(`${origin.url}/status/404`);
		assert.equal((await get(`${origin.url}/status/404`)).fromCache, true);
		assert.equal(await fromObject.count(), 1);
	});

	it('accepts per-request cache options while installed, and refuses them again after', async () => {
		installCache({backend: 'memory'});
		const url = `${origin.url}/json?per-request=1`;
		await get(url);
		assert.equal((await get(url, {expireAfter: DO_NOT_CACHE})).fromCache, false);
		assert.equal((await get(url, {forceRefresh: true})).fromCache, false);
		await uninstallCache();
		await assert.rejects(get(url, {expireAfter: 60}), {name: 'TypeError', message: /needs a cache/});
	});

	it('rejects bad arguments, naming the option', () => {
		assert.throws(() => installCache({backend: 'memory', expire_after: 5} as never), {name: 'TypeError', message: /^installCache\(\): unknown option `expire_after` \(did you mean `expireAfter`\?\)/});
		assert.throws(() => installCache('x', {backend: 'memory', expireAfter: -3}), {name: 'RangeError', message: /installCache\(\) option `expireAfter`/});
		assert.throws(() => installCache(5 as never), {name: 'TypeError', message: /cacheName must be a string/});
		assert.throws(() => installCache({}, {}), {name: 'TypeError', message: /no second argument/});
		assert.equal(isInstalled(), false, 'a failed install installs nothing');
		assert.equal(Session.prototype.send, originalSend);
	});

	it('replaces an installed cache when called again, and closes the old one', async () => {
		const first = installCache({backend: 'memory'});
		let closed = false;
		const store = storeOf(first);
		const close = store.close.bind(store);
		(store as {close: () => Promise<void>}).close = async () => {
			closed = true;
			await close();
		};

		await get(`${origin.url}/json?replace=1`);
		const second = installCache({backend: 'memory'});
		await new Promise(resolve => {
			setImmediate(resolve);
		});
		assert.ok(closed);
		assert.equal(getCache(), second);
		assert.equal((await get(`${origin.url}/json?replace=1`)).fromCache, false, 'the new cache starts empty');
	});

	describe('uninstallCache()', () => {
		it('stops caching and restores Session.prototype.send itself', async () => {
			installCache({backend: 'memory'});
			assert.notEqual(Session.prototype.send, originalSend);
			const session = new Session();
			await uninstallCache();
			assert.equal(Session.prototype.send, originalSend);
			assert.equal(await cachesTwice(async url => get(url), 'uninstalled'), false);
			assert.equal(await cachesTwice(async url => session.get(url), 'uninstalled-session'), false);
		});

		it('is harmless when nothing is installed, and after install twice', async () => {
			await uninstallCache();
			installCache({backend: 'memory'});
			installCache({backend: 'memory'});
			await uninstallCache();
			assert.equal(Session.prototype.send, originalSend);
			await uninstallCache();
		});
	});

	it('isInstalled() and getCache() say what is installed', async () => {
		assert.equal(isInstalled(), false);
		assert.equal(getCache(), undefined);
		const cache = installCache({backend: 'memory'});
		assert.equal(isInstalled(), true);
		assert.ok(getCache() instanceof BaseCache);
		assert.equal(getCache(), cache);
		await uninstallCache();
		assert.equal(isInstalled(), false);
		assert.equal(getCache(), undefined);
	});

	it('clear() empties the installed cache, and does nothing when none is installed', async () => {
		assert.equal(await clear(), undefined);
		const cache = installCache({backend: 'memory'});
		await get(`${origin.url}/json?clear=1`);
		assert.equal(await cache.count(), 1);
		await clear();
		assert.equal(await cache.count(), 0);
		assert.equal((await get(`${origin.url}/json?clear=1`)).fromCache, false);
	});

	describe('disabled()', () => {
		it('bypasses the installed cache and every session\'s own cache inside the function', async () => {
			installCache({backend: 'memory'});
			const own = new CachedSession({backend: 'memory'});
			const url = `${origin.url}/json?disabled=1`;
			await get(url);
			await own.get(url);
			const before = origin.hits('/json');
			const [plain, cached] = await disabled(async () => Promise.all([get(url), own.get(url)]));
			assert.equal(plain.fromCache, false);
			assert.equal(cached.fromCache, false);
			assert.equal(origin.hits('/json'), before + 2);
			assert.equal((await get(url)).fromCache, true, 'caching resumes afterwards');
			assert.equal((await own.get(url)).fromCache, true);
			await own.close();
		});

		it('returns the function\'s result and works with nothing installed', async () => {
			assert.equal(await disabled(() => 'done'), 'done');
			await assert.rejects(disabled(5 as never), TypeError);
		});
	});

	describe('enabled()', () => {
		it('caches inside the function only, then restores Session', async () => {
			const inside = await enabled(async () => {
				assert.equal(isInstalled(), true);
				return cachesTwice(async url => get(url), 'enabled');
			}, 'enabled-cache', {backend: 'memory'});
			assert.equal(inside, true);
			assert.equal(isInstalled(), false);
			assert.equal(Session.prototype.send, originalSend);
			assert.equal(await cachesTwice(async url => get(url), 'after-enabled'), false);
		});

		it('restores the cache installed before it, even when the function throws', async () => {
			const outer = installCache({backend: 'memory'});
			await assert.rejects(enabled(async () => {
				assert.notEqual(getCache(), outer);
				throw new Error('inside');
			}, {backend: 'memory'}), /inside/);
			assert.equal(getCache(), outer);
			assert.notEqual(Session.prototype.send, originalSend);
			await get(`${origin.url}/json?outer=1`);
			assert.equal(await outer.count(), 1);
		});

		it('rejects a non-function and bad options', async () => {
			await assert.rejects(enabled('x' as never), {name: 'TypeError', message: /takes a function/});
			await assert.rejects(enabled(() => 1, {backend: 'nope' as never}), {name: 'TypeError', message: /`backend`/});
			assert.equal(isInstalled(), false);
			assert.equal(Session.prototype.send, originalSend);
		});
	});
});
