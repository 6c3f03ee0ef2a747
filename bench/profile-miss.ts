/**
 * Where the time of a cache miss goes: what requests-cache adds to a round trip, on each backend.
 * The origin runs in a process of its own (bench/origin.ts), so that this process's CPU time is the
 * client's alone.
 *
 *   node --import tsx bench/profile-miss.ts [requests per round] [rounds]
 *   node --cpu-prof --cpu-prof-dir=.tmp/prof --import tsx bench/profile-miss.ts loop sqlite 20000
 *
 * Three parts:
 * 1. Whole misses (unique URLs, sequential), rounds interleaved across clients in this one process:
 *    got, a `Session` without a cache (with and without an AbortSignal, which the engine always gives
 *    `send`), and `CachedSession` on memory, SQLite and Redis (when 127.0.0.1:6379 answers). µs of
 *    wall time (p50, mean) and of CPU per request.
 * 2. The same cached misses measured from inside: the time spent in the base session's `send` (got
 *    and the wrapping of its response), in the store's `get` and `set`, and the rest (key, policy,
 *    redaction, encoding, the flight, promise turns), timed by wrapping those methods on this
 *    process's objects (the library itself is not changed).
 * 3. Each step of a miss alone, best of 5 batches, with the inputs a real miss gives it.
 *
 * `loop <client> <count>` runs only the misses of one client (got, session, memory, sqlite, redis),
 * for a CPU profile (bench/cpuprofile-summary.ts sums one up).
 * Like `npm run bench`, lib/ runs compiled to JavaScript unless BENCH_SOURCE=ts, or from the
 * compiled copy in BENCH_LIB_DIR.
 */
import {fork} from 'node:child_process';
import {rmSync} from 'node:fs';
import {createConnection} from 'node:net';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {compileBenchProcesses, compileLibrary} from './compile-library.js';
import {loadLibrary, loadModule} from './library.js';
import type {OriginReply, OriginRequest} from './origin.js';
import {Latencies, format} from './stats.js';

const loopMode = process.argv[2] === 'loop';
const loopBackend = loopMode ? (process.argv[3] ?? 'memory') : undefined;
const perRound = Number(loopMode ? (process.argv[4] ?? 20_000) : (process.argv[2] ?? 1500));
const rounds = loopMode ? 1 : Number(process.argv[3] ?? 5);
const givenLibDir = process.env['BENCH_LIB_DIR'];
const scratch = path.resolve(`.tmp/bench/profile-miss-${process.pid}`);
const libDir = givenLibDir
	? path.resolve(givenLibDir)
	: (process.env['BENCH_SOURCE'] === 'ts' ? undefined : compileLibrary(path.join(scratch, 'lib')));
const lib = await loadLibrary(libDir);
const {CachedSession, Session, createKey, prepareRequest, storeOf} = lib;
const {storageOf} = await loadModule<typeof import('../lib/cache/base-cache.js')>(libDir, 'cache/base-cache');
const {decideLookup, decideStore, planRequest} = await loadModule<typeof import('../lib/policy/actions.js')>(libDir, 'policy/actions');
const {storableHeaders} = await loadModule<typeof import('../lib/policy/cache-control.js')>(libDir, 'policy/cache-control');
const {redactRequest, redactUrl} = await loadModule<typeof import('../lib/cache-keys.js')>(libDir, 'cache-keys');
const {encodeValue, toRecord} = await loadModule<typeof import('../lib/codec/entry.js')>(libDir, 'codec/entry');
const {withCacheFacts} = await loadModule<typeof import('../lib/models/response.js')>(libDir, 'models/response');
const {Flights} = await loadModule<typeof import('../lib/engine/flights.js')>(libDir, 'engine/flights');
type Response = import('../lib/models/response.js').Response;
type CachedEntry = import('../lib/codec/entry.js').CachedEntry;
type StoreRecord = import('../lib/backends/store.js').StoreRecord;

// --- the origin, in its own process ---------------------------------------------------------------

const originDir = compileBenchProcesses(path.join(scratch, 'bench'));
const originProcess = fork(path.join(originDir, 'origin.js'), [], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
const waiting = new Map<number, (hits: number) => void>();
let nextId = 0;
const originUrl = await new Promise<string>((resolve, reject) => {
	originProcess.once('exit', code => {
		reject(new Error(`the origin exited early (${code})`));
	});
	originProcess.on('message', (message: OriginReply) => {
		if (message.type === 'listening') {
			resolve(message.url);
		} else {
			waiting.get(message.id)?.(message.hits);
			waiting.delete(message.id);
		}
	});
});

async function originHits(): Promise<number> {
	const id = nextId++;
	return new Promise(resolve => {
		waiting.set(id, resolve);
		originProcess.send({type: 'hits', id} satisfies OriginRequest);
	});
}

async function redisAvailable(): Promise<boolean> {
	return new Promise(resolve => {
		const socket = createConnection({host: '127.0.0.1', port: 6379});
		const done = (ok: boolean): void => {
			socket.destroy();
			resolve(ok);
		};

		socket.setTimeout(1000, () => {
			done(false);
		});
		socket.once('error', () => {
			done(false);
		});
		socket.once('connect', () => socket.write('PING\r\n'));
		socket.once('data', data => {
			done(data.toString().startsWith('+PONG'));
		});
	});
}

// --- the clients -----------------------------------------------------------------------------------

type Cached = InstanceType<typeof CachedSession>;
type Client = {name: string; get(url: string): Promise<{bytes: number; cached: boolean}>; session?: Cached; close(): Promise<void>};

const sqliteFile = path.join(scratch, 'miss.sqlite');
const withRedis = loopBackend === 'redis' || (!loopMode && await redisAvailable());
const runId = `${process.pid}-${Date.now().toString(36)}`;

function cachedClient(name: string, session: Cached, cleanup?: () => Promise<void>): Client {
	// Default settings; a store error fails the next request instead of passing as a miss.
	let failure: unknown;
	session.cache.on('error', (error: unknown) => {
		failure ??= error;
	});
	return {
		name,
		session,
		async get(url) {
			if (failure !== undefined) {
				throw new Error(`${name}: the cache reported an error`, {cause: failure});
			}

			const response = await session.get(url);
			return {bytes: response.body.length, cached: response.fromCache};
		},
		async close() {
			await cleanup?.();
			await session.close();
		},
	};
}

async function makeClients(): Promise<Client[]> {
	const clients: Client[] = [];
	const wanted = (name: string): boolean => loopBackend === undefined || loopBackend === name;
	if (wanted('got')) {
		const {default: got} = await import('got');
		clients.push({
			name: 'got',
			async get(url) {
				const response = await got(url, {responseType: 'buffer'});
				return {bytes: response.body.length, cached: false};
			},
			async close() {
				// Nothing to release.
			},
		});
	}

	if (wanted('session')) {
		const session = new Session();
		clients.push({
			name: 'Session',
			async get(url) {
				const response = await session.get(url);
				return {bytes: response.body.length, cached: false};
			},
			async close() {
				await session.close();
			},
		}, {
			name: 'Session + signal',
			async get(url) {
				// What the engine hands `send` on a miss: the flight's own AbortSignal.
				const response = await session.get(url, {signal: new AbortController().signal});
				return {bytes: response.body.length, cached: false};
			},
			async close() {
				// The session above closes it.
			},
		});
	}

	if (wanted('memory')) {
		clients.push(cachedClient('memory', new CachedSession({backend: 'memory', expireAfter: 3600})));
	}

	if (wanted('sqlite')) {
		for (const suffix of ['', '-wal', '-shm']) {
			rmSync(sqliteFile + suffix, {force: true});
		}

		clients.push(cachedClient('sqlite', new CachedSession({backend: 'sqlite', cacheName: sqliteFile, expireAfter: 3600})));
	}

	if (withRedis && wanted('redis')) {
		const session = new CachedSession({backend: 'redis', cacheName: `rc-profile-miss-${runId}`, expireAfter: 3600});
		await session.cache.clear();
		clients.push(cachedClient('redis', session, async () => session.cache.clear()));
	}

	return clients;
}

// --- part 1: whole misses --------------------------------------------------------------------------

let unique = 0;
const missUrl = (): string => `${originUrl}/json?miss=${runId}-${unique++}`;

type Round = {p50: number; meanUs: number; cpuUs: number};

async function round(client: Client, count: number): Promise<Round> {
	const latencies = new Latencies();
	const before = await originHits();
	const cpu = process.cpuUsage();
	const start = performance.now();
	for (let index = 0; index < count; index++) {
		const url = missUrl();
		const begun = performance.now();
		// eslint-disable-next-line no-await-in-loop -- sequential misses
		const fetched = await client.get(url);
		latencies.push(performance.now() - begun);
		if (fetched.cached || fetched.bytes !== 1024) {
			throw new Error(`${client.name}: ${url} was not a 1 KB miss`);
		}
	}

	const wallUs = (performance.now() - start) * 1000 / count;
	const used = process.cpuUsage(cpu);
	const reached = (await originHits()) - before;
	if (reached !== count) {
		throw new Error(`${client.name}: ${reached} requests reached the origin, expected ${count}`);
	}

	return {p50: latencies.summary().p50 * 1000, meanUs: wallUs, cpuUs: (used.user + used.system) / count};
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function wholeMisses(clients: Client[]): Promise<void> {
	const results = new Map<string, Round[]>(clients.map(client => [client.name, []]));
	for (const client of clients) {
		// eslint-disable-next-line no-await-in-loop -- warm-up, one client at a time
		await round(client, Math.min(500, perRound));
	}

	for (let index = 0; index < rounds; index++) {
		for (let offset = 0; offset < clients.length; offset++) {
			const client = clients[(index + offset) % clients.length]!;
			// eslint-disable-next-line no-await-in-loop
			results.get(client.name)!.push(await round(client, perRound));
		}
	}

	const got = results.get('got')!;
	const gotP50 = median(got.map(r => r.p50));
	const gotCpu = median(got.map(r => r.cpuUs));
	console.log(`\n1. whole misses: ${rounds} interleaved rounds of ${perRound} sequential 1 KB misses per client (medians)`);
	console.log('| client | p50 µs | got p50 / p50 | mean µs | CPU µs per request | CPU over got µs |');
	console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
	for (const [name, list] of results) {
		const p50 = median(list.map(r => r.p50));
		const cpu = median(list.map(r => r.cpuUs));
		console.log(`| ${name} | ${format(p50)} | ${format(gotP50 / p50)}x | ${format(median(list.map(r => r.meanUs)))} | ${format(cpu)} | ${format(cpu - gotCpu)} |`);
	}
}

// --- part 2: the same misses, measured from inside ---------------------------------------------------

type Buckets = {total: number; send: number; storeGet: number; storeSet: number; requests: number};

/** Time the base session's `send` and the store's `get`/`set` by wrapping them on this process's objects. */
async function inside(client: Client, count: number): Promise<Buckets> {
	const buckets: Buckets = {total: 0, send: 0, storeGet: 0, storeSet: 0, requests: 0};
	const store = storeOf(client.session!.cache);
	const timed = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, bucket: 'send' | 'storeGet' | 'storeSet') => async function (this: unknown, ...args: A): Promise<R> {
		const start = performance.now();
		try {
			return await fn.apply(this, args);
		} finally {
			buckets[bucket] += performance.now() - start;
		}
	};

	const sessionSend = Session.prototype.send;
	const storeGet = store.get;
	const storeSet = store.set;
	Session.prototype.send = timed(sessionSend, 'send');
	Object.assign(store, {get: timed(storeGet, 'storeGet'), set: timed(storeSet, 'storeSet')});
	try {
		const start = performance.now();
		for (let index = 0; index < count; index++) {
			// eslint-disable-next-line no-await-in-loop -- sequential misses
			await client.get(missUrl());
		}

		buckets.total = performance.now() - start;
		buckets.requests = count;
	} finally {
		Session.prototype.send = sessionSend;
		Object.assign(store, {get: storeGet, set: storeSet});
	}

	return buckets;
}

async function insideBreakdown(clients: Client[]): Promise<void> {
	const cached = clients.filter(client => client.session !== undefined);
	const sums = new Map(cached.map(client => [client.name, [] as Buckets[]]));
	for (let index = 0; index < rounds; index++) {
		for (const client of cached) {
			// eslint-disable-next-line no-await-in-loop
			sums.get(client.name)!.push(await inside(client, perRound));
		}
	}

	console.log('\n2. cached misses from inside (µs per miss, wall time; median over rounds)');
	console.log('| backend | whole miss | base send (got + Response) | store.get | store.set | the rest: key, policy, redaction, encoding, flight, promise turns |');
	console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
	for (const [name, list] of sums) {
		// A network store's write leaves the request's path (write-behind): it is not part of the miss.
		const onPath = storeOf(cached.find(client => client.name === name)!.session!.cache).local;
		const per = (pick: (b: Buckets) => number): number => median(list.map(b => pick(b) * 1000 / b.requests));
		const rest = per(b => b.total - b.send - b.storeGet - (onPath ? b.storeSet : 0));
		console.log(`| ${name} | ${format(per(b => b.total))} | ${format(per(b => b.send))} | ${format(per(b => b.storeGet))} | ${format(per(b => b.storeSet))}${onPath ? '' : ' (off the path)'} | ${format(rest)} |`);
	}
}

// --- part 3: each step alone -------------------------------------------------------------------------

/**
 * Microseconds per call of `fn`, best of 5 batches: wall time, and this process's CPU time (on a
 * shared machine the CPU figure is the one other processes cannot inflate, except for steps that
 * wait for a server, where the wall time is the cost).
 */
async function time(name: string, fn: (index: number) => unknown, count = 20_000): Promise<void> {
	let wall = Number.POSITIVE_INFINITY;
	let cpu = Number.POSITIVE_INFINITY;
	for (let batch = 0; batch < 5; batch++) {
		const usage = process.cpuUsage();
		const start = performance.now();
		for (let index = 0; index < count; index++) {
			const result = fn(index);
			if (result instanceof Promise) {
				// eslint-disable-next-line no-await-in-loop
				await result;
			}
		}

		wall = Math.min(wall, (performance.now() - start) / count * 1000);
		const used = process.cpuUsage(usage);
		cpu = Math.min(cpu, (used.user + used.system) / count);
	}

	console.log(`| ${name} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} |`);
}

async function steps(clients: Client[]): Promise<void> {
	const memory = clients.find(client => client.name === 'memory')!.session!;
	const {settings, headers} = memory;
	const url = missUrl();
	const prepared = prepareRequest('GET', url, {}, headers);
	const key = createKey(prepared, settings);
	const plan = planRequest(prepared, {}, settings);
	if (plan.kind !== 'lookup') {
		throw new Error('not cacheable');
	}

	// A real response from the origin, as the base session's send gives it to the engine.
	const plain = new Session();
	const response: Response = await plain.send(prepared, {});
	const now = Date.now();
	const decision = decideStore(plan, response, settings, now);
	if (decision.kind !== 'store') {
		throw new Error('not storable');
	}

	const ignored = settings.ignoredParameters;
	const entry: CachedEntry = {
		kind: 'response', status: response.status, reason: response.reason, headers: storableHeaders(response.headers),
		url: redactUrl(response.url, ignored), history: [], request: redactRequest(prepared, ignored),
		createdAt: now, expires: decision.expires, facts: decision.facts, body: response.body,
	};
	const record = toRecord(key, entry, decision.deleteAt);
	const facts = {fromCache: false, createdAt: new Date(now), isExpired: false, revalidated: false, cacheKey: key, expires: decision.expires === null ? null : new Date(decision.expires)};
	const flights = new Flights();
	const noVariant = (): string => {
		throw new Error('no Vary here');
	};

	console.log(`\n3. each step of a miss alone (best of 5 batches; ${url.replace(originUrl, '<origin>')})`);
	console.log('| step | µs (wall) | µs (CPU) |');
	console.log('| --- | ---: | ---: |');
	await time('prepareRequest (Session.request)', () => prepareRequest('GET', url, {}, headers));
	await time('createKey', () => createKey(prepared, settings));
	await time('planRequest (policy)', () => planRequest(prepared, {}, settings));
	await time('decideLookup, nothing stored (policy)', () => decideLookup(plan, undefined, settings, now));
	await time('flight key (engine.ts #flightKey: JSON.stringify)', () => JSON.stringify(['fetch', key, true, null, plan.expiration, plan.refresh, prepared.headers]));
	await time('Flights.run around a resolved response', async () => flights.run(`k${key}`, async () => response));
	await time('new AbortController()', () => new AbortController());
	await time('decideStore (policy)', () => decideStore(plan, response, settings, now));
	await time('storableHeaders', () => storableHeaders(response.headers));
	await time('redactUrl (response URL)', () => redactUrl(response.url, ignored));
	await time('redactRequest', () => redactRequest(prepared, ignored));
	await time('encodeValue (1 KB body)', () => encodeValue(entry));
	await time('toRecord (encodeValue + facts)', () => toRecord(key, entry, decision.deleteAt));
	await time('withCacheFacts (the returned Response)', () => withCacheFacts(response, facts));
	for (const client of clients.filter(c => c.session !== undefined)) {
		const store = storeOf(client.session!.cache);
		const storage = storageOf(client.session!.cache);
		const fresh = (index: number): StoreRecord => ({...record, key: `${key}-${client.name}-${index}-${Date.now()}`});
		const count = client.name === 'memory' ? 20_000 : 2000;
		// eslint-disable-next-line no-await-in-loop
		await time(`${client.name}: store.get(missing key)`, async index => store.get(`missing-${index}`), count);
		// eslint-disable-next-line no-await-in-loop
		await time(`${client.name}: storage.lookup(missing key) (engine's read)`, async index => storage.lookup(`missing-${index}`, noVariant), count);
		// eslint-disable-next-line no-await-in-loop
		await time(`${client.name}: store.set([record]) of a new key`, async index => store.set([fresh(index)]), count);
		// eslint-disable-next-line no-await-in-loop
		await time(`${client.name}: storage.save (toRecord + store.set)`, async index => storage.save(`${key}-save-${client.name}-${index}-${Date.now()}`, entry, decision.deleteAt, []), count);
	}

	await plain.close();
}

// --- main ------------------------------------------------------------------------------------------

const clients = await makeClients();
try {
	if (loopMode) {
		const client = clients.find(c => c.name.toLowerCase() === loopBackend);
		const started = performance.now();
		const cpu = process.cpuUsage();
		for (let index = 0; index < perRound; index++) {
			// eslint-disable-next-line no-await-in-loop
			await client!.get(missUrl());
		}

		const used = process.cpuUsage(cpu);
		console.log(`${client!.name}: ${format((performance.now() - started) * 1000 / perRound)} µs per miss, ${format((used.user + used.system) / perRound)} µs of CPU, over ${perRound} misses`);
	} else {
		console.log(`profile-miss: ${libDir === undefined ? 'TypeScript sources' : 'lib/ compiled'}; origin ${originUrl} in its own process; Redis ${withRedis ? 'on' : 'not reachable: skipped'}`);
		await wholeMisses(clients);
		await insideBreakdown(clients);
		await steps(clients);
	}
} finally {
	for (const client of clients) {
		// eslint-disable-next-line no-await-in-loop
		await client.close();
	}

	originProcess.disconnect();
	originProcess.kill();
	rmSync(scratch, {recursive: true, force: true});
}
