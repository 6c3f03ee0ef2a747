/**
 * The library as the benchmark loads it. By default, lib/ compiled to plain JavaScript (as
 * published), because running the TypeScript sources through tsx adds a `__name()` call to every
 * named closure it creates, which a hit path pays for and users never do. `BENCH_SOURCE=ts`
 * measures the sources as they are instead. bench/compile-library.ts does the compiling.
 *
 * Besides the public classes, the benchmark uses a few package-internal functions: `storeOf` (the
 * store behind a cache, to fill 100k-entry caches in batches), the codec's `decodeValue` and
 * `toRecord` (the records it writes are the engine's own), `createKey` and `prepareRequest`.
 */
import path from 'node:path';
import {pathToFileURL} from 'node:url';

export type Library = {
	CachedSession: typeof import('../lib/cached-session.js').CachedSession;
	Session: typeof import('../lib/session.js').Session;
	BaseCache: typeof import('../lib/cache/base-cache.js').BaseCache;
	storeOf: typeof import('../lib/cache/base-cache.js').storeOf;
	createSqliteStore: typeof import('../lib/backends/sqlite.js').createSqliteStore;
	createKey: typeof import('../lib/cache-keys.js').createKey;
	prepareRequest: typeof import('../lib/models/request.js').prepareRequest;
	decodeValue: typeof import('../lib/codec/entry.js').decodeValue;
	toRecord: typeof import('../lib/codec/entry.js').toRecord;
};

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Import one module of the library: from `libDir` (compiled JavaScript), or the TypeScript sources when undefined. */
export async function loadModule<T>(libDir: string | undefined, relative: string): Promise<T> {
	return (libDir === undefined
		? import(pathToFileURL(path.join(root, 'lib', `${relative}.ts`)).href)
		: import(pathToFileURL(path.join(libDir, `${relative}.js`)).href)) as Promise<T>;
}

/** Load the library from `libDir` (compiled JavaScript), or from the TypeScript sources when undefined. */
export async function loadLibrary(libDir: string | undefined): Promise<Library> {
	const [cachedSession, session, baseCache, sqlite, cacheKeys, request, codec] = await Promise.all([
		loadModule<typeof import('../lib/cached-session.js')>(libDir, 'cached-session'),
		loadModule<typeof import('../lib/session.js')>(libDir, 'session'),
		loadModule<typeof import('../lib/cache/base-cache.js')>(libDir, 'cache/base-cache'),
		loadModule<typeof import('../lib/backends/sqlite.js')>(libDir, 'backends/sqlite'),
		loadModule<typeof import('../lib/cache-keys.js')>(libDir, 'cache-keys'),
		loadModule<typeof import('../lib/models/request.js')>(libDir, 'models/request'),
		loadModule<typeof import('../lib/codec/entry.js')>(libDir, 'codec/entry'),
	]);
	return {
		CachedSession: cachedSession.CachedSession,
		Session: session.Session,
		BaseCache: baseCache.BaseCache,
		storeOf: baseCache.storeOf,
		createSqliteStore: sqlite.createSqliteStore,
		createKey: cacheKeys.createKey,
		prepareRequest: request.prepareRequest,
		decodeValue: codec.decodeValue,
		toRecord: codec.toRecord,
	};
}
