import {Buffer} from 'node:buffer';
import {statSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {SqliteStoreError, createSqliteStore, fileHead, isSqliteHead} from '../backends/sqlite.js';
import type {CacheStore} from '../backends/store.js';
import {BaseCache} from '../cache/base-cache.js';
import {DEFAULT_CACHE_OPTIONS, normalizeCacheOptions} from '../config/options.js';
import {type BackendName, STORES} from '../config/stores.js';
import {CliError, reasonOf} from './cli-error.js';

/** Where a cache is: a SQLite file, or a Redis or MongoDB server and the cache's name there. */
export type CacheTarget =
	| {readonly backend: 'sqlite'; readonly file: string}
	| {readonly backend: Exclude<BackendName, 'sqlite' | 'memory'>; readonly url: string | readonly string[]; readonly cacheName: string};

/** An opened cache: the public maintenance API, its store (for records), and how to name it. */
export type OpenedCache = {
	readonly cache: BaseCache;
	readonly store: CacheStore;
	readonly target: CacheTarget;
	/** For messages: `sqlite /abs/http_cache.sqlite`, `redis redis://host:6379/0 (cache "x")`. */
	readonly description: string;
	close(): Promise<void>;
};

const schemeRegex = /^([a-z][a-z\d+.-]*):\/\//i;

type ReadOnlyDatabase = {prepare(sql: string): {get(...parameters: unknown[]): unknown}; close(): void};

/** A URL with its password replaced by `***`, for messages and output. */
export function redactPassword(url: string): string {
	try {
		const parsed = new URL(url);
		if (parsed.password !== '') {
			parsed.password = '***';
		}

		return parsed.href;
	} catch {
		return url;
	}
}

/**
 * Read a cache argument: a URL (`redis://`, `rediss://`, `mongodb://`, `mongodb+srv://`, with the
 * cache name in `?cacheName=`), a Redis Cluster's node URLs joined by commas, or else a SQLite file path. `cacheName` (from `--cache-name`) wins
 * over the URL's; it means nothing for a file.
 */
export function parseTarget(argument: string, cacheName: string | undefined): CacheTarget {
	const scheme = schemeRegex.exec(argument)?.[1]?.toLowerCase();
	if (scheme === undefined) {
		if (cacheName !== undefined) {
			throw new CliError('--cache-name applies to redis:// and mongodb:// URLs; a SQLite cache is named by its file path');
		}

		return {backend: 'sqlite', file: path.resolve(argument)};
	}

	// The store registry says which backends a URL names (lib/config/stores.ts).
	const backend = (Object.keys(STORES) as BackendName[]).find(name => STORES[name].schemes.includes(scheme));
	if (backend === undefined || backend === 'sqlite' || backend === 'memory') {
		const schemes = Object.values(STORES).flatMap(store => store.schemes.slice(0, 1)).map(name => `a ${name}:// URL`);
		throw new CliError(`unsupported cache URL scheme "${scheme}://": give a SQLite file path, ${schemes.join(' or ')}`);
	}

	// A Redis Cluster: its nodes' URLs, comma-separated (`redis://a:7001,redis://b:7002`).
	const urls = backend === 'redis' ? argument.split(/,(?=rediss?:\/\/)/i) : [argument];
	let fromUrl: string | undefined;
	const hrefs = urls.map(url => {
		let parsed: URL;
		try {
			parsed = new URL(url);
		} catch {
			throw new CliError(`invalid cache URL ${JSON.stringify(redactPassword(url))}`);
		}

		fromUrl ??= parsed.searchParams.get('cacheName') ?? undefined;
		// The drivers refuse query options they do not know: the cache name is ours, not theirs.
		parsed.searchParams.delete('cacheName');
		return parsed.href;
	});
	const name = cacheName ?? fromUrl ?? DEFAULT_CACHE_OPTIONS.cacheName;
	if (name === '') {
		throw new CliError('the cache name must not be empty');
	}

	return {backend, url: hrefs.length === 1 ? hrefs[0]! : hrefs, cacheName: name};
}

/**
 * Why `file` cannot be a requests-cache SQLite file. With `checkOwner`, whose file it is is checked here
 * too, before a writing command's store would make its tables; a read-only store checks it itself.
 */
function checkSqliteFile(file: string, checkOwner: boolean): void {
	let size: number;
	try {
		const stats = statSync(file);
		if (stats.isDirectory()) {
			throw new CliError(`${file} is a directory, not a cache file`);
		}

		size = stats.size;
	} catch (error) {
		if (error instanceof CliError) {
			throw error;
		}

		const code = (error as NodeJS.ErrnoException).code;
		throw new CliError(code === 'ENOENT' ? `no such cache file: ${file}` : `cannot read ${file}: ${reasonOf(error)}`);
	}

	if (path.extname(file) === '') {
		// The SQLite store names its files `<cacheName>.sqlite`; one without an extension would be another file.
		throw new CliError(`${file} has no file extension: requests-cache names its SQLite files <cacheName>.sqlite`);
	}

	let head: Buffer;
	try {
		head = fileHead(file);
	} catch (error) {
		throw new CliError(`cannot read ${file}: ${reasonOf(error)}`);
	}

	if (size === 0 || !isSqliteHead(head)) {
		throw new CliError(`${file} is not a SQLite database`);
	}

	if (!checkOwner) {
		return;
	}

	// A read-only connection first: the store would create its tables in a SQLite file of another program.
	const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options: object) => ReadOnlyDatabase;
	let db: ReadOnlyDatabase | undefined;
	let owner: unknown;
	try {
		db = new Database(file, {readonly: true, fileMustExist: true, timeout: 5000});
		owner = (db.prepare('SELECT value FROM meta WHERE name = \'created_by\'').get() as {value?: unknown} | undefined)?.value;
	} catch (error) {
		if (!/no such table/i.test((error as Error).message)) {
			throw new CliError(`cannot read ${file}: ${reasonOf(error)}`);
		}
	} finally {
		db?.close();
	}

	if (owner !== 'requests-cache') {
		throw new CliError(`${file} is a SQLite database, but not a requests-cache cache`);
	}
}

function describe(target: CacheTarget): string {
	return target.backend === 'sqlite' ? `sqlite ${target.file}` : `${target.backend} ${[target.url].flat().map(url => redactPassword(url)).join(',')} (cache ${JSON.stringify(target.cacheName)})`;
}

/**
 * Open a cache for the inspector, through the store and `BaseCache` a session uses. A SQLite
 * file must exist and be a requests-cache file (checked on a read-only connection first, so that
 * nothing is created or written by a mistake); a server must answer within `timeout` ms. With
 * `readOnly`, a SQLite file is opened by a read-only store, which writes nothing, not even beside
 * the file (no checkpoint of another writer's WAL, no `-wal` or `-shm` created).
 */
export async function openCache(target: CacheTarget, timeout: number, readOnly = false): Promise<OpenedCache> {
	if (target.backend === 'sqlite') {
		checkSqliteFile(target.file, !readOnly);
	}

	const description = describe(target);
	let store: CacheStore;
	try {
		// SQLite without the hot cache: a one-pass read of every record would only fill and evict it
		// (measured on 20,000 entries: `list` 4.5 s -> 2.6 s, 200 -> 160 MB).
		store = target.backend === 'sqlite'
			? createSqliteStore(target.file, {hotCacheBytes: 0, readOnly})
			: STORES[target.backend].create(normalizeCacheOptions({backend: target.backend, cacheName: target.cacheName, url: target.url, backendTimeout: timeout}, 'npx requests-cache'));
	} catch (error) {
		throw new CliError(`cannot open ${description}: ${reasonOf(error)}`);
	}

	// One read of a key nobody uses: a server that is down or a file that cannot be used fails here, with its reason.
	let timer: NodeJS.Timeout | undefined;
	try {
		await Promise.race([
			store.get('requests-cache-cli:probe'),
			new Promise((_resolve, reject) => {
				timer = setTimeout(() => {
					reject(new Error(`no answer within ${timeout} ms`));
				}, timeout + 1000);
			}),
		]);
	} catch (error) {
		await store.close().catch(() => undefined);
		if (error instanceof SqliteStoreError && error.problem === 'foreign-schema') {
			throw new CliError(`${error.file} is a SQLite database, but not a requests-cache cache`);
		}

		throw new CliError(`cannot reach ${description}: ${reasonOf(error)}`);
	} finally {
		clearTimeout(timer);
	}

	const cache = new BaseCache(store, {backendTimeout: timeout});
	return {
		cache,
		store,
		target,
		description,
		async close() {
			await cache.close();
		},
	};
}
