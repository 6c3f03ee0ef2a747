import assert from 'node:assert/strict';
import path from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import {Keyv} from 'keyv';
import {CachedSession} from '../../lib/cached-session.js';
import {adapterNamespace, prefixEnd} from '../../lib/backends/keyv-store.js';
import {Origin} from '../support/origin.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

describe('Keyv stores given as backend (the generic path)', () => {
	let origin: Origin;
	let dir: string;
	const sessions: CachedSession[] = [];

	before(async () => {
		origin = await Origin.start();
		dir = tempDir('keyv-store');
	});

	after(async () => {
		for (const session of sessions) {
			// eslint-disable-next-line no-await-in-loop
			await session.close().catch(() => undefined);
		}

		await origin.close();
		removeDir(dir);
	});

	it('keeps caches apart on one @keyv/sqlite file, whose clear() and iterator use an unescaped LIKE', async () => {
		const file = `sqlite://${path.join(dir, 'shared.sqlite')}`;
		// As LIKE patterns, 'a_b:%' matches 'aXb:…' and 'a%:%' matches everything starting with 'a'.
		const names = ['a_b', 'aXb', 'a%', 'a:b'];
		const caches = names.map(cacheName => {
			const session = new CachedSession({backend: new KeyvSqlite({uri: file}), cacheName});
			sessions.push(session);
			return session;
		});
		for (const [index, session] of caches.entries()) {
			// eslint-disable-next-line no-await-in-loop
			await session.get(`${origin.url}/json?cache=${index}`);
		}

		for (const [index, session] of caches.entries()) {
			// eslint-disable-next-line no-await-in-loop
			assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?cache=${index}`], `cache ${names[index]} lists only its own`);
		}

		await caches[0]!.cache.clear();
		await caches[2]!.cache.clear();
		assert.equal(await caches[0]!.cache.count(), 0);
		assert.equal(await caches[1]!.cache.count(), 1, "clearing 'a_b' left 'aXb' alone");
		assert.equal(await caches[3]!.cache.count(), 1, "clearing 'a%' left 'a:b' alone");
		const again = await caches[1]!.get(`${origin.url}/json?cache=1`);
		assert.equal(again.fromCache, true);
	});

	it("lists and clears a Keyv on Keyv's default Map store", async () => {
		const session = new CachedSession({backend: new Keyv({namespace: 'map'})});
		sessions.push(session);
		await session.get(`${origin.url}/json?map=1`);
		assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?map=1`]);
		assert.equal(await session.cache.removeOldEntries(new Date(Date.now() + 1000)), 1);
		assert.equal(await session.cache.count(), 0);
	});

	it("escapes ':' and '%' in a cache name used as a Keyv namespace", () => {
		assert.equal(adapterNamespace('a:b%c'), 'a%3Ab%25c');
		assert.equal(adapterNamespace('plain'), 'plain');
		assert.equal(prefixEnd('ns:'), 'ns;');
	});
});
