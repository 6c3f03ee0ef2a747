import assert from 'node:assert/strict';
import path from 'node:path';
import {randomUUID} from 'node:crypto';
import {FleetOrigin, type Round, type Worker, startWorker, total} from '../support/fleet.js';
import {redisProblem, redisUrl, skipOrFail} from '../support/services.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

/**
 * Miss coalescing across processes (lib/engine/coalesce.ts): real child processes on one Redis and
 * on one SQLite file, against a real origin that counts what reaches it.
 */
for (const backend of ['sqlite', 'redis'] as const) {
	describe(`coalescing across processes on ${backend}`, function () {
		this.timeout(60_000);
		let origin: FleetOrigin;
		let dir: string;
		const workers: Worker[] = [];

		before(async function () {
			if (backend === 'redis') {
				const problem = await redisProblem();
				if (problem !== undefined) {
					skipOrFail(this, 'the Redis coalescing specs', problem);
				}
			}

			origin = await FleetOrigin.start();
			dir = tempDir('coalesce');
		});

		afterEach(async () => {
			for (const worker of workers.splice(0)) {
				worker.kill('SIGKILL');
			}
		});

		after(async () => {
			await origin?.close();
			if (dir !== undefined) {
				removeDir(dir);
			}
		});

		/** A fresh cache on this backend, shared by the workers of one spec. */
		function store(): Record<string, unknown> {
			const name = `fleet-${randomUUID().slice(0, 8)}`;
			const warmup = `${origin.url}/ok/warmup`;
			return backend === 'redis' ? {backend, cacheName: name, url: redisUrl, warmup} : {backend, cacheName: path.join(dir, name), warmup};
		}

		async function fleet(count: number, config: Record<string, unknown>): Promise<Worker[]> {
			const started = Array.from({length: count}, () => startWorker(config));
			workers.push(...started);
			await Promise.all(started.map(async worker => worker.ready));
			return started;
		}

		it('sends one origin request per key for 4 processes asking for the same cold URLs at once', async () => {
			const paths = Array.from({length: 20}, (_, index) => `/ok/${randomUUID()}-${index}?ms=100`);
			const rounds = await Promise.all((await fleet(4, {...store(), urls: paths.map(p => origin.url + p)})).map(async worker => worker.go()));
			for (const round of rounds) {
				assert.deepEqual(round.results.map(result => result.status), paths.map(() => 200), 'every request answered');
			}

			assert.deepEqual(paths.map(p => origin.hits(p)), paths.map(() => 1), 'one origin request per key');
			// A process that comes late finds the entry stored: a hit.
			assert.equal(total(rounds, 'coalesced') + total(rounds, 'hits'), 60, 'the other 3 × 20 were served what the leaders stored');
			assert.ok(total(rounds, 'coalesced') > 0);
			assert.equal(rounds.flatMap(round => round.results).filter(result => result.fromCache).length, 60);
		});

		it('sends one per process with `coalesce: false`', async () => {
			const paths = Array.from({length: 5}, (_, index) => `/ok/${randomUUID()}-${index}?ms=100`);
			const rounds = await Promise.all((await fleet(4, {...store(), coalesce: false, urls: paths.map(p => origin.url + p)})).map(async worker => worker.go()));
			assert.deepEqual(paths.map(p => origin.hits(p)), paths.map(() => 4));
			assert.equal(total(rounds, 'coalesced'), 0);
		});

		it('tells the waiters at once when the leader gets a 500 or a no-store response: each asks the origin itself, once', async () => {
			const paths = [`/fail/${randomUUID()}?ms=300`, `/nostore/${randomUUID()}?ms=300`];
			// Waiters look at a lease each 5 s: only the leader's news can wake them sooner.
			const workersOf = await fleet(4, {...store(), urls: paths.map(p => origin.url + p), coalesce: {lease: 10_000}});
			const rounds = await Promise.all(workersOf.map(async worker => worker.go()));
			assert.deepEqual(paths.map(p => origin.hits(p)), [4, 4], 'the leader, then each waiter once');
			assert.equal(total(rounds, 'coalesceFallbacks'), 6, '3 waiters for each URL learned and went themselves');
			for (const round of rounds) {
				assert.deepEqual(round.results.map(result => result.status), [500, 200]);
				// The leader's 300 ms, then their own 300 ms: far less than the 5 s between looks at the lease.
				for (const result of round.results) {
					assert.ok(result.ms < 2500, `answered in ${Math.round(result.ms)} ms`);
				}
			}
		});

		it('revalidates a stale entry once for two processes: one conditional request, both served', async () => {
			const url = `${origin.url}/etag/${randomUUID()}?ms=300`;
			const pathAndQuery = new URL(url).pathname + new URL(url).search;
			const config = {...store(), urls: [url]};
			const [[filler], [other]] = await Promise.all([fleet(1, {...config, rounds: 2}), fleet(1, config)]);
			// The filler stores it (fresh for 1 s) and has a second round; the other has only the one after.
			const filled = await filler!.go();
			assert.equal(filled.results[0]!.status, 200);
			await new Promise(resolve => {
				setTimeout(resolve, 1300);
			});
			const rounds = await Promise.all([filler!.go(), other!.go()]);
			assert.equal(origin.conditionals.get(pathAndQuery), 1, 'one conditional request for both processes');
			assert.equal(origin.hits(pathAndQuery), 2, 'the first request, then one revalidation');
			for (const round of rounds) {
				assert.equal(round.results[0]!.status, 200);
				assert.equal(round.results[0]!.fromCache, true);
			}

			assert.equal(total(rounds, 'revalidations') - total([filled], 'revalidations'), 1, 'one process revalidated');
			assert.equal(total(rounds, 'coalesced'), 1, 'the other was served what it renewed');
		});

		it('ends a streamed miss\'s flight only once its body is stored: the fetch door\'s waiter is served from the store', async () => {
			// The fetch door answers at the head and stores when the body is whole, 600 ms later.
			const url = `${origin.url}/trickle/${randomUUID()}?ms=600`;
			const [leader, waiter] = await fleet(2, {...store(), urls: [url], door: 'fetch', coalesce: {lease: 10_000}});
			const reached = origin.nextHit();
			const led = leader!.go();
			await reached;
			const [first, second] = await Promise.all([led, waiter!.go()]);
			assert.equal(origin.hits(new URL(url).pathname + new URL(url).search), 1, 'the waiter did not ask the origin');
			assert.equal(first!.results[0]!.status, 200);
			assert.equal(second!.results[0]!.status, 200);
			assert.equal(second!.results[0]!.fromCache, true);
			assert.equal(total([second!], 'coalesced'), 1);
		});

		it('lets one waiter take over when the leader is killed mid-flight; every request is answered', async () => {
			const url = `${origin.url}/stall/${randomUUID()}?ms=50&first=20000`;
			const [leader, ...others] = await fleet(4, {...store(), urls: [url], coalesce: {lease: 300}});
			const reached = origin.nextHit();
			void leader!.go();
			await reached;
			const rounds = others.map(async worker => worker.go());
			// The others are waiting on the leader's lease when it dies.
			await new Promise(resolve => {
				setTimeout(resolve, 300);
			});
			leader!.kill('SIGKILL');
			const reports: Round[] = await Promise.all(rounds);
			for (const round of reports) {
				assert.equal(round.results[0]!.status, 200, round.results[0]!.error);
			}

			assert.equal(origin.hits(new URL(url).pathname + new URL(url).search), 2, 'the dead leader\'s, and the one that took over');
			assert.equal(total(reports, 'takeovers'), 1);
			assert.equal(total(reports, 'coalesced'), 2, 'the other two were served what the new leader stored');
		});

		it('never waits longer than the request\'s own timeout: then it asks the origin itself', async () => {
			const url = `${origin.url}/stall/${randomUUID()}?ms=20&first=4000`;
			// The same timeout: the same flight (a request with another timeout never joins it).
			const [leader, waiter] = await fleet(2, {...store(), urls: [url], timeout: 700});
			const reached = origin.nextHit();
			const led = leader!.go();
			await reached;
			const waited = await waiter!.go();
			assert.equal(waited.results[0]!.status, 200, waited.results[0]!.error);
			assert.ok(waited.results[0]!.ms < 1500, `answered in ${Math.round(waited.results[0]!.ms)} ms, not after the leader's 4 s`);
			assert.equal(waited.stats.coalesceFallbacks, 1);
			assert.match((await led).results[0]!.error ?? '', /timed? ?out/i, 'the leader timed out');
		});

		it('never puts requests with other credentials in one flight', async () => {
			const url = `${origin.url}/ok/${randomUUID()}?ms=200`;
			const config = {...store(), urls: [url]};
			const [alice] = await fleet(1, {...config, headers: {authorization: 'Bearer alice'}});
			const [bob] = await fleet(1, {...config, headers: {authorization: 'Bearer bob'}});
			const rounds = await Promise.all([alice!.go(), bob!.go()]);
			assert.equal(origin.hits(new URL(url).pathname + new URL(url).search), 2);
			assert.equal(total(rounds, 'coalesced'), 0);
		});
	});
}
