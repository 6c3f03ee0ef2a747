import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {execFile} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {writeFileSync} from 'node:fs';
import {BackendError, CachedSession} from '../../lib/index.js';
import {storeOf} from '../../lib/cache/base-cache.js';
import {createClient} from '@redis/client';
import {createRedisStore} from '../../lib/backends/redis.js';
import type {StoreRecord} from '../../lib/backends/store.js';
import {type Writer, flush, handed, queued, writeBehind} from '../../lib/cache/write-behind.js';
import {Origin} from '../support/origin.js';
import {redisProblem, redisUrl, skipOrFail} from '../support/services.js';
import {settled} from '../support/settled.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Writes behind the request (lib/cache/write-behind.ts): a miss returns before the store has its
 * response, and yet nothing in the process can tell, nothing is lost, and nothing is reordered.
 */
describe('writes behind the request', function () {
	this.timeout(30_000);
	let origin: Origin;
	let dir: string;
	const sessions: CachedSession[] = [];

	function open(options: ConstructorParameters<typeof CachedSession>[0]): CachedSession {
		const session = new CachedSession({expireAfter: 3600, ...options});
		sessions.push(session);
		return session;
	}

	before(async () => {
		origin = await Origin.start();
		dir = tempDir('write-behind');
	});

	afterEach(async () => {
		await Promise.all(sessions.splice(0).map(async session => session.close()));
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	describe('the queue of one location', () => {
		/** A writer whose writes land only when the spec says. */
		function heldWriter(ordered: boolean): Writer & {calls: string[][]; land(): void} {
			const pending: Array<() => void> = [];
			const calls: string[][] = [];
			return {
				synchronous: false,
				ordered,
				calls,
				async write(records) {
					calls.push(records.map(record => record.key));
					return new Promise<void>(resolve => {
						pending.push(resolve);
					});
				},
				abandoned() {},
				land() {
					pending.shift()?.();
				},
			};
		}

		const record = (key: string): StoreRecord => ({key, kind: 'response', url: '', createdAt: 0, expires: null, deleteAt: null, value: Buffer.from(key)});
		let location = 0;

		it('hands an ordered store its next write before the previous one is answered, and keeps each record visible until its own lands', async () => {
			const at = `spec-ordered-${location++}`;
			const writer = heldWriter(true);
			writeBehind(at, writer, [record('a')]);
			await handed(at);
			writeBehind(at, writer, [record('b')]);
			await handed(at);
			assert.deepEqual(writer.calls, [['a'], ['b']], 'the second write went out while the first was unanswered');
			assert.notEqual(queued(at, 'a'), undefined);
			writer.land();
			const flushed = await Promise.race([flush(at).then(() => true), new Promise<false>(resolve => {
				setTimeout(resolve, 20, false);
			})]);
			assert.equal(flushed, false, 'flush waits for every write queued before it');
			assert.equal(queued(at, 'a'), undefined, 'a landed');
			assert.notEqual(queued(at, 'b'), undefined, 'b is still on its way');
			writer.land();
			await flush(at);
			assert.equal(queued(at, 'b'), undefined);
		});

		it('hands a network store its queued write as soon as a flight\'s leader asks, a synchronous store (SQLite) only after the turn', async () => {
			const network = heldWriter(true);
			const at = `spec-kick-${location++}`;
			writeBehind(at, network, [record('a')]);
			const networkHanded = handed(at);
			assert.deepEqual(network.calls, [['a']], 'handed in the same turn');
			await networkHanded;
			network.land();
			await flush(at);

			const local = {...heldWriter(true), synchronous: true};
			const atLocal = `spec-kick-${location++}`;
			writeBehind(atLocal, local, [record('b')]);
			const localHanded = handed(atLocal);
			assert.deepEqual(local.calls, [], 'the caller\'s code runs before a synchronous write');
			await localHanded;
			assert.deepEqual(local.calls, [['b']]);
			local.land();
			await flush(atLocal);
		});

		it('waits for the previous answer before handing the next write to a store that is not ordered, or to another writer', async () => {
			for (const [first, second] of [[heldWriter(false), undefined], [heldWriter(true), heldWriter(true)]] as const) {
				const at = `spec-unordered-${location++}`;
				const other = second ?? first;
				writeBehind(at, first, [record('a')]);
				// eslint-disable-next-line no-await-in-loop
				await handed(at);
				writeBehind(at, other, [record('b')]);
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => {
					setTimeout(resolve, 20);
				});
				assert.deepEqual([...first.calls, ...(second?.calls ?? [])], [['a']], 'b waits for a\'s answer');
				first.land();
				// eslint-disable-next-line no-await-in-loop
				await handed(at);
				assert.deepEqual([...first.calls, ...(second?.calls ?? [])], [['a'], ['b']]);
				other.land();
				// eslint-disable-next-line no-await-in-loop
				await flush(at);
			}
		});
	});

	describe('on SQLite', () => {
		it('returns a miss before the file has it; the session, a second session on the file and maintenance see it at once', async () => {
			const cacheName = path.join(dir, 'shared');
			const a = open({cacheName});
			const b = open({cacheName});
			const url = `${origin.url}/json?wb=shared`;
			const first = await a.get(url);
			assert.equal(first.fromCache, false);
			assert.equal(await storeOf(a.cache).get(first.cacheKey), undefined, 'the write is still queued');
			const before = origin.hits('/json');
			assert.equal((await a.get(url)).fromCache, true, 'the same session');
			assert.equal((await b.get(url)).fromCache, true, 'another session on the same file');
			assert.equal(origin.hits('/json'), before, 'neither reached the origin');
			assert.equal(await b.cache.contains({url}), true, 'maintenance waits for the queue');
			assert.notEqual(await storeOf(a.cache).get(first.cacheKey), undefined, 'and then the file has it');
		});

		it('lands the last of two writes of one key last', async () => {
			const session = open({cacheName: path.join(dir, 'order')});
			const url = `${origin.url}/json?wb=order`;
			await session.get(url);
			const second = await session.get(url, {forceRefresh: true});
			await settled(session);
			const reopened = open({cacheName: path.join(dir, 'order')});
			assert.deepEqual((await reopened.get(url)).json(), second.json());
		});

		it('deletes what an unsafe request invalidates, even while its write is queued', async () => {
			const session = open({cacheName: path.join(dir, 'invalidate')});
			const url = `${origin.url}/item?wb=invalidate`;
			await session.get(url);
			await session.post(url);
			await settled(session);
			assert.equal(await session.cache.contains({url}), false);
			const before = origin.hits('/item');
			assert.equal((await session.get(url)).fromCache, false);
			assert.equal(origin.hits('/item'), before + 1);
		});

		it('has written everything once close() resolves', async () => {
			const cacheName = path.join(dir, 'close');
			const session = new CachedSession({cacheName, expireAfter: 3600});
			const urls = Array.from({length: 20}, (_, index) => `${origin.url}/json?wb=close-${index}`);
			await Promise.all(urls.map(async url => session.get(url)));
			await session.close();
			const reopened = open({cacheName});
			assert.equal(await reopened.cache.count(), 20);
		});

		it('loses no write when the program calls process.exit() right after a miss', async () => {
			const cacheName = path.join(dir, 'exit');
			const script = path.join(dir, 'exit.ts');
			writeFileSync(script, `
import {CachedSession} from ${JSON.stringify(path.join(repoRoot, 'lib', 'index.ts'))};
const session = new CachedSession({cacheName: process.argv[2], expireAfter: 3600});
const response = await session.get(process.argv[3]);
console.log(response.fromCache);
process.exit(0);
`);
			const url = `${origin.url}/json?wb=exit`;
			const {stdout} = await run(process.execPath, ['--import', 'tsx', script, cacheName, url], {cwd: repoRoot});
			assert.equal(stdout.trim(), 'false');
			const session = open({cacheName});
			const before = origin.hits('/json');
			assert.equal((await session.get(url)).fromCache, true, 'written in the exit handler');
			assert.equal(origin.hits('/json'), before);
		});

		it('awaits the write with strictBackend (its failure is the caller\'s)', async () => {
			const session = open({cacheName: path.join(dir, 'strict'), strictBackend: true});
			const response = await session.get(`${origin.url}/json?wb=strict`);
			assert.notEqual(await storeOf(session.cache).get(response.cacheKey), undefined);
		});

		it('lets a strict session on the same file read the queued write, and land its own write after it', async () => {
			const cacheName = path.join(dir, 'mixed');
			const behind = open({cacheName});
			const strict = open({cacheName, strictBackend: true});
			const url = `${origin.url}/json?wb=mixed`;
			await behind.get(url);
			const before = origin.hits('/json');
			assert.equal((await strict.get(url)).fromCache, true, 'read from the queue');
			assert.equal(origin.hits('/json'), before);
			const newer = await strict.get(url, {forceRefresh: true});
			assert.equal(await storeOf(strict.cache).get(newer.cacheKey).then(record => record?.createdAt), newer.createdAt.getTime(), 'the strict write is in the file, after the queued one');
			await settled(behind);
			const reopened = open({cacheName});
			assert.deepEqual((await reopened.get(url)).json(), newer.json(), 'and the older queued write did not land over it');
		});

		it('awaits the write on a budgeted store (it evicts when it writes)', async () => {
			const session = open({cacheName: path.join(dir, 'budget'), maxEntries: 10});
			const response = await session.get(`${origin.url}/json?wb=budget`);
			assert.notEqual(await storeOf(session.cache).get(response.cacheKey), undefined);
		});

		it('reports a write that fails behind the request as an error event, and the response is the caller\'s all the same', async () => {
			const errors: Error[] = [];
			const session = open({cacheName: path.join(dir, 'fails'), onError: error => errors.push(error)});
			const store = storeOf(session.cache);
			const warm = await session.get(`${origin.url}/json?wb=warm`);
			assert.equal(warm.status, 200);
			await settled(session);
			// The store answered a moment ago, so the next write goes behind; then it fails.
			const set = store.set.bind(store);
			store.set = async () => {
				throw new Error('disk full');
			};

			try {
				const response = await session.get(`${origin.url}/json?wb=fails`);
				assert.equal(response.status, 200);
				assert.equal(response.fromCache, false);
				assert.equal(errors.length, 0, 'not reported yet: the write is behind');
				await settled(session);
				assert.equal(errors.length, 1);
				assert.ok(errors[0] instanceof BackendError);
				assert.match(errors[0].message, /disk full/);
				const before = origin.hits('/json');
				assert.equal((await session.get(`${origin.url}/json?wb=fails`)).fromCache, false, 'nothing is served from a write that failed');
				assert.equal(origin.hits('/json'), before + 1);
			} finally {
				store.set = set;
			}
		});
	});

	describe('on Redis', () => {
		before(async function () {
			const problem = await redisProblem();
			if (problem !== undefined) {
				skipOrFail(this, 'the Redis write-behind specs', problem);
			}
		});

		it('ends a flight behind the write on the same connection: a waiter that hears of it reads the entry, though the release went out before the write was answered', async () => {
			const namespace = `rc-wb-release-${process.pid}`;
			const leader = createRedisStore({url: redisUrl, namespace});
			const reader = createRedisStore({url: redisUrl, namespace});
			const admin = createClient({url: redisUrl});
			await admin.connect();
			try {
				const lease = leader.lease!;
				assert.equal(await lease.acquire('flight', 'token', 5000), true);
				const heard = new Promise<StoreRecord | undefined>((resolve, reject) => {
					void reader.lease!.watch('flight', () => {
						reader.get('entry').then(resolve, reject);
					});
				});
				await reader.lease!.state('flight');
				// Writes wait at the server: neither the write nor the release is answered before both are sent.
				await admin.sendCommand(['CLIENT', 'PAUSE', '300', 'WRITE']);
				const value = Buffer.from('the entry');
				const written = leader.set([{key: 'entry', kind: 'response', url: '', createdAt: Date.now(), expires: null, deleteAt: null, value}]);
				const released = lease.release('flight', 'token', 'done');
				const seen = await heard;
				assert.notEqual(seen, undefined, 'the entry was there when the news came');
				assert.deepEqual(Buffer.from(seen!.value), value);
				await Promise.all([written, released]);
			} finally {
				await leader.clear();
				await Promise.all([leader.close(), reader.close()]);
				admin.destroy();
			}
		});

		it('serves a second session at once, and the server has the write once the cache is settled', async () => {
			const cacheName = `rc-write-behind-${process.pid}`;
			const a = open({backend: 'redis', url: redisUrl, cacheName});
			const b = open({backend: 'redis', url: redisUrl, cacheName});
			try {
				const url = `${origin.url}/json?wb=redis`;
				const first = await a.get(url);
				const before = origin.hits('/json');
				assert.equal((await b.get(url)).fromCache, true);
				assert.equal(origin.hits('/json'), before);
				await settled(a);
				assert.notEqual(await storeOf(b.cache).get(first.cacheKey), undefined);
			} finally {
				await a.cache.clear();
			}
		});

		it('serves each hit a body of its own (no copy is made of a fresh record, none is shared)', async () => {
			const cacheName = `rc-write-behind-body-${process.pid}`;
			const session = open({backend: 'redis', url: redisUrl, cacheName});
			try {
				const url = `${origin.url}/json?wb=redis-body`;
				const original = (await session.get(url)).text();
				await settled(session);
				const hit = await session.get(url);
				assert.equal(hit.fromCache, true);
				hit.body.fill(0x20);
				const next = await session.get(url);
				assert.equal(next.fromCache, true);
				assert.equal(next.text(), original);
			} finally {
				await session.cache.clear();
			}
		});
	});
});
