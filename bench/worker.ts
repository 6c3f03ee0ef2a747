/**
 * One client in its own process (forked by bench/run.ts), so that its heap, JIT and RSS are its
 * own. It obeys one command at a time over IPC; the parent reads the origin's hit counter between
 * commands and fails the run when a "hit" round reached the origin.
 */
import {readFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';
import {setImmediate as nextTurn} from 'node:timers/promises';
import {type Client, type ClientName, caches, createClient} from './clients.js';
import {Latencies} from './stats.js';

/** Which URLs a round requests. */
export type UrlPlan =
	/** The same URL every time (hits once primed). */
	| {kind: 'same'; url: string}
	/** A URL never requested before each time (misses): `${prefix}${n}`. */
	| {kind: 'unique'; prefix: string}
	/** A random one of `${prefix}${i}` for i in [0, count) (hits over a filled cache). */
	| {kind: 'random'; prefix: string; count: number};

export type RoundCommand = {
	cmd: 'round';
	mode: 'hits' | 'misses';
	urls: UrlPlan;
	concurrency: number;
	warmupMs: number;
	durationMs: number;
	/** The body size every response must have. */
	bytes: number;
};

export type WorkerCommand =
	/** `libDir`: the compiled library to load (bench/library.ts), or undefined for the TypeScript sources. */
	| {cmd: 'setup'; client: ClientName; runId: string; libDir: string | undefined}
	| {cmd: 'prime'; url: string; bytes: number}
	| {cmd: 'fill'; template: string; prefix: string; from: number; to: number; oldBefore: number; newAt: number}
	| RoundCommand
	| {cmd: 'heap'; url: string; bytes: number; checkpoints: number[]}
	| {cmd: 'removeOld'; before: number}
	| {cmd: 'close'};

export type RoundResult = {
	requests: number;
	seconds: number;
	rps: number;
	p50: number;
	p99: number;
	/** CPU time this process used in the measured part (all its threads), and requests per CPU-second. */
	cpuSeconds: number;
	cpuRps: number;
	/** How many requests of this command (warm-up included) had to reach the origin. */
	originRequests: number;
};

export type HeapResult = {
	/** Heap used after GC, MB, at each checkpoint (total hits so far). */
	heapMb: number[];
	checkpoints: number[];
	rps: number;
	originRequests: number;
};

/**
 * `removed`, `remaining` (responses still stored, counted untimed afterwards) and `cpuSeconds`
 * (this process's CPU time in the call: on a shared machine, the part that other load cannot inflate) answer `removeOld`.
 */
export type DoneReply = {ok: true; kind: 'done'; originRequests: number; seconds: number; cpuSeconds?: number; removed?: number; remaining?: number};
export type RoundReply = {ok: true; kind: 'round'; result: RoundResult};
export type HeapReply = {ok: true; kind: 'heap'; result: HeapResult};
export type ClosedReply = {ok: true; kind: 'closed'; peakRssMb: number; listenerWarnings: number};
export type WorkerReply = DoneReply | RoundReply | HeapReply | ClosedReply | {ok: false; error: string};

let client: Client | undefined;

/**
 * The state of a small LCG: cheap, reproducible random keys for the 'random' plan. It carries on
 * from round to round, so that later rounds do not replay the keys (now hot) of the first.
 */
let seed = 12_345;

/**
 * This process's peak RSS in MB. Linux's VmHWM, because getrusage()'s maxRSS survives exec: a
 * forked child would report at least its parent's RSS at the time of the fork.
 */
function peakRssMb(): number {
	try {
		const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
		if (match !== null) {
			return Number(match[1]) / 1024;
		}
	} catch {
		// Not Linux: fall back below.
	}

	return process.resourceUsage().maxRSS / 1024;
}

function need(): Client {
	if (client === undefined) {
		throw new Error('setup first');
	}

	return client;
}

function check(name: string, url: string, fetched: {bytes: number; cached: boolean}, bytes: number, expectCached: boolean): void {
	if (fetched.bytes !== bytes) {
		throw new Error(`${name}: ${url} gave ${fetched.bytes} body bytes, expected ${bytes}`);
	}

	if (fetched.cached !== expectCached) {
		throw new Error(`${name}: ${url} was ${fetched.cached ? '' : 'not '}served from the cache in a ${expectCached ? 'hit' : 'miss'} round`);
	}
}

async function round(command: RoundCommand): Promise<RoundResult> {
	const current = need();
	const expectCached = command.mode === 'hits' && caches(current.name);
	const {urls} = command;
	let unique = 0;
	const nextUrl = (): string => {
		switch (urls.kind) {
			case 'same': {
				return urls.url;
			}

			case 'unique': {
				return `${urls.prefix}${unique++}`;
			}

			case 'random': {
				seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
				// The high bits: an LCG's low bits repeat with short periods.
				return `${urls.prefix}${Math.floor((seed / 2 ** 32) * urls.count)}`;
			}
		}
	};

	let sent = 0;
	const run = async (until: number, latencies: Latencies | undefined): Promise<number> => {
		let count = 0;
		const loop = async (): Promise<void> => {
			while (performance.now() < until) {
				const url = nextUrl();
				const start = performance.now();
				// eslint-disable-next-line no-await-in-loop -- sequential by design; concurrency comes from several loops
				const fetched = await current.get(url);
				latencies?.push(performance.now() - start);
				check(current.name, url, fetched, command.bytes, expectCached);
				count++;
			}
		};

		await Promise.all(Array.from({length: command.concurrency}, loop));
		sent += count;
		return count;
	};

	await run(performance.now() + command.warmupMs, undefined);
	const latencies = new Latencies();
	const cpu = process.cpuUsage();
	const start = performance.now();
	const requests = await run(start + command.durationMs, latencies);
	const seconds = (performance.now() - start) / 1000;
	const used = process.cpuUsage(cpu);
	if (command.mode === 'misses' && urls.kind === 'unique') {
		// Untimed: writes still on their way to a network store land before the next client's round.
		await current.settle?.(`${urls.prefix}${unique - 1}`);
	}

	const cpuSeconds = (used.user + used.system) / 1e6;
	return {requests, seconds, rps: requests / seconds, ...latencies.summary(), cpuSeconds, cpuRps: requests / cpuSeconds, originRequests: expectCached ? 0 : sent};
}

async function settledHeapMb(): Promise<number> {
	// Several collections with turns in between, so that finalizers and weak callbacks run.
	for (let index = 0; index < 4; index++) {
		globalThis.gc!();
		// eslint-disable-next-line no-await-in-loop
		await nextTurn();
	}

	return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function heap(url: string, bytes: number, checkpoints: number[]): Promise<HeapResult> {
	const current = need();
	if (globalThis.gc === undefined) {
		throw new Error('run with --expose-gc');
	}

	const expectCached = caches(current.name);
	const heapMb: number[] = [];
	let done = 0;
	const start = performance.now();
	for (const checkpoint of checkpoints) {
		for (; done < checkpoint; done++) {
			// eslint-disable-next-line no-await-in-loop -- sequential hits
			check(current.name, url, await current.get(url), bytes, expectCached);
		}

		// eslint-disable-next-line no-await-in-loop
		heapMb.push(await settledHeapMb());
	}

	return {heapMb, checkpoints, rps: done / ((performance.now() - start) / 1000), originRequests: expectCached ? 0 : done};
}

async function handle(command: WorkerCommand): Promise<WorkerReply> {
	switch (command.cmd) {
		case 'setup': {
			client = await createClient(command.client, command.runId, command.libDir);
			return {ok: true, kind: 'done', originRequests: 0, seconds: 0};
		}

		case 'prime': {
			const current = need();
			const fetched = await current.get(command.url);
			check(current.name, command.url, fetched, command.bytes, false);
			if (!caches(current.name)) {
				check(current.name, command.url, await current.get(command.url), command.bytes, false);
				return {ok: true, kind: 'done', originRequests: 2, seconds: 0};
			}

			// got's cache stores after handing the response over: wait (each try that is not yet a
			// hit reaches the origin and is counted) until the URL is served from the cache.
			let origin = 1;
			for (let attempt = 0; ; attempt++) {
				// eslint-disable-next-line no-await-in-loop
				const again = await current.get(command.url);
				if (again.cached || attempt === 50) {
					check(current.name, command.url, again, command.bytes, true);
					await current.settle?.(command.url);
					break;
				}

				origin++;
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => setTimeout(resolve, 20));
			}

			return {ok: true, kind: 'done', originRequests: origin, seconds: 0};
		}

		case 'fill': {
			const current = need();
			if (current.fill === undefined) {
				throw new Error(`${current.name} cannot be filled directly`);
			}

			const urls: string[] = [];
			for (let index = command.from; index < command.to; index++) {
				urls.push(`${command.prefix}${index}`);
			}

			const start = performance.now();
			// Even entries are "old" (created before the removeOldEntries cut-off), odd ones new.
			await current.fill(command.template, urls, index => ((command.from + index) % 2 === 0 ? command.oldBefore : command.newAt));
			return {ok: true, kind: 'done', originRequests: 0, seconds: (performance.now() - start) / 1000};
		}

		case 'round': {
			return {ok: true, kind: 'round', result: await round(command)};
		}

		case 'heap': {
			return {ok: true, kind: 'heap', result: await heap(command.url, command.bytes, command.checkpoints)};
		}

		case 'removeOld': {
			const current = need();
			if (current.removeOldEntries === undefined) {
				throw new Error(`${current.name} has no removeOldEntries`);
			}

			const cpu = process.cpuUsage();
			const start = performance.now();
			const removed = await current.removeOldEntries(new Date(command.before));
			const seconds = (performance.now() - start) / 1000;
			const used = process.cpuUsage(cpu);
			const remaining = await current.count?.();
			return {ok: true, kind: 'done', originRequests: 0, seconds, cpuSeconds: (used.user + used.system) / 1e6, removed, ...(remaining === undefined ? {} : {remaining})};
		}

		case 'close': {
			await client?.close();
			client = undefined;
			return {ok: true, kind: 'closed', peakRssMb: peakRssMb(), listenerWarnings};
		}
	}
}

// Keyv's own event emitter console.warns on every listener past 100; got's cache adds one per
// request (that is its leak, measured by the heap scenario). Printing thousands of lines would
// slow got down and drown the output, so they are counted here instead.
let listenerWarnings = 0;
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
	if (typeof args[0] === 'string' && args[0].startsWith('MaxListenersExceededWarning')) {
		listenerWarnings++;
		return;
	}

	warn(...args);
};

if (process.send === undefined) {
	throw new Error('bench/worker.ts runs as a forked child of bench/run.ts (it takes commands over IPC)');
}

process.on('message', (command: WorkerCommand) => {
	handle(command).then(
		reply => process.send!(reply),
		(error: unknown) => process.send!({ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error)} satisfies WorkerReply),
	);
});
