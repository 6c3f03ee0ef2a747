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
 * 3. The engine alone: the same misses with the origin replaced by a canned response (a `Session`
 *    subclass whose `send` returns it at once, under `CacheMixin`), so that what the cache adds is
 *    measured without a network round trip's noise: µs per miss over the same `Session` without
 *    a cache, for memory, memory with `readOnly` (lookup and fetch, nothing stored) and SQLite.
 * 4. Each step of a miss alone, best of 5 batches, with the inputs a real miss gives it.
 *
 * `loop <client> <count>` runs only the misses of one client (got, session, memory, sqlite, redis,
 * or engine-memory, engine-sqlite for the engine alone), for a CPU profile
 * (bench/cpuprofile-summary.ts sums one up).
 * Like `npm run bench`, lib/ runs compiled to JavaScript unless BENCH_SOURCE=ts, or from the
 * compiled copy in BENCH_LIB_DIR.
 */
import {fork} from 'node:child_process';
import {rmSync} from 'node:fs';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {compileBenchProcesses, compileLibrary} from './compile-library.js';
import {loadLibrary, loadModule} from './library.js';
import type {OriginReply, OriginRequest} from './origin.js';
import {Latencies, format} from './stats.js';
import {redisAvailable} from './redis-available.js';

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
const {redactRequest, redactUrl, storedEntryOf} = await loadModule<typeof import('../lib/codec/redact.js')>(libDir, 'codec/redact');
const {encodeValue, toRecord} = await loadModule<typeof import('../lib/codec/entry.js')>(libDir, 'codec/entry');
const {withCacheFacts} = await loadModule<typeof import('../lib/models/response.js')>(libDir, 'models/response');
const {Flights} = await loadModule<typeof import('../lib/engine/flights.js')>(libDir, 'engine/flights');
const {CacheMixin} = await loadModule<typeof import('../lib/cache-mixin.js')>(libDir, 'cache-mixin');
const {Response: ResponseClass} = await loadModule<typeof import('../lib/models/response.js')>(libDir, 'models/response');
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

type Buckets = {total: number; send: number; storeGet: number; storeSet: number; setAfterAnswer: number; requests: number};

/**
 * Time the base session's `send` and the store's `get`/`set` by wrapping them on this process's
 * objects. A store write that outlives its request (write-behind) is split: the part before the
 * answer is on the miss's path, the rest (`setAfterAnswer`) is not.
 */
async function inside(client: Client, count: number): Promise<Buckets> {
	const buckets: Buckets = {total: 0, send: 0, storeGet: 0, storeSet: 0, setAfterAnswer: 0, requests: 0};
	const store = storeOf(client.session!.cache);
	const writes: Array<{start: number; end: number}> = [];
	const timed = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, bucket: 'send' | 'storeGet' | 'storeSet') => async function (this: unknown, ...args: A): Promise<R> {
		const start = performance.now();
		try {
			return await fn.apply(this, args);
		} finally {
			if (bucket === 'storeSet') {
				writes.push({start, end: performance.now()});
			} else {
				buckets[bucket] += performance.now() - start;
			}
		}
	};

	const sessionSend = Session.prototype.send;
	const storeGet = store.get;
	const storeSet = store.set;
	Session.prototype.send = timed(sessionSend, 'send');
	Object.assign(store, {get: timed(storeGet, 'storeGet'), set: timed(storeSet, 'storeSet')});
	const answered: Array<{start: number; end: number}> = [];
	try {
		const start = performance.now();
		for (let index = 0; index < count; index++) {
			const begun = performance.now();
			// eslint-disable-next-line no-await-in-loop -- sequential misses
			await client.get(missUrl());
			answered.push({start: begun, end: performance.now()});
		}

		buckets.total = performance.now() - start;
		buckets.requests = count;
		// Untimed: writes still on their way land before the next round.
		await client.session!.cache.contains({url: missUrl()});
	} finally {
		Session.prototype.send = sessionSend;
		Object.assign(store, {get: storeGet, set: storeSet});
	}

	// Each write belongs to the request during which it started; the part past that request's answer is off its path.
	let request = 0;
	for (const write of writes) {
		while (request < answered.length - 1 && write.start > answered[request]!.end) {
			request++;
		}

		const answer = answered[request]?.end ?? write.end;
		buckets.storeSet += Math.max(0, Math.min(write.end, answer) - write.start);
		buckets.setAfterAnswer += Math.max(0, write.end - Math.max(write.start, answer));
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
	console.log('| backend | whole miss | base send (got + Response) | store.get | store.set before the answer | store.set after the answer (write-behind) | the rest: key, policy, redaction, encoding, flight, promise turns |');
	console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
	for (const [name, list] of sums) {
		const per = (pick: (b: Buckets) => number): number => median(list.map(b => pick(b) * 1000 / b.requests));
		const rest = per(b => b.total - b.send - b.storeGet - b.storeSet);
		console.log(`| ${name} | ${format(per(b => b.total))} | ${format(per(b => b.send))} | ${format(per(b => b.storeGet))} | ${format(per(b => b.storeSet))} | ${format(per(b => b.setAfterAnswer))} | ${format(rest)} |`);
	}
}

// --- part 3: the engine alone, the origin replaced by a canned response ----------------------------------

const cannedBody = Buffer.alloc(1024, 'x');
const cannedHeaders = {'content-type': 'application/json', 'content-length': '1024', 'cache-control': 'public, max-age=3600', date: new Date().toUTCString(), connection: 'keep-alive', 'keep-alive': 'timeout=60'};

/** A `Session` whose `send` answers at once with a copy of a canned 1 KB response: no network at all. */
class CannedSession extends Session {
	override async send(request: import('../lib/models/request.js').PreparedRequest): Promise<Response> {
		return new ResponseClass({status: 200, reason: 'OK', headers: {...cannedHeaders}, url: request.url, body: Buffer.from(cannedBody), request});
	}
}

const CachedCanned = CacheMixin(CannedSession);

type EngineClient = {name: string; get(url: string): Promise<Response>; close(): Promise<void>};

function engineClients(only?: string): EngineClient[] {
	const clients: EngineClient[] = [];
	const wanted = (name: string): boolean => only === undefined || only === name;
	if (wanted('session')) {
		const session = new CannedSession();
		clients.push({name: 'Session (canned send)', get: async url => session.get(url), close: async () => session.close()});
	}

	for (const [name, options] of [
		['memory', {backend: 'memory'}],
		['memory readOnly', {backend: 'memory', readOnly: true}],
		['sqlite', {backend: 'sqlite', cacheName: path.join(scratch, 'engine.sqlite')}],
	] as const) {
		if (wanted(name)) {
			const session = new CachedCanned({...options, expireAfter: 3600});
			clients.push({name, get: async url => session.get(url), close: async () => session.close()});
		}
	}

	return clients;
}

async function engineRound(client: EngineClient, count: number): Promise<{wallUs: number; cpuUs: number}> {
	const cpu = process.cpuUsage();
	const start = performance.now();
	for (let index = 0; index < count; index++) {
		// eslint-disable-next-line no-await-in-loop -- sequential misses
		const response = await client.get(missUrl());
		if (response.fromCache) {
			throw new Error(`${client.name}: a hit among misses`);
		}
	}

	const used = process.cpuUsage(cpu);
	return {wallUs: (performance.now() - start) * 1000 / count, cpuUs: (used.user + used.system) / count};
}

async function engineAlone(): Promise<void> {
	const clients = engineClients();
	const count = perRound * 5;
	const results = new Map(clients.map(client => [client.name, [] as Array<{wallUs: number; cpuUs: number}>]));
	for (const client of clients) {
		// eslint-disable-next-line no-await-in-loop -- warm-up
		await engineRound(client, count);
	}

	for (let index = 0; index < rounds; index++) {
		for (let offset = 0; offset < clients.length; offset++) {
			const client = clients[(index + offset) % clients.length]!;
			// eslint-disable-next-line no-await-in-loop
			results.get(client.name)!.push(await engineRound(client, count));
		}
	}

	const base = results.get('Session (canned send)')!;
	const baseWall = median(base.map(r => r.wallUs));
	const baseCpu = median(base.map(r => r.cpuUs));
	console.log(`\n3. the engine alone: the origin replaced by a canned 1 KB response; ${rounds} interleaved rounds of ${count} misses (medians)`);
	console.log('| client | µs per miss (wall) | over Session | µs per miss (CPU) | over Session |');
	console.log('| --- | ---: | ---: | ---: | ---: |');
	for (const [name, list] of results) {
		const wall = median(list.map(r => r.wallUs));
		const cpu = median(list.map(r => r.cpuUs));
		console.log(`| ${name} | ${format(wall)} | ${format(wall - baseWall)} | ${format(cpu)} | ${format(cpu - baseCpu)} |`);
	}

	for (const client of clients) {
		// eslint-disable-next-line no-await-in-loop
		await client.close();
	}
}

// --- part 4: each step alone -------------------------------------------------------------------------

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
	// No credentials, no redirects: what the engine's requester answers for this request.
	const requester = {owner: () => 'none', hopAddsIdentity: () => false};
	const decision = decideStore(plan, response, settings, now, requester);
	if (decision.kind !== 'store') {
		throw new Error('not storable');
	}

	const ignored = settings.ignoredParameters;
	const entry: CachedEntry = storedEntryOf(prepared, response, decision, settings);
	const record = toRecord(key, entry, decision.deleteAt);
	const facts = {fromCache: false, createdAt: new Date(now), isExpired: false, revalidated: false, cacheKey: key, expires: decision.expires === null ? null : new Date(decision.expires)};
	const flights = new Flights();
	const noVariant = (): string => {
		throw new Error('no Vary here');
	};

	console.log(`\n4. each step of a miss alone (best of 5 batches; ${url.replace(originUrl, '<origin>')})`);
	console.log('| step | µs (wall) | µs (CPU) |');
	console.log('| --- | ---: | ---: |');
	await time('prepareRequest (Session.request)', () => prepareRequest('GET', url, {}, headers));
	await time('createKey', () => createKey(prepared, settings));
	await time('planRequest (policy)', () => planRequest(prepared, {}, settings));
	await time('decideLookup, nothing stored (policy)', () => decideLookup(plan, undefined, settings, now));
	await time('flight key (engine/context.ts flightKey: JSON.stringify)', () => JSON.stringify(['fetch', key, true, null, plan.expiration, plan.refresh, prepared.headers]));
	await time('Flights.run around a resolved response', async () => flights.run(`k${key}`, async () => response));
	await time('new AbortController()', () => new AbortController());
	await time('decideStore (policy)', () => decideStore(plan, response, settings, now, requester));
	await time('storableHeaders', () => storableHeaders(response.headers));
	await time('redactUrl (response URL)', () => redactUrl(response.url, ignored));
	await time('redactRequest', () => redactRequest(prepared, ignored));
	await time('storedEntryOf (the whole redacted entry)', () => storedEntryOf(prepared, response, decision, settings));
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
	if (loopMode && loopBackend!.startsWith('engine-')) {
		const [client] = engineClients(loopBackend!.slice('engine-'.length));
		await engineRound(client!, 5000);
		const {wallUs, cpuUs} = await engineRound(client!, perRound);
		console.log(`${client!.name} (canned send): ${format(wallUs)} µs per miss, ${format(cpuUs)} µs of CPU, over ${perRound} misses`);
		await client!.close();
	} else if (loopMode) {
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
		await engineAlone();
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
