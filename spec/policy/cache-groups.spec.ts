import assert from 'node:assert/strict';
import {randomUUID} from 'node:crypto';
import path from 'node:path';
import http from 'node:http';
import {CachedSession, type CacheOptions, installCache, uninstallCache} from '../../lib/index.js';
import {inAnyGroup, invalidatedGroups, parseGroupList} from '../../lib/policy/cache-groups.js';
import {Origin} from '../support/origin.js';
import {redisProblem, redisUrl, skipOrFail} from '../support/services.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

describe('policy/cache-groups (RFC 9875)', () => {
	describe('the fields', () => {
		it('reads a Structured Field list of strings, skipping other members and parameters', () => {
			assert.deepEqual(parseGroupList('"a", "b"'), ['a', 'b']);
			assert.deepEqual(parseGroupList(['"a"', '"b", "a"']), ['a', 'b']);
			assert.deepEqual(parseGroupList('"with \\"quote\\"";p=1, token, 5, "x,y"'), ['with "quote"', 'x,y']);
			assert.deepEqual(parseGroupList('"unclosed'), []);
			assert.deepEqual(parseGroupList(undefined), []);
		});

		it('invalidates only for an unsafe method with a non-error status', () => {
			const headers = {'cache-group-invalidation': '"list"'};
			assert.deepEqual(invalidatedGroups('POST', 201, headers), ['list']);
			assert.deepEqual(invalidatedGroups('DELETE', 204, headers), ['list']);
			assert.deepEqual(invalidatedGroups('GET', 200, headers), []);
			assert.deepEqual(invalidatedGroups('POST', 500, headers), []);
			assert.equal(inAnyGroup({'cache-groups': '"a", "list"'}, new Set(['list'])), true);
			assert.equal(inAnyGroup({'cache-groups': '"a"'}, new Set(['list'])), false);
		});
	});

	describe('sessions against real origins', () => {
		let origin: Origin;
		let other: Origin;
		let dir: string;
		const sessions: CachedSession[] = [];

		function serveGroups(server: Origin): void {
			server.route('/g/*', (request, response) => {
				const {pathname} = new URL(request.url!, server.url);
				if (request.method === 'POST') {
					const headers: Record<string, string> = {'content-type': 'text/plain'};
					const groups = new URL(request.url!, server.url).searchParams.get('invalidate');
					if (groups !== null) {
						headers['cache-group-invalidation'] = groups;
					}

					response.writeHead(201, headers).end('created');
					return;
				}

				const groups: Record<string, string> = {'/g/a': '"list"', '/g/b': '"list", "other"', '/g/c': '"other"'};
				response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=3600', ...(groups[pathname] === undefined ? {} : {'cache-groups': groups[pathname]})}).end(pathname);
			});
		}

		function session(options: CacheOptions): CachedSession {
			const created = new CachedSession({cacheControl: true, ...options});
			sessions.push(created);
			return created;
		}

		/** GET each path once from `s` and say which came from the cache (asserting the origin agrees). */
		async function fromCache(s: CachedSession, server: Origin, paths: readonly string[]): Promise<boolean[]> {
			const results: boolean[] = [];
			for (const pathname of paths) {
				const before = server.hits(pathname);
				// eslint-disable-next-line no-await-in-loop -- one request after another, each counted
				const response = await s.get(`${server.url}${pathname}`);
				assert.equal(server.hits(pathname) === before, response.fromCache, pathname);
				results.push(response.fromCache);
			}

			return results;
		}

		before(async () => {
			origin = await Origin.start();
			other = await Origin.start();
			serveGroups(origin);
			serveGroups(other);
			dir = tempDir('cache-groups');
		});

		afterEach(async () => {
			await Promise.all(sessions.splice(0).map(async s => s.close()));
		});

		after(async () => {
			await origin.close();
			await other.close();
			removeDir(dir);
		});

		it('invalidates the groups an unsafe request\'s response names, on its origin only', async () => {
			const s = session({backend: 'memory'});
			const paths = ['/g/a', '/g/b', '/g/c', '/g/none'];
			await fromCache(s, origin, paths);
			await fromCache(s, other, paths);
			assert.deepEqual(await fromCache(s, origin, paths), [true, true, true, true]);
			// A safe method's Cache-Group-Invalidation changes nothing.
			await s.get(`${origin.url}/g/safe`, {params: {invalidate: '"list"'}});
			assert.deepEqual(await fromCache(s, origin, paths), [true, true, true, true]);

			await s.post(`${origin.url}/g/new`, {params: {invalidate: '"list"'}, body: 'x'});
			assert.deepEqual(await fromCache(s, origin, paths), [false, false, true, true]);
			// The same group on another origin is another group.
			assert.deepEqual(await fromCache(s, other, paths), [true, true, true, true]);
		});

		it('invalidates groups from code: session.cache.invalidateGroups()', async () => {
			const s = session({backend: 'memory'});
			const paths = ['/g/a', '/g/b', '/g/c'];
			await fromCache(s, origin, paths);
			assert.equal(await s.cache.invalidateGroups(['other'], {origin: `${origin.url}/any/path`}), 2);
			assert.deepEqual(await fromCache(s, origin, paths), [true, false, false]);
			await assert.rejects(s.cache.invalidateGroups([], {origin: origin.url}), {name: 'TypeError', message: /non-empty array of group names/});
			await assert.rejects(s.cache.invalidateGroups(['x'], {origin: 'not a url'}), {name: 'TypeError', message: /option `origin`/});
			await assert.rejects(s.cache.invalidateGroups(['x'], undefined as never), {name: 'TypeError', message: /option `origin`/});
		});

		it('works through the installed global fetch and node:http doors', async () => {
			installCache({backend: 'memory', cacheControl: true});
			try {
				const get = async (pathname: string): Promise<void> => {
					await (await fetch(`${origin.url}${pathname}`)).text();
				};

				const before = {a: origin.hits('/g/a'), c: origin.hits('/g/c')};
				await get('/g/a');
				await get('/g/c');
				await get('/g/a');
				assert.equal(origin.hits('/g/a'), before.a + 1);
				// An unsafe request through node:http invalidates the group for every door.
				await new Promise<void>((resolve, reject) => {
					const request = http.request(`${origin.url}/g/new?invalidate=${encodeURIComponent('"list"')}`, {method: 'POST'}, response => {
						response.resume();
						response.on('end', resolve);
					});
					request.on('error', reject);
					request.end('x');
				});
				await get('/g/a');
				await get('/g/c');
				assert.equal(origin.hits('/g/a'), before.a + 2);
				assert.equal(origin.hits('/g/c'), before.c + 1);
			} finally {
				await uninstallCache();
			}
		});

		it('is a miss in another session on the same SQLite file', async () => {
			const file = path.join(dir, 'groups.sqlite');
			const writer = session({cacheName: file});
			const reader = session({cacheName: file});
			await fromCache(writer, origin, ['/g/a', '/g/c']);
			assert.deepEqual(await fromCache(reader, origin, ['/g/a', '/g/c']), [true, true]);
			await writer.post(`${origin.url}/g/new`, {params: {invalidate: '"list"'}, body: 'x'});
			assert.deepEqual(await fromCache(reader, origin, ['/g/a', '/g/c']), [false, true]);
		});

		it('is a miss in another session on the same Redis', async function () {
			const problem = await redisProblem();
			if (problem !== undefined) {
				skipOrFail(this, 'the Redis Cache Groups spec', problem);
			}

			const cacheName = `groups-${randomUUID()}`;
			const writer = session({backend: 'redis', url: redisUrl, cacheName});
			const reader = session({backend: 'redis', url: redisUrl, cacheName});
			await fromCache(writer, origin, ['/g/a', '/g/b', '/g/c']);
			assert.deepEqual(await fromCache(reader, origin, ['/g/a', '/g/b', '/g/c']), [true, true, true]);
			await writer.post(`${origin.url}/g/new`, {params: {invalidate: '"other"'}, body: 'x'});
			assert.deepEqual(await fromCache(reader, origin, ['/g/a', '/g/b', '/g/c']), [true, false, false]);
			assert.ok(await reader.cache.invalidateGroups(['list'], {origin: origin.url}) > 0);
			assert.deepEqual(await fromCache(writer, origin, ['/g/a']), [false]);
			await writer.cache.clear();
		});
	});
});
