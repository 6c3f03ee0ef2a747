import assert from 'node:assert/strict';
import {watchWriter} from '../support/writer-process.js';
import {Buffer} from 'node:buffer';
import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {BackendError, CachedSession} from '../../lib/index.js';
import {SqliteStore, SqliteStoreError, resetSqliteFile, sqlitePath} from '../../lib/backends/sqlite.js';
import {storeOf} from '../../lib/cache/base-cache.js';
import {settled} from '../support/settled.js';
import {Origin} from '../support/origin.js';
import {type RawSqlite, rawSqlite, scalar} from '../support/sqlite-files.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The SQLite store behind a session. */
function sqliteStore(session: CachedSession): SqliteStore {
	const store = storeOf(session.cache);
	assert.ok(store instanceof SqliteStore, `a SQLite store, got ${store.name}`);
	return store;
}

/** A second connection to a session's cache file; closed by the caller. */
function fileOf(session: CachedSession): RawSqlite {
	return rawSqlite(sqliteStore(session).file);
}

describe('SQLite backend', () => {
	let origin: Origin;
	let dir: string;

	before(async () => {
		origin = await Origin.start();
		dir = tempDir('sqlite');
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	describe('file paths', () => {
		it('creates the parent directories of the file', async () => {
			const name = path.join(dir, 'a', 'b', 'c', 'cache');
			const session = new CachedSession({cacheName: name});
			await session.get(`${origin.url}/json?nested=1`);
			await session.close();
			assert.ok(existsSync(`${name}.sqlite`));
			assert.equal(sqlitePath(name), `${name}.sqlite`);
		});

		it('uses a cacheName with an extension as the file name', async () => {
			const name = path.join(dir, 'named.db');
			const session = new CachedSession({cacheName: name});
			await session.get(`${origin.url}/json?ext=1`);
			await session.close();
			assert.ok(existsSync(name));
			assert.ok(!existsSync(`${name}.sqlite`));
		});

		it('caches in a private in-memory database with cacheName \':memory:\'', async () => {
			const session = new CachedSession({cacheName: ':memory:'});
			await session.get(`${origin.url}/json?memory-db=1`);
			assert.equal((await session.get(`${origin.url}/json?memory-db=1`)).fromCache, true);
			await session.close();
			assert.ok(!existsSync(path.join(repoRoot, ':memory:')));
		});

		it('keeps responses across sessions and restarts', async () => {
			const name = path.join(dir, 'persist');
			const first = new CachedSession({cacheName: name});
			await first.get(`${origin.url}/json?persist=1`);
			await first.close();
			const before = origin.hits('/json');
			const second = new CachedSession({cacheName: name});
			const response = await second.get(`${origin.url}/json?persist=1`);
			assert.equal(response.fromCache, true);
			assert.equal(origin.hits('/json'), before);
			await second.close();
		});
	});

	describe('sharing one file', () => {
		it('runs in WAL mode and keeps each response in a row of its own table', async () => {
			const name = path.join(dir, 'wal');
			const session = new CachedSession({cacheName: name});
			const response = await session.get(`${origin.url}/json?wal=1`);
			await settled(session);
			const db = fileOf(session);
			try {
				assert.equal(db.pragma('journal_mode', {simple: true}), 'wal');
				const row = db.prepare('SELECT kind, url, created_at, expires, typeof(value) AS type FROM responses WHERE key = ?').get(response.cacheKey);
				assert.deepEqual(row, {kind: 'response', url: `${origin.url}/json?wal=1`, created_at: response.createdAt.getTime(), expires: null, type: 'blob'});
			} finally {
				db.close();
			}

			assert.ok(existsSync(`${name}.sqlite-wal`));
			await session.close();
		});

		it('loses no write when two sessions write 200 URLs each to one file at once', async () => {
			const name = path.join(dir, 'two-sessions');
			const errors: Error[] = [];
			const sessions = [0, 1].map(() => new CachedSession({cacheName: name, strictBackend: true, onError: error => errors.push(error)}));
			const writes = sessions.flatMap((session, writer) =>
				Array.from({length: 200}, async (_, index) => session.get(`${origin.url}/json?writer=${writer}&i=${index}`)));
			const results = await Promise.allSettled(writes);
			const failures = results.filter(result => result.status === 'rejected').map(result => String((result as PromiseRejectedResult).reason));
			assert.deepEqual(failures, [], 'no request failed (strictBackend: a store error would reject it)');
			assert.deepEqual(errors, []);
			await Promise.all(sessions.map(async session => session.close()));
			const reader = new CachedSession({cacheName: name});
			assert.equal(await reader.cache.count(), 400);
			const db = fileOf(reader);
			assert.equal(scalar(db, 'SELECT count(*) FROM responses'), 400);
			db.close();
			await reader.close();
		});

		it('loses no write when two processes write 200 URLs each to one file at once', async function () {
			this.timeout(60_000);
			const name = path.join(dir, 'two-processes');
			const script = path.join(dir, 'writer.ts');
			writeFileSync(script, `
import {createInterface} from 'node:readline';
import {CachedSession} from ${JSON.stringify(path.join(repoRoot, 'lib', 'index.ts'))};
const [cacheName, base, writer] = process.argv.slice(2);
const session = new CachedSession({cacheName, strictBackend: true});
const lines = createInterface({input: process.stdin});
process.stdout.write('ready\\n');
await new Promise(resolve => lines.once('line', resolve));
lines.close();
const results = await Promise.allSettled(Array.from({length: 200}, async (_, i) => session.get(base + '/json?process=' + writer + '&i=' + i)));
await session.close();
const failures = results.filter(r => r.status === 'rejected').map(r => String(r.reason));
process.stdout.write(JSON.stringify({failures}) + '\\n');
`);
			const children = [0, 1].map(writer => spawn(process.execPath, ['--import', 'tsx', script, name, origin.url, String(writer)], {cwd: repoRoot}));
			const watched = children.map(child => watchWriter(child));
			await Promise.all(watched.map(async w => w.ready));
			// Both are connected and waiting: start them together.
			for (const child of children) {
				child.stdin.write('go\n');
			}

			const results = await Promise.all(watched.map(async w => w.done));
			for (const result of results) {
				assert.equal(result.code, 0, result.stderr);
				const report = JSON.parse(result.stdout.split('\n').find(line => line.startsWith('{'))!) as {failures: string[]};
				assert.deepEqual(report.failures, []);
				assert.doesNotMatch(result.stderr, /database is locked|SQLITE_BUSY/);
			}

			const reader = new CachedSession({cacheName: name});
			assert.equal(await reader.cache.count(), 400);
			const urls = await reader.cache.urls();
			assert.equal(new Set(urls).size, 400);
			assert.ok(urls.includes(`${origin.url}/json?process=1&i=199`));
			await reader.close();
		});
	});

	describe('at scale', () => {
		it('removeOldEntries() deletes exactly the right rows of 100,000 in one indexed DELETE', async function () {
			this.timeout(120_000);
			const total = Number(process.env['REQUESTS_CACHE_SCALE'] ?? 100_000);
			const session = new CachedSession({cacheName: path.join(dir, 'large')});
			// One real entry, written by the cache itself, is the value of every row.
			await session.get(`${origin.url}/json?template=1`);
			await settled(session);
			const db = fileOf(session);
			const template = db.prepare('SELECT value FROM responses').get() as {value: Buffer};
			const cutoff = Date.now() - 3600e3;
			let started = performance.now();
			db.prepare(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
				INSERT INTO responses (key, kind, url, created_at, expires, delete_at, value)
				SELECT 'bulk-' || printf('%06d', i), 'response', ? || i, CASE WHEN i % 3 = 0 THEN ? - 1000 ELSE ? + 1000 END,
					CASE WHEN i % 5 = 0 THEN ? ELSE NULL END, NULL, ?
				FROM n`).run(total, `${origin.url}/bulk?i=`, cutoff, cutoff, cutoff, template.value);
			const fillMs = performance.now() - started;
			assert.equal(scalar(db, 'SELECT count(*) FROM responses'), total + 1);

			const old = Math.ceil(total / 3);
			started = performance.now();
			const removed = await session.cache.removeOldEntries(new Date(cutoff));
			const removeMs = performance.now() - started;
			console.log(`      removeOldEntries on ${total.toLocaleString('en')} SQLite entries: ${removeMs.toFixed(0)} ms (fill ${fillMs.toFixed(0)} ms)`);
			assert.equal(removed, old);
			assert.equal(scalar(db, 'SELECT count(*) FROM responses WHERE key LIKE \'bulk-%\' AND CAST(substr(key, 6) AS INTEGER) % 3 = 0'), 0, 'every old row went');
			assert.equal(scalar(db, 'SELECT count(*) FROM responses WHERE key LIKE \'bulk-%\' AND CAST(substr(key, 6) AS INTEGER) % 3 != 0'), total - old, 'every new row stayed');
			assert.ok(removeMs < 5000, `removeOldEntries took ${removeMs.toFixed(0)} ms`);
			db.close();

			started = performance.now();
			assert.equal(await session.cache.count(), total - old + 1);
			const countMs = performance.now() - started;
			let expired = 0;
			for (let index = 0; index < total; index++) {
				if (index % 3 !== 0 && index % 5 === 0) {
					expired++;
				}
			}

			started = performance.now();
			assert.equal(await session.cache.removeExpiredResponses(), expired);
			const expiredMs = performance.now() - started;
			console.log(`      count() ${countMs.toFixed(0)} ms, removeExpiredResponses() ${expiredMs.toFixed(0)} ms`);
			assert.equal(await session.cache.count(), total - old - expired + 1);
			assert.equal((await session.get(`${origin.url}/json?template=1`)).fromCache, true, 'the real entry is untouched');
			await session.close();
		});
	});

	describe('corrupt rows', () => {
		function flipped(value: Buffer): Buffer {
			const copy = Buffer.from(value);
			copy[copy.length - 10] = copy[copy.length - 10]! ^ 0xFF;
			return copy;
		}

		const garbage: Array<[string, (value: Buffer) => Buffer]> = [
			['bytes that are not a record of ours', () => Buffer.from('garbage{')],
			['an empty value', () => Buffer.alloc(0)],
			['a truncated value', value => value.subarray(0, Math.floor(value.length / 2))],
			['a value whose checksum does not match', flipped],
			['the old JSON format', () => Buffer.from('{"value":{"kind":"response","v":1}}')],
		];

		for (const strictBackend of [false, true]) {
			for (const [what, corrupt] of garbage) {
				it(`reads ${what} as a miss, reports it once and replaces it${strictBackend ? ' (strictBackend too)' : ''}`, async () => {
					const session = new CachedSession({cacheName: path.join(dir, `corrupt-${String(strictBackend)}`), strictBackend});
					const errors: Error[] = [];
					session.cache.on('error', error => errors.push(error));
					const url = `${origin.url}/json?corrupt=${encodeURIComponent(what)}`;
					const first = await session.get(url);
					await settled(session);
					const db = fileOf(session);
					const {value} = db.prepare('SELECT value FROM responses WHERE key = ?').get(first.cacheKey) as {value: Buffer};
					db.prepare('UPDATE responses SET value = ? WHERE key = ?').run(corrupt(value), first.cacheKey);
					db.close();
					const before = origin.hits('/json');
					const miss = await session.get(url);
					assert.equal(miss.fromCache, false);
					assert.equal(origin.hits('/json'), before + 1);
					const hit = await session.get(url);
					assert.equal(hit.fromCache, true, 'the corrupt row was replaced');
					assert.deepEqual(hit.json(), miss.json());
					assert.equal(errors.length, 1, 'reported once');
					assert.match(errors[0]!.message, /Corrupt cache entry/);
					await session.close();
				});
			}
		}

		it('refuses a row with wrong column types: the file keeps the record the cache wrote', async () => {
			const session = new CachedSession({cacheName: path.join(dir, 'wrong-types')});
			const good = await session.get(`${origin.url}/json?types=good`);
			await settled(session);
			const db = fileOf(session);
			assert.throws(() => db.prepare('UPDATE responses SET created_at = \'yesterday\' WHERE key = ?').run(good.cacheKey), {code: 'SQLITE_CONSTRAINT_DATATYPE'});
			assert.throws(() => db.prepare('UPDATE responses SET kind = \'not-a-kind\' WHERE key = ?').run(good.cacheKey), {code: 'SQLITE_CONSTRAINT_CHECK'});
			assert.throws(() => db.prepare('UPDATE responses SET value = NULL WHERE key = ?').run(good.cacheKey), {code: 'SQLITE_CONSTRAINT_NOTNULL'});
			db.close();
			assert.deepEqual(await session.cache.urls(), [good.url]);
			assert.equal((await session.get(`${origin.url}/json?types=good`)).fromCache, true);
			await session.close();
		});

		it('keeps maintenance working around a corrupt value (valid columns, garbage bytes): it reads as missing, is reported, and goes', async () => {
			const errors: Error[] = [];
			const session = new CachedSession({cacheName: path.join(dir, 'corrupt-maintenance'), onError: error => errors.push(error)});
			const good = await session.get(`${origin.url}/json?maintenance=good`);
			const bad = await session.get(`${origin.url}/json?maintenance=bad`);
			await settled(session);
			const db = fileOf(session);
			db.prepare('UPDATE responses SET value = ? WHERE key = ?').run(Buffer.from('garbage{'), bad.cacheKey);
			assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?maintenance=bad`, `${origin.url}/json?maintenance=good`], 'a bad value is the codec\'s to find');
			assert.equal(await session.cache.removeExpiredResponses(), 0, 'its columns say it is fresh');
			const responses = [];
			for await (const response of session.cache.responses()) {
				responses.push(response.url);
			}

			assert.deepEqual(responses, [good.url], 'listing responses skips it');
			assert.equal(await session.cache.contains(bad.cacheKey), true, 'the row is there');
			const before = origin.hits('/json');
			assert.equal((await session.get(`${origin.url}/json?maintenance=bad`)).fromCache, false, 'it reads as missing');
			assert.equal(origin.hits('/json'), before + 1);
			assert.equal(errors.length, 1, 'reported once');
			assert.match(errors[0]!.message, /Corrupt cache entry/);
			assert.equal((await session.get(`${origin.url}/json?maintenance=bad`)).fromCache, true, 'and replaced');
			await settled(session);
			assert.equal(scalar(db, 'SELECT count(*) FROM responses'), 2);
			db.close();
			await session.close();
		});
	});

	describe('a file that cannot be used', () => {
		it('serves every request from the origin and reports the file\'s problem, without crashing', async () => {
			const name = path.join(dir, 'cfg.json');
			writeFileSync(name, '{"setting": true}\n');
			const errors: Error[] = [];
			const session = new CachedSession({cacheName: name, onError: error => errors.push(error)});
			const before = origin.hits('/json');
			const first = await session.get(`${origin.url}/json?unusable=1`);
			const second = await session.get(`${origin.url}/json?unusable=1`);
			assert.equal(first.status, 200);
			assert.equal(second.fromCache, false);
			assert.equal(origin.hits('/json'), before + 2);
			assert.ok(errors.length > 0);
			for (const error of errors) {
				assert.ok(error instanceof BackendError);
				assert.ok(error.cause instanceof SqliteStoreError);
				assert.match(error.message, /cfg\.json: is not a SQLite database/);
			}

			await assert.rejects(session.cache.count(), (error: Error) => error instanceof BackendError && /cfg\.json/.test(error.message));
			await session.close();
			assert.equal(readFileSync(name, 'utf8'), '{"setting": true}\n', 'the file is untouched');
		});

		it('throws a BackendError naming the file with strictBackend, for a directory too', async () => {
			const name = path.join(dir, 'a-directory');
			mkdirSync(`${name}.sqlite`);
			const session = new CachedSession({cacheName: name, strictBackend: true});
			await assert.rejects(session.get(`${origin.url}/json?directory=1`), (error: Error) => error instanceof BackendError && error.message.includes(`${name}.sqlite: is a directory`));
			await session.close();
		});

		it('starts a new cache once the bad file is moved aside with resetSqliteFile()', async () => {
			const name = path.join(dir, 'reset-me');
			writeFileSync(`${name}.sqlite`, 'not a database');
			const aside = resetSqliteFile(name);
			assert.ok(aside !== undefined && existsSync(aside));
			const session = new CachedSession({cacheName: name, strictBackend: true});
			await session.get(`${origin.url}/json?reset=1`);
			assert.equal((await session.get(`${origin.url}/json?reset=1`)).fromCache, true);
			await session.close();
		});
	});
});
