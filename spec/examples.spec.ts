import assert from 'node:assert/strict';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {CachedSession, type ResponseHook, get, installCache, uninstallCache} from '../lib/index.js';
import {Origin} from './support/origin.js';
import {removeDir, tempDir} from './support/temp-dir.js';

/** The seed examples of the issue, as a user would write them in TypeScript. */
describe('examples', () => {
	let origin: Origin;
	let dir: string;

	before(async () => {
		origin = await Origin.start();
		dir = tempDir('examples');
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	it('caches ten sequential calls to a slow endpoint in about the time of one', async () => {
		const session = new CachedSession({cacheName: path.join(dir, 'demo_cache')});
		const url = `${origin.url}/slow?ms=300`;

		const started = performance.now();
		// The real request is made once; afterwards the cached response is used.
		for (let index = 0; index < 10; index++) {
			// eslint-disable-next-line no-await-in-loop -- sequential calls are the point of the example
			await session.get(url);
		}

		const total = performance.now() - started;
		console.log(`      10 calls to a 300 ms endpoint: ${total.toFixed(0)} ms`);
		assert.equal(origin.hits('/slow'), 1);
		assert.ok(total < 2 * 300, `10 calls took ${total.toFixed(0)} ms, more than 2x one call`);
		await session.close();
	});

	it('throttles with a response hook that sleeps only when the response did not come from the cache', async () => {
		function makeThrottleHook(seconds = 0.1): ResponseHook {
			return async response => {
				if (!response.fromCache) {
					await sleep(seconds * 1000);
				}

				return response;
			};
		}

		const session = new CachedSession({cacheName: path.join(dir, 'throttle')});
		session.hooks.response.push(makeThrottleHook(0.1));

		const timed = async (url: string) => {
			const started = performance.now();
			const response = await session.get(url);
			return {fromCache: response.fromCache, ms: performance.now() - started};
		};

		const first = await timed(`${origin.url}/json?throttle=1`);
		const cached = await timed(`${origin.url}/json?throttle=1`);
		const other = await timed(`${origin.url}/json?throttle=2`);
		console.log(`      fresh ${first.ms.toFixed(0)} ms, cached ${cached.ms.toFixed(0)} ms, fresh again ${other.ms.toFixed(0)} ms`);
		assert.deepEqual([first.fromCache, cached.fromCache, other.fromCache], [false, true, false]);
		assert.ok(first.ms >= 100 && other.ms >= 100, 'fresh responses are delayed');
		assert.ok(cached.ms < 100, 'cached responses are not');
		await session.close();
	});

	it('removes entries older than an hour with removeOldEntries(new Date(Date.now() - 3600e3))', async () => {
		const cacheName = path.join(dir, 'old_entries');
		// Entries written two hours ago (a session whose clock runs two hours behind) ...
		const earlier = new CachedSession({cacheName, clock: () => Date.now() - 2 * 3600e3});
		await earlier.get(`${origin.url}/json?age=old-1`);
		await earlier.get(`${origin.url}/json?age=old-2`);
		await earlier.close();
		// ... and one written now.
		const session = new CachedSession({cacheName});
		await session.get(`${origin.url}/json?age=new`);

		const removed = await session.cache.removeOldEntries(new Date(Date.now() - 3600e3));

		assert.equal(removed, 2);
		assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?age=new`]);
		await session.close();
	});

	it('caches a whole program with installCache()', async () => {
		installCache(path.join(dir, 'installed'), {expireAfter: 360});
		try {
			await get(`${origin.url}/json?installed=1`);
			const response = await get(`${origin.url}/json?installed=1`);
			assert.equal(response.fromCache, true);
		} finally {
			await uninstallCache();
		}
	});
});
