import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import {existsSync} from 'node:fs';
import {type CachePathSystem, resolveCachePath, userCacheDir} from '../../lib/backends/cache-path.js';
import {CachedSession} from '../../lib/index.js';
import {normalizeCacheOptions} from '../../lib/config/options.js';
import {Origin} from '../support/origin.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

const linux: CachePathSystem = {platform: 'linux', env: {}, homedir: '/home/ada', tmpdir: '/tmp'};
const mac: CachePathSystem = {platform: 'darwin', env: {}, homedir: '/Users/ada', tmpdir: '/var/folders/xy/T'};
const windows: CachePathSystem = {
	platform: 'win32', env: {LOCALAPPDATA: String.raw`C:\Users\ada\AppData\Local`}, homedir: String.raw`C:\Users\ada`, tmpdir: String.raw`C:\Users\ada\AppData\Local\Temp`,
};

describe('resolveCachePath', () => {
	it('leaves a relative name relative to the working directory without an option', () => {
		assert.equal(resolveCachePath('http_cache', {}, linux), 'http_cache');
		assert.equal(resolveCachePath('caches/api', {useCacheDir: false, useTemp: false}, linux), 'caches/api');
	});

	it('puts a relative name in ~/.cache/requests-cache on Linux, or in $XDG_CACHE_HOME/requests-cache', () => {
		assert.equal(resolveCachePath('http_cache', {useCacheDir: true}, linux), '/home/ada/.cache/requests-cache/http_cache');
		const xdg = {...linux, env: {XDG_CACHE_HOME: '/srv/cache'}};
		assert.equal(resolveCachePath('api/v2', {useCacheDir: true}, xdg), '/srv/cache/requests-cache/api/v2');
	});

	it('ignores a relative or empty XDG_CACHE_HOME, as the XDG spec says', () => {
		for (const value of ['relative/cache', '']) {
			const system = {...linux, env: {XDG_CACHE_HOME: value}};
			assert.equal(resolveCachePath('c', {useCacheDir: true}, system), '/home/ada/.cache/requests-cache/c');
		}
	});

	it('uses ~/Library/Caches on macOS (not XDG_CACHE_HOME)', () => {
		const system = {...mac, env: {XDG_CACHE_HOME: '/elsewhere'}};
		assert.equal(resolveCachePath('http_cache', {useCacheDir: true}, system), '/Users/ada/Library/Caches/requests-cache/http_cache');
	});

	it('uses %LOCALAPPDATA% on Windows, or AppData\\Local under the home directory without it', () => {
		assert.equal(resolveCachePath('http_cache', {useCacheDir: true}, windows), String.raw`C:\Users\ada\AppData\Local\requests-cache\http_cache`);
		const bare = {...windows, env: {}};
		assert.equal(userCacheDir(bare), String.raw`C:\Users\ada\AppData\Local`);
	});

	it('puts a relative name in the temporary directory with useTemp', () => {
		assert.equal(resolveCachePath('http_cache', {useTemp: true}, linux), '/tmp/http_cache');
		assert.equal(resolveCachePath('http_cache', {useTemp: true}, mac), '/var/folders/xy/T/http_cache');
		assert.equal(resolveCachePath('http_cache', {useTemp: true}, windows), String.raw`C:\Users\ada\AppData\Local\Temp\http_cache`);
	});

	it('uses an absolute name as it is, whatever the options (as requests-cache does)', () => {
		assert.equal(resolveCachePath('/data/http_cache', {useCacheDir: true}, linux), '/data/http_cache');
		assert.equal(resolveCachePath('/data/http_cache', {useTemp: true}, linux), '/data/http_cache');
		assert.equal(resolveCachePath(String.raw`D:\caches\x`, {useTemp: true}, windows), String.raw`D:\caches\x`);
	});

	it('expands a leading ~ to the home directory', () => {
		assert.equal(resolveCachePath('~/.myapp/http_cache', {useCacheDir: true}, linux), '/home/ada/.myapp/http_cache');
		assert.equal(resolveCachePath(String.raw`~\myapp\c`, {}, windows), String.raw`C:\Users\ada\myapp\c`);
		// Only as a whole first segment: `~ada/x` is a relative name.
		assert.equal(resolveCachePath('~ada/x', {}, linux), '~ada/x');
	});

	it('returns :memory: unchanged', () => {
		assert.equal(resolveCachePath(':memory:', {useCacheDir: true}, linux), ':memory:');
	});

	it('reads this machine by default', () => {
		const expected = process.platform === 'linux'
			? path.join(process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME) ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache'), 'requests-cache', 'c')
			: undefined;
		if (expected !== undefined) {
			assert.equal(resolveCachePath('c', {useCacheDir: true}), expected);
		}

		assert.equal(resolveCachePath('c', {useTemp: true}), path.join(os.tmpdir(), 'c'));
	});
});

describe('useCacheDir and useTemp options', () => {
	it('are validated: booleans, not both, SQLite only', () => {
		assert.equal(normalizeCacheOptions({useCacheDir: true}).useCacheDir, true);
		assert.equal(normalizeCacheOptions({useTemp: true}).useTemp, true);
		assert.equal(normalizeCacheOptions({}).useCacheDir, false);
		assert.throws(() => normalizeCacheOptions({useCacheDir: 'yes' as never}), {name: 'TypeError', message: /option `useCacheDir` must be a boolean/});
		assert.throws(() => normalizeCacheOptions({useTemp: 1 as never}), {name: 'TypeError', message: /option `useTemp` must be a boolean/});
		assert.throws(() => normalizeCacheOptions({useCacheDir: true, useTemp: true}), {name: 'TypeError', message: /`useCacheDir` and `useTemp` cannot be combined/});
		assert.throws(() => normalizeCacheOptions({backend: 'memory', useTemp: true}), {name: 'TypeError', message: /option `useTemp` only applies to backend 'sqlite'/});
		assert.throws(() => normalizeCacheOptions({use_cache_dir: true} as never), {name: 'TypeError', message: /did you mean `useCacheDir`/});
		// false is the default, so it fits any backend.
		assert.equal(normalizeCacheOptions({backend: 'memory', useCacheDir: false}).useCacheDir, false);
	});

	describe('with the SQLite backend', () => {
		let origin: Origin;
		let dir: string;
		const saved = process.env.XDG_CACHE_HOME;

		before(async () => {
			origin = await Origin.start();
			dir = tempDir('cache-dir');
		});

		after(async () => {
			if (saved === undefined) {
				delete process.env.XDG_CACHE_HOME;
			} else {
				process.env.XDG_CACHE_HOME = saved;
			}

			await origin.close();
			removeDir(dir);
		});

		it('writes <XDG_CACHE_HOME>/requests-cache/<cacheName>.sqlite with useCacheDir', async function () {
			if (process.platform !== 'linux') {
				this.skip();
			}

			process.env.XDG_CACHE_HOME = dir;
			const session = new CachedSession({cacheName: 'in_cache_dir', useCacheDir: true});
			await session.get(`${origin.url}/json?where=cache-dir`);
			assert.equal((await session.get(`${origin.url}/json?where=cache-dir`)).fromCache, true);
			await session.close();
			assert.ok(existsSync(path.join(dir, 'requests-cache', 'in_cache_dir.sqlite')));
			assert.ok(!existsSync('in_cache_dir.sqlite'), 'nothing in the working directory');
		});
	});
});
