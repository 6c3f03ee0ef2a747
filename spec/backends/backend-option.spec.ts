import assert from 'node:assert/strict';
import path from 'node:path';
import {BaseCache, CACHE_STORE, CachedSession, type CacheStore, MemoryStore, SqliteStore} from '../../lib/index.js';
import {Origin} from '../support/origin.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

/** A store of one's own: the documented contract, branded, keeping its records in a MemoryStore. */
function ownStore(): CacheStore & {writes: number} {
	const inner = new MemoryStore();
	const store = {
		[CACHE_STORE]: true as const,
		name: 'own',
		local: true,
		writes: 0,
		get: async (key: string) => inner.get(key),
		async set(records: Parameters<CacheStore['set']>[0]) {
			store.writes += records.length;
			return inner.set(records);
		},
		delete: async (keys: readonly string[]) => inner.delete(keys),
		scan: () => inner.scan(),
		clear: async () => inner.clear(),
		close: async () => inner.close(),
	};
	return store;
}

// Issue 17, defects 1 and 2: a store of this package given as `backend` was taken for a Keyv
// adapter (every write failed, silently), and a BaseCache's own timeout and strictness silently
// won over the session's.
describe('the backend option', () => {
	let origin: Origin;
	let dir: string;
	const sessions: CachedSession[] = [];

	before(async () => {
		origin = await Origin.start();
		origin.route('/page', (_request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=600'}).end('page');
		});
		dir = tempDir('backend-option');
	});

	afterEach(async () => {
		await Promise.all(sessions.splice(0).map(async session => session.close()));
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	async function secondGetIsAHit(session: CachedSession, name: string): Promise<void> {
		sessions.push(session);
		const errors: Error[] = [];
		session.cache.on('error', error => errors.push(error));
		const url = `${origin.url}/page?store=${name}`;
		const first = await session.get(url);
		assert.equal(first.fromCache, false);
		const hits = origin.hits('/page');
		const second = await session.get(url);
		assert.equal(second.fromCache, true, `${name}: the second GET is a hit`);
		assert.equal(origin.hits('/page'), hits, `${name}: the origin saw one request`);
		assert.equal(second.text(), 'page');
		assert.deepEqual(errors, [], `${name}: no store error`);
	}

	it('takes the package\'s own MemoryStore as a store, not as a Keyv adapter', async () => {
		const store = new MemoryStore();
		const session = new CachedSession({backend: store});
		await secondGetIsAHit(session, 'memory');
		assert.equal(session.cache.backend, 'memory');
		assert.ok(store.size > 0, 'the response is in the store that was given');
	});

	it('takes the package\'s own SqliteStore as a store', async () => {
		const store = new SqliteStore(path.join(dir, 'given'));
		const session = new CachedSession({backend: store});
		await secondGetIsAHit(session, 'sqlite');
		assert.equal(session.cache.backend, 'sqlite');
	});

	it('takes a store of one\'s own branded with CACHE_STORE, and writes through its contract', async () => {
		const store = ownStore();
		const session = new CachedSession({backend: store});
		await secondGetIsAHit(session, 'own');
		assert.equal(session.cache.backend, 'own');
		assert.ok(store.writes > 0);
	});

	it('refuses a budget with a store given as backend, naming the option', () => {
		assert.throws(() => new CachedSession({backend: new MemoryStore(), maxEntries: 10}), {name: 'TypeError', message: /`maxEntries`.*store/});
	});

	it('refuses backendTimeout and strictBackend with a BaseCache, naming them and the BaseCache\'s own names', () => {
		const cache = new BaseCache(new MemoryStore());
		assert.throws(() => new CachedSession({backend: cache, backendTimeout: 50}), {name: 'TypeError', message: /`backendTimeout` cannot be given with a BaseCache.*new BaseCache\(store, \{backendTimeout/});
		assert.throws(() => new CachedSession({backend: cache, strictBackend: true}), {name: 'TypeError', message: /`strictBackend` cannot be given with a BaseCache.*new BaseCache\(store, \{strictBackend/});
		assert.throws(() => new CachedSession({backend: cache, strictBackend: false}), {name: 'TypeError', message: /`strictBackend`/});
		// Without them the BaseCache is used as it is.
		sessions.push(new CachedSession({backend: cache}));
		assert.equal(sessions.at(-1)!.cache, cache);
	});
});
