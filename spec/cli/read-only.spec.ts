import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {createHash} from 'node:crypto';
import {copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeSync, closeSync} from 'node:fs';
import path from 'node:path';
import {crc32} from 'node:zlib';
import {SqliteStore} from '../../lib/backends/sqlite.js';
import {main} from '../../lib/cli/main.js';
import {type CachedEntry, CorruptEntryError, MAX_TIME, decodeValue, encodeValue, toRecord} from '../../lib/codec/entry.js';
import {CachedSession} from '../../lib/index.js';
import {Origin} from '../support/origin.js';
import {removeDir, tempDir} from '../support/temp-dir.js';
import {harProblems} from './har-schema.js';
import {runCli} from './run-cli.js';

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The codec's bytes of a value, written by hand: encodeValue refuses what these specs need stored (a value of an older version). */
function handEncoded(value: Omit<CachedEntry, 'body'> & {body: Buffer}): Buffer {
	const {body, ...head} = value;
	const json = Buffer.from(JSON.stringify(head));
	const out = Buffer.concat([Buffer.from([0x52, 0x51, 0x43, 0x02, 0, 0, 0, 0]), json, body, Buffer.alloc(4)]);
	out.writeUInt32BE(json.length, 4);
	out.writeUInt32BE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
	return out;
}

/** What a directory holds and when it last changed: a file created or removed in it changes both. */
function dirState(dir: string): {names: string[]; mtime: number} {
	return {names: readdirSync(dir).sort(), mtime: statSync(dir).mtimeMs};
}

// Issue 17, defects 4 and 5: one entry with a time no Date holds made `list`, `show` and
// `export-har` exit 2 for the whole cache, and the reading commands wrote: a killed writer's WAL
// checkpointed, -wal and -shm created beside a malformed file, raw escape sequences printed.
describe('requests-cache CLI: stored values out of range, and reading without writing', function () {
	this.timeout(60_000);
	let origin: Origin;
	let dir: string;
	let count = 0;

	before(async () => {
		origin = await Origin.start();
		origin.route('/page', (_request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=600'}).end('page');
		});
		origin.route('/cookie', (_request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=600', 'set-cookie': 'big=1; Max-Age=99999999999999'}).end('cookie');
		});
		origin.route('/huge', (_request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=9999999999999'}).end('huge');
		});
		dir = tempDir('cli-read-only');
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	/** A cache file in a directory of its own, filled through a session and closed. */
	async function filledCache(paths: readonly string[], cacheControl = false): Promise<{file: string; keys: string[]}> {
		const own = path.join(dir, `cache-${++count}`);
		mkdirSync(own);
		const file = path.join(own, 'http_cache.sqlite');
		const session = new CachedSession({cacheName: file, storeCookies: true, cacheControl});
		const keys: string[] = [];
		for (const item of paths) {
			// eslint-disable-next-line no-await-in-loop -- in order
			const response = await session.get(`${origin.url}${item}`);
			keys.push(response.cacheKey ?? '');
		}

		await session.close();
		return {file, keys};
	}

	describe('the codec', () => {
		it('refuses to encode a time no Date holds, and refuses to decode one except for the inspector', async () => {
			const {file, keys} = await filledCache(['/page']);
			const store = new SqliteStore(file);
			try {
				const entry = decodeValue((await store.get(keys[0]!))!.value, 'response') as CachedEntry;
				assert.throws(() => encodeValue({...entry, expires: MAX_TIME + 1}), {name: 'RangeError', message: /expires/});
				assert.throws(() => encodeValue({...entry, createdAt: Number.MAX_VALUE}), {name: 'RangeError', message: /createdAt/});
				assert.throws(() => toRecord('k', entry, -MAX_TIME - 1), {name: 'RangeError', message: /deleteAt/});
				const bad = handEncoded({...entry, expires: 1e16, body: Buffer.from(entry.body)});
				assert.throws(() => decodeValue(bad), CorruptEntryError);
				assert.equal((decodeValue(bad, 'response', true) as CachedEntry).expires, 1e16);
			} finally {
				await store.close();
			}
		});
	});

	describe('one entry never fails a listing', () => {
		it('list, show and export-har print an entry whose times no Date holds with the times marked, and exit 0', async () => {
			const {file, keys} = await filledCache(['/page', '/cookie']);
			const store = new SqliteStore(file);
			const entry = decodeValue((await store.get(keys[0]!))!.value, 'response') as CachedEntry;
			await store.set([{key: 'bad-time', kind: 'response', url: entry.url, createdAt: 9e15, expires: 1e16, deleteAt: null, value: handEncoded({...entry, createdAt: 9e15, expires: 1e16, body: Buffer.from(entry.body)})}]);
			await store.close();

			const list = await runCli(['list', file]);
			assert.equal(list.code, 0, list.stderr);
			assert.match(list.stdout, /invalid time \(9000000000000000 ms\)/);
			assert.equal(list.stdout.split('\n').filter(line => line.includes(origin.url)).length, 3, 'every entry is listed');

			const json = await runCli(['list', file, '--json']);
			assert.equal(json.code, 0, json.stderr);
			const rows = JSON.parse(json.stdout) as Array<{key: string; createdAt: string; expires: string}>;
			assert.deepEqual(rows.find(row => row.key === 'bad-time'), {...rows.find(row => row.key === 'bad-time'), createdAt: 'invalid time (9000000000000000 ms)', expires: 'invalid time (10000000000000000 ms)'});

			const show = await runCli(['show', file, 'bad-time']);
			assert.equal(show.code, 0, show.stderr);
			assert.match(show.stdout, /created {3}invalid time/);

			const har = await runCli(['export-har', file, '-']);
			assert.equal(har.code, 0, har.stderr);
			const log = JSON.parse(har.stdout) as {log: {entries: Array<{startedDateTime: string; response: {cookies: Array<{name: string; expires?: string; comment?: string}>}; _requestsCache: {key: string; createdAt: string}}>}};
			assert.deepEqual(harProblems(log), []);
			assert.equal(log.log.entries.length, 3);
			const marked = log.log.entries.find(item => item._requestsCache.key === 'bad-time')!;
			assert.equal(marked._requestsCache.createdAt, 'invalid time (9000000000000000 ms)');
			const cookie = log.log.entries.flatMap(item => item.response.cookies).find(item => item.name === 'big')!;
			assert.equal(cookie.expires, undefined);
			assert.match(cookie.comment!, /^expires: invalid time/);
		});

		it('a response whose max-age no Date holds is served, and the cache stays listable', async () => {
			// cacheControl: the max-age is read (without it, expires is null and nothing is tested).
			const {file} = await filledCache(['/huge', '/huge', '/page'], true);
			assert.equal(origin.hits('/huge'), 1, 'the repeat was served from the cache');
			const list = await runCli(['list', file]);
			assert.equal(list.code, 0, list.stderr);
			assert.match(list.stdout, /\/page/);
		});

		it('export-har to - names stdout, not a file called -, when writing fails', async () => {
			const {file} = await filledCache(['/page']);
			const notes: string[] = [];
			const code = await main(['export-har', file, '-'], {
				write() {
					throw new Error('EPIPE: the reader went away');
				},
				note(text) {
					notes.push(text);
				},
			});
			assert.equal(code, 2);
			assert.match(notes.join(''), /cannot export to stdout: EPIPE/);
			assert.doesNotMatch(notes.join(''), /\/-/);
		});

		it('prints control characters of stored URLs and headers escaped', async () => {
			const {file, keys} = await filledCache(['/page']);
			const store = new SqliteStore(file);
			const entry = decodeValue((await store.get(keys[0]!))!.value, 'response') as CachedEntry;
			const url = `${origin.url}/\u001B[2J\u009B31m`;
			const dressed = {...entry, url, headers: {...entry.headers, 'x-note': 'a\u001B]0;title\u0007b'}, request: {...entry.request, url}};
			await store.set([toRecord('controls', dressed, null)]);
			await store.close();

			for (const arguments_ of [['list', file], ['show', file, 'controls'], ['list', file, '--json'], ['stats', file]]) {
				// eslint-disable-next-line no-await-in-loop -- one process at a time on the file
				const run = await runCli(arguments_);
				assert.equal(run.code, 0, run.stderr);
				assert.doesNotMatch(run.stdout, /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/, `${arguments_[0]!}: no raw control character`);
			}

			const show = await runCli(['show', file, 'controls']);
			assert.ok(show.stdout.includes(String.raw`/\x1b[2J\x9b31m`), show.stdout);
			assert.ok(show.stdout.includes(String.raw`x-note: a\x1b]0;title\x07b`), show.stdout);
		});
	});

	describe('reading commands open the file read-only', () => {
		it('create nothing beside a closed cache and change nothing in it', async () => {
			const {file, keys} = await filledCache(['/page', '/cookie']);
			const before = dirState(path.dirname(file));
			const hash = sha256(file);
			for (const arguments_ of [['list', file], ['show', file, keys[0]!], ['stats', file], ['export-har', file, '-']]) {
				// eslint-disable-next-line no-await-in-loop -- one process at a time on the file
				const run = await runCli(arguments_);
				assert.equal(run.code, 0, run.stderr);
				assert.deepEqual(dirState(path.dirname(file)), before, `${arguments_[0]!}: no file created or removed beside it`);
			}

			assert.equal(sha256(file), hash);
		});

		it('after a killed writer, read its commits from the WAL and leave them there', async () => {
			const own = path.join(dir, `killed-${++count}`);
			mkdirSync(own);
			const source = path.join(own, 'writer.sqlite');
			const session = new CachedSession({cacheName: source});
			for (const n of [1, 2, 3]) {
				// eslint-disable-next-line no-await-in-loop
				await session.get(`${origin.url}/page?n=${n}`);
			}

			// Writes go behind the request: a listing waits for them to be committed.
			assert.equal((await session.cache.urls()).length, 3);
			// The files as a writer killed now leaves them: its commits still in the WAL.
			const file = path.join(own, 'killed.sqlite');
			for (const suffix of ['', '-wal', '-shm']) {
				copyFileSync(source + suffix, file + suffix);
			}

			await session.close();
			assert.ok(statSync(`${file}-wal`).size > 0, 'the commits are in the WAL');
			const hashes = ['', '-wal'].map(suffix => sha256(file + suffix));
			const run = await runCli(['list', file]);
			assert.equal(run.code, 0, run.stderr);
			assert.equal(run.stdout.split('\n').filter(line => line.includes('/page?n=')).length, 3, 'the WAL\'s commits are read');
			assert.deepEqual(['', '-wal'].map(suffix => sha256(file + suffix)), hashes, 'no checkpoint into the file');
		});

		it('create no -wal or -shm beside a malformed file', async () => {
			const {file} = await filledCache(['/page']);
			const fd = openSync(file, 'r+');
			writeSync(fd, Buffer.alloc(4096, 0xFF), 0, 4096, 4096);
			closeSync(fd);
			const before = dirState(path.dirname(file));
			const hash = sha256(file);
			await runCli(['list', file]);
			await runCli(['stats', file]);
			assert.deepEqual(dirState(path.dirname(file)), before);
			assert.equal(sha256(file), hash);
		});

		it('a read-only SqliteStore refuses writes and creates no missing file', async () => {
			const {file, keys} = await filledCache(['/page']);
			const store = new SqliteStore(file, {readOnly: true});
			try {
				const record = await store.get(keys[0]!);
				assert.ok(record);
				await assert.rejects(store.set([record]), {name: 'SqliteStoreError', problem: 'read-only'});
				await assert.rejects(store.delete([keys[0]!]), {problem: 'read-only'});
			} finally {
				await store.close();
			}

			const missing = path.join(path.dirname(file), 'missing.sqlite');
			const absent = new SqliteStore(missing, {readOnly: true});
			await assert.rejects(absent.get('x'), {problem: 'cannot-open'});
			await absent.close();
			assert.equal(existsSync(missing), false);
			assert.throws(() => new SqliteStore(file, {readOnly: true, maxEntries: 10}), {name: 'TypeError', message: /readOnly/});
		});
	});
});
