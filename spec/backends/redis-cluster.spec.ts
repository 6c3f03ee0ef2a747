import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {randomUUID} from 'node:crypto';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {createClient} from '@redis/client';
import type {TierCounters} from '../../lib/backends/memory-tier.js';
import {createRedisStore} from '../../lib/backends/redis.js';
import type {RecordMeta} from '../../lib/backends/store.js';
import {storeOf} from '../../lib/cache/base-cache.js';
import {CachedSession} from '../../lib/index.js';
import {runCli} from '../cli/run-cli.js';
import {Origin} from '../support/origin.js';
import {redisCluster} from '../support/redis-cluster.js';
import {skipOrFail} from '../support/services.js';

const childScript = fileURLToPath(new URL('../support/cluster-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const sleep = async (ms: number): Promise<void> => new Promise(resolve => {
	setTimeout(resolve, ms);
});

/** One node's answer to a command, on a connection of its own. */
async function onNode<T>(url: string, command: string[]): Promise<T> {
	const client = createClient({url});
	await client.connect();
	try {
		return await client.sendCommand(command) as T;
	} finally {
		client.destroy();
	}
}

/**
 * The Redis store on a Redis Cluster of three masters (spec/support/redis-cluster.ts): where the
 * keys land, maintenance over every master, the memory tier across processes, and the CLI. The
 * store's contract itself runs on the cluster in store-redis-cluster.spec.ts and
 * conformance-redis-cluster.spec.ts, coalescing across processes in spec/engine/coalesce.spec.ts.
 */
describe('backends/redis on a Redis Cluster', function () {
	this.timeout(60_000);
	let urls: string[];
	let origin: Origin;
	const sessions: CachedSession[] = [];

	function open(cacheName: string, options: Record<string, unknown> = {}): CachedSession {
		const session = new CachedSession({backend: 'redis', url: urls, cacheName, expireAfter: 3600, cacheControl: true, ...options});
		sessions.push(session);
		return session;
	}

	/** The keys of the cache's records and indexes on each master, node by node (not the leases of flights, which expire by themselves). */
	async function keysByNode(cacheName: string): Promise<string[][]> {
		return Promise.all(urls.map(async url => (await onNode<string[]>(url, ['KEYS', `${cacheName}:*`])).filter(key => !key.includes(':@flight:'))));
	}

	before(async function () {
		this.timeout(60_000);
		const cluster = await redisCluster();
		if (cluster.problem !== undefined) {
			skipOrFail(this, 'the Redis Cluster specs', cluster.problem);
		}

		urls = cluster.urls;
		origin = await Origin.start();
		origin.route('/vary', (request, response) => {
			response.writeHead(200, {'content-type': 'application/json', 'cache-control': 'max-age=3600', vary: 'Accept'}).end(JSON.stringify({accept: request.headers.accept}));
		});
		origin.route('/grouped/*', (request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=3600', 'cache-groups': request.url!.includes('news') ? '"news"' : '"other"'}).end(request.url);
		});
	});

	afterEach(async () => {
		await Promise.all(sessions.splice(0).map(async session => session.cache.clear().finally(async () => session.close())));
	});

	after(async () => {
		await origin?.close();
	});

	it('spreads the entries of 100 URLs over all three masters, an entry, its Vary variants and their indexes in one slot', async () => {
		const cacheName = `cluster-${randomUUID().slice(0, 8)}`;
		const session = open(cacheName);
		await Promise.all(Array.from({length: 100}, async (_item, index) => session.get(`${origin.url}/json?spread=${index}`)));
		await session.get(`${origin.url}/vary`, {headers: {accept: 'text/plain'}});
		await session.get(`${origin.url}/vary`, {headers: {accept: 'application/json'}});
		await session.cache.flush();
		const byNode = await keysByNode(cacheName);
		const records = byNode.map(keys => keys.filter(key => key.includes('}::')));
		assert.equal(records.flat().length, 103, '100 entries, a Vary index and two variants');
		for (const [index, keys] of records.entries()) {
			assert.ok(keys.length > 10, `master ${urls[index]} holds ${keys.length} of them`);
		}

		// The Vary index, its two variants and their bucket's index entries: one slot.
		const metas: RecordMeta[] = [];
		for await (const page of storeOf(session.cache).scan()) {
			metas.push(...page);
		}

		const index = metas.find(meta => meta.kind === 'variants')!;
		const variants = metas.filter(meta => meta.kind === 'response' && meta.url.endsWith('/vary'));
		assert.equal(variants.length, 2);
		const names = [index, ...variants].map(meta => byNode.flat().find(key => key.endsWith(`}::${meta.key}`))!);
		const bucket = names[0]!.split('::')[0]!;
		assert.ok(names.every(name => name.startsWith(`${bucket}::`)), `${names.join(', ')} share a bucket`);
		const family = byNode.flat().filter(key => key.startsWith(bucket));
		assert.ok(family.some(key => key.endsWith(':@meta')) && family.some(key => key.endsWith(':@created')));
		const slots = new Set(await Promise.all(family.map(async key => onNode<number>(urls[0]!, ['CLUSTER', 'KEYSLOT', key]))));
		assert.equal(slots.size, 1, `${family.join(', ')} share one slot`);
		assert.equal((await session.get(`${origin.url}/vary`, {headers: {accept: 'text/plain'}})).fromCache, true);
	});

	it('runs maintenance over every master: removeExpiredResponses, removeOldEntries, count, urls, clear', async () => {
		const cacheName = `cluster-${randomUUID().slice(0, 8)}`;
		const session = open(cacheName);
		await Promise.all(Array.from({length: 60}, async (_item, index) => session.get(`${origin.url}/json?expired=${index}`, {expireAfter: 1})));
		await Promise.all(Array.from({length: 60}, async (_item, index) => session.get(`${origin.url}/json?kept=${index}`)));
		await session.cache.flush();
		assert.equal(await session.cache.count(), 120);
		await sleep(1100);
		assert.equal(await session.cache.removeExpiredResponses(), 60);
		const left = await session.cache.urls();
		assert.equal(left.length, 60);
		assert.ok(left.every(url => url.includes('kept=')));
		assert.equal(await session.cache.count(), 60);
		assert.equal(await session.cache.removeOldEntries(new Date(Date.now() + 1000)), 60);
		assert.equal(await session.cache.count(), 0);
		await Promise.all(Array.from({length: 30}, async (_item, index) => session.get(`${origin.url}/json?cleared=${index}`)));
		await session.cache.flush();
		assert.ok((await keysByNode(cacheName)).every(keys => keys.length > 0), 'every master holds some');
		await session.cache.clear();
		assert.deepEqual(await keysByNode(cacheName), [[], [], []], 'no key of the cache is left on any master');
	});

	it('clears only its own cache, even beside one whose name looks like its buckets', async () => {
		const base = `cluster-${randomUUID().slice(0, 8)}`;
		const [mine, lookalike] = [open(base), open(`${base}:{000}`)];
		await Promise.all([mine, lookalike].map(async session => {
			await Promise.all(Array.from({length: 20}, async (_item, index) => session.get(`${origin.url}/json?apart=${index}`)));
			await session.cache.flush();
		}));
		await mine.cache.clear();
		assert.equal(await mine.cache.count(), 0);
		assert.equal(await lookalike.cache.count(), 20);
		assert.equal((await lookalike.get(`${origin.url}/json?apart=3`)).fromCache, true);
	});

	it('never waits for a cluster that is down: the first call fails when refused, later ones at once', async () => {
		const store = createRedisStore({url: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2'], namespace: 'down', timeout: 2000});
		try {
			let started = performance.now();
			await assert.rejects(store.get('x'));
			assert.ok(performance.now() - started < 1000, 'refused: no wait for the timeout');
			started = performance.now();
			await assert.rejects(store.get('x'), /not connected/);
			assert.ok(performance.now() - started < 50, 'at once');
		} finally {
			await store.close();
		}
	});

	it('invalidates Cache Groups over every master', async () => {
		const cacheName = `cluster-${randomUUID().slice(0, 8)}`;
		const session = open(cacheName);
		const paths = Array.from({length: 40}, (_item, index) => `/grouped/${index % 2 === 0 ? 'news' : 'misc'}-${index}`);
		await Promise.all(paths.map(async path => session.get(origin.url + path)));
		await session.cache.flush();
		assert.equal(await session.cache.invalidateGroups(['news'], {origin: origin.url}), 20);
		const hits = origin.hits();
		const again = await Promise.all(paths.map(async path => session.get(origin.url + path)));
		assert.deepEqual(again.map(response => response.fromCache), paths.map(path => !path.includes('news')));
		assert.equal(origin.hits(), hits + 20, 'only the 20 invalidated went to the origin');
	});

	it('keeps memory tiers of two processes coherent: a write and a POST in one are seen by the other within 100 ms', async () => {
		const cacheName = `cluster-tier-${randomUUID().slice(0, 8)}`;
		const session = open(cacheName, {memoryTier: {maxEntries: 100}});
		const tier = (storeOf(session.cache) as unknown as {tier: TierCounters}).tier;
		const url = `${origin.url}/json?tier=${cacheName}`;
		const first = await session.get(url);
		await session.cache.flush();
		for (let attempt = 0; attempt < 50 && tier.hits === 0; attempt++) {
			// eslint-disable-next-line no-await-in-loop -- until the tier's link is subscribed
			await session.get(url);
			// eslint-disable-next-line no-await-in-loop
			await sleep(20);
		}

		assert.ok(tier.hits > 0, 'served from the tier');
		const other = async (method: 'refresh' | 'POST'): Promise<unknown> => {
			const {stdout} = await promisify(execFile)(process.execPath, ['--import', 'tsx', childScript, JSON.stringify({urls, cacheName, url, method})], {cwd: repoRoot});
			return JSON.parse(stdout) as unknown;
		};

		const written = await other('refresh');
		assert.notDeepEqual(written, first.json());
		await sleep(100);
		assert.deepEqual((await session.get(url)).json(), written, 'the other process\'s write is seen');
		await session.get(url);
		const hits = origin.hits('/json');
		await other('POST');
		await sleep(100);
		const after = await session.get(url);
		assert.equal(after.fromCache, false, 'the other process\'s POST invalidated it here too');
		assert.equal(origin.hits('/json'), hits + 2, 'the POST, then this GET');
	});

	it('lets the CLI list, show and delete a cluster\'s entries, named by comma-separated node URLs', async () => {
		const cacheName = `cluster-cli-${randomUUID().slice(0, 8)}`;
		const session = open(cacheName);
		await Promise.all(Array.from({length: 30}, async (_item, index) => session.get(`${origin.url}/json?cli=${index}`)));
		await session.cache.flush();
		const target = `${urls.join(',')}?cacheName=${cacheName}`;
		const listed = await runCli(['list', target, '--json']);
		assert.equal(listed.code, 0, listed.stderr);
		assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 30);
		const shown = await runCli(['show', urls.join(','), `${origin.url}/json?cli=7`, '--cache-name', cacheName]);
		assert.equal(shown.code, 0, shown.stderr);
		assert.match(shown.stdout, /cli=7/);
		const deleted = await runCli(['delete', target, '--url', '*cli=1*']);
		assert.equal(deleted.code, 0, deleted.stderr);
		assert.equal(await session.cache.count(), 19, 'cli=1 and cli=10..19 are gone');
	});
});
