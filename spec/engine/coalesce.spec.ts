import assert from 'node:assert/strict';
import path from 'node:path';
import {randomUUID} from 'node:crypto';
import {FleetOrigin, type Round, type Worker, startWorker, total} from '../support/fleet.js';
import {redisCluster} from '../support/redis-cluster.js';
import {redisProblem, redisUrl, skipOrFail} from '../support/services.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

const sleep = async (ms: number): Promise<void> => new Promise(resolve => {
	setTimeout(resolve, ms);
});

/** A store the fleet shares: the workers' options naming it, or why it cannot be used here. */
type Target = {
	readonly name: string;
	/** A cluster runs the cases issue 19 names, not the engine's others (their leases are the same code): seconds of CI each. */
	readonly cluster?: true;
	where(): Promise<{options: Record<string, unknown>; problem?: undefined} | {problem: string}>;
};

const targets: Target[] = [
	{name: 'sqlite', where: async () => ({options: {backend: 'sqlite'}})},
	{
		name: 'redis',
		async where() {
			const problem = await redisProblem();
			return problem === undefined ? {options: {backend: 'redis', url: redisUrl}} : {problem};
		},
	},
	{
		name: 'a Redis Cluster',
		cluster: true,
		async where() {
			const cluster = await redisCluster();
			return cluster.problem === undefined ? {options: {backend: 'redis', url: cluster.urls}} : cluster;
		},
	},
];

/**
 * Miss coalescing across processes (lib/engine/coalesce.ts), and invalidation seen by each
 * process's copy in memory: real child processes on one SQLite file, on one Redis and on a Redis
 * Cluster of three masters (spec/support/redis-cluster.ts), against a real origin that counts what
 * reaches it.
 */
for (const target of targets) {
	describe(`coalescing across processes on ${target.name}`, function () {
		this.timeout(60_000);
		let origin: FleetOrigin;
		let dir: string;
		let options: Record<string, unknown>;
		const workers: Worker[] = [];
		/** A case that runs on one Redis and SQLite, not on the cluster. */
		const itOffCluster = target.cluster ? () => undefined : it;

		before(async function () {
			const where = await target.where();
			if (where.problem !== undefined) {
				skipOrFail(this, `the coalescing specs on ${target.name}`, where.problem);
			}

			options = where.options;
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

		/** A fresh cache on this store, shared by the workers of one spec. */
		function store(): Record<string, unknown> {
			const name = `fleet-${randomUUID().slice(0, 8)}`;
			return {...options, cacheName: options['backend'] === 'sqlite' ? path.join(dir, name) : name, warmup: `${origin.url}/ok/warmup`};
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

		itOffCluster('sends one per process with `coalesce: false`', async () => {
			const paths = Array.from({length: 5}, (_, index) => `/ok/${randomUUID()}-${index}?ms=100`);
			const rounds = await Promise.all((await fleet(4, {...store(), coalesce: false, urls: paths.map(p => origin.url + p)})).map(async worker => worker.go()));
			assert.deepEqual(paths.map(p => origin.hits(p)), paths.map(() => 4));
			assert.equal(total(rounds, 'coalesced'), 0);
		});

		it('tells the waiters at once when the leader gets a 500 or a no-store response: each asks the origin itself, once', async () => {
			// The leader's request takes a second, time for the others to be waiting on a loaded machine (one that came after would lead a flight of its own); theirs 50 ms.
			const paths = [`/fail/${randomUUID()}?ms=50&first=1000`, `/nostore/${randomUUID()}?ms=50&first=1000`];
			// Waiters look at a lease each 10 s: only the leader's news can wake them sooner.
			const workersOf = await fleet(4, {...store(), urls: paths.map(p => origin.url + p), coalesce: {lease: 20_000}});
			const rounds = await Promise.all(workersOf.map(async worker => worker.go()));
			assert.deepEqual(paths.map(p => origin.hits(p)), [4, 4], 'the leader, then each waiter once');
			assert.equal(total(rounds, 'coalesceFallbacks'), 6, '3 waiters for each URL learned and went themselves');
			for (const round of rounds) {
				assert.deepEqual(round.results.map(result => result.status), [500, 200]);
				// The leader's second, then their own 50 ms: far less than the 10 s between looks at the lease.
				for (const result of round.results) {
					assert.ok(result.ms < 5000, `answered in ${Math.round(result.ms)} ms`);
				}
			}
		});

		itOffCluster('revalidates a stale entry once for two processes: one conditional request, both served', async () => {
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

		itOffCluster('ends a streamed miss\'s flight only once its body is stored: the fetch door\'s waiter is served from the store', async () => {
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

		itOffCluster('never puts requests with other credentials in one flight', async () => {
			const url = `${origin.url}/ok/${randomUUID()}?ms=200`;
			const config = {...store(), urls: [url]};
			const [alice] = await fleet(1, {...config, headers: {authorization: 'Bearer alice'}});
			const [bob] = await fleet(1, {...config, headers: {authorization: 'Bearer bob'}});
			const rounds = await Promise.all([alice!.go(), bob!.go()]);
			assert.equal(origin.hits(new URL(url).pathname + new URL(url).search), 2);
			assert.equal(total(rounds, 'coalesced'), 0);
		});

		it('drops what a POST in one process invalidated from every other process\'s memory (Redis: the memory tier; SQLite: the hot cache)', async () => {
			const pathAndQuery = `/ok/${randomUUID()}?ms=300`;
			const tier = options['backend'] === 'redis' ? {memoryTier: {maxEntries: 100}} : {};
			const config = {...store(), ...tier, urls: [origin.url + pathAndQuery], bodies: true, coalesce: {lease: 10_000}};
			const [readers, [poster]] = await Promise.all([fleet(3, {...config, rounds: 100}), fleet(1, {...config, method: 'POST'})]);
			const hitOf = (round: Round): number => (JSON.parse(round.results[0]!.body!) as {hit: number}).hit;
			// SQLite's hot cache counts no hits of its own.
			const fromMemory = (round: Round): boolean => round.stats.tierHits === undefined || round.stats.tierHits > 0;
			await Promise.all(readers.map(async reader => reader.go()));
			// Filled once for the three, then read until each serves it from its memory (a tier's link subscribes on first use).
			let before: Round[] = [];
			for (let attempt = 0; attempt < 50 && !(before.length > 0 && before.every(round => fromMemory(round))); attempt++) {
				// eslint-disable-next-line no-await-in-loop -- one round at a time
				await sleep(20);
				// eslint-disable-next-line no-await-in-loop
				before = await Promise.all(readers.map(async reader => reader.go()));
			}

			assert.equal(origin.hits(pathAndQuery), 1, 'filled once');
			assert.deepEqual(before.map(round => [round.results[0]!.fromCache, hitOf(round), fromMemory(round)]), readers.map(() => [true, 1, true]), 'each serves the first answer from memory');
			const posted = await poster!.go();
			assert.equal(posted.results[0]!.status, 200, posted.results[0]!.error);
			// The poster closes its session: its writes, the invalidation among them, have landed.
			assert.equal((await poster!.done).code, 0);
			await sleep(100);
			const after = await Promise.all(readers.map(async reader => reader.go()));
			assert.equal(origin.hits(pathAndQuery), 3, 'the first GET, the POST, then one GET for the three');
			assert.deepEqual(after.map(round => [round.results[0]!.status, hitOf(round)]), readers.map(() => [200, 3]), 'none served what the POST invalidated');
			assert.equal(after.filter(round => !round.results[0]!.fromCache).length, 1, 'one asked the origin, the others were served what it stored');
			assert.deepEqual(after.map(round => round.stats.tierHits), before.map(round => round.stats.tierHits), 'no tier served it after the POST');
		});
	});
}
