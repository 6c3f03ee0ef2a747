import {type Stats, statSync} from 'node:fs';
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

/** An opened cache: the maintenance API, its store (for records), and how messages name it (`sqlite /abs/http_cache.sqlite`). */
export type OpenedCache = Awaited<ReturnType<typeof openCache>>;

type ReadOnlyDatabase = {prepare(sql: string): {get(...parameters: unknown[]): unknown}; close(): void};

/** A URL with its password replaced by `***`, for messages and output. */
function redactPassword(url: string): string {
	const parsed = URL.canParse(url) ? new URL(url) : undefined;
	if (parsed !== undefined && parsed.password !== '') {
		parsed.password = '***';
	}

	return parsed?.href ?? url;
}

/** Read a cache argument (see docs/cli.md, "The cache argument"); `cacheName` is `--cache-name`'s. */
export function parseTarget(argument: string, cacheName: string | undefined): CacheTarget {
	const scheme = /^([a-z][a-z\d+.-]*):\/\//i.exec(argument)?.[1]?.toLowerCase();
	if (scheme === undefined) {
		if (cacheName !== undefined) {
			throw new CliError('--cache-name applies to redis:// and mongodb:// URLs; a SQLite cache is named by its file path');
		}

		return {backend: 'sqlite', file: path.resolve(argument)};
	}

	const backend = (Object.keys(STORES) as BackendName[]).find(name => STORES[name].schemes.includes(scheme));
	if (backend === undefined || backend === 'sqlite' || backend === 'memory') {
		const schemes = Object.values(STORES).flatMap(store => store.schemes.slice(0, 1)).map(name => `a ${name}:// URL`);
		throw new CliError(`unsupported cache URL scheme "${scheme}://": give a SQLite file path, ${schemes.join(' or ')}`);
	}

	// A Redis Cluster: its nodes' URLs, comma-separated.
	const urls = backend === 'redis' ? argument.split(/,(?=rediss?:\/\/)/i) : [argument];
	let fromUrl: string | undefined;
	const hrefs = urls.map(url => {
		if (!URL.canParse(url)) {
			throw new CliError(`invalid cache URL ${JSON.stringify(redactPassword(url))}`);
		}

		const parsed = new URL(url);
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

/** Refuse a file that cannot be a requests-cache SQLite file; with `checkOwner`, one another program made, too. */
function checkSqliteFile(file: string, checkOwner: boolean): void {
	let stats: Stats;
	try {
		stats = statSync(file);
	} catch (error) {
		throw new CliError((error as NodeJS.ErrnoException).code === 'ENOENT' ? `no such cache file: ${file}` : `cannot read ${file}: ${reasonOf(error)}`);
	}

	if (stats.isDirectory()) {
		throw new CliError(`${file} is a directory, not a cache file`);
	}

	if (path.extname(file) === '') {
		throw new CliError(`${file} has no file extension: requests-cache names its SQLite files <cacheName>.sqlite`);
	}

	let head: Buffer;
	try {
		head = fileHead(file);
	} catch (error) {
		throw new CliError(`cannot read ${file}: ${reasonOf(error)}`);
	}

	if (stats.size === 0 || !isSqliteHead(head)) {
		throw new CliError(`${file} is not a SQLite database`);
	}

	if (!checkOwner) {
		return;
	}

	// A read-only connection first: a writing store would create its tables in another program's file.
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

/** Open a cache through the store and `BaseCache` a session uses, as docs/cli.md ("What is opened") says. */
export async function openCache(target: CacheTarget, timeout: number, readOnly = false) {
	if (target.backend === 'sqlite') {
		checkSqliteFile(target.file, !readOnly);
	}

	const description = target.backend === 'sqlite' ? `sqlite ${target.file}` : `${target.backend} ${[target.url].flat().map(url => redactPassword(url)).join(',')} (cache ${JSON.stringify(target.cacheName)})`;
	let store: CacheStore;
	try {
		// No hot cache: a one-pass read would only fill and evict it (docs/cli.md, "Large caches").
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
				timer = setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout + 1000);
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
	return {cache, store, target, description, close: async () => cache.close()};
}
