import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import path from 'node:path';
import KeyvMysql from '@keyv/mysql';
import KeyvPostgres from '@keyv/postgres';
import {CachedSession} from '../../lib/cached-session.js';
import {storeOf} from '../../lib/cache/base-cache.js';
import {type CachedEntry, toRecord} from '../../lib/codec/entry.js';
import type {CacheOptions} from '../../lib/config/options.js';
import {FakeClock} from '../support/clock.js';
import {Origin} from '../support/origin.js';
import {
	mongoUrl, mysqlExecute, mysqlUrl, postgresExecute, postgresUrl, redisProblem, redisUrl, skipOrFail, tcpProblem,
} from '../support/services.js';
import {redisCluster} from '../support/redis-cluster.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

/**
 * One backend under test: how to reach it, and how to open a cache on it. The same cases run
 * against each (see {@link conformance}); each backend's spec file is one call.
 */
export type BackendTarget = {
	readonly name: string;
	/** True when a new session on the same options sees the first one's entries. */
	readonly persistent: boolean;
	/** Entries for the scale case. */
	scale(): number;
	/** Get ready; resolves to why the backend cannot be tested here, or undefined. */
	prepare(): Promise<string | undefined>;
	/** A cache name for `label`, valid for this backend and unique to this run. */
	namespace(label: string): string;
	/** Session options for a cache named `cacheName`. */
	options(cacheName: string): CacheOptions;
	/** Release what prepare() made. */
	teardown?(): Promise<void>;
	/**
	 * The largest body the backend is expected to hold, when under 10 MB: @keyv/mysql sends a value
	 * twice in one packet, so MariaDB's default max_allowed_packet caps bodies (docs/backends.md).
	 */
	readonly largeBody?: number;
};

const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const scaleEntries = Number(process.env['REQUESTS_CACHE_SCALE'] ?? 100_000);

/** Measured scale figures, printed by each suite and collected here for the docs. */
export const scaleFigures: Array<{backend: string; entries: number; fillMs: number; removeMs: number; urlsMs: number}> = [];

function entry(url: string, createdAt: number, expires: number | null, body: Buffer): CachedEntry {
	return {
		kind: 'response', status: 200, reason: 'OK', headers: {'content-type': 'application/json'}, url, history: [],
		request: {method: 'GET', url, headers: {}, body: null}, createdAt, expires, facts: {age: 0, mustRevalidate: false, noCache: false}, body,
	};
}

/** Run the backend conformance cases against `target`. */
export function conformance(target: BackendTarget): void {
	describe(`backend conformance: ${target.name}`, function () {
		this.timeout(180_000);
		let origin: Origin;
		const sessions: CachedSession[] = [];
		const clock = new FakeClock();

		function open(cacheName: string, extra: CacheOptions = {}): CachedSession {
			const session = new CachedSession({clock: clock.read, ...target.options(cacheName), ...extra});
			sessions.push(session);
			return session;
		}

		/** A GET that must be served from the cache: fromCache, and the origin saw nothing. */
		async function cachedGet(session: CachedSession, url: string): Promise<Buffer> {
			const before = origin.hits();
			const response = await session.get(url);
			assert.equal(response.fromCache, true, `${url} should come from the cache`);
			assert.equal(origin.hits(), before, `${url} should not reach the origin`);
			return response.body;
		}

		before(async function () {
			const problem = await target.prepare();
			if (problem !== undefined) {
				skipOrFail(this, `the ${target.name} backend conformance suite`, problem);
			}

			origin = await Origin.start();
			origin.route(new URL('http://x/ünicödé/日本').pathname, (_request, response) => {
				response.writeHead(200, {'content-type': 'text/plain; charset=utf-8'}).end('ünicödé 日本');
			});
		});

		after(async () => {
			for (const session of sessions) {
				// Nothing is left behind on a shared server.
				// eslint-disable-next-line no-await-in-loop -- one at a time, so shared pools close in order
				await session.cache.clear().catch(() => undefined);
				// eslint-disable-next-line no-await-in-loop
				await session.close().catch(() => undefined);
			}

			await origin?.close();
			await target.teardown?.();
		});

		it('stores a response and serves it from the cache', async () => {
			const session = open(target.namespace('basic'));
			const url = `${origin.url}/json?basic=1`;
			const first = await session.get(url);
			assert.equal(first.fromCache, false);
			assert.equal(origin.hits('/json'), 1);
			const body = await cachedGet(session, url);
			assert.deepEqual(JSON.parse(body.toString()), JSON.parse(first.body.toString()));
			assert.equal(await session.cache.count(), 1);
			assert.equal(await session.cache.contains({url}), true);
		});

		it(target.persistent
			? 'serves a new session (another instance) what the first one stored'
			: 'keeps each session\'s entries to itself (an in-process store is not shared)', async () => {
			if (!target.persistent) {
				const url = `${origin.url}/json?private=1`;
				await open(target.namespace('private')).get(url);
				const other = open(target.namespace('private'));
				assert.equal(await other.cache.count(), 0);
				assert.equal((await other.get(url)).fromCache, false);
				return;
			}

			const cacheName = target.namespace('shared');
			const url = `${origin.url}/json?shared=1`;
			const first = open(cacheName);
			await first.get(url);
			const second = open(cacheName);
			await cachedGet(second, url);
			assert.deepEqual(await second.cache.urls(), [url]);
		});

		it('caches a redirected request and its final URL', async () => {
			const session = open(target.namespace('redirect'));
			const url = `${origin.url}/redirect/1?to=/json%3Fredirected%3D1`;
			const first = await session.get(url);
			assert.equal(first.fromCache, false);
			assert.match(first.url, /\/json\?redirected=1$/);
			const body = await cachedGet(session, url);
			assert.deepEqual(body, first.body);
			await cachedGet(session, `${origin.url}/json?redirected=1`);
			assert.equal(await session.cache.count(), 1, 'one response; redirect aliases are not counted');
			assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?redirected=1`]);
		});

		it('removeOldEntries() deletes exactly the entries created before the date', async () => {
			const session = open(target.namespace('old'));
			const start = clock.now;
			await session.get(`${origin.url}/json?old=1`);
			await session.get(`${origin.url}/json?old=2`);
			clock.advance(60);
			await session.get(`${origin.url}/json?new=1`);
			assert.equal(await session.cache.removeOldEntries(new Date(start + 30_000)), 2);
			assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?new=1`]);
			await cachedGet(session, `${origin.url}/json?new=1`);
			const again = await session.get(`${origin.url}/json?old=1`);
			assert.equal(again.fromCache, false);
		});

		it('removeExpiredResponses() deletes the expired responses and keeps the rest', async () => {
			const session = open(target.namespace('expired'), {expireAfter: 60});
			await session.get(`${origin.url}/json?short=1`);
			await session.get(`${origin.url}/json?short=2`);
			await session.get(`${origin.url}/json?long=1`, {expireAfter: 3600});
			await session.get(`${origin.url}/json?never=1`, {expireAfter: -1});
			clock.advance(120);
			assert.equal(await session.cache.removeExpiredResponses(), 2);
			assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?long=1`, `${origin.url}/json?never=1`]);
			assert.equal(await session.cache.count(), 2);
		});

		it('delete() by urls, by expired and by olderThan', async () => {
			const session = open(target.namespace('delete'), {expireAfter: 60});
			const url = (name: string): string => `${origin.url}/json?delete=${name}`;
			await session.get(url('a'));
			await session.get(url('b'));
			await session.get(url('c'), {expireAfter: -1});
			assert.equal(await session.cache.delete({urls: [url('a')]}), 1);
			assert.deepEqual(await session.cache.urls(), [url('b'), url('c')]);
			clock.advance(120);
			await session.get(url('d'), {expireAfter: -1});
			assert.equal(await session.cache.delete({expired: true}), 1, 'b has expired');
			assert.deepEqual(await session.cache.urls(), [url('c'), url('d')]);
			assert.equal(await session.cache.delete({olderThan: 60}), 1, 'c is 120 s old, d is new');
			assert.deepEqual(await session.cache.urls(), [url('d')]);
			assert.equal(await session.cache.delete({urls: [url('nothing')]}), 0);
		});

		it('urls() and count() list exactly what is stored', async () => {
			const session = open(target.namespace('list'));
			const expected: string[] = [];
			for (let index = 0; index < 12; index++) {
				const url = `${origin.url}/json?list=${String(index).padStart(2, '0')}`;
				expected.push(url);
				// eslint-disable-next-line no-await-in-loop
				await session.get(url);
			}

			assert.deepEqual(await session.cache.urls(), expected);
			assert.equal(await session.cache.count(), 12);
		});

		it('clear() empties this cache only: other caches on the same server survive', async () => {
			// Each other name would match the cleared one's prefix as an unescaped LIKE ('_' '%') or glob ('*' '?') pattern.
			const names = ['c_%*?', 'cX%*?', 'c_%YZ', 'cXYZ*?'].map(label => target.namespace(label));
			const cleared = open(names[0]!);
			const others = names.slice(1).map(name => open(name));
			await cleared.get(`${origin.url}/json?clear=0`);
			for (const [index, other] of others.entries()) {
				// eslint-disable-next-line no-await-in-loop
				await other.get(`${origin.url}/json?clear=${index + 1}`);
			}

			await cleared.cache.clear();
			assert.equal(await cleared.cache.count(), 0);
			for (const [index, other] of others.entries()) {
				// eslint-disable-next-line no-await-in-loop
				assert.deepEqual(await other.cache.urls(), [`${origin.url}/json?clear=${index + 1}`], `cache ${names[index + 1]} survives`);
				// eslint-disable-next-line no-await-in-loop
				await cachedGet(other, `${origin.url}/json?clear=${index + 1}`);
			}
		});

		it('closing one session leaves another on the same server working', async () => {
			const closing = open(target.namespace('close-a'));
			const staying = open(target.namespace('close-b'));
			await closing.get(`${origin.url}/json?close=a`);
			await staying.get(`${origin.url}/json?close=b`);
			await closing.close();
			await cachedGet(staying, `${origin.url}/json?close=b`);
			await staying.get(`${origin.url}/json?close=c`);
			await cachedGet(staying, `${origin.url}/json?close=c`);
			assert.equal(await staying.cache.count(), 2);
		});

		it('keeps binary bodies byte-exact', async () => {
			const cacheName = target.namespace('binary');
			const session = open(cacheName);
			const url = `${origin.url}/bytes?n=4096`;
			const first = await session.get(url);
			const expected = Buffer.from(Array.from({length: 4096}, (_value, index) => (index * 7 + 3) % 256));
			assert.deepEqual(first.body, expected);
			assert.deepEqual(await cachedGet(session, url), expected);
			if (target.persistent) {
				assert.deepEqual(await cachedGet(open(cacheName), url), expected);
			}
		});

		it(`stores a ${((target.largeBody ?? 10 * 1024 * 1024) / 1024 / 1024).toFixed(0)} MB body`, async () => {
			const cacheName = target.namespace('large');
			// What is checked is that the body is kept: a write of megabytes to a database on a busy machine may outlast the default second.
			const session = open(cacheName, {backendTimeout: 30_000});
			const size = target.largeBody ?? 10 * 1024 * 1024;
			const url = `${origin.url}/bytes?n=${size}`;
			const first = await session.get(url);
			assert.equal(first.body.length, size);
			const cached = await cachedGet(session, url);
			assert.equal(Buffer.compare(cached, first.body), 0);
			if (target.persistent) {
				assert.equal(Buffer.compare(await cachedGet(open(cacheName, {backendTimeout: 30_000}), url), first.body), 0);
			}
		});

		it('handles unicode URLs', async () => {
			const session = open(target.namespace('unicode'));
			const pathUrl = `${origin.url}/ünicödé/日本`;
			const queryUrl = `${origin.url}/json?q=日本語&ü=ß`;
			const first = await session.get(pathUrl);
			assert.equal(first.body.toString(), 'ünicödé 日本');
			await session.get(queryUrl);
			assert.equal((await cachedGet(session, pathUrl)).toString(), 'ünicödé 日本');
			await cachedGet(session, queryUrl);
			assert.deepEqual(await session.cache.urls(), [new URL(queryUrl).href, new URL(pathUrl).href].sort());
			assert.equal(await session.cache.delete({urls: [pathUrl]}), 1);
			assert.deepEqual(await session.cache.urls(), [new URL(queryUrl).href]);
		});

		it('handles keys with : % _ in them, matching each only exactly', async () => {
			const keyFn = (request: {url: string}): string => `key:%_${new URL(request.url).searchParams.get('k') ?? ''}`;
			const session = open(target.namespace('keys'), {keyFn});
			for (const k of ['1', '2', '%', '_']) {
				// eslint-disable-next-line no-await-in-loop
				await session.get(`${origin.url}/json?k=${encodeURIComponent(k)}`);
			}

			assert.equal(await session.cache.contains('key:%_1'), true);
			assert.equal(await session.cache.contains('key:%__'), true);
			assert.equal(await session.cache.contains('key:%_x'), false);
			assert.equal(await session.cache.delete({keys: ['key:%_%']}), 1, 'only the key that is literally key:%_%');
			assert.equal(await session.cache.delete({keys: ['key:__1', 'key%']}), 0);
			assert.equal(await session.cache.count(), 3);
			await cachedGet(session, `${origin.url}/json?k=1`);
			await cachedGet(session, `${origin.url}/json?k=_`);
		});

		it('at scale: removeOldEntries() and urls() are exact over many entries', async function () {
			const total = target.scale();
			const session = open(target.namespace('scale'));
			const store = storeOf(session.cache);
			const now = clock.now;
			const old = now - 3_600_000;
			let started = performance.now();
			const body = Buffer.from('{"scale":true}');
			for (let index = 0; index < total; index += 5000) {
				const records = [];
				for (let i = index; i < Math.min(total, index + 5000); i++) {
					const url = `http://scale.test/item/${String(i).padStart(6, '0')}`;
					// Every third entry is old.
					const value = entry(url, i % 3 === 0 ? old : now, null, body);
					records.push(toRecord(`scale-${i}`, value, null));
				}

				// eslint-disable-next-line no-await-in-loop -- bounded batches
				await store.set(records);
			}

			const fillMs = performance.now() - started;
			const oldCount = Math.ceil(total / 3);
			started = performance.now();
			const removed = await session.cache.removeOldEntries(new Date(now - 1000));
			const removeMs = performance.now() - started;
			started = performance.now();
			const urls = await session.cache.urls();
			const urlsMs = performance.now() - started;
			scaleFigures.push({backend: target.name, entries: total, fillMs, removeMs, urlsMs});
			console.log(`      ${target.name}: ${total.toLocaleString('en')} entries: removeOldEntries ${removeMs.toFixed(0)} ms, urls() ${urlsMs.toFixed(0)} ms (fill ${fillMs.toFixed(0)} ms)`);
			assert.equal(removed, oldCount);
			assert.equal(urls.length, total - oldCount);
			for (let i = 0; i < total; i++) {
				const url = `http://scale.test/item/${String(i).padStart(6, '0')}`;
				if (i % 3 !== 0 && urls[i - Math.floor(i / 3) - 1] !== url) {
					assert.fail(`urls() is missing or misplaces ${url}`);
				}
			}

			assert.equal(await session.cache.count(), total - oldCount);
			await session.cache.clear();
			assert.equal(await session.cache.count(), 0);
		});
	});
}

/** Names with the characters the conformance cases use, made safe for a backend. */
function namer(base: string, sanitize: (name: string) => string = name => name): (label: string) => string {
	return label => sanitize(`${base}${run}-${label}`);
}

/** The in-memory backend (not persistent: each session has its own map). */
export const memoryTarget: BackendTarget = {
	name: 'memory',
	persistent: false,
	scale: () => scaleEntries,
	prepare: async () => undefined,
	namespace: namer('rc-'),
	options: cacheName => ({backend: 'memory', cacheName}),
};

let sqliteDir = '';
/** The SQLite backend, one file per cache name under .tmp/. */
export const sqliteTarget: BackendTarget = {
	name: 'sqlite',
	persistent: true,
	scale: () => scaleEntries,
	async prepare() {
		sqliteDir = tempDir('conformance-sqlite');
		return undefined;
	},
	namespace: namer('rc-', name => path.join(sqliteDir, name.replaceAll('%', 'pct'))),
	options: cacheName => ({backend: 'sqlite', cacheName}),
	async teardown() {
		removeDir(sqliteDir);
	},
};

/** The Redis backend on the Redis server of the machine (REDIS_URL). */
export const redisTarget: BackendTarget = {
	name: 'redis',
	persistent: true,
	scale: () => scaleEntries,
	prepare: async () => redisProblem(),
	namespace: namer('rc:conformance-'),
	options: cacheName => ({backend: 'redis', url: redisUrl, cacheName}),
};

let clusterUrls: string[] = [];
/** The Redis store on a cluster of three masters (spec/support/redis-cluster.ts). */
export const redisClusterTarget: BackendTarget = {
	name: 'redis cluster',
	persistent: true,
	scale: () => scaleEntries,
	async prepare() {
		const cluster = await redisCluster();
		clusterUrls = cluster.problem === undefined ? cluster.urls : [];
		return cluster.problem;
	},
	namespace: namer('rc:conformance-'),
	options: cacheName => ({backend: 'redis', url: clusterUrls, cacheName}),
};

let mongo: {url: string; emulator: boolean} | undefined;
/**
 * The MongoDB backend: on `MONGODB_URL`, or on the jongodb emulator. The emulator inserts in
 * time proportional to the collection's size (quadratic fills), so its scale case uses 10,000
 * entries unless REQUESTS_CACHE_SCALE says otherwise.
 */
export const mongoTarget: BackendTarget = {
	name: 'mongodb',
	persistent: true,
	scale() {
		if (mongo?.emulator && process.env['REQUESTS_CACHE_SCALE'] === undefined) {
			console.log('      (jongodb emulator: 10,000 entries; set MONGODB_URL for a real server and the full 100,000)');
			return 10_000;
		}

		return scaleEntries;
	},
	async prepare() {
		try {
			mongo = await mongoUrl();
			return undefined;
		} catch (error) {
			return `no MongoDB: ${(error as Error).message}`;
		}
	},
	namespace: namer('rc_', name => name.replaceAll(/[/\\. "$*<>:|?]/g, '_').replaceAll('%', 'P')),
	options: cacheName => ({backend: 'mongodb', url: mongo!.url, cacheName}),
};

const postgresTable = `requests_cache_conformance_${run}`;
/** PostgreSQL through a @keyv/postgres adapter given as `backend`. */
export const postgresTarget: BackendTarget = {
	name: 'postgres (@keyv/postgres adapter)',
	persistent: true,
	scale: () => scaleEntries,
	async prepare() {
		const problem = await tcpProblem(postgresUrl, 5432);
		if (problem !== undefined) {
			return problem;
		}

		try {
			await postgresExecute(postgresUrl, `CREATE TABLE IF NOT EXISTS ${postgresTable} (key VARCHAR(255) PRIMARY KEY, value TEXT)`);
			return undefined;
		} catch (error) {
			return `PostgreSQL at ${postgresUrl} refused: ${(error as Error).message}`;
		}
	},
	namespace: namer('rc-'),
	options: cacheName => ({backend: new KeyvPostgres({uri: postgresUrl, table: postgresTable, iterationLimit: 1000}), cacheName}),
	async teardown() {
		await postgresExecute(postgresUrl, `DROP TABLE IF EXISTS ${postgresTable}`).catch(() => undefined);
	},
};

const mysqlTable = `requests_cache_conformance_${run}`;
/** MariaDB (or MySQL) through a @keyv/mysql adapter given as `backend`, on a table made as docs/backends.md says. */
export const mysqlTarget: BackendTarget = {
	name: 'mariadb (@keyv/mysql adapter)',
	persistent: true,
	scale: () => scaleEntries,
	async prepare() {
		const problem = await tcpProblem(mysqlUrl, 3306);
		if (problem !== undefined) {
			return problem;
		}

		try {
			await mysqlExecute(mysqlUrl, `CREATE TABLE IF NOT EXISTS ${mysqlTable} (id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY, value LONGTEXT)`);
			return undefined;
		} catch (error) {
			return `MariaDB at ${mysqlUrl} refused: ${(error as Error).message}`;
		}
	},
	namespace: namer('rc-'),
	options: cacheName => ({backend: new KeyvMysql({uri: mysqlUrl, table: mysqlTable, iterationLimit: 1000}), cacheName}),
	largeBody: 4 * 1024 * 1024,
	async teardown() {
		await mysqlExecute(mysqlUrl, `DROP TABLE IF EXISTS ${mysqlTable}`).catch(() => undefined);
	},
};
