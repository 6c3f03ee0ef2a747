import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {BaseCache, CachedSession, createStore} from '../../lib/index.js';
import {Origin} from '../support/origin.js';
import {redisProblem, redisUrl, skipOrFail} from '../support/services.js';
import {type Filled, addRoutes, fillCache} from './fill-cache.js';
import {harProblems} from './har-schema.js';
import {runCli} from './run-cli.js';

type Row = {key: string; status: number; state: string};

describe('requests-cache CLI on Redis', function () {
	this.timeout(60_000);
	let origin: Origin;
	let filled: Filled;
	const names: string[] = [];
	const cacheName = (): string => {
		const name = `cli-spec-${randomUUID().slice(0, 8)}`;
		names.push(name);
		return name;
	};

	const target = (name: string): string => `${redisUrl}/0?cacheName=${name}`;
	let name: string;

	before(async function () {
		const problem = await redisProblem();
		if (problem !== undefined) {
			skipOrFail(this, 'the CLI specs on Redis', problem);
		}

		origin = await Origin.start();
		addRoutes(origin);
		name = cacheName();
		filled = await fillCache(origin, {backend: 'redis', url: redisUrl, cacheName: name});
	});

	after(async () => {
		await origin?.close();
		for (const each of names) {
			const cache = new BaseCache(createStore({backend: 'redis', url: redisUrl, cacheName: each, ttlOffset: 3600}));
			// eslint-disable-next-line no-await-in-loop -- a few caches
			await cache.clear();
			// eslint-disable-next-line no-await-in-loop
			await cache.close();
		}
	});

	/** A second cache with the same entries, for a command that deletes. */
	async function freshCopy(): Promise<string> {
		const copy = cacheName();
		await fillCache(origin, {backend: 'redis', url: redisUrl, cacheName: copy});
		return copy;
	}

	it('lists the entries, named by ?cacheName= or --cache-name, with filters', async () => {
		const [byQuery, byOption, stale, notFound, other] = await Promise.all([
			runCli(['list', target(name), '--json']),
			runCli(['list', `${redisUrl}/0`, '--cache-name', name, '--json']),
			runCli(['list', target(name), '--stale', '--json']),
			runCli(['list', target(name), '--status', '404', '--url', '*/status/*']),
			runCli(['list', target(`${name}-other`)]),
		]);
		assert.equal(byQuery.code, 0, byQuery.stderr);
		const rows = JSON.parse(byQuery.stdout) as Row[];
		assert.deepEqual(rows.map(row => row.key).sort(), filled.all.map(response => response.cacheKey).sort());
		assert.deepEqual(JSON.parse(byOption.stdout), rows);
		assert.deepEqual((JSON.parse(stale.stdout) as Row[]).map(row => row.key).sort(), [filled.oldJson.cacheKey, filled.oldNotFound.cacheKey].sort());
		assert.equal(notFound.code, 0, notFound.stderr);
		assert.equal(notFound.stdout.trimEnd().split('\n').length, 2, 'a header and one row');
		assert.match(notFound.stdout, new RegExp(`\nGET +404 .* ${filled.oldNotFound.cacheKey!} `));
		assert.equal(other.code, 0);
		assert.match(other.stderr, /no stored responses in redis redis:\/\/.* \(cache ".*-other"\)/);
	});

	it('shows an entry by URL with its body, and gives stats', async () => {
		const [show, stats] = await Promise.all([
			runCli(['show', target(name), `${origin.url}/cafe`, '--body']),
			runCli(['stats', target(name), '--json']),
		]);
		assert.equal(show.code, 0, show.stderr);
		assert.match(show.stdout, /body \(4 B, text, windows-1252\)\ncafé\n/);
		assert.equal(stats.code, 0, stats.stderr);
		const report = JSON.parse(stats.stdout) as Record<string, unknown>;
		assert.equal(report['responses'], 7);
		assert.equal(report['expired'], 2);
		assert.equal(report['redirectAliases'], 2);
		assert.equal(report['fileBytes'], undefined);
		assert.equal(report['bodyBytes'], filled.all.reduce((total, response) => total + response.body.length, 0));
	});

	it('exports a HAR 1.2 log', async () => {
		const run = await runCli(['export-har', target(name), '-']);
		assert.equal(run.code, 0, run.stderr);
		const har = JSON.parse(run.stdout) as {log: {entries: unknown[]}};
		assert.deepEqual(harProblems(har), []);
		assert.equal(har.log.entries.length, 9);
	});

	it('deletes by URL glob, by age and by key, and clears expired entries, as a session then sees', async () => {
		const copy = await freshCopy();
		const byUrl = await runCli(['delete', target(copy), '--url', '*/redirect/2']);
		assert.match(byUrl.stdout, /^deleted 3 entries from redis /);
		const expired = await runCli(['clear-expired', target(copy), '--json']);
		assert.deepEqual(JSON.parse(expired.stdout), {deleted: 2});
		const byAge = await runCli(['delete', target(copy), '--older-than', '1d']);
		assert.match(byAge.stdout, /^deleted 0 entries/, 'the old entries went as expired');

		const session = new CachedSession({backend: 'redis', url: redisUrl, cacheName: copy});
		try {
			const hits = origin.hits();
			const bytes = await session.get(`${origin.url}/bytes?n=300`);
			assert.equal(bytes.fromCache, true);
			assert.equal(origin.hits(), hits);
			const byKey = await runCli(['delete', target(copy), '--key', bytes.cacheKey!]);
			assert.match(byKey.stdout, /^deleted 1 entry from redis /);
			const again = await session.get(`${origin.url}/bytes?n=300`);
			assert.equal(again.fromCache, false, 'deleted by key');
			const redirected = await session.get(`${origin.url}/redirect/1`);
			assert.equal(redirected.fromCache, false, 'deleted by URL with its aliases');
		} finally {
			await session.close();
		}

		const stats = JSON.parse((await runCli(['stats', target(copy), '--json'])).stdout) as Record<string, number>;
		assert.equal(stats['expired'], 0);
	});

	it('deletes what was stored before an age', async () => {
		const copy = await freshCopy();
		const run = await runCli(['delete', target(copy), '--older-than', '9d', '--json']);
		assert.deepEqual(JSON.parse(run.stdout), {deleted: 2});
		const rows = JSON.parse((await runCli(['list', target(copy), '--json'])).stdout) as Row[];
		assert.equal(rows.length, 5);
		assert.ok(rows.every(row => row.state === 'fresh'));
	});
});
