import assert from 'node:assert/strict';
import {watchWriter} from '../support/writer-process.js';
import {Buffer} from 'node:buffer';
import {spawn, spawnSync} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {MemoryStore} from '../../lib/backends/memory.js';
import {SqliteStore} from '../../lib/backends/sqlite.js';
import type {StoreRecord} from '../../lib/backends/store.js';
import {CorruptEntryError, type CachedEntry, decodeValue, toRecord} from '../../lib/codec/entry.js';
import {type RawSqlite, rawSqlite, scalar} from '../support/sqlite-files.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

const fixtures = fileURLToPath(new URL('fixtures', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function entry(key: string, body: Buffer): CachedEntry {
	const url = `https://example.com/${key}`;
	return {
		kind: 'response', status: 200, reason: 'OK', headers: {}, url, history: [],
		request: {method: 'GET', url, headers: {}, body: null}, createdAt: 1_800_000_000_000, expires: null,
		facts: {age: 0, mustRevalidate: false, noCache: false}, body,
	};
}

function record(key: string, size = 100): StoreRecord {
	return toRecord(key, entry(key, Buffer.alloc(size, 1)), null);
}

/** The totals the triggers keep, and the same counted from the rows. */
function totals(db: RawSqlite): {kept: unknown; counted: unknown} {
	return {
		kept: db.prepare('SELECT entries, bytes FROM lru_totals').get(),
		counted: db.prepare(`SELECT count(*) AS entries, coalesce(sum(length(value) + coalesce((SELECT sum(length(bytes)) FROM value_parts p WHERE p.key = r.key), 0)), 0) AS bytes
			FROM responses r`).get(),
	};
}

describe('backends/sqlite: budget', () => {
	let dir: string;
	const stores: SqliteStore[] = [];
	const open = (name: string, options: ConstructorParameters<typeof SqliteStore>[1] = {}): SqliteStore => {
		const store = new SqliteStore(path.join(dir, name), options);
		stores.push(store);
		return store;
	};

	before(() => {
		dir = tempDir('sqlite-budget');
	});

	afterEach(async () => {
		await Promise.all(stores.splice(0).map(async store => store.close()));
	});

	after(() => {
		removeDir(dir);
	});

	it('validates maxEntries and maxBytes, naming the option (SqliteStore and MemoryStore)', () => {
		for (const make of [(options: object) => new SqliteStore(path.join(dir, 'invalid'), options), (options: object) => new MemoryStore(options)]) {
			assert.throws(() => make({maxEntries: 0}), {name: 'RangeError', message: /option `maxEntries` must be an integer >= 1/});
			assert.throws(() => make({maxEntries: 2.5}), {name: 'RangeError', message: /maxEntries/});
			assert.throws(() => make({maxBytes: Number.POSITIVE_INFINITY}), {name: 'RangeError', message: /maxBytes/});
			assert.throws(() => make({maxBytes: '1mb'}), {name: 'TypeError', message: /option `maxBytes` must be a number of bytes/});
			assert.throws(() => make({max_entries: 5}), {name: 'TypeError', message: /max_entries.*maxEntries/});
		}

		assert.throws(() => new MemoryStore(null as never), {name: 'TypeError', message: /options/});
	});

	describe('layout', () => {
		it('adds the budget tables only when a store with a budget opens the file, and keeps them exact for every writer', async () => {
			const plain = open('layout');
			await plain.set([record('a'), record('b')]);
			let db = rawSqlite(plain.file);
			assert.equal(scalar(db, 'SELECT count(*) FROM sqlite_master WHERE name LIKE \'lru%\''), 0, 'no budget, no tables');
			db.close();

			const bounded = open('layout', {maxEntries: 10});
			await bounded.set([record('c')]);
			db = rawSqlite(plain.file);
			try {
				const {kept, counted} = totals(db);
				assert.deepEqual(kept, counted);
				assert.equal((kept as {entries: number}).entries, 3);
				// Records that were there are taken as used in table order, before those written since.
				assert.deepEqual(db.prepare('SELECT key FROM lru ORDER BY last_use').all(), [{key: 'a'}, {key: 'b'}, {key: 'c'}]);
				// Another program's writes and deletes are counted by the triggers, in its transaction.
				db.prepare('DELETE FROM responses WHERE key = ?').run('a');
				db.prepare('INSERT OR REPLACE INTO responses (key, kind, url, created_at, expires, delete_at, value) VALUES (?, ?, ?, ?, ?, ?, ?)').run('b', 'response', 'u', 1, null, null, Buffer.alloc(5));
				db.prepare('INSERT INTO responses (key, kind, url, created_at, expires, delete_at, value) VALUES (?, ?, ?, ?, ?, ?, ?)').run('z', 'response', 'u', 1, null, null, Buffer.alloc(7));
				db.prepare('UPDATE responses SET value = ? WHERE key = ?').run(Buffer.alloc(9), 'c');
				assert.deepEqual(totals(db).kept, totals(db).counted);
				assert.deepEqual(totals(db).kept, {entries: 3, bytes: 5 + 7 + 9});
				// Eviction works through the same indexes: the plan reads the covering index, never the table.
				const plan = (db.prepare('EXPLAIN QUERY PLAN SELECT key, size, last_use FROM lru ORDER BY last_use, key LIMIT 4').all() as Array<{detail: string}>).map(row => row.detail).join();
				assert.match(plan, /COVERING INDEX lru_order/);
				// clear() by a store without a budget empties the budget tables too, and leaves the triggers in place.
				await plain.clear();
				assert.deepEqual(totals(db).kept, {entries: 0, bytes: 0});
				assert.equal(scalar(db, 'SELECT count(*) FROM lru'), 0);
				assert.equal(scalar(db, 'SELECT count(*) FROM sqlite_master WHERE type = \'trigger\' AND name LIKE \'responses_lru_%\''), 3);
				await plain.set([record('after')]);
				db.prepare('DELETE FROM responses WHERE key = \'after\'').run();
				assert.deepEqual(totals(db).kept, {entries: 0, bytes: 0});
			} finally {
				db.close();
			}
		});

		it('brings a file of layout 1 to layout 3, keeping its records', async () => {
			const file = path.join(dir, 'layout1.sqlite');
			const db = rawSqlite(file);
			db.exec(`CREATE TABLE meta (name TEXT PRIMARY KEY NOT NULL, value TEXT);
				CREATE TABLE responses (key TEXT PRIMARY KEY NOT NULL, kind TEXT, url TEXT, created_at INTEGER, expires INTEGER, delete_at INTEGER, value BLOB);
				INSERT INTO meta VALUES ('created_by', 'requests-cache'), ('schema', '1');`);
			const old = [record('one'), record('two', 2_000_000)];
			for (const {key, kind, url, createdAt, value} of old) {
				db.prepare('INSERT INTO responses VALUES (?, ?, ?, ?, NULL, NULL, ?)').run(key, kind, url, createdAt, value);
			}

			db.close();
			const store = open('layout1', {maxEntries: 2, hotCacheBytes: 0});
			for (const expected of old) {
				// eslint-disable-next-line no-await-in-loop -- one after another
				assert.ok(Buffer.from((await store.get(expected.key))!.value).equals(expected.value), `${expected.key} is read as it was`);
			}

			const check = rawSqlite(file);
			try {
				assert.equal(scalar(check, 'SELECT value FROM meta WHERE name = \'schema\''), '3');
				assert.equal(scalar(check, 'SELECT value FROM meta WHERE name = \'part_size\''), String(1024 * 1024));
				assert.deepEqual(totals(check).kept, {entries: 2, bytes: old[0]!.value.byteLength + old[1]!.value.byteLength});
			} finally {
				check.close();
			}

			// Both were read: 'one' first, so it goes first.
			assert.deepEqual((await store.set([record('three')]))?.evicted.map(evicted => evicted.key), ['one']);
		});
	});

	describe('uses', () => {
		it('writes nothing on a read: uses are written within a second, or before the next write', async function () {
			this.timeout(10_000);
			const store = open('uses', {maxEntries: 3});
			await store.set([record('a'), record('b'), record('c')]);
			const db = rawSqlite(store.file);
			try {
				const version = (): unknown => db.pragma('data_version', {simple: true});
				const lastUse = (key: string): unknown => scalar(db, 'SELECT last_use FROM lru WHERE key = ?', key);
				const before = version();
				const used = lastUse('a');
				for (let index = 0; index < 100; index++) {
					// eslint-disable-next-line no-await-in-loop -- hits, one after another
					assert.ok(await store.get(index % 2 === 0 ? 'a' : 'b'));
				}

				assert.equal(version(), before, '100 reads committed nothing');
				assert.equal(store.hotSize, 3, 'the reads were served by the hot cache');
				await new Promise(resolve => {
					setTimeout(resolve, 1300);
				});
				assert.notEqual(version(), before, 'the uses were written after a second');
				assert.ok((lastUse('a') as number) > (used as number));
				assert.ok((lastUse('b') as number) > (lastUse('a') as number), 'in the order of the last reads');
				assert.equal(store.hotSize, 3, 'writing uses keeps the hot cache');
				const flushed = version();
				await new Promise(resolve => {
					setTimeout(resolve, 1300);
				});
				assert.equal(version(), flushed, 'nothing is written when nothing was read');
			} finally {
				db.close();
			}
		});

		it('writes the uses still noted on close()', async () => {
			const store = open('close', {maxEntries: 3});
			await store.set([record('a'), record('b')]);
			await store.get('a');
			await store.close();
			const db = rawSqlite(store.file);
			try {
				assert.deepEqual(db.prepare('SELECT key FROM lru ORDER BY last_use').all(), [{key: 'b'}, {key: 'a'}]);
			} finally {
				db.close();
			}
		});
	});

	describe('large values', () => {
		it('keeps a value over 1 MiB in parts, reads it back whole, and removes the parts with the record', async () => {
			const store = open('parts', {hotCacheBytes: 0, maxEntries: 10});
			const large = record('large', 3_500_000);
			const small = record('small');
			await store.set([large, small]);
			const db = rawSqlite(store.file);
			try {
				assert.equal(scalar(db, 'SELECT length(value) FROM responses WHERE key = \'large\''), 1024 * 1024);
				assert.deepEqual(db.prepare('SELECT part, length(bytes) AS length FROM value_parts WHERE key = \'large\' ORDER BY part').all(), [
					{part: 1, length: 1024 * 1024}, {part: 2, length: 1024 * 1024}, {part: 3, length: large.value.byteLength - (3 * 1024 * 1024)},
				]);
				assert.equal(scalar(db, 'SELECT size FROM lru WHERE key = \'large\''), large.value.byteLength, 'the budget counts the whole value');
				const read = await store.get('large');
				assert.ok(Buffer.from(read!.value).equals(large.value));
				assert.equal(decodeValue(read!.value, 'response').kind, 'response');

				// A shorter value in its place leaves no part behind.
				await store.set([record('large', 10)]);
				assert.equal(scalar(db, 'SELECT count(*) FROM value_parts'), 0);
				await store.set([large]);
				assert.equal(await store.delete(['large']), 1);
				assert.equal(scalar(db, 'SELECT count(*) FROM value_parts'), 0, 'delete() removes the parts');
				await store.set([large]);
				assert.equal(await store.deleteWhere({createdBefore: Number.MAX_SAFE_INTEGER}), 2);
				assert.equal(scalar(db, 'SELECT count(*) FROM value_parts'), 0, 'deleteWhere() removes the parts');
				await store.set([large]);
				await store.clear();
				assert.equal(scalar(db, 'SELECT count(*) FROM value_parts'), 0, 'clear() removes the parts');

				// A part gone missing makes a value the codec rejects: the cache deletes it and refetches.
				await store.set([large]);
				db.prepare('DELETE FROM value_parts WHERE part = 2').run();
				const broken = await store.get('large');
				assert.throws(() => decodeValue(broken!.value, 'response'), CorruptEntryError);
				// Parts whose record another program deleted go with the next sweep.
				db.prepare('DELETE FROM responses WHERE key = \'large\'').run();
				await store.deleteWhere({expiredAt: 0});
				assert.equal(scalar(db, 'SELECT count(*) FROM value_parts'), 0);
			} finally {
				db.close();
			}
		});

		it('writes and reads a 64 MB value holding little more than the value itself in memory', function () {
			this.timeout(60_000);
			const cacheName = path.join(dir, 'peak');
			const run = (...arguments_: string[]): {growth: number; bytes: number} => {
				const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(fixtures, 'sqlite-large-value.ts'), ...arguments_], {cwd: repoRoot, encoding: 'utf8'});
				assert.equal(child.status, 0, child.stderr);
				return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {growth: number; bytes: number};
			};

			const written = run('set', cacheName, '64');
			const read = run('get', cacheName);
			console.log(`      a 64 MB value: peak RSS +${written.growth.toFixed(1)} MB writing it, +${read.growth.toFixed(1)} MB reading it`);
			assert.equal(read.bytes, 64 * 1024 * 1024);
			// Measured: +19 MB writing whatever the size (16 to 128 MB), reading the value plus 17 to 37 MB
			// (parts read and not yet collected). Before values were kept in parts: +128 MB writing
			// (better-sqlite3's copy of the value and the row SQLite builds) and +128 MB reading.
			assert.ok(written.growth < 40, `writing grew the peak by ${written.growth} MB`);
			assert.ok(read.growth < 64 + 56, `reading grew the peak by ${read.growth} MB`);
		});
	});

	it('keeps the budget with three processes writing one file at once, the totals exact', async function () {
		this.timeout(120_000);
		const cacheName = path.join(dir, 'processes');
		const maxEntries = 150;
		const writes = 300;
		const children = [0, 1, 2].map(writer => spawn(process.execPath, ['--import', 'tsx', path.join(fixtures, 'budget-writer.ts'), cacheName, String(writer), String(maxEntries), String(writes)], {cwd: repoRoot}));
		const runs = children.map(child => watchWriter(child));
		await Promise.all(runs.map(async child => child.ready));
		for (const child of children) {
			child.stdin.write('go\n');
		}

		let evicted = 0;
		for (const result of await Promise.all(runs.map(async child => child.done))) {
			assert.equal(result.code, 0, result.stderr);
			const report = JSON.parse(result.stdout.split('\n').find(line => line.startsWith('{'))!) as {failures: string[]; evicted: number};
			assert.deepEqual(report.failures, []);
			evicted += report.evicted;
		}

		const db = rawSqlite(`${cacheName}.sqlite`);
		try {
			assert.equal(scalar(db, 'SELECT count(*) FROM responses'), maxEntries);
			assert.deepEqual(totals(db).kept, totals(db).counted);
			assert.equal(evicted, (3 * writes) - maxEntries, 'every record written and gone was evicted once, by one of them');
			assert.equal(scalar(db, 'SELECT count(*) FROM lru WHERE key NOT IN (SELECT key FROM responses)'), 0);
		} finally {
			db.close();
		}
	});
});
