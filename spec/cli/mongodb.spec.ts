import assert from 'node:assert/strict';
import {BaseCache, CachedSession, createStore} from '../../lib/index.js';
import {Origin} from '../support/origin.js';
import {mongoUrl, skipOrFail} from '../support/services.js';
import {type Filled, addRoutes, fillCache} from './fill-cache.js';
import {harProblems} from './har-schema.js';
import {runCli} from './run-cli.js';

describe('requests-cache CLI on MongoDB', function () {
	this.timeout(90_000);
	const cacheName = `cli_spec_${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
	let origin: Origin;
	let url = '';
	let filled: Filled;
	const target = (): string => `${url}/?cacheName=${cacheName}`;

	before(async function () {
		try {
			url = (await mongoUrl()).url;
		} catch (error) {
			skipOrFail(this, 'the CLI specs on MongoDB', `no MongoDB: ${(error as Error).message}`);
		}

		origin = await Origin.start();
		addRoutes(origin);
		filled = await fillCache(origin, {backend: 'mongodb', url, cacheName});
	});

	after(async () => {
		await origin?.close();
		if (url !== '') {
			const cache = new BaseCache(createStore({backend: 'mongodb', url, cacheName, ttlOffset: 3600}));
			await cache.clear();
			await cache.close();
		}
	});

	it('lists, shows, gives stats and exports a HAR 1.2 log, the database named by ?cacheName= or --cache-name', async () => {
		const [list, show, stats, har] = await Promise.all([
			runCli(['list', target(), '--json']),
			runCli(['show', url, `${origin.url}/cafe`, '--body', '--cache-name', cacheName]),
			runCli(['stats', target(), '--json']),
			runCli(['export-har', target(), '-']),
		]);
		assert.equal(list.code, 0, list.stderr);
		assert.deepEqual((JSON.parse(list.stdout) as Array<{key: string}>).map(row => row.key).sort(), filled.all.map(response => response.cacheKey).sort());
		assert.equal(show.code, 0, show.stderr);
		assert.match(show.stdout, /body \(4 B, text, windows-1252\)\ncafé\n/);
		const report = JSON.parse(stats.stdout) as Record<string, unknown>;
		assert.deepEqual([report['responses'], report['expired'], report['redirectAliases']], [7, 2, 2]);
		const document = JSON.parse(har.stdout) as {log: {entries: unknown[]}};
		assert.deepEqual(harProblems(document), []);
		assert.equal(document.log.entries.length, 9);
	});

	it('deletes by URL glob and by key, and clears expired entries, as a session then sees', async () => {
		const expired = await runCli(['clear-expired', target()]);
		assert.match(expired.stdout, /^deleted 2 expired entries from mongodb /);
		const byUrl = await runCli(['delete', target(), '--url', '*/redirect/2', '--key', filled.bytes.cacheKey!]);
		assert.match(byUrl.stdout, /^deleted 4 entries from mongodb /, 'the redirected response, its two aliases, and the key');
		const session = new CachedSession({backend: 'mongodb', url, cacheName});
		try {
			const hits = origin.hits();
			assert.equal((await session.get(`${origin.url}/json?a=1&api_key=secret`)).fromCache, true);
			assert.equal(origin.hits(), hits, 'what was not deleted is still served from the cache');
			assert.equal((await session.get(`${origin.url}/bytes?n=300`)).fromCache, false);
			assert.equal((await session.get(`${origin.url}/redirect/1`)).fromCache, false);
		} finally {
			await session.close();
		}
	});
});
