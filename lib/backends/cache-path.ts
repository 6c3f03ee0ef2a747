import os from 'node:os';
import path from 'node:path';

/** Where a file-based cache (SQLite) puts its file: requests-cache's `use_cache_dir` and `use_temp`. */
export type CachePathOptions = {
	/** Put the cache in a `requests-cache` folder of the platform's user cache directory (docs/backends.md). @default false */
	useCacheDir?: boolean | undefined;
	/** Put the cache in the system's temporary directory (`os.tmpdir()`). @default false */
	useTemp?: boolean | undefined;
};

/** What {@link resolveCachePath} reads of the machine; injectable so the function stays pure. */
export type CachePathSystem = {
	readonly platform: NodeJS.Platform;
	readonly env: Readonly<Record<string, string | undefined>>;
	readonly homedir: string;
	readonly tmpdir: string;
};

/** The folder created inside the user cache directory. */
const CACHE_DIR_NAME = 'requests-cache';

function currentSystem(): CachePathSystem {
	return {platform: process.platform, env: process.env, homedir: os.homedir(), tmpdir: os.tmpdir()};
}

/** The platform's user cache directory (without our folder), as platformdirs and XDG define it. */
export function userCacheDir(system: CachePathSystem): string {
	const pathOf = system.platform === 'win32' ? path.win32 : path.posix;
	switch (system.platform) {
		case 'win32': {
			const local = system.env.LOCALAPPDATA;
			return local !== undefined && pathOf.isAbsolute(local) ? local : pathOf.join(system.homedir, 'AppData', 'Local');
		}

		case 'darwin': {
			return pathOf.join(system.homedir, 'Library', 'Caches');
		}

		default: {
			// The XDG spec: a relative XDG_CACHE_HOME is invalid and must be ignored.
			const xdg = system.env.XDG_CACHE_HOME;
			return xdg !== undefined && pathOf.isAbsolute(xdg) ? xdg : pathOf.join(system.homedir, '.cache');
		}
	}
}

/**
 * The path of a file-based cache named `cacheName`, before its extension, as requests-cache resolves it (docs/backends.md).
 *
 * @example
 * resolveCachePath('http_cache', {useCacheDir: true}); // '/home/me/.cache/requests-cache/http_cache' on Linux
 * resolveCachePath('http_cache', {useTemp: true});     // '/tmp/http_cache'
 */
export function resolveCachePath(cacheName: string, options: CachePathOptions = {}, system: CachePathSystem = currentSystem()): string {
	if (cacheName === ':memory:') {
		return cacheName;
	}

	const pathOf = system.platform === 'win32' ? path.win32 : path.posix;
	let name = cacheName;
	if (name === '~' || name.startsWith('~/') || (system.platform === 'win32' && name.startsWith('~\\'))) {
		name = pathOf.join(system.homedir, name.slice(1));
	}

	if (pathOf.isAbsolute(name)) {
		return name;
	}

	if (options.useCacheDir === true) {
		return pathOf.join(userCacheDir(system), CACHE_DIR_NAME, name);
	}

	if (options.useTemp === true) {
		return pathOf.join(system.tmpdir, name);
	}

	return name;
}
