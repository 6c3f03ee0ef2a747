/**
 * The library as the benchmark loads it. By default, lib/ compiled to plain JavaScript (as
 * published), because running the TypeScript sources through tsx adds a `__name()` call to every
 * named closure it creates, which a hit path pays for and users never do. `BENCH_SOURCE=ts`
 * measures the sources as they are instead. bench/compile-library.ts does the compiling.
 */
import path from 'node:path';
import {pathToFileURL} from 'node:url';

export type Library = {
	CachedSession: typeof import('../lib/cached-session.js').CachedSession;
	Session: typeof import('../lib/session.js').Session;
	BaseCache: typeof import('../lib/cache/base-cache.js').BaseCache;
	entryToResponse: typeof import('../lib/cache/base-cache.js').entryToResponse;
	createSqliteStore: typeof import('../lib/backends/sqlite.js').createSqliteStore;
	createKey: typeof import('../lib/cache-keys.js').createKey;
	prepareRequest: typeof import('../lib/models/request.js').prepareRequest;
};

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Load the library from `libDir` (compiled JavaScript), or from the TypeScript sources when undefined. */
export async function loadLibrary(libDir: string | undefined): Promise<Library> {
	const load = async <T>(relative: string): Promise<T> => (libDir === undefined
		? import(pathToFileURL(path.join(root, 'lib', `${relative}.ts`)).href)
		: import(pathToFileURL(path.join(libDir, `${relative}.js`)).href)) as Promise<T>;
	const [cachedSession, session, baseCache, sqlite, cacheKeys, request] = await Promise.all([
		load<typeof import('../lib/cached-session.js')>('cached-session'),
		load<typeof import('../lib/session.js')>('session'),
		load<typeof import('../lib/cache/base-cache.js')>('cache/base-cache'),
		load<typeof import('../lib/backends/sqlite.js')>('backends/sqlite'),
		load<typeof import('../lib/cache-keys.js')>('cache-keys'),
		load<typeof import('../lib/models/request.js')>('models/request'),
	]);
	return {
		CachedSession: cachedSession.CachedSession,
		Session: session.Session,
		BaseCache: baseCache.BaseCache,
		entryToResponse: baseCache.entryToResponse,
		createSqliteStore: sqlite.createSqliteStore,
		createKey: cacheKeys.createKey,
		prepareRequest: request.prepareRequest,
	};
}
