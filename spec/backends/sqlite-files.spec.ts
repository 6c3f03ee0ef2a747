import assert from 'node:assert/strict';
import {watchWriter} from '../support/writer-process.js';
import {Buffer} from 'node:buffer';
import {spawn, spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {SqliteStore, SqliteStoreError, resetSqliteFile, sqlitePath} from '../../lib/backends/sqlite.js';
import type {CacheStore, StoreRecord} from '../../lib/backends/store.js';
import {toRecord} from '../../lib/codec/entry.js';
import {insertForeignRow, layout2LruSchema, layout2Schema, rawSqlite, scalar} from '../support/sqlite-files.js';
import {removeDir, tempDir} from '../support/temp-dir.js';
import {sandboxFor} from '../support/as-another-user.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Sandboxes made for children that run as another user, removed after the file's specs. */
const sandboxes: Array<() => void> = [];
after(() => {
	for (const remove of sandboxes.splice(0)) {
		remove();
	}
});

function alias(key: string, createdAt = Date.now()): StoreRecord {
	return toRecord(key, {kind: 'redirect', target: 'target', url: `https://example.com/${key}`, createdAt, expires: null}, null);
}

/** Every operation of the contract, each awaited and caught: what it resolved to or the error it rejected with. */
async function everyOperation(store: CacheStore): Promise<Array<{operation: string; error: unknown}>> {
	const operations: Record<string, () => Promise<unknown>> = {
		get: async () => store.get('key'),
		set: async () => store.set([alias('key')]),
		delete: async () => store.delete(['key']),
		async scan() {
			for await (const page of store.scan()) {
				return page;
			}

			return [];
		},
		deleteWhere: async () => store.deleteWhere!({createdBefore: Date.now()}),
		clear: async () => store.clear(),
	};
	const results: Array<{operation: string; error: unknown}> = [];
	for (const [operation, run] of Object.entries(operations)) {
		let caught: unknown;
		try {
			// eslint-disable-next-line no-await-in-loop -- one operation after another
			await run();
		} catch (error) {
			caught = error;
		}

		results.push({operation, error: caught});
	}

	return results;
}

/** Every operation rejects with a SqliteStoreError for `problem` whose message names the file and says `words`. */
async function assertEveryOperationFails(store: SqliteStore, problem: string, words: RegExp): Promise<void> {
	for (const {operation, error} of await everyOperation(store)) {
		assert.ok(error instanceof SqliteStoreError, `${operation} should reject with a SqliteStoreError, got ${String(error)}`);
		assert.equal(error.problem, problem, `${operation}: ${error.message}`);
		assert.equal(error.file, store.file);
		assert.ok(error.message.includes(store.file), `${operation}: the message names the file: ${error.message}`);
		assert.match(error.message, words, `${operation}: ${error.message}`);
	}
}

function snapshot(file: string): {bytes: Buffer; mtimeMs: number} {
	return {bytes: readFileSync(file), mtimeMs: statSync(file).mtimeMs};
}

/** A real cache file with `count` records, closed, in rollback-journal mode unless `wal`. */
async function makeCache(file: string, count: number, wal = false): Promise<void> {
	const store = new SqliteStore(file);
	const records = Array.from({length: count}, (_, index) => toRecord(`key-${index}`, {kind: 'variants', names: ['accept'], url: `https://example.com/${index}/${'x'.repeat(200)}`, createdAt: index, expires: null}, null));
	await store.set(records);
	await store.close();
	// Everything in the main file, none in a WAL, so the file alone is the database.
	const db = rawSqlite(file);
	db.pragma('wal_checkpoint(TRUNCATE)');
	if (!wal) {
		db.pragma('journal_mode = DELETE');
	}

	db.close();
}

describe('backends/sqlite: files, layout and failures', () => {
	let dir: string;
	const stores: SqliteStore[] = [];
	const unhandled: unknown[] = [];
	const onUnhandled = (reason: unknown): void => {
		unhandled.push(reason);
	};

	function open(name: string, options: ConstructorParameters<typeof SqliteStore>[1] = {}): SqliteStore {
		const store = new SqliteStore(path.join(dir, name), options);
		stores.push(store);
		return store;
	}

	before(() => {
		dir = tempDir('sqlite-files');
		process.on('unhandledRejection', onUnhandled);
	});

	afterEach(async () => {
		await Promise.all(stores.splice(0).map(async store => store.close()));
		assert.deepEqual(unhandled.splice(0), [], 'no promise was left rejecting unhandled');
	});

	after(() => {
		process.off('unhandledRejection', onUnhandled);
		removeDir(dir);
	});

	describe('where the file is', () => {
		it('adds .sqlite to a cacheName without an extension and keeps one that has one', () => {
			assert.equal(sqlitePath('http_cache'), 'http_cache.sqlite');
			assert.equal(sqlitePath('caches/api'), 'caches/api.sqlite');
			assert.equal(sqlitePath('caches/api.db'), 'caches/api.db');
			assert.equal(sqlitePath(':memory:'), ':memory:');
		});

		it('creates the parent directories of the file and exposes its absolute path', async () => {
			const store = open(path.join('a', 'b', 'c', 'cache'));
			assert.equal(store.file, path.join(dir, 'a', 'b', 'c', 'cache.sqlite'));
			await store.set([alias('key')]);
			assert.ok(existsSync(store.file));
		});

		it('keeps a private in-memory database for \':memory:\', without a file', async () => {
			const store = new SqliteStore(':memory:');
			stores.push(store);
			await store.set([alias('key')]);
			assert.equal((await store.get('key'))?.url, 'https://example.com/key');
			assert.equal(store.file, ':memory:');
			assert.ok(!existsSync(path.join(process.cwd(), ':memory:')));
			const other = new SqliteStore(':memory:');
			stores.push(other);
			assert.equal(await other.get('key'), undefined, 'each :memory: store is its own database');
		});

		it('validates its options, naming the option', () => {
			assert.throws(() => new SqliteStore(path.join(dir, 'x'), {busyTimeout: -1}), {name: 'RangeError', message: /busyTimeout/});
			assert.throws(() => new SqliteStore(path.join(dir, 'x'), {hotCacheBytes: '1' as unknown as number}), {name: 'TypeError', message: /hotCacheBytes/});
			assert.throws(() => new SqliteStore(path.join(dir, 'x'), {onCorrupt: 'delete' as 'fail'}), {name: 'TypeError', message: /onCorrupt/});
			assert.throws(() => new SqliteStore(path.join(dir, 'x'), {busy_timeout: 5} as never), {name: 'TypeError', message: /busy_timeout.*busyTimeout/});
			assert.throws(() => new SqliteStore(''), {name: 'TypeError', message: /cacheName/});
		});
	});

	describe('layout', () => {
		it('keeps records in its own versioned table with indexes on created_at and expires, in WAL mode', async () => {
			const store = open('layout');
			await store.set([alias('key', 123)]);
			const db = rawSqlite(store.file);
			try {
				assert.equal(db.pragma('journal_mode', {simple: true}), 'wal');
				assert.deepEqual(db.prepare('SELECT name, value FROM meta ORDER BY name').all(), [{name: 'created_by', value: 'requests-cache'}, {name: 'part_size', value: '1048576'}, {name: 'schema', value: '3'}]);
				const columns = (db.prepare('PRAGMA table_info(responses)').all() as Array<{name: string; type: string; notnull: number}>).map(column => `${column.name} ${column.type}${column.notnull === 1 ? ' NOT NULL' : ''}`);
				assert.deepEqual(columns, ['key TEXT NOT NULL', 'kind TEXT NOT NULL', 'url TEXT NOT NULL', 'created_at INTEGER NOT NULL', 'expires INTEGER', 'delete_at INTEGER', 'value BLOB NOT NULL']);
				assert.equal(scalar(db, 'SELECT strict FROM pragma_table_list WHERE name = \'responses\''), 1, 'a STRICT table');
				assert.match(scalar(db, 'SELECT sql FROM sqlite_master WHERE name = \'responses\'') as string, /CHECK \(kind IN \('response', 'redirect', 'variants'\)\)/);
				const plan = (sql: string): string => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(1) as Array<{detail: string}>).map(row => row.detail).join('; ');
				assert.match(plan('DELETE FROM responses WHERE created_at < ?'), /USING INDEX responses_created_at/);
				assert.match(plan('DELETE FROM responses WHERE expires IS NOT NULL AND expires <= ?'), /USING INDEX responses_expires/);
				// No index of foreign rows (layout 2's responses_foreign): there can be none.
				assert.deepEqual((db.prepare('SELECT name FROM sqlite_master WHERE type = \'index\' AND tbl_name = \'responses\' AND sql IS NOT NULL ORDER BY name').all() as Array<{name: string}>).map(row => row.name), ['responses_created_at', 'responses_expires']);
				assert.deepEqual(db.prepare('SELECT key, kind, url, created_at, expires, delete_at, typeof(value) AS type FROM responses').all(), [
					{key: 'key', kind: 'redirect', url: 'https://example.com/key', created_at: 123, expires: null, delete_at: null, type: 'blob'},
				]);
			} finally {
				db.close();
			}
		});

		it('adds its tables to another program\'s database and leaves that program\'s tables alone', async () => {
			const file = path.join(dir, 'theirs.db');
			const db = rawSqlite(file);
			db.exec('CREATE TABLE settings (name TEXT, value TEXT); INSERT INTO settings VALUES (\'theme\', \'dark\');');
			db.close();
			const store = open('theirs.db');
			await store.set([alias('key')]);
			await store.clear();
			const check = rawSqlite(file);
			assert.deepEqual(check.prepare('SELECT * FROM settings').all(), [{name: 'theme', value: 'dark'}]);
			check.close();
		});

		it('drops the entries of the previous version (a @keyv/sqlite table) and keeps other namespaces\' rows', async () => {
			const file = path.join(dir, 'previous.sqlite');
			const db = rawSqlite(file);
			db.exec('CREATE TABLE keyv (key VARCHAR(255) PRIMARY KEY, value TEXT)');
			db.prepare('INSERT INTO keyv VALUES (?, ?), (?, ?), (?, ?)').run('requests-cache:a', '{}', 'requests-cache:b', '{}', 'other-app:c', '{}');
			db.close();
			const store = open('previous');
			assert.deepEqual((await store.scan()[Symbol.asyncIterator]().next()).done, true, 'old entries are not listed');
			const check = rawSqlite(file);
			assert.deepEqual(check.prepare('SELECT key FROM keyv').all(), [{key: 'other-app:c'}]);
			check.exec('DELETE FROM keyv WHERE key = \'other-app:c\'');
			check.close();
			const again = rawSqlite(file);
			again.exec('INSERT INTO keyv VALUES (\'requests-cache:z\', \'{}\')');
			again.exec('DELETE FROM meta');
			again.exec('DROP TABLE meta; DROP TABLE responses');
			again.close();
			open('previous');
			const last = rawSqlite(file);
			assert.equal(scalar(last, 'SELECT count(*) FROM sqlite_master WHERE name = \'keyv\''), 0, 'a keyv table left empty is dropped');
			last.close();
		});

		it('refuses a database whose `responses` table another program made, and leaves it alone', async () => {
			const file = path.join(dir, 'foreign-responses.db');
			const db = rawSqlite(file);
			db.exec('CREATE TABLE responses (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO responses (body) VALUES (\'theirs\');');
			db.close();
			const before = snapshot(file);
			const store = open('foreign-responses.db');
			await assertEveryOperationFails(store, 'foreign-schema', /table `responses` that requests-cache did not make/);
			assert.deepEqual(snapshot(file), before);
		});

		it('refuses a file made by a newer version, and leaves it alone', async () => {
			const store = open('newer');
			await store.set([alias('key')]);
			await store.close();
			const db = rawSqlite(store.file);
			db.exec('UPDATE meta SET value = \'99\' WHERE name = \'schema\'');
			db.close();
			const newer = open('newer');
			await assertEveryOperationFails(newer, 'newer-schema', /newer requests-cache \(layout 99/);
		});
	});

	describe('a file that cannot be used: construction never throws, every operation says what is wrong', () => {
		it('a cacheName that is a directory', async () => {
			mkdirSync(path.join(dir, 'a-directory.sqlite'));
			const store = open('a-directory');
			await assertEveryOperationFails(store, 'directory', /is a directory/);
			assert.ok(statSync(store.file).isDirectory());
			assert.deepEqual(readdirSync(store.file), []);
		});

		it('an existing file that is not a SQLite database (cfg.json), never written to', async () => {
			const file = path.join(dir, 'cfg.json');
			writeFileSync(file, '{"setting": true}\n');
			const before = snapshot(file);
			const store = open('cfg.json');
			await assertEveryOperationFails(store, 'not-a-database', /is not a SQLite database.*begins with "\{\\"setting\\".*resetSqliteFile/);
			assert.deepEqual(snapshot(file), before, 'the file is untouched');
			assert.ok(!existsSync(`${file}-wal`) && !existsSync(`${file}-shm`) && !existsSync(`${file}-journal`));
		});

		it('a file with SQLite\'s header and garbage after it', async () => {
			const file = path.join(dir, 'garbage.sqlite');
			writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(8192, 0xA5)]));
			const before = snapshot(file);
			const store = open('garbage');
			for (const {operation, error} of await everyOperation(store)) {
				assert.ok(error instanceof SqliteStoreError, `${operation}: ${String(error)}`);
				assert.ok(['not-a-database', 'malformed'].includes(error.problem), error.message);
				assert.match(error.message, new RegExp(`${file.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*(not a SQLite database|malformed).*left untouched`));
			}

			assert.deepEqual(snapshot(file).bytes, before.bytes);
		});

		it('a database whose schema page is malformed', async () => {
			const file = path.join(dir, 'bad-schema.sqlite');
			await makeCache(file, 10);
			const bytes = readFileSync(file);
			bytes.fill(0xFF, 100, 4096);
			writeFileSync(file, bytes);
			const store = open('bad-schema');
			for (const {operation, error} of await everyOperation(store)) {
				assert.ok(error instanceof SqliteStoreError, `${operation}: ${String(error)}`);
				assert.ok(['not-a-database', 'malformed'].includes(error.problem), error.message);
				assert.ok(error.message.includes(file) && error.message.includes('resetSqliteFile'), error.message);
			}

			assert.ok(readFileSync(file).equals(bytes), 'the file is untouched');
		});

		it('a database whose data pages are malformed: operations that reach them fail, naming the file', async () => {
			const file = path.join(dir, 'bad-pages.sqlite');
			await makeCache(file, 2000);
			const bytes = readFileSync(file);
			// Pages 2 onwards hold the table and its indexes.
			bytes.fill(0x5A, 4096 * 3, bytes.length - (4096 * 3));
			writeFileSync(file, bytes);
			const store = open('bad-pages');
			const failures = (await everyOperation(store)).filter(result => result.error !== undefined);
			assert.ok(failures.length > 0, 'some operation reaches a bad page');
			for (const {operation, error} of failures) {
				assert.ok(error instanceof SqliteStoreError, `${operation}: ${String(error)}`);
				assert.equal(error.problem, 'malformed', error.message);
				assert.match(error.message, /malformed/);
				assert.ok(error.message.includes(file));
			}
		});

		it('a cacheName under an existing file (ENOTDIR)', async () => {
			writeFileSync(path.join(dir, 'plain-file'), 'x');
			const store = open(path.join('plain-file', 'cache'));
			await assertEveryOperationFails(store, 'cannot-open', /cannot be opened \((ENOTDIR|EEXIST)\): a parent of it is a file/);
		});

		it('a read-only file, a read-only directory: no crash, and errors that say so', async function () {
			this.timeout(60_000);
			// The child runs as another user when this runs as root: it must reach nothing of the checkout.
			const sandbox = sandboxFor({SqliteStore: 'lib/backends/sqlite.ts', toRecord: 'lib/codec/entry.ts'});
			sandboxes.push(sandbox.remove);
			const dir = sandbox.dir;
			const readOnlyDir = path.join(dir, 'read-only');
			mkdirSync(readOnlyDir);
			await makeCache(path.join(readOnlyDir, 'existing.sqlite'), 3);
			await makeCache(path.join(readOnlyDir, 'wal.sqlite'), 3, true);
			const writableDir = path.join(dir, 'writable');
			mkdirSync(writableDir);
			await makeCache(path.join(writableDir, 'locked.sqlite'), 3);
			chmodSync(path.join(writableDir, 'locked.sqlite'), 0o444);
			// A layout 2 file that cannot be brought to layout 3: read as it is, a foreign row as missing.
			const layout2 = rawSqlite(path.join(writableDir, 'locked-layout2.sqlite'));
			layout2.exec(layout2Schema);
			layout2.prepare('INSERT INTO responses VALUES (?, ?, ?, ?, NULL, NULL, ?)').run('key-1', 'redirect', 'https://example.com/1/' + 'x'.repeat(200), 1, alias('key-1').value);
			insertForeignRow(layout2, 'foreign');
			layout2.close();
			chmodSync(path.join(writableDir, 'locked-layout2.sqlite'), 0o444);
			chmodSync(writableDir, 0o777);
			chmodSync(readOnlyDir, 0o555);
			chmodSync(dir, 0o755);
			// Root writes anything: the child runs as nobody then.
			const asUser = process.getuid?.() === 0 ? {uid: 65_534, gid: 65_534} : {};
			const script = path.join(dir, 'read-only-child.mjs');
			writeFileSync(script, `
import {SqliteStore, toRecord} from ${JSON.stringify(sandbox.lib)};
const results = {};
for (const name of process.argv.slice(2)) {
	const store = new SqliteStore(name);
	const outcome = {};
	const record = toRecord('new', {kind: 'redirect', target: 't', url: 'u', createdAt: 1, expires: null}, null);
	for (const [operation, run] of Object.entries({get: () => store.get('key-1'), foreign: async () => (await store.get('foreign')) === undefined ? 'missing' : 'read', set: () => store.set([record]), clear: () => store.clear()})) {
		try {
			const value = await run();
			outcome[operation] = 'ok' + (value && value.url ? ' ' + value.url : typeof value === 'string' ? ' ' + value : '');
		} catch (error) {
			outcome[operation] = error.problem + ': ' + error.message;
		}
	}
	await store.close();
	results[name] = outcome;
}
console.log(JSON.stringify(results));
`);
			chmodSync(script, 0o644);
			const child = spawnSync(process.execPath, [script, path.join(readOnlyDir, 'new'), path.join(readOnlyDir, 'existing'), path.join(readOnlyDir, 'wal'), path.join(writableDir, 'locked'), path.join(writableDir, 'locked-layout2')], {
				cwd: dir, encoding: 'utf8', env: {...process.env, HOME: dir}, ...asUser,
			});
			chmodSync(readOnlyDir, 0o755);
			assert.equal(child.status, 0, `the child exited by itself: ${child.stderr}`);
			const results = JSON.parse(child.stdout) as Record<string, Record<string, string>>;
			const newFile = results[path.join(readOnlyDir, 'new')]!;
			for (const operation of ['get', 'set', 'clear']) {
				assert.match(newFile[operation]!, /^cannot-open: SQLite cache .*read-only\/new\.sqlite: cannot be opened .*can be written/, operation);
			}

			// A database in rollback-journal mode in a read-only directory can be read, not written.
			const existing = results[path.join(readOnlyDir, 'existing')]!;
			assert.equal(existing['get'], 'ok https://example.com/1/' + 'x'.repeat(200));
			for (const operation of ['set', 'clear']) {
				assert.match(existing[operation]!, /^read-only: SQLite cache .*read-only\/existing\.sqlite: cannot be written \(.* failed: SQLITE_READONLY.*permissions/, operation);
			}

			// In WAL mode, even reading needs the -shm file, which a read-only directory cannot hold.
			const wal = results[path.join(readOnlyDir, 'wal')]!;
			for (const operation of ['get', 'set', 'clear']) {
				assert.match(wal[operation]!, /^(read-only|cannot-open): SQLite cache .*read-only\/wal\.sqlite: cannot be (written|opened) .*(permissions|can be written)/, operation);
			}

			// A read-only file in a writable directory reads, and refuses writes.
			const locked = results[path.join(writableDir, 'locked')]!;
			assert.equal(locked['get'], 'ok https://example.com/1/' + 'x'.repeat(200));
			assert.match(locked['set']!, /^read-only: SQLite cache .*locked\.sqlite: cannot be written \(set failed: SQLITE_READONLY.*permissions/);
			assert.match(locked['clear']!, /^read-only: .*locked\.sqlite/);
			const lockedLayout2 = results[path.join(writableDir, 'locked-layout2')]!;
			assert.equal(lockedLayout2['get'], 'ok https://example.com/1/' + 'x'.repeat(200));
			assert.equal(lockedLayout2['foreign'], 'ok missing');
			assert.match(lockedLayout2['set']!, /^read-only: SQLite cache .*locked-layout2\.sqlite: cannot be written \(set failed: SQLITE_READONLY/);
		});

		it('leaves no promise rejecting unhandled when nothing awaits the store', async () => {
			mkdirSync(path.join(dir, 'unawaited.sqlite'));
			open('unawaited');
			writeFileSync(path.join(dir, 'unawaited.json'), 'not a database');
			open('unawaited.json');
			await new Promise(resolve => {
				setTimeout(resolve, 50);
			});
		});

		it('opens the file once it is fixed, within a second', async () => {
			const file = path.join(dir, 'fixed-later.sqlite');
			writeFileSync(file, 'not yet a database');
			const store = open('fixed-later');
			await assert.rejects(store.get('key'), {problem: 'not-a-database'});
			resetSqliteFile(file);
			await new Promise(resolve => {
				setTimeout(resolve, 1050);
			});
			await store.set([alias('key')]);
			assert.ok(await store.get('key'));
		});
	});

	describe('moving a bad file aside', () => {
		it('resetSqliteFile() moves the file and its -wal and -shm aside under one name, and a new cache starts', async () => {
			const file = path.join(dir, 'reset.sqlite');
			writeFileSync(file, 'garbage');
			writeFileSync(`${file}-wal`, 'wal');
			writeFileSync(`${file}-shm`, 'shm');
			const aside = resetSqliteFile(path.join(dir, 'reset'));
			assert.ok(aside !== undefined);
			assert.match(path.basename(aside), /^reset\.sqlite\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
			assert.equal(readFileSync(aside, 'utf8'), 'garbage');
			assert.equal(readFileSync(`${aside}-wal`, 'utf8'), 'wal');
			assert.equal(readFileSync(`${aside}-shm`, 'utf8'), 'shm');
			assert.ok(!existsSync(file) && !existsSync(`${file}-wal`) && !existsSync(`${file}-shm`));
			const store = open('reset');
			await store.set([alias('key')]);
			assert.ok(await store.get('key'));
			assert.equal(resetSqliteFile(path.join(dir, 'never-existed')), undefined);
			mkdirSync(path.join(dir, 'a-dir.sqlite'));
			assert.throws(() => resetSqliteFile(path.join(dir, 'a-dir')), {problem: 'directory'});
			assert.ok(statSync(path.join(dir, 'a-dir.sqlite')).isDirectory(), 'a directory is never moved');
		});

		it('onCorrupt: \'rename\' moves a file that is not a database aside, warns, and starts a new cache', async () => {
			const file = path.join(dir, 'rename.sqlite');
			writeFileSync(file, 'garbage');
			const warnings: Error[] = [];
			const onWarning = (warning: Error): void => {
				warnings.push(warning);
			};

			process.on('warning', onWarning);
			try {
				const store = open('rename', {onCorrupt: 'rename'});
				await store.set([alias('key')]);
				assert.ok(await store.get('key'));
				await new Promise(resolve => {
					setImmediate(resolve);
				});
			} finally {
				process.off('warning', onWarning);
			}

			const moved = readdirSync(dir).filter(name => name.startsWith('rename.sqlite.corrupt-') && !name.endsWith('-wal') && !name.endsWith('-shm'));
			assert.equal(moved.length, 1);
			assert.equal(readFileSync(path.join(dir, moved[0]!), 'utf8'), 'garbage');
			assert.equal(warnings.length, 1);
			assert.equal((warnings[0] as NodeJS.ErrnoException).code, 'REQUESTS_CACHE_SQLITE_RESET');
			assert.match(warnings[0]!.message, /rename\.sqlite: is not a SQLite database.*moved it aside to .*rename\.sqlite\.corrupt-/);
		});

		it('onCorrupt: \'rename\' moves a database aside when its pages turn out malformed, and the next write lands in a new one', async () => {
			const file = path.join(dir, 'rename-pages.sqlite');
			await makeCache(file, 2000);
			const bytes = readFileSync(file);
			bytes.fill(0x5A, 4096 * 3, bytes.length - (4096 * 3));
			writeFileSync(file, bytes);
			const onWarning = (): void => undefined;
			process.on('warning', onWarning);
			try {
				const store = open('rename-pages', {onCorrupt: 'rename'});
				const results = await everyOperation(store);
				const first = results.find(result => result.error !== undefined);
				assert.ok(first, 'an operation reached a bad page');
				assert.match((first.error as Error).message, /moved aside to .*rename-pages\.sqlite\.corrupt-.*new cache started/);
				await store.set([alias('after')]);
				assert.ok(await store.get('after'));
				assert.equal(await store.get('key-5'), undefined, 'the new cache is empty but for what was written since');
			} finally {
				process.off('warning', onWarning);
			}
		});
	});

	describe('rows another program writes', () => {
		it('are refused by SQLite when they are not records: a wrong kind, text or fractions where times belong, no value', async () => {
			const store = open('wrong-types');
			const good = alias('good', 5);
			await store.set([good]);
			const db = rawSqlite(store.file);
			try {
				const insert = db.prepare('INSERT INTO responses (key, kind, url, created_at, expires, delete_at, value) VALUES (?, ?, ?, ?, ?, ?, ?)');
				const bytes = Buffer.from('x');
				const refused: Array<[string, () => unknown, RegExp]> = [
					['everything wrong', () => insertForeignRow(db, 'foreign'), /SQLITE_CONSTRAINT/],
					['a wrong kind', () => insert.run('wrong-kind', 'not-a-kind', 'u', 1, null, null, bytes), /SQLITE_CONSTRAINT_CHECK/],
					['no kind', () => insert.run('null-kind', null, 'u', 1, null, null, bytes), /SQLITE_CONSTRAINT_NOTNULL/],
					['text created_at', () => insert.run('text-time', 'response', 'u', 'yesterday', null, null, bytes), /SQLITE_CONSTRAINT_DATATYPE/],
					['a fraction of a ms', () => insert.run('real-time', 'response', 'u', 1.5, null, null, bytes), /SQLITE_CONSTRAINT_DATATYPE/],
					['bytes for expires', () => insert.run('blob-expires', 'response', 'u', 1, bytes, null, bytes), /SQLITE_CONSTRAINT_DATATYPE/],
					['bytes for the URL', () => insert.run('blob-url', 'response', bytes, 1, null, null, bytes), /SQLITE_CONSTRAINT_DATATYPE/],
					['text for the value', () => insert.run('text-value', 'response', 'u', 1, null, null, 'text'), /SQLITE_CONSTRAINT_DATATYPE/],
					['no value', () => db.prepare('INSERT INTO responses (key, kind, url, created_at) VALUES (\'no-value\', \'response\', \'u\', 1)').run(), /SQLITE_CONSTRAINT_NOTNULL/],
					['a record made foreign', () => db.prepare('UPDATE responses SET created_at = \'yesterday\' WHERE key = \'good\'').run(), /SQLITE_CONSTRAINT_DATATYPE/],
				];
				for (const [what, write, code] of refused) {
					assert.throws(write, (error: {code?: string}) => code.test(error.code ?? ''), `${what} is refused`);
				}

				assert.deepEqual(db.prepare('SELECT key, created_at FROM responses').all(), [{key: 'good', created_at: 5}]);
			} finally {
				db.close();
			}

			const metas = [];
			for await (const page of store.scan()) {
				metas.push(...page);
			}

			assert.deepEqual(metas, [{key: 'good', kind: 'redirect', url: 'https://example.com/good', createdAt: 5, expires: null, deleteAt: null}]);
			assert.equal(await store.deleteWhere({createdBefore: 0}), 0, 'nothing to sweep');
		});

		it('writes times as whole ms: created_at rounded down, expires and delete_at up, so a whole-ms cut-off deletes what the exact times say', async () => {
			const store = open('fractions');
			const record = toRecord('fraction', {kind: 'redirect', target: 't', url: 'u', createdAt: 1000.5, expires: 2000.25}, 3000.75);
			await store.set([record]);
			const db = rawSqlite(store.file);
			try {
				assert.deepEqual(db.prepare('SELECT created_at, expires, delete_at FROM responses').get(), {created_at: 1000, expires: 2001, delete_at: 3001});
			} finally {
				db.close();
			}

			assert.equal(await store.deleteWhere({createdBefore: 1000}), 0, 'created at 1000.5: not before 1000');
			assert.equal(await store.deleteWhere({expiredAt: 2000}), 0, 'expires at 2000.25: not expired at 2000');
			assert.equal(await store.deleteWhere({createdBefore: 1001}), 1, 'created before 1001');
		});
	});

	describe('a file of an older layout', () => {
		const bytes = (size: number, fill: number): Buffer => Buffer.alloc(size, fill);
		/** Rows of a layout 2 file that are records, as that version wrote them (real times were allowed). */
		const goodRows = [
			{key: 'alias', kind: 'redirect', url: 'https://example.com/a', created_at: 10, expires: null, delete_at: null, value: alias('alias', 10).value},
			{key: 'real-times', kind: 'response', url: 'https://example.com/r', created_at: 1.5, expires: 2.5, delete_at: 3.5, value: bytes(7, 1)},
			{key: 'large', kind: 'response', url: 'https://example.com/l', created_at: 30, expires: 40, delete_at: 50, value: bytes(1024 * 1024, 2)},
		];
		const largeRest = bytes(100, 3);
		/** Rows another program wrote: each is not a record in its own way. */
		const foreignRows = [
			{key: 'text-time', kind: 'response', url: 'u', created_at: 'yesterday', expires: null, delete_at: null, value: bytes(3, 4)},
			{key: 'null-kind', kind: null, url: 'u', created_at: 1, expires: null, delete_at: null, value: bytes(5, 4)},
			{key: 'wrong-kind', kind: 'not-a-kind', url: 'u', created_at: 1, expires: null, delete_at: null, value: bytes(11, 4)},
			{key: 'blob-url', kind: 'response', url: Buffer.from('u'), created_at: 1, expires: null, delete_at: null, value: bytes(13, 4)},
			{key: 'text-value', kind: 'response', url: 'u', created_at: 1, expires: null, delete_at: null, value: 'text'},
			{key: 'no-value', kind: 'response', url: 'u', created_at: 1, expires: null, delete_at: null, value: null},
		];

		/** A layout 2 file with the good rows (the large one in two parts), the foreign ones (one with a part), and the budget's tables when `budget`. */
		function makeLayout2(name: string, budget: boolean): string {
			const file = path.join(dir, `${name}.sqlite`);
			const db = rawSqlite(file);
			try {
				db.exec(layout2Schema);
				const insert = db.prepare('INSERT INTO responses (key, kind, url, created_at, expires, delete_at, value) VALUES (?, ?, ?, ?, ?, ?, ?)');
				const part = db.prepare('INSERT INTO value_parts (key, part, bytes) VALUES (?, ?, ?)');
				part.run('large', 1, largeRest);
				part.run('text-time', 1, bytes(17, 5));
				for (const row of [...goodRows.slice(0, 2), ...foreignRows.slice(0, 3)]) {
					insert.run(row.key, row.kind, row.url, row.created_at, row.expires, row.delete_at, row.value);
				}

				if (budget) {
					// The rows so far are counted when the budget's tables are made, the rest by its triggers.
					db.exec(layout2LruSchema);
				}

				for (const row of [goodRows[2]!, ...foreignRows.slice(3)]) {
					insert.run(row.key, row.kind, row.url, row.created_at, row.expires, row.delete_at, row.value);
				}

				assert.equal(scalar(db, 'SELECT count(*) FROM responses'), goodRows.length + foreignRows.length);
				if (budget) {
					assert.equal(scalar(db, 'SELECT entries FROM lru_totals'), goodRows.length + foreignRows.length, 'the foreign rows are counted before');
				}
			} finally {
				db.close();
			}

			return file;
		}

		it('brings a file of layout 2 to layout 3: every record stays readable, the rows that are not records go', async () => {
			const file = makeLayout2('layout2', false);
			const store = open('layout2', {hotCacheBytes: 0});
			const read = await store.get('large');
			assert.ok(read !== undefined && Buffer.from(read.value).equals(Buffer.concat([goodRows[2]!.value, largeRest])), 'the large value is whole, parts and all');
			assert.deepEqual({...read, value: undefined}, {key: 'large', kind: 'response', url: 'https://example.com/l', createdAt: 30, expires: 40, deleteAt: 50, value: undefined});
			assert.ok(Buffer.from((await store.get('alias'))!.value).equals(goodRows[0]!.value));
			const real = await store.get('real-times');
			assert.deepEqual({...real, value: Buffer.from(real!.value)}, {key: 'real-times', kind: 'response', url: 'https://example.com/r', createdAt: 1, expires: 3, deleteAt: 4, value: goodRows[1]!.value}, 'times made whole ms');
			for (const {key} of foreignRows) {
				// eslint-disable-next-line no-await-in-loop -- one key after another
				assert.equal(await store.get(key), undefined, `${key} is gone`);
			}

			const listed = [];
			for await (const page of store.scan()) {
				listed.push(...page);
			}

			assert.deepEqual(listed.map(meta => meta.key), ['alias', 'real-times', 'large'], 'the good rows, in their table order, none corrupt');
			assert.ok(listed.every(meta => meta.corrupt === undefined));
			const db = rawSqlite(file);
			try {
				assert.equal(scalar(db, 'SELECT value FROM meta WHERE name = \'schema\''), '3');
				assert.equal(scalar(db, 'SELECT strict FROM pragma_table_list WHERE name = \'responses\''), 1);
				assert.deepEqual((db.prepare('SELECT name FROM sqlite_master WHERE type IN (\'index\', \'table\') AND sql IS NOT NULL ORDER BY name').all() as Array<{name: string}>).map(row => row.name), ['meta', 'responses', 'responses_created_at', 'responses_expires', 'value_parts']);
				assert.deepEqual(db.prepare('SELECT key, part FROM value_parts').all(), [{key: 'large', part: 1}], 'the part of a foreign row went');
				assert.throws(() => insertForeignRow(db, 'after'), /cannot store|constraint/i);
			} finally {
				db.close();
			}

			await store.set([alias('new')]);
			assert.equal(await store.deleteWhere({createdBefore: 20}), 2, 'alias (10) and real-times (1)');
		});

		it('keeps the budget\'s totals exact and its triggers working when a budgeted file of layout 2 is brought to layout 3', async () => {
			const file = makeLayout2('layout2-budget', false);
			const db = rawSqlite(file);
			db.exec(layout2LruSchema);
			db.close();
			const budgeted = makeLayout2('layout2-budget-late', true);
			for (const [name, path_] of [['layout2-budget', file], ['layout2-budget-late', budgeted]] as const) {
				// A store without a budget brings it up to date: the budget's triggers must be there again for the next store that has one.
				const plain = open(name);
				// eslint-disable-next-line no-await-in-loop -- one file after another
				assert.equal((await plain.get('alias'))?.kind, 'redirect');
				const check = rawSqlite(path_);
				try {
					const goodBytes = goodRows[0]!.value.byteLength + goodRows[1]!.value.byteLength + goodRows[2]!.value.byteLength + largeRest.byteLength;
					assert.deepEqual(check.prepare('SELECT entries, bytes FROM lru_totals').get(), {entries: 3, bytes: goodBytes}, `${name}: totals of the records only`);
					assert.deepEqual(check.prepare('SELECT count(*) AS entries, sum(size) AS bytes FROM lru').get(), {entries: 3, bytes: goodBytes});
					assert.deepEqual((check.prepare('SELECT name FROM sqlite_master WHERE type = \'trigger\' AND tbl_name = \'responses\' ORDER BY name').all() as Array<{name: string}>).map(row => row.name), ['responses_lru_delete', 'responses_lru_insert', 'responses_lru_update']);
					check.prepare('INSERT INTO responses (key, kind, url, created_at, value) VALUES (\'raw\', \'response\', \'u\', 1, ?)').run(bytes(9, 6));
					check.prepare('DELETE FROM responses WHERE key = \'alias\'').run();
					assert.deepEqual(check.prepare('SELECT entries, bytes FROM lru_totals').get(), {entries: 3, bytes: goodBytes + 9 - goodRows[0]!.value.byteLength}, `${name}: the triggers count every writer`);
				} finally {
					check.close();
				}
			}

			// A budget on the file evicts by it: the least recently used (real-times, first in table order) goes.
			const store = open('layout2-budget-late', {maxEntries: 3, hotCacheBytes: 0});
			assert.deepEqual((await store.set([alias('another')]))?.evicted.map(evicted => evicted.key), ['real-times']);
		});

		it('is brought up to date once when several processes open it at once, and each of them reads it', async function () {
			this.timeout(60_000);
			const file = makeLayout2('layout2-race', true);
			const script = path.join(dir, 'opener.ts');
			writeFileSync(script, `
import {createInterface} from 'node:readline';
import {SqliteStore} from ${JSON.stringify(path.join(repoRoot, 'lib', 'backends', 'sqlite.ts'))};
const lines = createInterface({input: process.stdin});
process.stdout.write('ready\\n');
await new Promise(resolve => lines.once('line', resolve));
lines.close();
const store = new SqliteStore(process.argv[2], {maxEntries: 100});
const read = await store.get('large');
const keys = [];
for await (const page of store.scan()) keys.push(...page.map(meta => meta.key));
await store.close();
process.stdout.write(JSON.stringify({bytes: read?.value.byteLength, keys}) + '\\n');
`);
			const children = [0, 1, 2].map(() => spawn(process.execPath, ['--import', 'tsx', script, file], {cwd: repoRoot}));
			const watched = children.map(child => watchWriter(child));
			await Promise.all(watched.map(async child => child.ready));
			for (const child of children) {
				child.stdin.write('go\n');
			}

			for (const result of await Promise.all(watched.map(async child => child.done))) {
				assert.equal(result.code, 0, result.stderr);
				assert.deepEqual(JSON.parse(result.stdout.split('\n').find(line => line.startsWith('{'))!), {bytes: 1024 * 1024 + 100, keys: ['alias', 'real-times', 'large']});
			}

			const db = rawSqlite(file);
			try {
				assert.equal(scalar(db, 'SELECT value FROM meta WHERE name = \'schema\''), '3');
				assert.equal(scalar(db, 'SELECT count(*) FROM sqlite_master WHERE name LIKE \'responses_layout%\''), 0);
				assert.deepEqual(db.prepare('SELECT entries FROM lru_totals').get(), {entries: 3});
				assert.equal(scalar(db, 'SELECT count(*) FROM sqlite_master WHERE type = \'trigger\''), 3);
			} finally {
				db.close();
			}
		});
	});
});

describe('backends/sqlite: many writers on one file', () => {
	let dir: string;

	before(() => {
		dir = tempDir('sqlite-writers');
	});

	after(() => {
		removeDir(dir);
	});

	it('opens a new file that another process holds the write lock of (switching to WAL waits instead of failing)', async function () {
		this.timeout(30_000);
		const file = path.join(dir, 'locked-new.sqlite');
		// Another process takes the write lock of the new, empty file and keeps it 300 ms. SQLite
		// answers the switch to WAL with SQLITE_BUSY at once then, without its busy handler.
		const holder = spawn(process.execPath, ['-e', `
const Database = require(${JSON.stringify(path.join(repoRoot, 'node_modules', 'better-sqlite3'))});
const db = new Database(${JSON.stringify(file)});
db.exec('BEGIN IMMEDIATE');
process.stdout.write('ready\\n');
setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, 300);
`]);
		const holding = watchWriter(holder);
		await holding.ready;
		const started = performance.now();
		const store = new SqliteStore(file);
		try {
			await store.set([toRecord('after-the-lock', {kind: 'variants', names: ['a'], url: 'https://example.com/', createdAt: Date.now(), expires: null}, null)]);
			assert.ok(performance.now() - started >= 200, 'it waited for the lock');
			assert.equal((await store.get('after-the-lock'))?.kind, 'variants');
		} finally {
			await store.close();
			assert.equal((await holding.done).code, 0);
		}
	});

	it('loses nothing when 4 processes with two stores each write 500 records apiece at once (no SQLITE_BUSY)', async function () {
		this.timeout(120_000);
		const cacheName = path.join(dir, 'shared');
		const script = path.join(dir, 'writer.ts');
		writeFileSync(script, `
import {createInterface} from 'node:readline';
import {SqliteStore} from ${JSON.stringify(path.join(repoRoot, 'lib', 'backends', 'sqlite.ts'))};
import {toRecord} from ${JSON.stringify(path.join(repoRoot, 'lib', 'codec', 'entry.ts'))};
const [cacheName, writer] = process.argv.slice(2);
const stores = [new SqliteStore(cacheName), new SqliteStore(cacheName)];
const lines = createInterface({input: process.stdin});
process.stdout.write('ready\\n');
await new Promise(resolve => lines.once('line', resolve));
lines.close();
const body = 'x'.repeat(2000);
const failures = [];
const started = performance.now();
let slowest = 0;
for (let i = 0; i < 500; i++) {
	const key = 'w' + writer + '-' + i;
	const value = {kind: 'variants', names: [body], url: 'https://example.com/' + key, createdAt: Date.now(), expires: null};
	const before = performance.now();
	try {
		await stores[i % 2].set([toRecord(key, value, null)]);
		if (i % 50 === 0) {
			// Reads in between, through the other store, as a cache does.
			const read = await stores[(i + 1) % 2].get(key);
			if (read === undefined) failures.push('not read back: ' + key);
		}
	} catch (error) {
		failures.push(String(error));
	}
	slowest = Math.max(slowest, performance.now() - before);
	if (i % 25 === 0) await new Promise(resolve => setImmediate(resolve));
}
const ms = performance.now() - started;
await Promise.all(stores.map(store => store.close()));
process.stdout.write(JSON.stringify({failures, ms, slowest}) + '\\n');
`);
		const children = [0, 1, 2, 3].map(writer => spawn(process.execPath, ['--import', 'tsx', script, cacheName, String(writer)], {cwd: repoRoot}));
		const watched = children.map(child => watchWriter(child));
		await Promise.all(watched.map(async child => child.ready));
		// All four have opened the file and wait: start them together.
		for (const child of children) {
			child.stdin.write('go\n');
		}

		const results = await Promise.all(watched.map(async child => child.done));
		const timings: string[] = [];
		for (const result of results) {
			assert.equal(result.code, 0, result.stderr);
			assert.doesNotMatch(result.stderr, /SQLITE_BUSY|database is locked/);
			const report = JSON.parse(result.stdout.split('\n').find(line => line.startsWith('{'))!) as {failures: string[]; ms: number; slowest: number};
			assert.deepEqual(report.failures, []);
			timings.push(`${report.ms.toFixed(0)} ms (slowest write ${report.slowest.toFixed(1)} ms)`);
		}

		console.log(`      4 processes x 500 writes: ${timings.join(', ')}`);
		const reader = new SqliteStore(cacheName);
		const keys = new Set<string>();
		for await (const page of reader.scan()) {
			for (const meta of page) {
				keys.add(meta.key);
			}
		}

		await reader.close();
		assert.equal(keys.size, 2000);
		for (let writer = 0; writer < 4; writer++) {
			for (let index = 0; index < 500; index++) {
				assert.ok(keys.has(`w${writer}-${index}`), `w${writer}-${index} is there`);
			}
		}
	});
});
