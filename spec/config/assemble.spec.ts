import assert from 'node:assert/strict';
import {BackendError, BaseCache, CACHE_STORE, CachedSession, type CacheStore, MemoryStore} from '../../lib/index.js';
import {createEngine, createStore} from '../../lib/config/assemble.js';
import {normalizeCacheOptions} from '../../lib/config/options.js';
import {Origin} from '../support/origin.js';

/** A memory store whose reads and writes fail. */
function failingStore(): CacheStore {
	const store = new MemoryStore();
	const fail = async (): Promise<never> => {
		throw new Error('store down');
	};

	return Object.assign(Object.create(store) as CacheStore, {[CACHE_STORE]: true, get: fail, set: fail});
}

// Issue 17: one composition root builds store -> cache -> engine; a BaseCache given as backend
// takes the session's storage options or refuses them, never ignores them.
describe('config/assemble: the composition root', () => {
	let origin: Origin;

	before(async () => {
		origin = await Origin.start();
	});

	after(async () => {
		await origin.close();
	});

	it('builds the store the options name, and the engine closes the cache it built', async () => {
		const engine = createEngine(normalizeCacheOptions({backend: 'memory', cacheName: 'built'}));
		assert.equal(engine.cache.backend, 'memory');
		await engine.close();
		class Closing extends MemoryStore {
			closed = 0;
			override async close(): Promise<void> {
				this.closed++;
				await super.close();
			}
		}

		const store = new Closing();
		const built = createEngine(normalizeCacheOptions({backend: store}));
		await built.close();
		assert.equal(store.closed, 1, 'a store given as backend gets a cache built for it, closed with the engine');
		const cache = new BaseCache(new Closing());
		await createEngine(normalizeCacheOptions({backend: cache})).close();
		assert.equal(await cache.count(), 0, 'a BaseCache handed in stays open');
		await cache.close();
	});

	it('uses a BaseCache given as backend as it is, with the session\'s key function, and leaves it open', async () => {
		const cache = new BaseCache(new MemoryStore());
		const session = new CachedSession({backend: cache, ignoredParameters: ['t']});
		assert.equal(session.cache, cache);
		await session.get(`${origin.url}/json?assemble=1&t=1`);
		assert.equal(await cache.contains({url: `${origin.url}/json?assemble=1&t=2`}), true, 'the cache builds the session\'s keys');
		await session.close();
		assert.equal(await cache.count(), 1, 'a cache handed in stays open for its owner');
		await cache.close();
	});

	it('refuses the session\'s storage options beside a BaseCache, and the BaseCache honours its own', async () => {
		assert.throws(() => createEngine(normalizeCacheOptions({backend: new BaseCache(new MemoryStore()), backendTimeout: 50})), {name: 'TypeError', message: /`backendTimeout` cannot be given with a BaseCache/});
		const strict = new CachedSession({backend: new BaseCache(failingStore(), {strictBackend: true})});
		await assert.rejects(strict.get(`${origin.url}/json?assemble=strict`), BackendError, 'strictBackend on the BaseCache throws');
		// The old name still works (deprecated), and fails open by default.
		const open = new CachedSession({backend: new BaseCache(failingStore(), {strict: false})});
		const errors: Error[] = [];
		open.cache.on('error', (error: Error) => errors.push(error));
		assert.equal((await open.get(`${origin.url}/json?assemble=open`)).status, 200);
		assert.ok(errors.length > 0, 'the failure is reported on the cache');
		await strict.close();
		await open.close();
	});

	it('refuses a BaseCache in createStore(), which builds stores only', () => {
		assert.throws(() => createStore({backend: new BaseCache(new MemoryStore())}), {name: 'TypeError', message: /createStore\(\) option `backend` must be a store/});
		assert.equal(createStore({backend: 'memory'}).name, 'memory');
	});
});
