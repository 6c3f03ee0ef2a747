import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import {CachedSession} from '../../lib/index.js';
import {FleetOrigin, startWorker} from '../support/fleet.js';
import {redisProblem, redisUrl, skipOrFail} from '../support/services.js';

/**
 * Writes behind the request on a network store, in a script that ends with `process.exit()` (a
 * real child process on a real Redis): `await session.cache.flush()` first loses nothing, and
 * without it the `'error'` event says how many records were lost.
 */
describe('durable writes behind the request on Redis', function () {
	this.timeout(60_000);
	let origin: FleetOrigin;

	before(async function () {
		const problem = await redisProblem();
		if (problem !== undefined) {
			skipOrFail(this, 'the Redis durability specs', problem);
		}

		origin = await FleetOrigin.start();
	});

	after(async () => {
		await origin?.close();
	});

	async function exitAfter100(end: 'exit' | 'flush-exit'): Promise<{stored: number; lost: number}> {
		const cacheName = `durable-${randomUUID().slice(0, 8)}`;
		const urls = Array.from({length: 100}, (_, index) => `${origin.url}/ok/${cacheName}-${index}?ms=0`);
		const worker = startWorker({backend: 'redis', url: redisUrl, cacheName, urls, end});
		await worker.ready;
		const round = await worker.go();
		assert.deepEqual(round.results.map(result => result.status), urls.map(() => 200));
		const {code} = await worker.done;
		assert.equal(code, 0);
		const reader = new CachedSession({backend: 'redis', url: redisUrl, cacheName});
		try {
			return {stored: await reader.cache.count(), lost: worker.errors.reduce((sum, error) => sum + error.lost, 0)};
		} finally {
			await reader.cache.clear();
			await reader.close();
		}
	}

	it('loses nothing when the script awaits session.cache.flush() before process.exit()', async () => {
		assert.deepEqual(await exitAfter100('flush-exit'), {stored: 100, lost: 0});
	});

	it('says on \'error\' how many records a process.exit() right after the requests lost', async () => {
		const {stored, lost} = await exitAfter100('exit');
		assert.ok(lost > 0, 'the exit came before the writes were sent');
		// Records sent just before the exit, unanswered, are counted lost and may still have landed.
		assert.ok(stored + lost >= 100, `every record is stored or counted lost (${stored} stored, ${lost} lost)`);
		assert.ok(stored < 100);
	});
});
