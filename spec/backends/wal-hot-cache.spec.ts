import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {SqliteStore} from '../../lib/backends/sqlite.js';
import type {StoreRecord} from '../../lib/backends/store.js';
import {WalHotCache} from '../../lib/backends/wal-hot-cache.js';
import {toRecord} from '../../lib/codec/entry.js';
import {rawSqlite} from '../support/sqlite-files.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function index(key: string, label: string, size = 0): StoreRecord {
	return toRecord(key, {kind: 'variants', names: [label, 'x'.repeat(size)], url: `https://example.com/${key}`, createdAt: 1, expires: null}, null);
}

/** The label a record was written with (see {@link index}). */
function labelOf(record: StoreRecord | undefined): string | undefined {
	if (record === undefined) {
		return undefined;
	}

	const text = Buffer.from(record.value).toString('latin1');
	return /"names":\["([^"]*)"/.exec(text)?.[1];
}

describe('backends/wal-hot-cache: SQLite records kept in the process, exactly as current as the file', () => {
	let dir: string;
	const stores: SqliteStore[] = [];

	function open(name: string, options: ConstructorParameters<typeof SqliteStore>[1] = {}): SqliteStore {
		const store = new SqliteStore(path.join(dir, name), options);
		stores.push(store);
		return store;
	}

	before(() => {
		dir = tempDir('hot-cache');
	});

	afterEach(async () => {
		await Promise.all(stores.splice(0).map(async store => store.close()));
	});

	after(() => {
		removeDir(dir);
	});

	it('hands out the same record object while the key is unchanged', async () => {
		const writer = open('same');
		await writer.set([index('key', 'v1')]);
		const reader = open('same');
		const first = await reader.get('key');
		assert.equal(reader.hotSize, 1);
		assert.equal(await reader.get('key'), first, 'the kept object, not a new one');
		assert.equal(labelOf(first), 'v1');
	});

	it('keeps what this store writes as written, and keeps the rest', async () => {
		const store = open('own-writes');
		const a = index('a', 'a1');
		const b = index('b', 'b1');
		await store.set([a, b]);
		assert.equal(await store.get('a'), a, 'the record object just written');
		assert.equal(store.hotSize, 2);
		const a2 = index('a', 'a2');
		await store.set([a2]);
		assert.equal(await store.get('a'), a2);
		assert.equal(await store.get('b'), b, 'an own write does not drop other kept records');
		assert.equal(await store.delete(['a']), 1);
		assert.equal(await store.get('a'), undefined);
		assert.equal(await store.get('b'), b);
		await store.deleteWhere({createdBefore: 0});
		assert.equal(store.hotSize, 0, 'deleteWhere drops everything kept');
		assert.equal(labelOf(await store.get('b')), 'b1');
		await store.clear();
		assert.equal(await store.get('b'), undefined);
	});

	it('sees another store\'s write, delete and clear() in this process at once', async () => {
		const a = open('two-stores');
		const b = open('two-stores');
		await a.set([index('key', 'v1'), index('other', 'o1')]);
		assert.equal(labelOf(await b.get('key')), 'v1');
		assert.equal(labelOf(await b.get('other')), 'o1');
		assert.equal(b.hotSize, 2);
		await a.set([index('key', 'v2')]);
		assert.equal(labelOf(await b.get('key')), 'v2');
		await a.delete(['other']);
		assert.equal(await b.get('other'), undefined);
		await b.get('key');
		await a.clear();
		assert.equal(await b.get('key'), undefined);
	});

	it('sees another process\'s update and delete at once', async function () {
		this.timeout(30_000);
		const store = open('process');
		await store.set([index('key', 'v1'), index('gone', 'g1')]);
		assert.equal(labelOf(await store.get('key')), 'v1');
		assert.equal(labelOf(await store.get('gone')), 'g1');
		const script = path.join(dir, 'writer.ts');
		writeFileSync(script, `
import {SqliteStore} from ${JSON.stringify(path.join(repoRoot, 'lib', 'backends', 'sqlite.ts'))};
import {toRecord} from ${JSON.stringify(path.join(repoRoot, 'lib', 'codec', 'entry.ts'))};
const store = new SqliteStore(process.argv[2]);
await store.set([toRecord('key', {kind: 'variants', names: ['v2'], url: 'https://example.com/key', createdAt: 1, expires: null}, null)]);
await store.delete(['gone']);
await store.close();
`);
		await new Promise<void>((resolve, reject) => {
			const child = spawn(process.execPath, ['--import', 'tsx', script, store.file], {cwd: repoRoot, stdio: 'inherit'});
			child.once('exit', code => {
				if (code === 0) {
					resolve();
				} else {
					reject(new Error(`the writer exited with ${code}`));
				}
			});
		});
		assert.equal(labelOf(await store.get('key')), 'v2');
		assert.equal(await store.get('gone'), undefined);
	});

	it('reads every version in order while another process keeps rewriting a key', async function () {
		this.timeout(60_000);
		const store = open('versions');
		await store.set([index('key', '0')]);
		const script = path.join(dir, 'versions.ts');
		writeFileSync(script, `
import {SqliteStore} from ${JSON.stringify(path.join(repoRoot, 'lib', 'backends', 'sqlite.ts'))};
import {toRecord} from ${JSON.stringify(path.join(repoRoot, 'lib', 'codec', 'entry.ts'))};
const store = new SqliteStore(process.argv[2]);
for (let version = 1; version <= 300; version++) {
	await store.set([toRecord('key', {kind: 'variants', names: [String(version)], url: 'https://example.com/key', createdAt: 1, expires: null}, null)]);
	if (version % 10 === 0) {
		await new Promise(resolve => setTimeout(resolve, 1));
	}
}
await store.close();
`);
		const child = spawn(process.execPath, ['--import', 'tsx', script, store.file], {cwd: repoRoot, stdio: 'inherit'});
		let exited = false;
		const done = new Promise<number | null>(resolve => {
			child.once('exit', code => {
				exited = true;
				resolve(code);
			});
		});
		let last = 0;
		let reads = 0;
		while (!exited) {
			// eslint-disable-next-line no-await-in-loop -- reads as fast as a cache would serve hits
			const version = Number(labelOf(await store.get('key')));
			assert.ok(version >= last, `version ${version} read after ${last}: never an older one`);
			last = version;
			reads++;
			if (reads % 100 === 0) {
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => {
					setImmediate(resolve);
				});
			}
		}

		assert.equal(await done, 0);
		assert.equal(labelOf(await store.get('key')), '300', 'the last version, as soon as it is committed');
		assert.ok(reads > 0);
	});

	it('stays correct when another connection checkpoints and restarts the WAL', async () => {
		const store = open('checkpoint');
		await store.set([index('key', 'v1')]);
		const kept = await store.get('key');
		const db = rawSqlite(store.file);
		db.pragma('wal_checkpoint(TRUNCATE)');
		assert.equal(labelOf(await store.get('key')), 'v1');
		db.prepare('UPDATE responses SET value = ? WHERE key = ?').run(Buffer.from(index('key', 'v2').value), 'key');
		db.close();
		const read = await store.get('key');
		assert.notEqual(read, kept);
		assert.equal(labelOf(read), 'v2');
	});

	it('keeps nothing with hotCacheBytes: 0, and still reads correctly', async () => {
		const store = open('off', {hotCacheBytes: 0});
		await store.set([index('key', 'v1')]);
		const first = await store.get('key');
		const second = await store.get('key');
		assert.equal(store.hotSize, 0);
		assert.notEqual(first, second);
		assert.deepEqual(first, second);
	});

	it('keeps at most hotCacheBytes of values, and no record larger than a quarter of it', async () => {
		const store = open('bounded', {hotCacheBytes: 64 * 1024});
		const records = Array.from({length: 200}, (_, number) => index(`key-${number}`, String(number), 1000));
		await store.set(records);
		for (const record of records) {
			// eslint-disable-next-line no-await-in-loop -- one key after another
			await store.get(record.key);
		}

		assert.ok(store.hotSize > 10 && store.hotSize < 64, `${store.hotSize} records kept`);
		await store.set([index('large', 'large', 20 * 1024)]);
		const other = open('bounded', {hotCacheBytes: 64 * 1024});
		assert.equal(labelOf(await other.get('large')), 'large');
		assert.equal(other.hotSize, 0, 'a record over a quarter of the budget is read, not kept');
	});

	describe('WalHotCache', () => {
		it('drops everything when another connection commits between this process\'s lock and its commit being seen', async () => {
			const file = path.join(dir, 'counter.sqlite');
			const a = rawSqlite(file);
			a.pragma('journal_mode = WAL');
			a.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)');
			const b = rawSqlite(file);
			const hot = new WalHotCache(file, {maxBytes: 1 << 20});
			try {
				const generation = hot.generation()!;
				hot.keep(index('kept', 'k'), generation);
				assert.equal(hot.size, 1);
				// Own commit, alone: the counter moves by one; what is kept stays, the write is added.
				a.exec('BEGIN IMMEDIATE');
				hot.writeLocked();
				a.exec('INSERT INTO t VALUES (\'a\', \'1\')');
				a.exec('COMMIT');
				hot.writeCommitted({set: [index('written', 'w')]});
				assert.equal(hot.size, 2);
				assert.equal(hot.generation(), generation, 'the own commit became the baseline');
				// Own commit, then another connection's before the header is read again: all goes.
				a.exec('BEGIN IMMEDIATE');
				hot.writeLocked();
				a.exec('INSERT INTO t VALUES (\'b\', \'1\')');
				a.exec('COMMIT');
				b.exec('INSERT INTO t VALUES (\'c\', \'1\')');
				hot.writeCommitted({set: [index('written-2', 'w')]});
				assert.equal(hot.size, 0);
				assert.notEqual(hot.generation(), generation);
				// Another connection's commit before this process takes the lock: seen under the lock.
				hot.keep(index('kept', 'k'), hot.generation()!);
				b.exec('INSERT INTO t VALUES (\'d\', \'1\')');
				a.exec('BEGIN IMMEDIATE');
				hot.writeLocked();
				assert.equal(hot.size, 0, 'the other commit dropped what was kept');
				a.exec('COMMIT');
			} finally {
				hot.close();
				a.close();
				b.close();
			}
		});

		it('keeps nothing while the database has no WAL index', () => {
			const hot = new WalHotCache(path.join(dir, 'no-such-file.sqlite'), {maxBytes: 1 << 20});
			assert.equal(hot.generation(), undefined);
			hot.close();
		});
	});
});
