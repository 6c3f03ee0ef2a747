import {storeOf} from '../../lib/cache/base-cache.js';
import assert from 'node:assert/strict';
import path from 'node:path';
import {BaseCache, CachedSession, NEVER_EXPIRE, REDACTED, Response} from '../../lib/index.js';
import {Keyv} from 'keyv';
import {createMemoryStore} from '../../lib/backends/memory.js';
import {FakeClock} from '../support/clock.js';
import {Origin} from '../support/origin.js';
import {removeDir, tempDir} from '../support/temp-dir.js';
import {settled} from '../support/settled.js';

type Query = (sql: string, ...parameters: unknown[]) => Promise<Array<Record<string, unknown>>>;

describe('BaseCache', () => {
	let origin: Origin;
	let dir: string;

	before(async () => {
		origin = await Origin.start();
		dir = tempDir('base-cache');
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	for (const backend of ['memory', 'sqlite'] as const) {
		describe(`on the ${backend} backend`, () => {
			let clock: FakeClock;
			let session: CachedSession;
			let count = 0;

			beforeEach(() => {
				clock = new FakeClock(Date.UTC(2030, 0, 1));
				session = new CachedSession({
					backend,
					cacheName: path.join(dir, `${backend}-${count++}`),
					clock: clock.read,
					allowableMethods: ['GET', 'HEAD'],
				});
			});

			afterEach(async () => {
				await session.close();
			});

			const url = (pathAndQuery: string) => `${origin.url}${pathAndQuery}`;

			async function fill(...paths: string[]): Promise<Response[]> {
				const responses: Response[] = [];
				for (const path of paths) {
					// eslint-disable-next-line no-await-in-loop -- one after another, so that createdAt is predictable
					responses.push(await session.get(url(path)));
				}

				// Some specs go to the store behind the cache's back.
				await settled(session);
				return responses;
			}

			describe('redirects', () => {
				it('serves a cached redirect chain for the first URL, every hop and the final URL', async () => {
					await session.get(url('/redirect/2'));
					const before = origin.hits();
					for (const path of ['/redirect/2', '/redirect/1', '/json']) {
						// eslint-disable-next-line no-await-in-loop -- sequential on purpose
						const response = await session.get(url(path));
						assert.equal(response.fromCache, true, path);
						assert.equal(response.url, url('/json'));
						assert.equal(response.history.length, 2);
					}

					assert.equal(origin.hits(), before, 'no request reached the origin');
					assert.equal(await session.cache.count(), 1, 'aliases are not responses');
					assert.deepEqual(await session.cache.urls(), [url('/json')]);
					assert.equal(await session.cache.contains({url: url('/redirect/2')}), true);
					assert.equal(await session.cache.contains({url: url('/redirect/1')}), true);
					assert.equal(await session.cache.contains({url: url('/json')}), true);
				});

				it('deletes the aliases with the response they point at', async () => {
					const [response] = await fill('/redirect/1');
					assert.equal(await session.cache.delete({keys: [response!.cacheKey]}), 2, 'the response and its alias');
					assert.equal(await session.cache.contains({url: url('/json')}), false);
				});

				it('treats an alias whose response is gone as a miss', async () => {
					const [response] = await fill('/redirect/1');
					assert.equal(await storeOf(session.cache).delete([response!.cacheKey]), 1, 'only the response, behind the cache\'s back');
					assert.equal(await session.cache.contains({url: url('/json')}), false);
					const before = origin.hits('/json');
					assert.equal((await session.get(url('/json'))).fromCache, false);
					assert.equal(origin.hits('/json'), before + 1);
					assert.equal((await session.get(url('/json'))).fromCache, true, 'and the refetched response replaces the dangling alias');
				});
			});

			describe('removeOldEntries()', () => {
				it('deletes exactly the entries created before the date and returns how many', async () => {
					await fill('/json?old=1', '/json?old=2', '/json?old=3');
					clock.advance(2 * 3600);
					await fill('/json?new=1', '/json?new=2');
					const removed = await session.cache.removeOldEntries(new Date(clock.now - 3600e3));
					assert.equal(removed, 3);
					assert.deepEqual(await session.cache.urls(), [url('/json?new=1'), url('/json?new=2')]);
					assert.equal(await session.cache.removeOldEntries(new Date(clock.now - 3600e3)), 0);
					assert.equal((await session.get(url('/json?old=1'))).fromCache, false);
					assert.equal((await session.get(url('/json?new=1'))).fromCache, true);
				});

				it('removes the redirect aliases of old responses too', async () => {
					await fill('/redirect/2');
					clock.advance(10);
					assert.equal(await session.cache.removeOldEntries(new Date(clock.now)), 3, 'one response and two aliases');
					assert.equal(await session.cache.contains({url: url('/redirect/1')}), false);
				});

				it('takes only a valid Date', async () => {
					await assert.rejects(session.cache.removeOldEntries('yesterday' as never), {name: 'TypeError', message: /valid Date/});
					await assert.rejects(session.cache.removeOldEntries(new Date(Number.NaN)), TypeError);
				});
			});

			describe('removeExpiredResponses()', () => {
				it('deletes exactly the expired responses and returns how many', async () => {
					await session.get(url('/json?short=1'), {expireAfter: 60});
					await session.get(url('/json?short=2'), {expireAfter: 60});
					await session.get(url('/json?long=1'), {expireAfter: 3600});
					await session.get(url('/json?never=1'));
					clock.advance(120);
					assert.equal(await session.cache.removeExpiredResponses(), 2);
					assert.deepEqual(await session.cache.urls(), [url('/json?long=1'), url('/json?never=1')]);
					clock.advance(3600);
					assert.equal(await session.cache.removeExpiredResponses(), 1);
					assert.deepEqual(await session.cache.urls(), [url('/json?never=1')]);
				});
			});

			describe('delete()', () => {
				it('deletes by key', async () => {
					const [a] = await fill('/json?k=a', '/json?k=b');
					assert.equal(await session.cache.delete({keys: [a!.cacheKey, 'no-such-key']}), 1);
					assert.deepEqual(await session.cache.urls(), [url('/json?k=b')]);
				});

				it('deletes by URL, with the aliases of a redirect chain', async () => {
					await fill('/redirect/2', '/json?keep=1');
					assert.equal(await session.cache.delete({urls: [url('/redirect/2')]}), 3);
					assert.deepEqual(await session.cache.urls(), [url('/json?keep=1')]);
					await fill('/redirect/2');
					assert.equal(await session.cache.delete({urls: [url('/json')]}), 3, 'the final URL names the response too');
					assert.deepEqual(await session.cache.urls(), [url('/json?keep=1')]);
				});

				it('deletes expired entries, and entries older than a Date, seconds or a duration', async () => {
					await session.get(url('/json?d=1'), {expireAfter: 10});
					clock.advance(7200);
					await session.get(url('/json?d=2'));
					clock.advance(1800);
					await session.get(url('/json?d=3'));
					clock.advance(600);
					await session.get(url('/json?d=4'));
					assert.equal(await session.cache.delete({expired: true}), 1);
					assert.equal(await session.cache.delete({olderThan: 7200}), 0);
					assert.equal(await session.cache.delete({olderThan: {minutes: 30}}), 1, 'd=2 is 40 minutes old');
					assert.equal(await session.cache.delete({olderThan: new Date(clock.now)}), 1, 'd=3 is older than now');
					assert.deepEqual(await session.cache.urls(), [url('/json?d=4')]);
				});

				it('deletes what matches any of the criteria', async () => {
					const [a] = await fill('/json?any=a', '/json?any=b');
					await session.get(url('/json?any=c'), {expireAfter: 1});
					await fill('/json?any=d');
					clock.advance(5);
					assert.equal(await session.cache.delete({keys: [a!.cacheKey], urls: [url('/json?any=b')], expired: true}), 3);
					assert.deepEqual(await session.cache.urls(), [url('/json?any=d')]);
				});

				it('rejects bad criteria', async () => {
					await assert.rejects(session.cache.delete(null as never), {name: 'TypeError', message: /takes an object/});
					await assert.rejects(session.cache.delete({url: ['x']} as never), {name: 'TypeError', message: /unknown option `url`/});
					await assert.rejects(session.cache.delete({olderThan: new Date('nope')}), RangeError);
					await assert.rejects(session.cache.delete({olderThan: {weeks: 1} as never}), {name: 'TypeError', message: /weeks/});
					await assert.rejects(session.cache.delete({urls: ['not a url']}), {name: 'TypeError', message: /invalid URL/});
				});
			});

			describe('contains()', () => {
				it('finds a response by key, or by URL and method (GET by default)', async () => {
					const get = await session.get(url('/json?c=1'));
					await session.head(url('/json?c=2'));
					assert.equal(await session.cache.contains(get.cacheKey), true);
					assert.equal(await session.cache.contains({url: url('/json?c=1')}), true);
					assert.equal(await session.cache.contains({url: url('/json?c=1'), method: 'HEAD'}), false);
					assert.equal(await session.cache.contains({url: url('/json?c=2'), method: 'HEAD'}), true);
					assert.equal(await session.cache.contains({url: url('/json?c=2')}), false);
					assert.equal(await session.cache.contains('nothing-here'), false);
				});
			});

			it('clear() deletes every entry', async () => {
				await fill('/json?clear=1', '/redirect/1');
				await session.cache.clear();
				assert.equal(await session.cache.count(), 0);
				assert.deepEqual(await session.cache.urls(), []);
				assert.equal((await session.get(url('/json?clear=1'))).fromCache, false);
			});

			it('urls() lists the final URLs, sorted and unique', async () => {
				await fill('/json?u=b', '/json?u=a', '/redirect/1');
				await session.head(url('/json?u=a'));
				assert.deepEqual(await session.cache.urls(), [url('/json'), url('/json?u=a'), url('/json?u=b')]);
			});

			it('count() counts responses, not redirect aliases', async () => {
				assert.equal(await session.cache.count(), 0);
				await fill('/json?n=1', '/redirect/2');
				assert.equal(await session.cache.count(), 2);
			});

			it('responses() yields every stored response as a cached Response with its redacted request', async () => {
				await session.get(url('/json?r=1'), {headers: {authorization: 'Bearer secret'}});
				await session.get(url('/bytes?n=10'));
				const seen: Response[] = [];
				for await (const response of session.cache.responses()) {
					seen.push(response);
				}

				assert.equal(seen.length, 2);
				assert.ok(seen.every(response => response instanceof Response && response.fromCache));
				const json = seen.find(response => response.url === url('/json?r=1'))!;
				assert.deepEqual(json.json<{query: unknown}>().query, {r: '1'});
				assert.equal(json.request.headers['authorization'], REDACTED);
				assert.equal(json.createdAt.getTime(), clock.now);
				assert.equal(seen.find(response => response.url.includes('/bytes'))!.body.length, 10);
			});

			describe('resetExpiration()', () => {
				it('gives every response a new expiry counted from now, and returns how many', async () => {
					await session.get(url('/json?x=1'));
					await session.get(url('/json?x=2'), {expireAfter: 5});
					await fill('/redirect/1');
					clock.advance(100);
					assert.equal(await session.cache.resetExpiration(60), 3);
					for await (const response of session.cache.responses()) {
						assert.equal(response.expires?.getTime(), clock.now + 60_000);
					}

					assert.equal((await session.get(url('/json?x=2'))).fromCache, true, 'the expired one is fresh again');
					clock.advance(61);
					assert.equal((await session.get(url('/redirect/1'))).fromCache, false, 'the alias expired with its response');
					assert.equal(await session.cache.removeExpiredResponses(), 2);
				});

				it('accepts NEVER_EXPIRE, durations and Dates, and rejects anything else', async () => {
					await session.get(url('/json?y=1'), {expireAfter: 5});
					assert.equal(await session.cache.resetExpiration(NEVER_EXPIRE), 1);
					clock.advance(3600);
					assert.equal((await session.get(url('/json?y=1'))).fromCache, true);
					await session.cache.resetExpiration({minutes: 1});
					await session.cache.resetExpiration(new Date(clock.now + 1000));
					for await (const response of session.cache.responses()) {
						assert.equal(response.expires?.getTime(), clock.now + 1000);
					}

					await assert.rejects(session.cache.resetExpiration('soon' as never), {name: 'TypeError', message: /`expireAfter`/});
				});
			});
		});
	}

	it('builds the keys of contains({url}) and delete({urls}) with the session\'s own key settings', async () => {
		const custom = new CachedSession({backend: 'memory', ignoredParameters: ['session']});
		await custom.get(`${origin.url}/json?q=1&session=abc`);
		assert.equal(await custom.cache.contains({url: `${origin.url}/json?q=1&session=other`}), true);
		assert.equal(await custom.cache.delete({urls: [`${origin.url}/json?session=zzz&q=1`]}), 1);
		await custom.close();
		const byPath = new CachedSession({backend: 'memory', keyFn: request => new URL(request.url).pathname});
		await byPath.get(`${origin.url}/json?any=thing`);
		assert.equal(await byPath.cache.contains({url: `${origin.url}/json`}), true);
		assert.equal(await byPath.cache.contains('/json'), true);
		await byPath.close();
	});

	it('clear() leaves entries of other users of the same Keyv store alone', async () => {
		const map = new Map<string, unknown>([['someone-else:key', {value: 'theirs'}]]);
		const session = new CachedSession({backend: new Keyv({store: map, namespace: 'mine'})});
		await session.get(`${origin.url}/json?shared-map=1`);
		assert.equal(map.size, 2);
		await session.cache.clear();
		assert.deepEqual([...map.keys()], ['someone-else:key']);
		await session.close();
	});
});
