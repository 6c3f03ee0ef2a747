/**
 * The clients the benchmark compares. Each one fetches a URL, consumes the whole body, and says
 * whether it claims the response came from its cache (the origin's counter is the check that
 * counts either way). Each client imports only its own modules, so that a client process's RSS
 * holds that client and nothing else.
 */
import {rmSync} from 'node:fs';
import path from 'node:path';
import {type Library, loadLibrary} from './library.js';

export const CLIENT_NAMES = [
	'rc-memory', 'rc-sqlite', 'rc-sqlite-nohot', 'rc-redis', 'rc-session',
	'got', 'got-cache-map', 'got-cache-keyv-sqlite',
	'axios-cache-interceptor', 'undici-cache',
] as const;
export type ClientName = typeof CLIENT_NAMES[number];

/** How each client is shown in the table. */
export const CLIENT_LABELS: Record<ClientName, string> = {
	'rc-memory': 'requests-cache (memory)',
	'rc-sqlite': 'requests-cache (SQLite)',
	'rc-sqlite-nohot': 'requests-cache (SQLite, hot cache off)',
	'rc-redis': 'requests-cache (Redis)',
	'rc-session': 'requests-cache Session, no cache',
	got: 'got, no cache (network baseline)',
	'got-cache-map': 'got cache: Map',
	'got-cache-keyv-sqlite': 'got cache: Keyv + @keyv/sqlite',
	'axios-cache-interceptor': 'axios + axios-cache-interceptor (memory)',
	'undici-cache': 'undici cache interceptor (memory)',
};

/** True for the clients under test; the others are the peers the ratios are taken against. */
export function isRequestsCache(name: ClientName): boolean {
	return name.startsWith('rc-');
}

/** False for the network baselines, which send every request to the origin. */
export function caches(name: ClientName): boolean {
	return name !== 'got' && name !== 'rc-session';
}

export type Fetched = {
	/** Body bytes the client handed back. */
	bytes: number;
	/** What the client says: true when it served the response from its cache. */
	cached: boolean;
};

export type Client = {
	readonly name: ClientName;
	get(url: string): Promise<Fetched>;
	/**
	 * Store copies of `template`'s response under further URLs without going to the origin (used
	 * to build 100k-entry caches in seconds); `createdAt(i)` gives each copy's creation time.
	 */
	fill?(template: string, urls: readonly string[], createdAt: (index: number) => number): Promise<void>;
	/** `cache.removeOldEntries(before)`: the number of entries removed. */
	removeOldEntries?(before: Date): Promise<number>;
	/** `cache.count()`: how many responses are stored. */
	count?(): Promise<number>;
	/**
	 * Wait until what this client has stored is in its store. A network store's write leaves the
	 * request's path (the process reads it from its pending writes meanwhile): a hit round must not
	 * be served from those, and a miss round's writes must not spill into the next client's round.
	 */
	settle?(url: string): Promise<void>;
	close(): Promise<void>;
};

export const BENCH_DIR = path.resolve('.tmp/bench');

function sqliteFile(name: string, runId: string): string {
	return path.join(BENCH_DIR, `${name}-${runId}.sqlite`);
}

function removeSqlite(file: string): void {
	for (const suffix of ['', '-wal', '-shm']) {
		rmSync(file + suffix, {force: true});
	}
}

type CachedSession = InstanceType<Library['CachedSession']>;

/** Records written per `store.set()` call when filling: one SQLite transaction, one Redis MULTI. */
const fillBatch = 1000;

function requestsCacheClient(lib: Library, name: ClientName, session: CachedSession, cleanup: () => Promise<void>): Client {
	const keyOf = (url: string): string => lib.createKey(lib.prepareRequest('GET', url, {}, session.headers), session.settings);
	// The default settings (not strictBackend, which also keeps a network store's writes on the
	// request's path): a store error is an 'error' event, and fails the next request here.
	let failure: unknown;
	session.cache.on('error', (error: unknown) => {
		failure ??= error;
	});
	return {
		name,
		async get(url) {
			if (failure !== undefined) {
				throw new Error(`${name}: the cache reported an error`, {cause: failure});
			}

			const response = await session.get(url);
			return {bytes: response.body.length, cached: response.fromCache};
		},
		async fill(template, urls, createdAt) {
			// The template is primed: a hit gives its key, the store its record, as the engine wrote them.
			const primed = await session.get(template);
			if (!primed.fromCache) {
				throw new Error(`${name}: the template ${template} is not cached; prime it first`);
			}

			const store = lib.storeOf(session.cache);
			const record = await store.get(primed.cacheKey);
			if (record === undefined) {
				throw new Error(`${name}: the store has no record under the template's key ${primed.cacheKey}`);
			}

			const entry = lib.decodeValue(record.value, 'response');
			if (entry.kind !== 'response') {
				throw new Error(`${name}: the template's record is a ${entry.kind}, not a response`);
			}

			// Copies of the engine's own record (same codec, same deleteAt), written in batches: one
			// set() of 1,000 records is one SQLite transaction or one Redis MULTI.
			for (let start = 0; start < urls.length; start += fillBatch) {
				const records = urls.slice(start, start + fillBatch).map((url, offset) => lib.toRecord(
					keyOf(url),
					{...entry, url, request: {...entry.request, url}, createdAt: createdAt(start + offset)},
					record.deleteAt,
				));
				// eslint-disable-next-line no-await-in-loop -- bounded batches
				await store.set(records);
			}
		},
		async removeOldEntries(before) {
			return session.cache.removeOldEntries(before);
		},
		async count() {
			return session.cache.count();
		},
		async settle(url) {
			// contains() waits for pending writes, then reads the store itself.
			if (!(await session.cache.contains({url}))) {
				throw new Error(`${name}: ${url} is not in the store`);
			}
		},
		async close() {
			await cleanup();
		},
	};
}

/**
 * Build one client. requests-cache comes from `libDir` (compiled, see bench/library.ts) or from
 * its sources when undefined. `runId` makes file names and Redis namespaces unique to this process.
 */
export async function createClient(name: ClientName, runId: string, libDir: string | undefined): Promise<Client> {
	if (isRequestsCache(name)) {
		return createRequestsCacheClient(await loadLibrary(libDir), name, runId);
	}

	switch (name) {
		case 'got': {
			const {default: got} = await import('got');
			return {
				name,
				async get(url) {
					const response = await got(url, {responseType: 'buffer'});
					return {bytes: response.body.length, cached: response.isFromCache};
				},
				async close() {
					// Nothing to release.
				},
			};
		}

		case 'got-cache-map':
		case 'got-cache-keyv-sqlite': {
			const {default: got} = await import('got');
			const file = sqliteFile(name, runId);
			removeSqlite(file);
			let keyv: import('keyv').Keyv | undefined;
			if (name === 'got-cache-keyv-sqlite') {
				const [{Keyv}, {default: KeyvSqlite}] = await Promise.all([import('keyv'), import('@keyv/sqlite')]);
				keyv = new Keyv(new KeyvSqlite(`sqlite://${file}`));
			}

			const cache = keyv ?? new Map<string, unknown>();
			return {
				name,
				async get(url) {
					const response = await got(url, {responseType: 'buffer', cache});
					return {bytes: response.body.length, cached: response.isFromCache};
				},
				async close() {
					await keyv?.disconnect();
					removeSqlite(file);
				},
			};
		}

		case 'axios-cache-interceptor': {
			const [{default: axios}, {buildMemoryStorage, setupCache}] = await Promise.all([import('axios'), import('axios-cache-interceptor')]);
			const client = setupCache(axios.create(), {storage: buildMemoryStorage()});
			return {
				name,
				async get(url) {
					const response = await client.get<Buffer>(url, {responseType: 'arraybuffer'});
					return {bytes: response.data.length, cached: response.cached === true};
				},
				async close() {
					// Memory storage: nothing to release.
				},
			};
		}

		case 'undici-cache': {
			const {Agent, cacheStores, interceptors, request} = await import('undici');
			// Limits raised so that the store holds what the scenarios put in it (default: 1024 entries).
			const store = new cacheStores.MemoryCacheStore({maxCount: 1_000_000, maxSize: 4 * 1024 ** 3});
			const agent = new Agent().compose(interceptors.cache({store}));
			return {
				name,
				async get(url) {
					const response = await request(url, {dispatcher: agent});
					const body = Buffer.from(await response.body.arrayBuffer());
					// undici adds an Age header to what it serves from its cache; the origin sends none.
					return {bytes: body.length, cached: response.headers['age'] !== undefined};
				},
				async close() {
					await agent.close();
				},
			};
		}

		default: {
			throw new TypeError(`unknown client ${name}`);
		}
	}
}

async function createRequestsCacheClient(lib: Library, name: ClientName, runId: string): Promise<Client> {
	const {CachedSession, BaseCache, Session, createSqliteStore} = lib;
	switch (name) {
		case 'rc-memory': {
			const session = new CachedSession({backend: 'memory', expireAfter: 3600});
			return requestsCacheClient(lib, name, session, async () => session.close());
		}

		case 'rc-sqlite': {
			const file = sqliteFile(name, runId);
			removeSqlite(file);
			const session = new CachedSession({backend: 'sqlite', cacheName: file, expireAfter: 3600});
			return requestsCacheClient(lib, name, session, async () => {
				await session.close();
				removeSqlite(file);
			});
		}

		case 'rc-sqlite-nohot': {
			// The SQLite store with its in-process hot cache off: every hit is a query through better-sqlite3.
			const file = sqliteFile(name, runId);
			removeSqlite(file);
			const cache = new BaseCache(createSqliteStore(file, {hotCacheBytes: 0}));
			const session = new CachedSession({backend: cache, expireAfter: 3600});
			return requestsCacheClient(lib, name, session, async () => {
				await session.close();
				removeSqlite(file);
			});
		}

		case 'rc-session': {
			const session = new Session();
			return {
				name,
				async get(url) {
					const response = await session.get(url);
					return {bytes: response.body.length, cached: false};
				},
				async close() {
					await session.close();
				},
			};
		}

		case 'rc-redis': {
			const session = new CachedSession({backend: 'redis', cacheName: `rc-bench-${runId}`, expireAfter: 3600});
			await session.cache.clear();
			return requestsCacheClient(lib, name, session, async () => {
				await session.cache.clear();
				await session.close();
			});
		}

		default: {
			throw new TypeError(`not a requests-cache client: ${name}`);
		}
	}
}
