/**
 * `npm run bench`: requests-cache against its peers, each client in its own process, the origin
 * in another. Prints a table and the targets of issue 8 (judged against peers in the same run and, where
 * the issue says "today", against bench/baseline.json), and writes bench/results/latest.json
 * (a `BENCH_QUICK=1` smoke run writes bench/results/quick.json instead).
 *
 * Environment:
 * - BENCH_QUICK=1         one short round of everything, smaller caches (a smoke run, well under a minute)
 * - BENCH_ROUNDS=n        rounds per scenario (default 7, interleaved across clients; the median is reported)
 * - BENCH_DURATION_MS=n   measured time per round (default 300, after a 100 ms warm-up; 500 ms before the first)
 * - BENCH_CLIENTS=a,b     only these clients (names as in bench/clients.ts)
 * - BENCH_SCENARIOS=a,b   only these scenarios (ids as in SCENARIOS below)
 * - BENCH_SOURCE=ts       run requests-cache and the child processes from the TypeScript sources through tsx
 *                         (default: lib/ and the child processes compiled to JavaScript first, as published)
 * - BENCH_LIB_DIR=dir     load requests-cache from this compiled copy instead (A/B experiments; left in place)
 * - BENCH_REDIS_URL=url   the Redis of the fleet scenario (default redis://127.0.0.1:6379)
 * - REQUESTS_CACHE_REQUIRE_SERVICES=1  a missing Redis fails the run instead of being skipped
 */
import {type ChildProcess, execFile, fork} from 'node:child_process';
import {promisify} from 'node:util';
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {BENCH_DIR, CLIENT_LABELS, CLIENT_NAMES, type ClientName, caches, isRequestsCache} from './clients.js';
import type {OriginReply, OriginRequest} from './origin.js';
import {compileBenchProcesses, compileLibrary} from './compile-library.js';
import {format, median} from './stats.js';
import type {DoneReply, HeapReply, HeapResult, RoundCommand, RoundReply, RoundResult, UrlPlan, WorkerCommand, WorkerReply} from './worker.js';
import {redisAvailable} from './redis-available.js';
import type {IdentityResult} from './identity.js';
import {type FleetTarget, fleetScenario} from './fleet.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const quick = process.env['BENCH_QUICK'] === '1';
const rounds = Number(process.env['BENCH_ROUNDS'] ?? (quick ? 1 : 7));
const durationMs = Number(process.env['BENCH_DURATION_MS'] ?? (quick ? 150 : 300));
/** Warm-up before each round: longer before a process's first round, for the JIT. */
const firstWarmupMs = quick ? 100 : 500;
const warmupMs = 100;
const removeRounds = Math.min(rounds, 3);
const scaleSizes = quick ? [1000, 5000] : [1000, 10_000, 100_000];
/** requests-cache's own clients: the issue's 100,000 hits. */
const heapCheckpoints = quick ? [500, 5000] : [1000, 100_000];
/** Peers: enough hits to show a leak, fewer to keep the run short. */
const peerHeapCheckpoints = quick ? [500, 2000] : [1000, 20_000];
/** got's own cache grows its heap by ~14 KB per hit: 100k hits would take minutes and gigabytes. */
const gotHeapCheckpoints = quick ? [500, 1500] : [1000, 10_000];
const requireServices = process.env['REQUESTS_CACHE_REQUIRE_SERVICES'] === '1';
const runId = `${process.pid}-${Date.now().toString(36)}`;
/** requests-cache compiled to JavaScript as published (see bench/library.ts), unless BENCH_SOURCE=ts. */
const fromSources = process.env['BENCH_SOURCE'] === 'ts';
const buildDir = path.join(BENCH_DIR, `build-${runId}`);
const givenLibDir = process.env['BENCH_LIB_DIR'];
const libDir = givenLibDir === undefined || givenLibDir === ''
	? (fromSources ? undefined : compileLibrary(path.join(buildDir, 'lib')))
	: path.resolve(givenLibDir);
/** Where the origin and worker scripts are, and how to start them: compiled and plain, or through tsx. */
const processes = fromSources
	? {dir: here, extension: 'ts', execArgv: ['--import', 'tsx']}
	: {dir: compileBenchProcesses(path.join(buildDir, 'bench')), extension: 'js', execArgv: []};

const SCENARIOS = {
	'hits-1k': '1 KB hits, sequential',
	'hits-1k-c50': '1 KB hits, 50 in flight',
	'hits-100k': '100 KB hits, sequential',
	'misses-1k': '1 KB misses (unique URLs), sequential',
	scale: 'hit latency at 1k / 10k / 100k stored entries (requests-cache only)',
	'remove-old': 'removeOldEntries on 100k entries (half removed; requests-cache only)',
	heap: 'heap after GC: 1,000 hits vs 100,000 hits of one URL',
	identity: 'a new credential: 10,000 misses with distinct bearer tokens vs none, installCache()\'d fetch, 50 in flight (bench/identity.ts)',
	fleet: '4 processes behind one Redis / one SQLite file: origin requests per key, takeover, hits with coalesce on/off (requests-cache only; bench/fleet.ts)',
} as const;
type ScenarioId = keyof typeof SCENARIOS;

function listFromEnv<T extends string>(name: string, all: readonly T[]): T[] {
	const raw = process.env[name];
	if (raw === undefined || raw === '') {
		return [...all];
	}

	const wanted = raw.split(',').map(item => item.trim());
	for (const item of wanted) {
		if (!all.includes(item as T)) {
			throw new TypeError(`${name}: unknown name ${JSON.stringify(item)}; known: ${all.join(', ')}`);
		}
	}

	return wanted as T[];
}

// --- the origin process ---------------------------------------------------------------------

type OriginHandle = {url: string; hits(): Promise<number>; stop(): void};

async function startOrigin(): Promise<OriginHandle> {
	const child = fork(path.join(processes.dir, `origin.${processes.extension}`), [], {execArgv: processes.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	let nextId = 0;
	const waiting = new Map<number, (hits: number) => void>();
	const url = await new Promise<string>((resolve, reject) => {
		child.once('error', reject);
		child.once('exit', code => {
			reject(new Error(`the origin exited early (${code})`));
		});
		child.on('message', (message: OriginReply) => {
			if (message.type === 'listening') {
				resolve(message.url);
			} else {
				waiting.get(message.id)?.(message.hits);
				waiting.delete(message.id);
			}
		});
	});
	return {
		url,
		async hits() {
			const id = nextId++;
			return new Promise<number>(resolve => {
				waiting.set(id, resolve);
				child.send({type: 'hits', id} satisfies OriginRequest);
			});
		},
		stop() {
			child.kill();
		},
	};
}

// --- the client processes -------------------------------------------------------------------

type WorkerHandle = {call(command: WorkerCommand): Promise<WorkerReply & {ok: true}>; stop(): void};

function startWorker(): WorkerHandle {
	const child: ChildProcess = fork(path.join(processes.dir, `worker.${processes.extension}`), [], {
		execArgv: ['--expose-gc', '--max-old-space-size=4096', '--no-warnings', ...processes.execArgv],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	let pending: {resolve: (reply: WorkerReply & {ok: true}) => void; reject: (error: Error) => void} | undefined;
	child.on('message', (reply: WorkerReply) => {
		const waiter = pending;
		pending = undefined;
		if (reply.ok) {
			waiter?.resolve(reply);
		} else {
			waiter?.reject(new Error(reply.error));
		}
	});
	child.on('exit', (code, signal) => {
		pending?.reject(new Error(`the client process exited (${code ?? signal})`));
		pending = undefined;
	});
	return {
		async call(command) {
			return new Promise((resolve, reject) => {
				pending = {resolve, reject};
				child.send(command);
			});
		},
		stop() {
			if (child.connected) {
				child.disconnect();
			}

			// A client that keeps handles open (a pool, a timer) must not keep the run waiting.
			setTimeout(() => child.kill(), 2000).unref();
		},
	};
}

class OriginCheckError extends Error {}

/** Run one command and fail loudly unless exactly the expected number of requests reached the origin. */
async function checked<T extends WorkerReply & {ok: true}>(
	origin: OriginHandle,
	worker: WorkerHandle,
	what: string,
	command: WorkerCommand,
	expected: (reply: T) => number,
): Promise<{reply: T; originHits: number}> {
	const before = await origin.hits();
	const reply = await worker.call(command) as T;
	const originHits = (await origin.hits()) - before;
	const wanted = expected(reply);
	if (originHits !== wanted) {
		throw new OriginCheckError(`ORIGIN CHECK FAILED: ${what}: ${originHits} requests reached the origin, expected ${wanted}`);
	}

	return {reply, originHits};
}

// --- results ----------------------------------------------------------------------------------

export type Row = {
	scenario: ScenarioId | `scale-${number}`;
	client: ClientName;
	rounds: RoundResult[];
	rps: number;
	p50: number;
	p99: number;
	/** Requests that reached the origin during the measured rounds (warm-ups included). */
	originHits: number;
	peakRssMb: number;
	/** For `remove-old`: seconds per call; for `heap`: MB at each checkpoint; for scale: fill seconds. */
	extra?: Record<string, unknown>;
};

const rows: Row[] = [];
const skipped: string[] = [];

function summarize(scenario: Row['scenario'], client: ClientName, results: RoundResult[], peakRssMb: number, extra?: Record<string, unknown>): Row {
	return {
		scenario,
		client,
		rounds: results,
		rps: median(results.map(result => result.rps)),
		p50: median(results.map(result => result.p50)),
		p99: median(results.map(result => result.p99)),
		originHits: results.reduce((sum, result) => sum + result.originRequests, 0),
		peakRssMb,
		...(extra === undefined ? {} : {extra}),
	};
}

// --- scenarios --------------------------------------------------------------------------------

type Member = {
	/** Shown in messages and used for row keys. */
	client: ClientName;
	worker: WorkerHandle;
	/** The round to run; `index` lets misses use fresh URLs each round. */
	command: (index: number) => Omit<RoundCommand, 'cmd' | 'warmupMs' | 'durationMs'>;
	what: string;
};

/**
 * Run `rounds` rounds of every member, interleaved (round 1 of each, then round 2 of each, the
 * order rotating), so that load from elsewhere on the machine falls on all clients alike.
 */
async function interleaved(origin: OriginHandle, members: readonly Member[]): Promise<RoundResult[][]> {
	const results: RoundResult[][] = members.map(() => []);
	for (let index = 0; index < rounds; index++) {
		for (let offset = 0; offset < members.length; offset++) {
			const position = (index + offset) % members.length;
			const member = members[position]!;
			const command: RoundCommand = {cmd: 'round', warmupMs: index === 0 ? firstWarmupMs : warmupMs, durationMs, ...member.command(index)};
			// eslint-disable-next-line no-await-in-loop -- one client at a time: the machine has 2 cores
			const {reply} = await checked<RoundReply>(origin, member.worker, `${member.what}, round ${index + 1}`, command, r => r.result.originRequests);
			results[position]!.push(reply.result);
		}
	}

	return results;
}

/** Start a client process per entry (in parallel: start-up is most of the cost) and set each up. */
async function startWorkers(specs: ReadonlyArray<{client: ClientName; id: string}>): Promise<WorkerHandle[]> {
	const workers = specs.map(() => startWorker());
	try {
		await Promise.all(workers.map(async (worker, index) => worker.call({cmd: 'setup', client: specs[index]!.client, runId: `${runId}-${specs[index]!.id}`, libDir})));
	} catch (error) {
		for (const worker of workers) {
			worker.stop();
		}

		throw error;
	}

	return workers;
}

/** Close the clients; their peak RSS. */
async function closeWorkers(workers: readonly WorkerHandle[]): Promise<Array<{peakRssMb: number; listenerWarnings: number}>> {
	try {
		return await Promise.all(workers.map(async worker => {
			const closed = await worker.call({cmd: 'close'});
			return closed.kind === 'closed' ? {peakRssMb: closed.peakRssMb, listenerWarnings: closed.listenerWarnings} : {peakRssMb: Number.NaN, listenerWarnings: 0};
		}));
	} finally {
		for (const worker of workers) {
			worker.stop();
		}
	}
}

async function prime(origin: OriginHandle, worker: WorkerHandle, client: ClientName, url: string, bytes: number): Promise<void> {
	await checked<DoneReply>(origin, worker, `${client}: priming ${url}`, {cmd: 'prime', url, bytes}, reply => reply.originRequests);
}

type BasicScenario = 'hits-1k' | 'hits-1k-c50' | 'hits-100k' | 'misses-1k';

/** Clients that take part only in some scenarios: diagnostics beside the main comparison. */
const ONLY_IN: Partial<Record<ClientName, ReadonlyArray<ScenarioId>>> = {
	'rc-sqlite-nohot': ['hits-1k', 'hits-100k', 'scale'],
	'rc-session': ['misses-1k'],
};

function takesPart(client: ClientName, scenario: ScenarioId): boolean {
	return ONLY_IN[client]?.includes(scenario) ?? true;
}

/** One scenario for every client, each in a fresh process, rounds interleaved. */
async function basicScenario(origin: OriginHandle, clients: readonly ClientName[], scenario: BasicScenario): Promise<void> {
	const big = scenario === 'hits-100k';
	const bytes = big ? 100 * 1024 : 1024;
	const workers = await startWorkers(clients.map(client => ({client, id: `${scenario}-${client}`})));
	let closed = false;
	try {
		const members: Member[] = [];
		for (const [index, client] of clients.entries()) {
			const worker = workers[index]!;
			const what = `${client} ${scenario}`;
			if (scenario === 'misses-1k') {
				const prefix = `${origin.url}/json?miss=${runId}-${client}-`;
				members.push({client, worker, what, command: round => ({mode: 'misses', urls: {kind: 'unique', prefix: `${prefix}${round}-`}, concurrency: 1, bytes})});
				continue;
			}

			const url = `${origin.url}/${big ? 'big' : 'json'}?client=${client}&run=${runId}`;
			// eslint-disable-next-line no-await-in-loop -- the origin check needs one client at a time
			await prime(origin, worker, client, url, bytes);
			const urls: UrlPlan = {kind: 'same', url};
			members.push({client, worker, what, command: () => ({mode: 'hits', urls, concurrency: scenario === 'hits-1k-c50' ? 50 : 1, bytes})});
		}

		const results = await interleaved(origin, members);
		const closing = await closeWorkers(workers);
		closed = true;
		for (const [index, client] of clients.entries()) {
			const {peakRssMb, listenerWarnings} = closing[index]!;
			rows.push(summarize(scenario, client, results[index]!, peakRssMb, listenerWarnings > 0 ? {listenerWarnings} : undefined));
		}
	} finally {
		if (!closed) {
			for (const worker of workers) {
				worker.stop();
			}
		}
	}
}

/**
 * Hit latency with 1k, 10k and 100k entries stored: one process per size (filled directly from a
 * real cached response), rounds interleaved across sizes so that the ratio is not a ratio of two
 * different minutes on a shared machine. Then removeOldEntries on the largest cache.
 */
async function scaleScenario(origin: OriginHandle, client: ClientName, wantScale: boolean, wantRemove: boolean): Promise<void> {
	const template = `${origin.url}/json?template=${runId}`;
	const prefix = `${origin.url}/json?entry=${runId}-`;
	const now = Date.now();
	const oldBefore = now - 2 * 3600_000;
	const cutoff = now - 3600_000;
	const sizes = wantScale ? scaleSizes : [scaleSizes.at(-1)!];
	const workers = await startWorkers(sizes.map(size => ({client, id: `scale-${size}`})));
	let closed = false;
	try {
		const fillSeconds: number[] = [];
		for (const [index, size] of sizes.entries()) {
			const worker = workers[index]!;
			// eslint-disable-next-line no-await-in-loop -- one at a time: origin checks, and 2 cores
			await prime(origin, worker, client, template, 1024);
			// eslint-disable-next-line no-await-in-loop
			const {reply} = await checked<DoneReply>(origin, worker, `${client}: filling to ${size}`, {cmd: 'fill', template, prefix, from: 0, to: size, oldBefore, newAt: now}, () => 0);
			fillSeconds.push(reply.seconds);
		}

		const results = wantScale
			? await interleaved(origin, sizes.map((size, index) => ({
				client,
				worker: workers[index]!,
				what: `${client} scale ${size}`,
				command: () => ({mode: 'hits', urls: {kind: 'random', prefix, count: size}, concurrency: 1, bytes: 1024}),
			})))
			: [];

		const removals: Array<{seconds: number; cpuSeconds: number; removed: number; remaining: number; refillSeconds: number}> = [];
		const largest = workers.at(-1)!;
		const filled = sizes.at(-1)!;
		if (wantRemove) {
			for (let index = 0; index < removeRounds; index++) {
				let refillSeconds = 0;
				if (index > 0) {
					// Put back what the last call removed (the even, old entries), untimed.
					// eslint-disable-next-line no-await-in-loop
					const {reply} = await checked<DoneReply>(origin, largest, `${client}: refilling`, {cmd: 'fill', template, prefix, from: 0, to: filled, oldBefore, newAt: now}, () => 0);
					refillSeconds = reply.seconds;
				}

				// eslint-disable-next-line no-await-in-loop
				const {reply} = await checked<DoneReply>(origin, largest, `${client}: removeOldEntries`, {cmd: 'removeOld', before: cutoff}, () => 0);
				// Exact: the old half went, and the new half and the primed template stayed.
				const expected = filled / 2;
				if (reply.removed !== expected) {
					throw new Error(`${client}: removeOldEntries removed ${reply.removed}, expected ${expected}`);
				}

				if (reply.remaining !== filled - expected + 1) {
					throw new Error(`${client}: after removeOldEntries count() is ${reply.remaining}, expected ${filled - expected + 1}`);
				}

				removals.push({seconds: reply.seconds, cpuSeconds: reply.cpuSeconds ?? Number.NaN, removed: reply.removed, remaining: reply.remaining, refillSeconds});
			}
		}

		const closing = await closeWorkers(workers);
		closed = true;
		for (const [index, size] of sizes.entries()) {
			if (wantScale) {
				rows.push(summarize(`scale-${size}`, client, results[index]!, closing[index]!.peakRssMb, {entries: size, fillSeconds: fillSeconds[index]}));
			}
		}

		if (wantRemove) {
			const seconds = median(removals.map(removal => removal.seconds));
			rows.push({
				scenario: 'remove-old',
				client,
				rounds: [],
				rps: Number.NaN,
				p50: seconds * 1000,
				p99: Number.NaN,
				originHits: 0,
				peakRssMb: closing.at(-1)!.peakRssMb,
				extra: {entries: filled, removals, medianSeconds: seconds, medianCpuSeconds: median(removals.map(removal => removal.cpuSeconds))},
			});
		}
	} finally {
		if (!closed) {
			for (const worker of workers) {
				worker.stop();
			}
		}
	}
}

async function heapScenario(origin: OriginHandle, client: ClientName): Promise<void> {
	const url = `${origin.url}/json?heap=${runId}-${client}`;
	const checkpoints = client.startsWith('got-cache') ? gotHeapCheckpoints : (isRequestsCache(client) ? heapCheckpoints : peerHeapCheckpoints);
	const [worker] = await startWorkers([{client, id: 'heap'}]);
	let result: HeapResult;
	try {
		await prime(origin, worker!, client, url, 1024);
		const {reply} = await checked<HeapReply>(origin, worker!, `${client} heap`, {cmd: 'heap', url, bytes: 1024, checkpoints}, r => r.result.originRequests);
		result = reply.result;
	} catch (error) {
		worker!.stop();
		throw error;
	}

	const {peakRssMb} = (await closeWorkers([worker!]))[0]!;
	const growthMb = result.heapMb.at(-1)! - result.heapMb[0]!;
	const hits = result.checkpoints.at(-1)! - result.checkpoints[0]!;
	rows.push({
		scenario: 'heap',
		client,
		rounds: [],
		rps: result.rps,
		p50: Number.NaN,
		p99: Number.NaN,
		originHits: result.originRequests,
		peakRssMb,
		extra: {checkpoints: result.checkpoints, heapMb: result.heapMb, growthMb, growthKbPerHit: (growthMb * 1024) / hits, growthMbPer100k: (growthMb / hits) * 100_000},
	});
}

// --- output -----------------------------------------------------------------------------------

/** The fastest peer (not requests-cache, not the no-cache baseline unless it is all there is) of a scenario. */
function fastestPeer(scenario: Row['scenario']): Row | undefined {
	const peers = rows.filter(row => row.scenario === scenario && !isRequestsCache(row.client));
	const caching = peers.filter(row => caches(row.client) || scenario === 'misses-1k');
	return (caching.length > 0 ? caching : peers).reduce<Row | undefined>((best, row) => (best === undefined || row.rps > best.rps ? row : best), undefined);
}

function ratio(value: number, reference: number | undefined): string {
	return reference === undefined || Number.isNaN(value) || Number.isNaN(reference) ? '–' : `${format(value / reference, 3)}x`;
}

function table(): string {
	const lines = [
		'| scenario | client | req/s | × fastest peer | p50 ms | × peer | p99 ms | × peer | origin hits | peak RSS MB |',
		'| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
	];
	for (const scenario of ['hits-1k', 'hits-1k-c50', 'hits-100k', 'misses-1k'] as const) {
		const peer = fastestPeer(scenario);
		for (const row of rows.filter(r => r.scenario === scenario)) {
			lines.push(`| ${SCENARIOS[scenario]} | ${CLIENT_LABELS[row.client]}${row === peer ? ' (fastest peer)' : ''} | ${format(row.rps)} | ${ratio(row.rps, peer?.rps)} | ${format(row.p50)} | ${ratio(row.p50, peer?.p50)} | ${format(row.p99)} | ${ratio(row.p99, peer?.p99)} | ${row.originHits} | ${format(row.peakRssMb)} |`);
		}
	}

	const scaleRows = rows.filter(row => row.scenario.startsWith('scale-'));
	if (scaleRows.length > 0) {
		lines.push('', '| scale: random-key hits | client | entries | req/s | p50 ms | p50 × 1k entries | p99 ms | origin hits | fill s |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
		for (const row of scaleRows) {
			const base = scaleRows.find(r => r.client === row.client && r.scenario === `scale-${scaleSizes[0]}`);
			lines.push(`| ${row.scenario} | ${CLIENT_LABELS[row.client]} | ${String(row.extra?.['entries'])} | ${format(row.rps)} | ${format(row.p50)} | ${ratio(row.p50, base?.p50)} | ${format(row.p99)} | ${row.originHits} | ${format(row.extra?.['fillSeconds'] as number)} |`);
		}
	}

	const removeRows = rows.filter(row => row.scenario === 'remove-old');
	if (removeRows.length > 0) {
		lines.push('', '| removeOldEntries | client | entries | removed | median s | rounds (s) | median CPU s |', '| --- | --- | ---: | ---: | ---: | --- | ---: |');
		for (const row of removeRows) {
			const removals = row.extra?.['removals'] as Array<{seconds: number; removed: number}>;
			lines.push(`| remove-old | ${CLIENT_LABELS[row.client]} | ${String(row.extra?.['entries'])} | ${removals[0]?.removed ?? '–'} | ${format(row.extra?.['medianSeconds'] as number)} | ${removals.map(r => format(r.seconds)).join(', ')} | ${format(row.extra?.['medianCpuSeconds'] as number)} |`);
		}
	}

	const heapRows = rows.filter(row => row.scenario === 'heap');
	if (heapRows.length > 0) {
		lines.push('', '| heap after GC | client | hits (from → to) | heap MB (from → to) | growth MB | growth per 100k hits MB | hits/s | origin hits | peak RSS MB |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
		for (const row of heapRows) {
			const checkpoints = row.extra?.['checkpoints'] as number[];
			const heapMb = row.extra?.['heapMb'] as number[];
			lines.push(`| heap | ${CLIENT_LABELS[row.client]} | ${checkpoints.join(' → ')} | ${heapMb.map(mb => format(mb)).join(' → ')} | ${format(row.extra?.['growthMb'] as number)} | ${format(row.extra?.['growthMbPer100k'] as number)} | ${format(row.rps)} | ${row.originHits} | ${format(row.peakRssMb)} |`);
		}
	}

	return lines.join('\n');
}

type Target = FleetTarget;
/** The fleet scenario's verdicts (issue 19) and figures, when it ran. */
const fleetTargets: Target[] = [];
let fleetFigures: Record<string, unknown> | undefined;

function find(scenario: Row['scenario'], client: ClientName): Row | undefined {
	return rows.find(row => row.scenario === scenario && row.client === client);
}

/** The figures of the run before the engine (bench/baseline.json): the "today" of issue 8's targets. */
type BaselineRow = {scenario: string; client: ClientName; rps: number; p50: number; p99: number; medianSeconds?: number; growthMb?: number};
const baseline = (JSON.parse(readFileSync(path.join(here, 'baseline.json'), 'utf8')) as {commit: string; rows: BaselineRow[]});

function before(scenario: string, client: ClientName): BaselineRow | undefined {
	return baseline.rows.find(row => row.scenario === scenario && row.client === client);
}

function targets(): Target[] {
	const result: Target[] = [];
	const add = (target: string, value: number | undefined, ok: (value: number) => boolean, figures: string): void => {
		const known = value !== undefined && !Number.isNaN(value);
		result.push({target, met: known ? ok(value) : undefined, figures: known ? figures : 'not measured in this run'});
	};

	// Hits: memory against the fastest peer, SQLite's hot path against memory (req/s, the mean).
	const peer = fastestPeer('hits-1k');
	const memory = find('hits-1k', 'rc-memory');
	const sqlite = find('hits-1k', 'rc-sqlite');
	const memoryRatio = memory && peer ? memory.rps / peer.rps : undefined;
	add('memory: 1 KB hits ≥ 4x the fastest peer (req/s)', memoryRatio, v => v >= 4,
		`${format(memory?.rps)} req/s vs ${peer ? CLIENT_LABELS[peer.client] : '?'} ${format(peer?.rps)} req/s = ${format(memoryRatio)}x (p50 ${format(memory?.p50)} vs ${format(peer?.p50)} ms)`);
	const sqliteVsMemory = sqlite && memory ? sqlite.rps / memory.rps : undefined;
	add('SQLite (hot cache): 1 KB hits ≥ 0.8x memory (req/s)', sqliteVsMemory, v => v >= 0.8,
		`${format(sqlite?.rps)} vs ${format(memory?.rps)} req/s = ${format(sqliteVsMemory)}x (p50 ${format(sqlite?.p50)} vs ${format(memory?.p50)} ms)`);

	// Misses: speed relative to plain got on the same origin, on the median latency (got p50 / client
	// p50): on a shared 2-core machine the mean of a network round trip is mostly other processes'
	// stalls. The mean ratio is shown beside it.
	const plain = find('misses-1k', 'got');
	const session = find('misses-1k', 'rc-session');
	for (const [client, wanted] of [['rc-memory', 0.9], ['rc-sqlite', 0.75], ['rc-redis', 0.75]] as const) {
		const miss = find('misses-1k', client);
		const speed = miss && plain ? plain.p50 / miss.p50 : undefined;
		const was = before('misses-1k', client);
		const wasGot = before('misses-1k', 'got');
		add(`${CLIENT_LABELS[client]}: 1 KB misses ≥ ${wanted}x plain got (p50 latency)`, speed, v => v >= wanted,
			`p50 ${format(miss?.p50)} vs got ${format(plain?.p50)} ms = ${format(speed)}x (Session without cache ${format(session?.p50)} ms); mean ${format(miss ? 1000 / miss.rps : undefined)} vs ${format(plain ? 1000 / plain.rps : undefined)} ms = ${format(miss && plain ? miss.rps / plain.rps : undefined)}x; before: ${format(was && wasGot ? wasGot.p50 / was.p50 : undefined)}x`);
	}

	// 100 KB hits: Redis against got without a cache on the same URL; SQLite and memory against
	// their own figures before the engine (both req/s and p50 must be no worse).
	const bigGot = find('hits-100k', 'got');
	const bigRedis = find('hits-100k', 'rc-redis');
	const redisSpeed = bigRedis && bigGot ? bigRedis.rps / bigGot.rps : undefined;
	const redisBefore = before('hits-100k', 'rc-redis');
	add('Redis: 100 KB hits ≥ 4x got without a cache on the same URL (req/s)', redisSpeed, v => v >= 4,
		`${format(bigRedis?.rps)} vs got ${format(bigGot?.rps)} req/s = ${format(redisSpeed)}x (p50 ${format(bigRedis?.p50)} vs ${format(bigGot?.p50)} ms); before the engine ${format(redisBefore?.rps)} req/s, p50 ${format(redisBefore?.p50)} ms: ${format(bigRedis && redisBefore ? bigRedis.rps / redisBefore.rps : undefined)}x that`);
	for (const client of ['rc-memory', 'rc-sqlite'] as const) {
		const now = find('hits-100k', client);
		const was = before('hits-100k', client);
		const rpsRatio = now && was ? now.rps / was.rps : undefined;
		const p50Ratio = now && was ? was.p50 / now.p50 : undefined;
		add(`${CLIENT_LABELS[client]}: 100 KB hits no slower than before the engine (req/s and p50)`, rpsRatio === undefined || p50Ratio === undefined ? undefined : Math.min(rpsRatio, p50Ratio), v => v >= 1,
			`${format(now?.rps)} vs ${format(was?.rps)} req/s = ${format(rpsRatio)}x; p50 ${format(now?.p50)} vs ${format(was?.p50)} ms (${format(p50Ratio)}x as fast)`);
	}

	const largest = scaleSizes.at(-1)!;
	const remove = find('remove-old', 'rc-sqlite');
	const removeSeconds = remove?.extra?.['medianSeconds'] as number | undefined;
	const removals = remove?.extra?.['removals'] as Array<{removed: number; remaining: number}> | undefined;
	add(`SQLite: removeOldEntries on ${largest} entries ≤ 0.5 s, exact`, removeSeconds, v => v <= 0.5,
		`${format(removeSeconds)} s (median of ${removals?.length ?? 0}; CPU ${format(remove?.extra?.['medianCpuSeconds'] as number)} s; removed ${removals?.map(r => r.removed).join(', ')} in the calls, then ${removals?.map(r => r.remaining).join(', ')} responses left (the new half and the primed template); before the engine ${format(before('remove-old', 'rc-sqlite')?.medianSeconds)} s)`);
	for (const client of ['rc-memory', 'rc-sqlite', 'rc-redis'] as const) {
		const heap = find('heap', client);
		const growth = heap?.extra?.['growthMb'] as number | undefined;
		const checkpoints = heap?.extra?.['checkpoints'] as number[] | undefined;
		add(`${CLIENT_LABELS[client]}: heap flat over ${checkpoints?.at(-1) ?? '?'} hits (growth after GC ≤ 1 MB from ${checkpoints?.[0] ?? '?'} hits)`, growth, v => v <= 1, `${format(growth)} MB`);
	}

	// The earlier targets of issue 5 that issue 8 does not restate, kept to catch regressions.
	for (const client of ['rc-memory', 'rc-sqlite', 'rc-sqlite-nohot', 'rc-redis'] as const) {
		const small = find(`scale-${scaleSizes[0]!}`, client);
		const large = find(`scale-${largest}`, client);
		// Both the median and the mean: a hot cache in front of a store makes latency bimodal, and
		// the median alone would hide the slow half.
		const p50Growth = small && large ? large.p50 / small.p50 : undefined;
		const meanGrowth = small && large ? small.rps / large.rps : undefined;
		const growth = p50Growth === undefined || meanGrowth === undefined ? undefined : Math.max(p50Growth, meanGrowth);
		add(`(issue 5) ${CLIENT_LABELS[client]}: hit latency (p50 and mean) at ${largest} entries ≤ 1.5x that at ${scaleSizes[0]}`, growth, v => v <= 1.5,
			`p50 ${format(large?.p50)} vs ${format(small?.p50)} ms = ${format(p50Growth)}x; mean ${format(large ? 1000 / large.rps : undefined)} vs ${format(small ? 1000 / small.rps : undefined)} ms = ${format(meanGrowth)}x`);
	}

	for (const client of ['got-cache-map', 'got-cache-keyv-sqlite'] as const) {
		const heap = find('heap', client);
		const per100k = heap?.extra?.['growthMbPer100k'] as number | undefined;
		if (heap !== undefined) {
			result.push({target: `(for comparison) ${CLIENT_LABELS[client]}: heap growth`, met: undefined, figures: `${format(heap.extra?.['growthMb'] as number)} MB over ${(heap.extra?.['checkpoints'] as number[]).join(' → ')} hits = ${format(per100k)} MB per 100k hits`});
		}
	}

	return result;
}

/** The targets as a Markdown table (printed, and kept in the results file for docs/performance.md). */
function targetTable(verdicts: readonly Target[]): string {
	const lines = ['| | target | figures |', '| --- | --- | --- |'];
	for (const verdict of verdicts) {
		lines.push(`| ${verdict.met === undefined ? '—' : (verdict.met ? 'met' : '**missed**')} | ${verdict.target} | ${verdict.figures} |`);
	}

	return lines.join('\n');
}

// --- main -------------------------------------------------------------------------------------

/** The identity scenario: bench/identity.ts in a process of its own (it installs the cache globally). */
async function identityScenario(): Promise<IdentityResult> {
	const {stdout} = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(here, 'identity.ts'), '--json', quick ? '2000' : '10000'], {encoding: 'utf8', maxBuffer: 1 << 20});
	return JSON.parse(stdout.trim().split('\n').at(-1)!) as IdentityResult;
}

async function main(): Promise<void> {
	const started = performance.now();
	let identity: IdentityResult | undefined;
	const scenarios = listFromEnv('BENCH_SCENARIOS', Object.keys(SCENARIOS) as ScenarioId[]);
	let clients = listFromEnv('BENCH_CLIENTS', CLIENT_NAMES);
	if (clients.includes('rc-redis') && !(await redisAvailable())) {
		const message = 'Redis is not reachable at 127.0.0.1:6379';
		if (requireServices) {
			throw new Error(`${message} and REQUESTS_CACHE_REQUIRE_SERVICES=1`);
		}

		console.warn(`\n*** SKIPPED: requests-cache (Redis) because ${message} ***\n`);
		skipped.push(`rc-redis: ${message}`);
		clients = clients.filter(client => client !== 'rc-redis');
	}

	mkdirSync(BENCH_DIR, {recursive: true});
	const origin = await startOrigin();
	console.log(`bench: origin ${origin.url}; ${rounds} round(s) of ${durationMs} ms per scenario${quick ? ' (BENCH_QUICK)' : ''}; clients: ${clients.join(', ')}`);
	try {
		for (const scenario of ['hits-1k', 'hits-1k-c50', 'hits-100k', 'misses-1k'] as const) {
			if (!scenarios.includes(scenario)) {
				continue;
			}

			const phase = performance.now();
			// eslint-disable-next-line no-await-in-loop -- one scenario at a time
			await basicScenario(origin, clients.filter(client => takesPart(client, scenario)), scenario);
			console.log(`${scenario}: ${format((performance.now() - phase) / 1000)} s`);
			for (const row of rows.filter(r => r.scenario === scenario)) {
				console.log(`  ${scenario.padEnd(12)} ${row.client.padEnd(24)} ${format(row.rps).padStart(8)} req/s  p50 ${format(row.p50)} ms  p99 ${format(row.p99)} ms  origin ${row.originHits}`);
			}
		}

		const wantScale = scenarios.includes('scale');
		const wantRemove = scenarios.includes('remove-old');
		if (wantScale || wantRemove) {
			for (const client of clients.filter(c => isRequestsCache(c) && caches(c) && (wantScale ? takesPart(c, 'scale') : c !== 'rc-sqlite-nohot'))) {
				const phase = performance.now();
				// eslint-disable-next-line no-await-in-loop
				await scaleScenario(origin, client, wantScale, wantRemove && client !== 'rc-sqlite-nohot');
				console.log(`scale/remove-old ${client}: ${format((performance.now() - phase) / 1000)} s`);
				for (const row of rows.filter(r => r.client === client && (r.scenario.startsWith('scale-') || r.scenario === 'remove-old'))) {
					console.log(`  ${row.scenario.padEnd(12)} ${client.padEnd(24)} ${row.scenario === 'remove-old' ? `${format(row.p50)} ms` : `${format(row.rps)} req/s  p50 ${format(row.p50)} ms`}`);
				}
			}
		}

		if (scenarios.includes('heap')) {
			for (const client of clients.filter(c => caches(c) && takesPart(c, 'heap'))) {
				const phase = performance.now();
				// eslint-disable-next-line no-await-in-loop
				await heapScenario(origin, client);
				console.log(`heap ${client}: ${format((performance.now() - phase) / 1000)} s`);
				const row = rows.at(-1)!;
				console.log(`  heap         ${client.padEnd(24)} ${(row.extra?.['heapMb'] as number[]).map(mb => format(mb)).join(' → ')} MB`);
			}
		}
		if (scenarios.includes('identity')) {
			const phase = performance.now();
			identity = await identityScenario();
			console.log(`identity: ${format((performance.now() - phase) / 1000)} s`);
			for (const [name, run] of [['no Authorization', identity.plain], ['new bearer token each', identity.bearer], ['no Authorization again', identity.plainAgain]] as const) {
				console.log(`  identity     ${name.padEnd(24)} ${format(run.rps).padStart(8)} req/s  p50 ${format(run.p50)} ms  p99 ${format(run.p99)} ms`);
			}

			console.log(`  identity     createKey: new bearer token ${format(identity.newTokenKeyMicros)} µs, known password ${format(identity.knownPasswordKeyMicros)} µs, no credential ${format(identity.noCredentialKeyMicros)} µs`);
		}

		if (scenarios.includes('fleet')) {
			const phase = performance.now();
			const redisUrl = process.env['BENCH_REDIS_URL'] ?? (clients.includes('rc-redis') ? 'redis://127.0.0.1:6379' : undefined);
			const fleet = await fleetScenario({redisUrl, quick});
			fleetTargets.push(...fleet.targets);
			fleetFigures = fleet.figures;
			console.log(`fleet: ${format((performance.now() - phase) / 1000)} s`);
		}
	} finally {
		origin.stop();
		rmSync(buildDir, {recursive: true, force: true});
	}

	const wallSeconds = (performance.now() - started) / 1000;
	const table_ = table();
	const verdicts = [...targets(), ...fleetTargets];
	console.log(`\n${table_}\n`);
	console.log(`Targets (issue 8; before the engine: bench/baseline.json, ${baseline.commit}):\n\n${targetTable(verdicts)}\n`);

	if (skipped.length > 0) {
		console.warn(`\n*** SKIPPED: ${skipped.join('; ')} ***`);
	}

	console.log(`\nwall time ${format(wallSeconds)} s`);
	const results = {
		date: new Date().toISOString(),
		quick,
		machine: {cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 1024 ** 3), node: process.version, platform: `${os.platform()} ${os.release()}`},
		settings: {library: libDir === undefined ? 'TypeScript sources through tsx' : (givenLibDir ? `compiled copy in ${givenLibDir}` : 'lib/ compiled to JavaScript'), rounds, durationMs, firstWarmupMs, warmupMs, removeRounds, scaleSizes, heapCheckpoints, peerHeapCheckpoints, gotHeapCheckpoints, scenarios, clients},
		skipped,
		wallSeconds,
		rows,
		identity,
		fleet: fleetFigures,
		targets: verdicts,
		table: table_,
		targetTable: targetTable(verdicts),
	};
	const file = path.join(here, 'results', quick ? 'quick.json' : (process.env['BENCH_CLIENTS'] || process.env['BENCH_SCENARIOS'] ? `partial-${Date.now()}.json` : 'latest.json'));
	mkdirSync(path.dirname(file), {recursive: true});
	writeFileSync(file, `${JSON.stringify(results, null, '\t')}\n`);
	console.log(`results: ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
	console.error(error instanceof OriginCheckError ? `\n*** ${error.message} ***\n` : error);
	process.exitCode = 1;
});
