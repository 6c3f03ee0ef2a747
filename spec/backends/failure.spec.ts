import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import {CachedSession} from '../../lib/cached-session.js';
import {BackendError} from '../../lib/errors.js';
import {Origin} from '../support/origin.js';
import {PrivateRedis, freePort, mongoUrl, redisProblem, redisUrl, skipOrFail, spawnJongodb} from '../support/services.js';
import {settled} from '../support/settled.js';

/** A node-redis client (the one @keyv/redis depends on), for commands sent to Redis around the cache. */
const {createClient: createRedisClient} = createRequire(createRequire(import.meta.url).resolve('@keyv/redis'))('@redis/client') as {
	createClient(options: {url: string}): {connect(): Promise<unknown>; destroy(): void; sendCommand(arguments_: string[]): Promise<unknown>};
};

const fixture = fileURLToPath(new URL('fixtures/close-exits.ts', import.meta.url));
const run = process.pid.toString(36);

/** Run the close-exits fixture; resolves with how it ended and how long it took. */
async function runChild(environment: Record<string, string>): Promise<{code: number | null; ms: number; stdout: string; stderr: string}> {
	const started = performance.now();
	const child = spawn(process.execPath, ['--import', 'tsx', fixture], {env: {...process.env, ...environment}, stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (data: Buffer) => {
		stdout += data.toString();
	});
	child.stderr.on('data', (data: Buffer) => {
		stderr += data.toString();
	});
	// A child that does not exit by itself is killed after 15 s, and fails the test.
	const killer = setTimeout(() => {
		child.kill('SIGKILL');
	}, 15_000);
	const code = await new Promise<number | null>(resolve => {
		child.on('exit', resolve);
	});
	clearTimeout(killer);
	return {code, ms: performance.now() - started, stdout, stderr};
}

/** Collect unhandled rejections while a test runs: fail-open must leave none behind. */
function watchRejections(): {stop(): unknown[]} {
	const seen: unknown[] = [];
	const listener = (reason: unknown): void => {
		seen.push(reason);
	};

	process.on('unhandledRejection', listener);
	return {
		stop() {
			process.off('unhandledRejection', listener);
			return seen;
		},
	};
}

async function timed<T>(fn: () => Promise<T>): Promise<{value: T; ms: number}> {
	const started = performance.now();
	const value = await fn();
	return {value, ms: performance.now() - started};
}

describe('backends when the store fails', function () {
	this.timeout(60_000);
	let origin: Origin;
	const sessions: CachedSession[] = [];

	function open(options: ConstructorParameters<typeof CachedSession>[0]): CachedSession {
		const session = new CachedSession(options);
		sessions.push(session);
		return session;
	}

	before(async () => {
		origin = await Origin.start();
	});

	after(async () => {
		for (const session of sessions) {
			// eslint-disable-next-line no-await-in-loop
			await session.close().catch(() => undefined);
		}

		await origin.close();
	});

	describe('Redis', () => {
		let server: PrivateRedis | undefined;

		before(async function () {
			const problem = await redisProblem();
			if (problem !== undefined) {
				skipOrFail(this, 'the Redis failure specs', problem);
			}

			try {
				server = await PrivateRedis.start();
			} catch (error) {
				skipOrFail(this, 'the Redis failure specs', `a private redis-server could not start: ${(error as Error).message}`);
			}
		});

		after(async () => {
			await server?.stop();
		});

		it('serves every request, quickly, while its Redis is killed and restarted, and caches again afterwards', async () => {
			const errors: Error[] = [];
			const session = open({backend: 'redis', url: server!.url, cacheName: `rc:failure-${run}`, backendTimeout: 2000, onError: error => errors.push(error)});
			const rejections = watchRejections();
			const url = (i: number): string => `${origin.url}/json?kill=${i % 4}`;
			const slowest = {up: 0, down: 0};
			for (let i = 0; i < 8; i++) {
				// eslint-disable-next-line no-await-in-loop
				const {value, ms} = await timed(async () => session.get(url(i)));
				assert.equal(value.status, 200);
				assert.equal(value.fromCache, i >= 4, `request ${i} before the outage`);
				slowest.up = Math.max(slowest.up, ms);
			}

			assert.equal(errors.length, 0);
			await server!.stop();
			const hitsBefore = origin.hits('/json');
			for (let i = 0; i < 8; i++) {
				// eslint-disable-next-line no-await-in-loop
				const {value, ms} = await timed(async () => session.get(url(i)));
				assert.equal(value.status, 200, 'the origin answers while Redis is down');
				assert.equal(value.fromCache, false);
				slowest.down = Math.max(slowest.down, ms);
			}

			assert.equal(origin.hits('/json'), hitsBefore + 8);
			// Maintenance has no response to fall back on: it fails at once, with a BackendError.
			const maintenance = await timed(async () => session.cache.count().then(() => 'resolved', (error: unknown) => error));
			assert.ok(maintenance.value instanceof BackendError, String(maintenance.value));
			assert.ok(maintenance.ms < 500, `count() took ${maintenance.ms.toFixed(0)} ms to fail`);
			console.log(`      slowest request with Redis up: ${slowest.up.toFixed(0)} ms, down: ${slowest.down.toFixed(0)} ms`);
			// A down server fails at once (no offline queue), far below the 2 s backend timeout.
			assert.ok(slowest.down < 500, `requests took up to ${slowest.down.toFixed(0)} ms while Redis was down`);
			assert.ok(errors.length >= 8, 'every failed read and write is reported');
			assert.ok(errors.every(error => error instanceof BackendError && error.code === 'ERR_BACKEND'));

			await server!.start();
			// node-redis reconnects with a backoff of at most 2 s.
			const deadline = Date.now() + 10_000;
			let resumed = false;
			while (!resumed && Date.now() < deadline) {
				// eslint-disable-next-line no-await-in-loop
				await session.get(`${origin.url}/json?resumed=1`);
				// eslint-disable-next-line no-await-in-loop
				resumed = (await session.get(`${origin.url}/json?resumed=1`)).fromCache;
				if (!resumed) {
					// eslint-disable-next-line no-await-in-loop
					await new Promise(resolve => {
						setTimeout(resolve, 200);
					});
				}
			}

			assert.ok(resumed, 'caching resumes once Redis is back');
			assert.deepEqual(await session.cache.urls(), [`${origin.url}/json?resumed=1`]);
			assert.deepEqual(rejections.stop(), []);
		});

		it('waits at most backendTimeout for a Redis that does not answer', async () => {
			const errors: Error[] = [];
			const session = open({backend: 'redis', url: server!.url, cacheName: `rc:pause-${run}`, backendTimeout: 300, onError: error => errors.push(error)});
			await session.get(`${origin.url}/json?pause=warm`);
			// Redis stops answering every client for 3 s (asked by a client of its own).
			const admin = createRedisClient({url: server!.url});
			await admin.connect();
			await admin.sendCommand(['CLIENT', 'PAUSE', '3000', 'ALL']);
			admin.destroy();
			const {value, ms} = await timed(async () => session.get(`${origin.url}/json?pause=1`));
			assert.equal(value.status, 200);
			assert.equal(value.fromCache, false);
			console.log(`      request with Redis paused, backendTimeout 300 ms: ${ms.toFixed(0)} ms`);
			assert.ok(ms < 1500, `took ${ms.toFixed(0)} ms`);
			assert.ok(errors.some(error => /timed out after 300 ms/.test(error.message)), errors.map(error => error.message).join('; '));
			// Right after a timeout the stalled store is not waited for again.
			const next = await timed(async () => session.get(`${origin.url}/json?pause=2`));
			assert.equal(next.value.status, 200);
			assert.ok(next.ms < 200, `the next request took ${next.ms.toFixed(0)} ms`);
			assert.ok(errors.some(error => /skipped: the store timed out/.test(error.message)));
		});

		it('neither hangs nor crashes with an unreachable Redis at construction; strictBackend throws', async () => {
			const port = await freePort();
			const errors: Error[] = [];
			const rejections = watchRejections();
			const session = open({backend: 'redis', url: `redis://127.0.0.1:${port}`, cacheName: 'unreachable', onError: error => errors.push(error)});
			const {value, ms} = await timed(async () => session.get(`${origin.url}/json?unreachable=1`));
			assert.equal(value.status, 200);
			assert.equal(value.fromCache, false);
			assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
			assert.ok(errors.length > 0 && errors[0] instanceof BackendError, 'the failure is reported');
			const again = await timed(async () => session.get(`${origin.url}/json?unreachable=1`));
			assert.equal(again.value.fromCache, false);
			assert.ok(again.ms < 500, 'later requests fail over at once');

			const strict = open({backend: 'redis', url: `redis://127.0.0.1:${port}`, cacheName: 'unreachable', strictBackend: true});
			await assert.rejects(strict.get(`${origin.url}/json?strict=1`), (error: unknown) => error instanceof BackendError && error.code === 'ERR_BACKEND');
			await timed(async () => session.close()).then(({ms: closeMs}) => {
				assert.ok(closeMs < 1000, `close() took ${closeMs.toFixed(0)} ms`);
			});
			assert.deepEqual(rejections.stop(), []);
		});

		it('session.close() lets a script exit by itself, and failures show in NODE_DEBUG', async () => {
			const ok = await runChild({BACKEND: 'redis', STORE_URL: redisUrl, ORIGIN_URL: origin.url, CACHE_NAME: `rc:child-${run}`});
			console.log(`      child with Redis exited in ${ok.ms.toFixed(0)} ms`);
			assert.equal(ok.code, 0, ok.stderr);
			assert.deepEqual(JSON.parse(ok.stdout), {status: 200, fromCache: [false, true]});
			assert.ok(ok.ms < 10_000);

			const down = await runChild({
				BACKEND: 'redis', STORE_URL: `redis://127.0.0.1:${await freePort()}`, ORIGIN_URL: origin.url, CACHE_NAME: 'child-down', NODE_DEBUG: 'requests-cache',
			});
			console.log(`      child with an unreachable Redis exited in ${down.ms.toFixed(0)} ms`);
			assert.equal(down.code, 0, down.stderr);
			assert.deepEqual(JSON.parse(down.stdout), {status: 200, fromCache: [false, false]});
			assert.match(down.stderr, /REQUESTS-CACHE \d+: error Cache backend failed during get/);
		});
	});

	describe('MongoDB', () => {
		let url = '';

		before(async function () {
			try {
				url = (await mongoUrl()).url;
			} catch (error) {
				skipOrFail(this, 'the MongoDB failure specs', `no MongoDB: ${(error as Error).message}`);
			}
		});

		it('neither hangs nor crashes with an unreachable MongoDB at construction; strictBackend throws', async () => {
			const port = await freePort();
			const errors: Error[] = [];
			const rejections = watchRejections();
			const session = open({backend: 'mongodb', url: `mongodb://127.0.0.1:${port}`, cacheName: 'unreachable', backendTimeout: 800, onError: error => errors.push(error)});
			const {value, ms} = await timed(async () => session.get(`${origin.url}/json?mongo-unreachable=1`));
			assert.equal(value.status, 200);
			assert.equal(value.fromCache, false);
			console.log(`      first request with an unreachable MongoDB (backendTimeout 800 ms): ${ms.toFixed(0)} ms`);
			assert.ok(ms < 2500, `took ${ms.toFixed(0)} ms`);
			assert.ok(errors.length > 0 && errors.every(error => error instanceof BackendError));
			const again = await timed(async () => session.get(`${origin.url}/json?mongo-unreachable=1`));
			assert.equal(again.value.status, 200);
			assert.ok(again.ms < 500, `a known-down server fails at once, took ${again.ms.toFixed(0)} ms`);
			const strict = open({backend: 'mongodb', url: `mongodb://127.0.0.1:${port}`, cacheName: 'unreachable', backendTimeout: 500, strictBackend: true});
			await assert.rejects(strict.get(`${origin.url}/json?mongo-strict=1`), BackendError);
			const closing = await timed(async () => session.close());
			assert.ok(closing.ms < 1000, `close() took ${closing.ms.toFixed(0)} ms`);
			await strict.close();
			assert.deepEqual(rejections.stop(), []);
		});

		it('serves every request while its MongoDB is killed and restarted, and caches again afterwards', async function () {
			if (process.env['MONGODB_URL']) {
				// A real server cannot be killed from here: this case needs the emulator.
				console.warn('      SKIPPED: the MongoDB kill/restart case because MONGODB_URL is set (it kills a private jongodb)');
				this.skip();
			}

			const port = await freePort();
			let server = await spawnJongodb(port);
			const errors: Error[] = [];
			const rejections = watchRejections();
			const session = open({backend: 'mongodb', url: `mongodb://127.0.0.1:${port}`, cacheName: `rc_kill_${run}`, backendTimeout: 1000, onError: error => errors.push(error)});
			for (let i = 0; i < 4; i++) {
				// eslint-disable-next-line no-await-in-loop
				assert.equal((await session.get(`${origin.url}/json?mongo-kill=${i % 2}`)).fromCache, i >= 2);
			}

			// The writes behind those requests have landed: what follows is read from a dead server.
			await settled(session);
			server.kill('SIGKILL');
			let slowest = 0;
			for (let i = 0; i < 6; i++) {
				// eslint-disable-next-line no-await-in-loop
				const {value, ms} = await timed(async () => session.get(`${origin.url}/json?mongo-kill=${i % 2}`));
				assert.equal(value.status, 200);
				assert.equal(value.fromCache, false);
				slowest = Math.max(slowest, ms);
			}

			console.log(`      slowest request with MongoDB down (backendTimeout 1000 ms): ${slowest.toFixed(0)} ms`);
			// The first one waits for server selection (backendTimeout); the others fail at once.
			assert.ok(slowest < 2500, `took up to ${slowest.toFixed(0)} ms`);
			assert.ok(errors.length > 0 && errors.every(error => error instanceof BackendError));
			server = await spawnJongodb(port);
			try {
				const deadline = Date.now() + 20_000;
				let resumed = false;
				while (!resumed && Date.now() < deadline) {
					// eslint-disable-next-line no-await-in-loop
					await session.get(`${origin.url}/json?mongo-resumed=1`);
					// eslint-disable-next-line no-await-in-loop
					resumed = (await session.get(`${origin.url}/json?mongo-resumed=1`)).fromCache;
					if (!resumed) {
						// eslint-disable-next-line no-await-in-loop
						await new Promise(resolve => {
							setTimeout(resolve, 250);
						});
					}
				}

				assert.ok(resumed, 'caching resumes once MongoDB is back');
				assert.deepEqual(rejections.stop(), []);
			} finally {
				await session.close();
				server.kill('SIGKILL');
			}
		});

		it('session.close() lets a script exit by itself', async () => {
			const result = await runChild({BACKEND: 'mongodb', STORE_URL: url, ORIGIN_URL: origin.url, CACHE_NAME: `rc_child_${run}`});
			console.log(`      child with MongoDB exited in ${result.ms.toFixed(0)} ms`);
			assert.equal(result.code, 0, result.stderr);
			assert.deepEqual(JSON.parse(result.stdout), {status: 200, fromCache: [false, true]});
			assert.ok(result.ms < 10_000);

			const down = await runChild({BACKEND: 'mongodb', STORE_URL: `mongodb://127.0.0.1:${await freePort()}`, ORIGIN_URL: origin.url, CACHE_NAME: 'child_down'});
			console.log(`      child with an unreachable MongoDB exited in ${down.ms.toFixed(0)} ms`);
			assert.equal(down.code, 0, down.stderr);
			assert.deepEqual(JSON.parse(down.stdout), {status: 200, fromCache: [false, false]});
		});
	});
});
