import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import path from 'node:path';
import {Keyv} from 'keyv';
import {createStore} from '../../lib/config/assemble.js';
import {MemoryStore} from '../../lib/backends/memory.js';
import {SqliteStore} from '../../lib/backends/sqlite.js';
import {storeOf} from '../../lib/cache/base-cache.js';
import type {CacheEventMessage} from '../../lib/diagnostics.js';
import {BaseCache, CachedSession} from '../../lib/index.js';
import {Origin} from '../support/origin.js';
import {rawSqlite, scalar} from '../support/sqlite-files.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

/** Value bytes a session's store keeps now (the memory store's total, or the SQLite file's). */
function storedBytes(session: CachedSession): number {
	const store = storeOf(session.cache);
	if (store instanceof MemoryStore) {
		return store.bytes;
	}

	assert.ok(store instanceof SqliteStore);
	const db = rawSqlite(store.file);
	try {
		return scalar(db, 'SELECT bytes FROM lru_totals') as number;
	} finally {
		db.close();
	}
}

describe('size bounds: maxEntries and maxBytes', () => {
	let origin: Origin;
	let dir: string;
	const sessions: CachedSession[] = [];
	let counter = 0;

	before(async () => {
		origin = await Origin.start();
		// /item/<name>?n=<bytes>: a body of n bytes, counted per name.
		origin.route('/item/*', (request, response) => {
			const url = new URL(request.url!, origin.url);
			response.writeHead(200, {'content-type': 'application/octet-stream'}).end(Buffer.alloc(Number(url.searchParams.get('n') ?? 100), url.pathname.at(-1)));
		});
		dir = tempDir('budget');
	});

	afterEach(async () => {
		await Promise.all(sessions.splice(0).map(async session => session.close()));
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	function open(options: ConstructorParameters<typeof CachedSession>[0] & object, cacheName = `budget-${++counter}`): CachedSession {
		const session = new CachedSession({cacheName: path.join(dir, cacheName), ...options});
		sessions.push(session);
		return session;
	}

	/** Subscribe to the evicted channel for the length of `run`. */
	async function evictions(run: () => Promise<void>): Promise<CacheEventMessage[]> {
		const seen: CacheEventMessage[] = [];
		const listener = (message: unknown): void => {
			seen.push(message as CacheEventMessage);
		};

		diagnosticsChannel.subscribe('requests-cache:evicted', listener);
		try {
			await run();
		} finally {
			diagnosticsChannel.unsubscribe('requests-cache:evicted', listener);
		}

		return seen;
	}

	for (const backend of ['memory', 'sqlite'] as const) {
		describe(backend, () => {
			it('maxEntries keeps the most recently used responses: a hit makes one recent, an evicted one is fetched again', async () => {
				const session = open({backend, maxEntries: 2});
				const item = (name: string): string => `${origin.url}/item/${backend}-e-${name}`;
				const hits = (name: string): number => origin.hits(`/item/${backend}-e-${name}`);
				const seen = await evictions(async () => {
					assert.equal((await session.get(item('a'))).fromCache, false);
					assert.equal((await session.get(item('b'))).fromCache, false);
					assert.equal((await session.get(item('a'))).fromCache, true, 'a hit on a');
					assert.equal((await session.get(item('c'))).fromCache, false, 'c is stored, b goes: a was used after it');
					const a = await session.get(item('a'));
					assert.equal(a.fromCache, true);
					assert.equal(hits('a'), 1);
					const b = await session.get(item('b'));
					assert.equal(b.fromCache, false, 'b was evicted');
					assert.equal(hits('b'), 2, 'and fetched from the origin again');
					assert.equal((await session.get(item('b'))).fromCache, true, 'and stored again');
				});
				assert.equal(session.cache.stats().evicted, 2);
				assert.deepEqual(seen.map(message => [message.event, message.url, message.reason]), [
					['evicted', item('b'), 'least recently used response'],
					['evicted', item('c'), 'least recently used response'],
				]);
				assert.equal(await session.cache.count(), 2);
				assert.deepEqual(await session.cache.urls(), [item('a'), item('b')]);
			});

			it('maxBytes keeps the most recently used responses within that many bytes of stored values', async () => {
				const body = 1000;
				const item = (name: string): string => `${origin.url}/item/${backend}-b-${name}?n=${body}`;
				// What one entry takes (the codec's bytes do not depend on the backend).
				const probe = open({backend: 'memory'});
				await probe.get(`${origin.url}/item/${backend}-b-x?n=${body}`);
				const entrySize = (storeOf(probe.cache) as MemoryStore).bytes;
				assert.ok(entrySize > body && entrySize < body + 1000, `an entry of ${entrySize} bytes`);
				const maxBytes = Math.floor(entrySize * 2.5);
				const session = open({backend, maxBytes});
				await session.get(item('a'));
				assert.equal(storedBytes(session), entrySize);
				await session.get(item('b'));
				assert.equal((await session.get(item('a'))).fromCache, true);
				await session.get(item('c'));
				assert.equal((await session.get(item('b'))).fromCache, false, 'b was the least recently used');
				assert.equal(origin.hits(`/item/${backend}-b-b`), 2);
				assert.equal(storedBytes(session), 2 * entrySize, 'a and b');
				assert.equal(session.cache.stats().evicted, 2, 'b, then c for b again');
			});

			it('passes a response larger than maxBytes through without storing it (maxEntrySize defaults to maxBytes)', async () => {
				const session = open({backend, maxBytes: 5000});
				assert.equal(session.settings.maxEntrySize, 5000);
				const url = `${origin.url}/item/${backend}-large?n=6000`;
				assert.equal((await session.get(url)).body.length, 6000);
				assert.equal((await session.get(url)).fromCache, false);
				assert.equal(origin.hits(`/item/${backend}-large`), 2);
			});
		});
	}

	it('keeps the budget for two sessions on one SQLite file: the totals are the file\'s', async () => {
		const first = open({backend: 'sqlite', maxEntries: 3}, 'shared');
		const second = open({backend: 'sqlite', maxEntries: 3}, 'shared');
		const item = (name: string): string => `${origin.url}/item/shared-${name}`;
		await first.get(item('a'));
		await first.get(item('b'));
		await second.get(item('c'));
		await second.get(item('d'));
		const store = storeOf(first.cache) as SqliteStore;
		const db = rawSqlite(store.file);
		try {
			assert.equal(scalar(db, 'SELECT count(*) FROM responses'), 3);
		} finally {
			db.close();
		}

		assert.equal((await first.get(item('a'))).fromCache, false, 'evicted by the other session\'s write');
		assert.equal((await first.get(item('d'))).fromCache, true, 'written by the other session');
		assert.equal(first.cache.stats().evicted + second.cache.stats().evicted, 2);
	});

	it('rejects invalid budgets, naming the option', () => {
		for (const [value, name] of [[0, 'RangeError'], [-1, 'RangeError'], [1.5, 'RangeError'], [Number.NaN, 'TypeError'], ['10', 'TypeError'], [Number.POSITIVE_INFINITY, 'RangeError']] as const) {
			assert.throws(() => new CachedSession({backend: 'memory', maxEntries: value as number}), {name, message: /CachedSession option `maxEntries`/});
			assert.throws(() => new CachedSession({backend: 'memory', maxBytes: value as number}), {name, message: /CachedSession option `maxBytes`/});
		}

		assert.throws(() => new CachedSession({backend: 'memory', maxBytes: 1000, maxEntrySize: 2000}), {name: 'RangeError', message: /`maxEntrySize` must be at most `maxBytes` \(1000\)/});
		assert.throws(() => new CachedSession({backend: 'memory', max_entries: 10} as never), {name: 'TypeError', message: /max_entries.*maxEntries/});
	});

	it('refuses a budget with the backends that cannot keep one, naming the option and what to do', () => {
		assert.throws(() => new CachedSession({backend: 'redis', maxEntries: 10}), {name: 'TypeError', message: /option `maxEntries` only applies to backend 'sqlite' or 'memory': bound Redis itself with `maxmemory`/});
		assert.throws(() => new CachedSession({backend: 'mongodb', maxBytes: 10}), {name: 'TypeError', message: /option `maxBytes` only applies to backend 'sqlite' or 'memory'$/});
		assert.throws(() => new CachedSession({backend: new Keyv(), maxEntries: 10}), {name: 'TypeError', message: /option `maxEntries` only applies to backend 'sqlite' or 'memory': a store, Keyv or BaseCache given as `backend` takes its own/});
		const cache = new BaseCache(new MemoryStore({maxEntries: 10}));
		assert.throws(() => new CachedSession({backend: cache, maxEntries: 10}), {name: 'TypeError', message: /given as `backend` takes its own \(as in `new SqliteStore\(name, \{maxEntries\}\)`\)/});
		assert.throws(() => createStore({backend: 'redis', cacheName: 'x', url: undefined, ttlOffset: 0, maxBytes: 10}), {name: 'TypeError', message: /^createStore\(\) option `maxBytes` only applies to backend 'sqlite' or 'memory'/});
	});

	it('gives the budget to the store createStore makes', async () => {
		const memory = createStore({backend: 'memory', cacheName: 'x', url: undefined, ttlOffset: 0, maxEntries: 5});
		assert.deepEqual({...memory.budget}, {maxEntries: 5, maxBytes: undefined});
		const sqlite = createStore({backend: 'sqlite', cacheName: path.join(dir, 'created'), url: undefined, ttlOffset: 0, maxBytes: 1000});
		assert.deepEqual({...sqlite.budget}, {maxEntries: undefined, maxBytes: 1000});
		await sqlite.close();
		assert.equal(createStore({backend: 'memory', cacheName: 'x', url: undefined, ttlOffset: 0}).budget, undefined);
	});
});
