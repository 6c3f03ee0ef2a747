import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {mkdir, rm} from 'node:fs/promises';
import path from 'node:path';
import {promisify} from 'node:util';
import {CachedSession} from '../../lib/index.js';
import {SqliteStore} from '../../lib/backends/sqlite.js';
import {storeOf} from '../../lib/cache/base-cache.js';
import {Origin} from '../support/origin.js';
import {settled} from '../support/settled.js';

const run = promisify(execFile);

/** How many records a session's SQLite store keeps in memory now. */
function hotSize(session: CachedSession): number {
	const store = storeOf(session.cache);
	assert.ok(store instanceof SqliteStore);
	return store.hotSize;
}

describe('SQLite sessions: hits from the in-process hot cache, exactly as current as the file', () => {
	let origin: Origin;
	const directory = path.resolve('.tmp', `hot-cache-${process.pid}`);
	const sessions: CachedSession[] = [];

	function open(name: string): CachedSession {
		const session = new CachedSession({cacheName: path.join(directory, name), expireAfter: 3600});
		sessions.push(session);
		return session;
	}

	before(async () => {
		origin = await Origin.start();
		await mkdir(directory, {recursive: true});
	});

	afterEach(async () => {
		await Promise.all(sessions.splice(0).map(async session => session.close()));
	});

	after(async () => {
		await origin.close();
		await rm(directory, {recursive: true, force: true});
	});

	it('sees another session\'s clear() at once', async () => {
		const a = open('shared');
		const b = open('shared');
		const url = `${origin.url}/json?hot=clear`;
		await a.get(url);
		// Read from the file, not from the write still queued behind the request.
		await settled(a);
		assert.equal((await a.get(url)).fromCache, true);
		assert.equal((await a.get(url)).fromCache, true);
		assert.equal(hotSize(a), 1, 'the hit was kept in memory');
		await b.cache.clear();
		const before = origin.hits('/json');
		const after = await a.get(url);
		assert.equal(after.fromCache, false);
		assert.equal(origin.hits('/json'), before + 1);
	});

	it('sees a newer response written by another session', async () => {
		const a = open('newer');
		const b = open('newer');
		const url = `${origin.url}/json?hot=newer`;
		const first = await a.get(url);
		assert.equal((await a.get(url)).fromCache, true);
		const second = await b.get(url, {forceRefresh: true});
		assert.notDeepEqual(second.json(), first.json());
		const seen = await a.get(url);
		assert.equal(seen.fromCache, true);
		assert.deepEqual(seen.json(), second.json());
	});

	it('sees rows deleted by another process', async () => {
		const a = open('process');
		const url = `${origin.url}/json?hot=process`;
		await a.get(url);
		assert.equal((await a.get(url)).fromCache, true);
		const script = `
			const Database = require('better-sqlite3');
			const db = new Database(process.argv[1], {timeout: 10000});
			db.exec('DELETE FROM responses');
			db.close();
		`;
		await run(process.execPath, ['-e', script, path.join(directory, 'process.sqlite')]);
		assert.equal((await a.get(url)).fromCache, false);
	});

	it('hands out copies: changing a served body does not change the cache', async () => {
		const a = open('copies');
		const url = `${origin.url}/json?hot=copies`;
		const original = (await a.get(url)).text();
		const served = await a.get(url);
		served.body.fill(0x20);
		served.headers['content-type'] = 'changed';
		const again = await a.get(url);
		assert.equal(again.text(), original);
		assert.equal(again.headers['content-type'], 'application/json');
	});
});
