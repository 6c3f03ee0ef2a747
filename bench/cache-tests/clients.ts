/**
 * The caches run through the suite, each as a `fetch` function per test: the suite expects a
 * browser cache, which starts each test with nothing stored for that test's URLs, so every test
 * (or, with `cachePer: 'run'`, the whole run) gets a cache of its own.
 */
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {Agent, cacheStores, fetch as undiciFetch, interceptors} from 'undici';
import {CachedSession} from '../../lib/index.js';
import type {CacheOptions, SessionOptions} from '../../lib/index.js';
import {repoRoot} from './suite.js';

export type FetchFunction = (input: string | URL | globalThis.Request, init?: RequestInit) => Promise<globalThis.Response>;

export type ClientName = 'requests-cache' | 'undici';

export const clientNames: readonly ClientName[] = ['requests-cache', 'undici'];

export type CacheClient = {
	name: ClientName;
	/** What ran, for the results file. */
	description: string;
	version: string;
	/** The fetch to use for one test's requests. */
	fetchFor(testId: string): FetchFunction;
	close(): Promise<void>;
};

export type ClientOptions = {
	cachePer: 'test' | 'run';
	/** Extra `CachedSession` options (requests-cache only), merged over `{backend: 'memory', cacheControl: true}`. */
	sessionOptions?: CacheOptions & SessionOptions;
};

function packageVersion(path: string): string {
	return String((JSON.parse(readFileSync(path, 'utf8')) as {version?: unknown}).version ?? 'unknown');
}

function gitCommit(): string | undefined {
	try {
		const head = readFileSync(join(repoRoot, '.git', 'HEAD'), 'utf8').trim();
		return (head.startsWith('ref: ') ? readFileSync(join(repoRoot, '.git', head.slice(5)), 'utf8') : head).trim().slice(0, 12);
	} catch {
		return undefined;
	}
}

/** One instance per test id (or one for the run), created on first use. */
function perKey<T>(cachePer: 'test' | 'run', create: () => T): {get(testId: string): T; all(): T[]} {
	const instances = new Map<string, T>();
	return {
		get(testId) {
			const key = cachePer === 'run' ? '' : testId;
			let instance = instances.get(key);
			if (instance === undefined) {
				instance = create();
				instances.set(key, instance);
			}

			return instance;
		},
		all: () => [...instances.values()],
	};
}

function requestsCacheClient(options: ClientOptions): CacheClient {
	const sessionOptions: CacheOptions & SessionOptions = {backend: 'memory', cacheControl: true, ...options.sessionOptions};
	const sessions = perKey(options.cachePer, () => new CachedSession(sessionOptions));
	const commit = gitCommit();
	return {
		name: 'requests-cache',
		description: `new CachedSession(${JSON.stringify(sessionOptions)}).fetch, one session per ${options.cachePer}`,
		version: `${packageVersion(join(repoRoot, 'package.json'))}${commit === undefined ? '' : ` (${commit})`}`,
		fetchFor: testId => {
			const session = sessions.get(testId);
			return async (input, init) => session.fetch(input, init);
		},
		async close() {
			await Promise.all(sessions.all().map(async session => session.close()));
		},
	};
}

function undiciClient(options: ClientOptions): CacheClient {
	const agents = perKey(options.cachePer, () => new Agent().compose(interceptors.cache({store: new cacheStores.MemoryCacheStore(), type: 'private'})));
	return {
		name: 'undici',
		description: `undici.fetch with new Agent().compose(interceptors.cache({store: new cacheStores.MemoryCacheStore(), type: 'private'})), one agent per ${options.cachePer}`,
		version: packageVersion(join(repoRoot, 'node_modules', 'undici', 'package.json')),
		fetchFor: testId => {
			const dispatcher = agents.get(testId);
			// undici's own fetch and Response types are structurally the WHATWG ones Node exposes globally.
			return async (input, init) => undiciFetch(input as Parameters<typeof undiciFetch>[0], {...init as Parameters<typeof undiciFetch>[1], dispatcher}) as unknown as Promise<globalThis.Response>;
		},
		async close() {
			await Promise.all(agents.all().map(async agent => agent.close()));
		},
	};
}

export function createClient(name: ClientName, options: ClientOptions): CacheClient {
	return name === 'requests-cache' ? requestsCacheClient(options) : undiciClient(options);
}
