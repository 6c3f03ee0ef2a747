import assert from 'node:assert/strict';
import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process';
import {existsSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {CachedSession} from '../../lib/index.js';
import {sqlitePath} from '../../lib/backends/sqlite.js';
import {Origin} from '../support/origin.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

type Query = (sql: string, ...parameters: unknown[]) => Promise<Array<Record<string, unknown>>>;

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The SQL connection behind a session's SQLite store. */
function sql(session: CachedSession): Query {
	return (session.cache.store.keyv.store as {query: Query}).query;
}

/** The single value of a one-row, one-column result. */
function scalar(rows: Array<Record<string, unknown>>): unknown {
	return Object.values(rows[0] ?? {})[0];
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
		it('adds .sqlite to a cacheName without an extension and keeps one that has one', () => {
			assert.equal(sqlitePath('http_cache'), 'http_cache.sqlite');
			assert.equal(sqlitePath('caches/api'), 'caches/api.sqlite');
			assert.equal(sqlitePath('caches/api.db'), 'caches/api.db');
			assert.equal(sqlitePath(':memory:'), ':memory:');
		});

		it('creates the parent directories of the file', async () => {
			const name = path.join(dir, 'a', 'b', 'c', 'cache');
			const session = new CachedSession({cacheName: name});
			await session.get(`${origin.url}/json?nested=1`);
			await session.close();
			assert.ok(existsSync(`${name}.sqlite`));
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
		it('runs in WAL mode with a busy timeout', async () => {
			const name = path.join(dir, 'wal');
			const session = new CachedSession({cacheName: name});
			await session.get(`${origin.url}/json?wal=1`);
			assert.equal(scalar(await sql(session)('PRAGMA journal_mode')), 'wal');
			assert.equal(scalar(await sql(session)('PRAGMA busy_timeout')), 10_000);
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
			assert.equal(scalar(await sql(reader)('SELECT count(*) FROM keyv')), 400);
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
			const output = (child: ChildProcessWithoutNullStreams) => {
				let stdout = '';
				let stderr = '';
				child.stdout.on('data', (chunk: Buffer) => {
					stdout += chunk.toString();
				});
				child.stderr.on('data', (chunk: Buffer) => {
					stderr += chunk.toString();
				});
				const ready = new Promise<void>((resolve, reject) => {
					child.stdout.on('data', () => {
						if (stdout.includes('ready\n')) {
							resolve();
						}
					});
					child.once('exit', () => {
						reject(new Error(`writer exited before it was ready: ${stderr}`));
					});
				});
				const done = new Promise<{code: number | null; stdout: string; stderr: string}>(resolve => {
					child.once('exit', code => {
						resolve({code, stdout, stderr});
					});
				});
				return {ready, done};
			};

			const watched = children.map(child => output(child));
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
		it('removeOldEntries() deletes exactly the right rows of 100,000', async function () {
			this.timeout(120_000);
			const session = new CachedSession({cacheName: path.join(dir, 'large')});
			const query = sql(session);
			// One real entry, written by the cache itself, is the template of every row.
			await session.get(`${origin.url}/json?template=1`);
			const template = scalar(await query('SELECT value FROM keyv')) as string;
			const cutoff = Date.now() - 3600e3;
			const total = 100_000;
			let started = performance.now();
			await query('BEGIN');
			await query(
				`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
				INSERT INTO keyv (key, value)
				SELECT 'requests-cache:bulk-' || printf('%06d', i),
					json_set(?, '$.value.url', ? || i, '$.value.createdAt', CASE WHEN i % 3 = 0 THEN ? - 1000 ELSE ? + 1000 END,
						'$.value.expires', CASE WHEN i % 5 = 0 THEN ? ELSE NULL END)
				FROM n`,
				total, template, `${origin.url}/bulk?i=`, cutoff, cutoff, cutoff,
			);
			await query('COMMIT');
			const fillMs = performance.now() - started;
			assert.equal(scalar(await query('SELECT count(*) FROM keyv')), total + 1);

			const old = Math.ceil(total / 3);
			started = performance.now();
			const removed = await session.cache.removeOldEntries(new Date(cutoff));
			const removeMs = performance.now() - started;
			console.log(`      removeOldEntries on ${total.toLocaleString('en')} SQLite entries: ${removeMs.toFixed(0)} ms (fill ${fillMs.toFixed(0)} ms)`);
			assert.equal(removed, old);
			assert.equal(scalar(await query(`SELECT count(*) FROM keyv WHERE key LIKE 'requests-cache:bulk-%' AND CAST(substr(key, 21) AS INTEGER) % 3 = 0`)), 0, 'every old row went');
			assert.equal(scalar(await query(`SELECT count(*) FROM keyv WHERE key LIKE 'requests-cache:bulk-%' AND CAST(substr(key, 21) AS INTEGER) % 3 != 0`)), total - old, 'every new row stayed');
			assert.equal(removeMs < 20_000, true, `removeOldEntries took ${removeMs} ms`);

			// The keyset-paged scan sees every remaining row exactly once.
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
		const garbage: Array<[string, string]> = [
			['text that is not JSON', 'garbage{'],
			['an empty string', ''],
			['JSON null', 'null'],
			['a JSON string', '"just a string"'],
			['JSON without a value', '{"something":1}'],
			['a value that is not an entry', '{"value":5}'],
			['an entry missing its fields', '{"value":{"kind":"response"}}'],
			['an entry whose body is not base64 text', '{"value":{"kind":"response","v":1,"status":200,"headers":{},"request":{},"url":"x","createdAt":1,"expires":null,"body":5}}'],
		];

		for (const strictBackend of [false, true]) {
			for (const [what, value] of garbage) {
				it(`reads ${what} as a miss and replaces it${strictBackend ? ' (strictBackend too)' : ''}`, async () => {
					const session = new CachedSession({cacheName: path.join(dir, `corrupt-${String(strictBackend)}`), strictBackend});
					const errors: Error[] = [];
					session.cache.on('error', error => errors.push(error));
					const url = `${origin.url}/json?corrupt=${encodeURIComponent(what)}`;
					const first = await session.get(url);
					await sql(session)('UPDATE keyv SET value = ? WHERE key = ?', value, `requests-cache:${first.cacheKey}`);
					const before = origin.hits('/json');
					const miss = await session.get(url);
					assert.equal(miss.fromCache, false);
					assert.equal(origin.hits('/json'), before + 1);
					const hit = await session.get(url);
					assert.equal(hit.fromCache, true, 'the corrupt row was replaced');
					assert.deepEqual(hit.json(), miss.json());
					assert.deepEqual(errors, [], 'corrupt data is not a store failure');
					await session.close();
				});
			}
		}

		it('keeps maintenance working around corrupt rows, and sweeps them as expired', async () => {
			const session = new CachedSession({cacheName: path.join(dir, 'corrupt-maintenance')});
			const good = await session.get(`${origin.url}/json?maintenance=good`);
			const bad = await session.get(`${origin.url}/json?maintenance=bad`);
			await sql(session)('UPDATE keyv SET value = ? WHERE key = ?', 'garbage{', `requests-cache:${bad.cacheKey}`);
			await session.get(`${origin.url}/json?maintenance=other`);
			await sql(session)('UPDATE keyv SET value = ? WHERE key = ?', '{"value":{"kind":"response"}}', `requests-cache:${(await session.get(`${origin.url}/json?maintenance=other`)).cacheKey}`);
			assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?maintenance=good`]);
			assert.equal(await session.cache.count(), 1, 'corrupt rows are not counted as responses');
			assert.equal(await session.cache.removeExpiredResponses(), 2, 'corrupt rows read as expired');
			assert.equal(scalar(await sql(session)('SELECT count(*) FROM keyv')), 1);
			assert.equal(await session.cache.count(), 1);
			const responses = [];
			for await (const response of session.cache.responses()) {
				responses.push(response.url);
			}

			assert.deepEqual(responses, [good.url]);
			await sql(session)('UPDATE keyv SET value = ? WHERE key = ?', 'garbage{', `requests-cache:${good.cacheKey}`);
			assert.equal(await session.cache.contains(good.cacheKey), false);
			assert.equal(await session.cache.removeOldEntries(new Date()), 0, 'contains() dropped the corrupt row it read');
			await session.close();
		});
	});
});
