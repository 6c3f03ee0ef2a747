import {spawn} from 'node:child_process';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {fileURLToPath} from 'node:url';
import type {CacheStats} from '../../lib/index.js';
import {type WatchedWriter, watchWriter} from './writer-process.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const workerScript = fileURLToPath(new URL('fleet-worker.ts', import.meta.url));

/** One request's result in a worker. */
export type WorkerResult = {status: number; fromCache: boolean; ms: number; body?: string; error?: string};

/** A worker's report of one round. */
export type Round = {results: WorkerResult[]; stats: CacheStats};

/** A fleet process (spec/support/fleet-worker.ts): start rounds, read their reports, kill it. */
export type Worker = {
	readonly pid: number;
	readonly ready: Promise<void>;
	readonly done: WatchedWriter['done'];
	/** The cache's 'error' events so far. */
	readonly errors: ReadonlyArray<{error: string; lost: number}>;
	/** Start a round; resolves with its report. */
	go(): Promise<Round>;
	kill(signal: NodeJS.Signals): void;
};

/** Start a fleet worker with `config` (see fleet-worker.ts). */
export function startWorker(config: Record<string, unknown>): Worker {
	const child = spawn(process.execPath, ['--import', 'tsx', workerScript, JSON.stringify(config)], {cwd: repoRoot});
	const watched = watchWriter(child);
	let buffer = '';
	const reports: Array<(round: Round) => void> = [];
	const errors: Array<{error: string; lost: number}> = [];
	child.stdout.on('data', (chunk: Buffer) => {
		buffer += chunk.toString();
		let newline = buffer.indexOf('\n');
		while (newline !== -1) {
			const line = buffer.slice(0, newline);
			buffer = buffer.slice(newline + 1);
			if (line.startsWith('{"error"')) {
				errors.push(JSON.parse(line) as {error: string; lost: number});
			} else if (line.startsWith('{')) {
				reports.shift()?.(JSON.parse(line) as Round);
			}

			newline = buffer.indexOf('\n');
		}
	});
	return {
		pid: child.pid!,
		ready: watched.ready,
		done: watched.done,
		errors,
		async go() {
			const report = new Promise<Round>(resolve => {
				reports.push(resolve);
			});
			child.stdin.write('go\n');
			return report;
		},
		kill(signal) {
			child.kill(signal);
		},
	};
}

/**
 * The fleet's origin: `/<mode>/<id>?ms=N` answers after N ms (default 100) and counts hits per
 * path and query (`maxAge=N` adds `Cache-Control: max-age=N`). Modes: `ok` (200), `fail` (500),
 * `nostore` (200, `Cache-Control: no-store`), `etag` (ETag, fresh for 1 s, a 304 to `If-None-Match`;
 * {@link conditionals} counts those), `trickle` (the head at once, the body's end N ms later),
 * `stall` (the first request of a URL waits `first` ms, default 5000, the others N ms). With
 * `first=N`, the first request of a URL waits N ms in every mode but `trickle`.
 */
export class FleetOrigin {
	readonly counts = new Map<string, number>();
	/** Conditional requests (with `If-None-Match`) per path and query. */
	readonly conditionals = new Map<string, number>();
	url = '';
	readonly #server: Server;
	readonly #hitWaiters: Array<() => void> = [];

	constructor() {
		this.#server = createServer((request, response) => {
			const url = new URL(request.url!, 'http://origin');
			const count = (this.counts.get(request.url!) ?? 0) + 1;
			this.counts.set(request.url!, count);
			for (const wake of this.#hitWaiters.splice(0)) {
				wake();
			}

			const [, mode] = url.pathname.split('/');
			const ms = Number(url.searchParams.get('ms') ?? 100);
			if (mode === 'etag' && request.headers['if-none-match'] !== undefined) {
				this.conditionals.set(request.url!, (this.conditionals.get(request.url!) ?? 0) + 1);
			}

			if (mode === 'trickle') {
				// The head and a first part at once, the rest N ms later: the client has the head long before the body is whole.
				response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=3600'});
				response.write(`${request.url!} `);
				const rest = setTimeout(() => response.end(`hit ${count}`), ms);
				response.on('close', () => {
					clearTimeout(rest);
				});
				return;
			}

			const first = url.searchParams.get('first') ?? (mode === 'stall' ? '5000' : null);
			const delay = count === 1 && first !== null ? Number(first) : ms;
			const timer = setTimeout(() => {
				if (mode === 'etag') {
					// Fresh for a second, then revalidated: a 304 to a request that has the tag.
					const headers = {etag: '"v1"', 'cache-control': 'max-age=1'};
					response.writeHead(request.headers['if-none-match'] === '"v1"' ? 304 : 200, headers);
					response.end(request.headers['if-none-match'] === '"v1"' ? undefined : JSON.stringify({path: request.url, hit: count}));
					return;
				}

				response.writeHead(mode === 'fail' ? 500 : 200, {
					'content-type': 'application/json',
					...(mode === 'nostore' ? {'cache-control': 'no-store'} : {}),
					// What a cache that only follows the headers (undici's) needs to store it.
					...(url.searchParams.has('maxAge') ? {'cache-control': `max-age=${url.searchParams.get('maxAge')!}`} : {}),
				});
				response.end(JSON.stringify({path: request.url, hit: count}));
			}, delay);
			response.on('close', () => {
				clearTimeout(timer);
			});
		});
	}

	static async start(): Promise<FleetOrigin> {
		const origin = new FleetOrigin();
		// Longer than any pause between rounds: a client's kept-alive socket must not be closed under it.
		origin.#server.keepAliveTimeout = 120_000;
		await new Promise<void>(resolve => {
			origin.#server.listen(0, '127.0.0.1', resolve);
		});
		origin.url = `http://127.0.0.1:${(origin.#server.address() as AddressInfo).port}`;
		return origin;
	}

	/** Origin requests for a path and query. */
	hits(pathAndQuery: string): number {
		return this.counts.get(pathAndQuery) ?? 0;
	}

	/** Resolves at the next request that reaches the origin. */
	async nextHit(): Promise<void> {
		return new Promise(resolve => {
			this.#hitWaiters.push(resolve);
		});
	}

	async close(): Promise<void> {
		this.#server.closeAllConnections();
		await new Promise<void>(resolve => {
			this.#server.close(() => {
				resolve();
			});
		});
	}
}

/** The sum of one counter over the workers' reports. */
export function total(rounds: readonly Round[], counter: keyof CacheStats): number {
	return rounds.reduce((sum, round) => sum + (round.stats[counter] ?? 0), 0);
}
