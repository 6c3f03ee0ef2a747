import assert from 'node:assert/strict';
import {CachedSession, DO_NOT_CACHE, EXPIRE_IMMEDIATELY, type ExpireAfter, NEVER_EXPIRE} from '../../lib/index.js';
import {compileUrlPattern, matchUrlExpiration, parseExpireAfter, parseUrlsExpireAfter} from '../../lib/policy/expiration.js';
import {FakeClock} from '../support/clock.js';
import {Origin} from '../support/origin.js';

describe('expiration', () => {
	describe('expireAfter forms', () => {
		it('reads a number as seconds', () => {
			assert.deepEqual(parseExpireAfter(90, 'spec', 'expireAfter'), {kind: 'ttl', ms: 90_000});
			assert.deepEqual(parseExpireAfter(0.5, 'spec', 'expireAfter'), {kind: 'ttl', ms: 500});
		});

		it('reads a Date as an absolute expiry time', () => {
			const at = new Date('2031-02-03T04:05:06Z');
			assert.deepEqual(parseExpireAfter(at, 'spec', 'expireAfter'), {kind: 'at', time: at.getTime()});
		});

		it('adds up the parts of a duration object', () => {
			assert.deepEqual(parseExpireAfter({days: 1, hours: 2, minutes: 3, seconds: 4, milliseconds: 5}, 'spec', 'expireAfter'),
				{kind: 'ttl', ms: 86_400_000 + 7_200_000 + 180_000 + 4000 + 5});
			assert.deepEqual(parseExpireAfter({hours: 1.5}, 'spec', 'expireAfter'), {kind: 'ttl', ms: 5_400_000});
		});

		it('knows the constants: NEVER_EXPIRE is -1, EXPIRE_IMMEDIATELY is 0, DO_NOT_CACHE skips the cache', () => {
			assert.equal(NEVER_EXPIRE, -1);
			assert.equal(EXPIRE_IMMEDIATELY, 0);
			assert.equal(parseExpireAfter(NEVER_EXPIRE, 'spec', 'x').kind, 'never');
			assert.equal(parseExpireAfter(EXPIRE_IMMEDIATELY, 'spec', 'x').kind, 'immediately');
			assert.equal(parseExpireAfter({seconds: 0}, 'spec', 'x').kind, 'immediately', 'a zero duration expires at once');
			assert.equal(parseExpireAfter(null, 'spec', 'x').kind, 'never', 'null never expires, as None does in requests-cache');
			assert.equal(parseExpireAfter(DO_NOT_CACHE, 'spec', 'x').kind, 'doNotCache');
		});

		it('rejects everything else with an error naming the owner and the option', () => {
			const bad: Array<[unknown, string]> = [
				['60', 'TypeError'], [{}, 'TypeError'], [{days: undefined}, 'TypeError'], [{days: 1e308}, 'RangeError'], [[60], 'TypeError'], [Symbol('other'), 'TypeError'], [true, 'TypeError'],
				[-2, 'RangeError'], [Number.NaN, 'RangeError'], [new Date(Number.NaN), 'RangeError'],
				[{hour: 1}, 'TypeError'], [{hours: -1}, 'RangeError'], [{hours: Number.POSITIVE_INFINITY}, 'TypeError'],
				[new Map(), 'TypeError'],
			];
			for (const [value, name] of bad) {
				assert.throws(() => parseExpireAfter(value, 'Owner', 'opt'), (error: unknown) => {
					assert.equal((error as Error).name, name, `for ${String(value)}`);
					assert.match((error as Error).message, /^Owner option `opt/);
					return true;
				});
			}
		});
	});

	describe('urlsExpireAfter patterns', () => {
		const matches = (pattern: string, url: string) => compileUrlPattern(pattern).test(url.replace(/^[a-z]+:\/\//i, ''));

		it('matches from the start of the URL without its scheme, and everything below the pattern', () => {
			assert.ok(matches('api.example.com', 'https://api.example.com'));
			assert.ok(matches('api.example.com', 'https://api.example.com/v1/users?page=2'));
			assert.ok(matches('api.example.com', 'http://api.example.com:8080/x'));
			assert.ok(matches('example.com/v1', 'https://example.com/v1/users?page=2'));
			assert.ok(matches('example.com/v1', 'https://example.com/v1?x=1'));
			assert.ok(!matches('example.com/v1', 'https://example.com/v10'), 'a pattern ends at a boundary');
			assert.ok(!matches('api.example.com', 'https://api.example.com.evil.net/'));
			assert.ok(!matches('example.com', 'https://www.example.com/'), 'anchored at the start');
			assert.ok(!matches('example.com/v1', 'https://other.net/?next=example.com/v1'));
		});

		it('lets * match any run of characters, / included', () => {
			assert.ok(matches('*.example.com', 'https://a.b.example.com/x'));
			assert.ok(matches('example.com/*/items', 'https://example.com/a/b/c/items/9'));
			assert.ok(matches('example.com/img*', 'https://example.com/img/logo.png'));
			assert.ok(matches('*', 'http://anything/at/all?x=1'));
			assert.ok(!matches('*.example.com', 'https://example.org/'));
		});

		it('ignores a scheme in the pattern and letter case, and treats other characters literally', () => {
			assert.ok(matches('https://Example.COM/api', 'http://example.com/api/x'));
			assert.ok(!matches('example.com', 'https://exampleXcom/'), 'a dot is a dot');
			assert.ok(matches('example.com/a?b=1', 'https://example.com/a?b=1&c=2'));
			assert.ok(!matches('example.com/a?b=1', 'https://example.com/a?b=10'));
			assert.ok(!matches('example.com/a?b=1', 'https://example.com/ab=1'), 'a question mark is a question mark');
			assert.ok(matches('example.com/(v1)', 'https://example.com/(v1)/x'));
		});

		it('uses the first matching pattern, in the order given', () => {
			const rules = parseUrlsExpireAfter({'example.com/api/slow': 600, 'example.com/api': 60, '*': DO_NOT_CACHE}, 'spec', 'urlsExpireAfter');
			assert.deepEqual(matchUrlExpiration(rules, 'https://example.com/api/slow/1'), {kind: 'ttl', ms: 600_000});
			assert.deepEqual(matchUrlExpiration(rules, 'https://example.com/api/fast'), {kind: 'ttl', ms: 60_000});
			assert.equal(matchUrlExpiration(rules, 'https://other.org/')?.kind, 'doNotCache');
			assert.equal(matchUrlExpiration(parseUrlsExpireAfter({'a.com': 1}, 's', 'u'), 'https://b.com/'), undefined);
		});
	});

	describe('with a session, a real origin and a fake clock', () => {
		let origin: Origin;
		let clock: FakeClock;

		before(async () => {
			origin = await Origin.start();
			origin.route('/api/*', (request, response) => {
				response.writeHead(200, {'content-type': 'application/json'});
				response.end(JSON.stringify({path: request.url, hit: origin.hits(new URL(request.url!, origin.url).pathname)}));
			});
		});

		after(async () => {
			await origin.close();
		});

		beforeEach(() => {
			clock = new FakeClock(Date.UTC(2030, 5, 1));
		});

		const session = (options: {expireAfter?: ExpireAfter; urlsExpireAfter?: Record<string, ExpireAfter>} = {}) =>
			new CachedSession({backend: 'memory', clock: clock.read, ...options});

		/** GET and report whether it was served from the cache without reaching the origin. */
		async function cached(s: CachedSession, path: string, options: {expireAfter?: ExpireAfter} = {}): Promise<boolean> {
			const pathname = new URL(path, origin.url).pathname;
			const before = origin.hits(pathname);
			const response = await s.get(`${origin.url}${path}`, options);
			const untouched = origin.hits(pathname) === before;
			assert.equal(response.fromCache, untouched, 'fromCache agrees with the origin\'s hit counter');
			return response.fromCache;
		}

		it('serves an entry until its expireAfter seconds are up, then refetches and replaces it', async () => {
			const s = session({expireAfter: 60});
			const first = await s.get(`${origin.url}/json?ttl=1`);
			assert.equal(first.expires?.getTime(), clock.now + 60_000);
			clock.advance(59);
			assert.equal(await cached(s, '/json?ttl=1'), true);
			clock.advance(1);
			const refetched = await s.get(`${origin.url}/json?ttl=1`);
			assert.equal(refetched.fromCache, false, 'expired at exactly its expiry time');
			assert.notEqual(refetched.json<{hit: number}>().hit, first.json<{hit: number}>().hit);
			assert.equal(await s.cache.count(), 1, 'replaced, not added');
			const again = await s.get(`${origin.url}/json?ttl=1`);
			assert.equal(again.fromCache, true);
			assert.equal(again.createdAt.getTime(), clock.now, 'the replacement is what is served now');
			assert.deepEqual(again.json(), refetched.json());
		});

		it('expires at an absolute Date', async () => {
			const s = session({expireAfter: new Date(clock.now + 600_000)});
			const first = await s.get(`${origin.url}/json?date=1`);
			assert.equal(first.expires?.getTime(), clock.now + 600_000);
			clock.advance(599);
			assert.equal(await cached(s, '/json?date=1'), true);
			clock.advance(2);
			assert.equal(await cached(s, '/json?date=1'), false);
		});

		it('does not store a response whose Date has already passed', async () => {
			const s = session({expireAfter: new Date(clock.now - 1000)});
			assert.equal(await cached(s, '/json?past=1'), false);
			assert.equal(await cached(s, '/json?past=1'), false);
			assert.equal(await s.cache.count(), 0);
		});

		it('expires after a duration object', async () => {
			const s = session({expireAfter: {hours: 1, minutes: 30}});
			const first = await s.get(`${origin.url}/json?duration=1`);
			assert.equal(first.expires?.getTime(), clock.now + 5_400_000);
			clock.advance(5399);
			assert.equal(await cached(s, '/json?duration=1'), true);
			clock.advance(1);
			assert.equal(await cached(s, '/json?duration=1'), false);
		});

		it('never expires by default', async () => {
			const s = session();
			const first = await s.get(`${origin.url}/json?never=1`);
			assert.equal(first.expires, null);
			clock.advance(10 * 365 * 86_400);
			const later = await s.get(`${origin.url}/json?never=1`);
			assert.equal(later.fromCache, true);
			assert.equal(later.expires, null);
			assert.equal(later.isExpired, false);
		});

		it('does not store with EXPIRE_IMMEDIATELY (when the response has no validator)', async () => {
			const s = session({expireAfter: EXPIRE_IMMEDIATELY});
			assert.equal(await cached(s, '/json?immediately=1'), false);
			assert.equal(await cached(s, '/json?immediately=1'), false);
			assert.equal(await s.cache.count(), 0);
		});

		it('neither reads nor writes with DO_NOT_CACHE', async () => {
			const s = session();
			await s.get(`${origin.url}/json?skip=1`);
			const stored = (await s.get(`${origin.url}/json?skip=1`)).json<{hit: number}>();
			const skipped = await s.get(`${origin.url}/json?skip=1`, {expireAfter: DO_NOT_CACHE});
			assert.equal(skipped.fromCache, false, 'not read');
			assert.equal(skipped.cacheKey, '', 'not even keyed');
			const after = await s.get(`${origin.url}/json?skip=1`);
			assert.equal(after.fromCache, true);
			assert.deepEqual(after.json(), stored, 'not written: the old entry is still there');
			const never = session({expireAfter: DO_NOT_CACHE});
			await never.get(`${origin.url}/json?skip=2`);
			assert.equal(await never.cache.count(), 0);
		});

		it('caches only what the allowlist idiom allows: {\'host:port/api/*\': 60, \'*\': DO_NOT_CACHE}', async () => {
			const host = origin.url.replace('http://', '');
			const s = session({urlsExpireAfter: {[`${host}/api/*`]: 60, '*': DO_NOT_CACHE}});
			const api = await s.get(`${origin.url}/api/items`);
			assert.equal(api.expires?.getTime(), clock.now + 60_000);
			assert.equal(await cached(s, '/api/items'), true);
			assert.equal(await cached(s, '/json?allow=1'), false);
			assert.equal(await cached(s, '/json?allow=1'), false);
			assert.deepEqual(await s.cache.urls(), [`${origin.url}/api/items`]);
			clock.advance(61);
			assert.equal(await cached(s, '/api/items'), false);
		});

		it('takes the first matching pattern', async () => {
			const host = origin.url.replace('http://', '');
			const s = session({urlsExpireAfter: {[`${host}/api/slow`]: 600, [`${host}/api`]: 60}});
			const slow = await s.get(`${origin.url}/api/slow/1`);
			const fast = await s.get(`${origin.url}/api/fast`);
			assert.equal(slow.expires?.getTime(), clock.now + 600_000);
			assert.equal(fast.expires?.getTime(), clock.now + 60_000);
		});

		it('applies per-request > urlsExpireAfter > session expireAfter', async () => {
			const host = origin.url.replace('http://', '');
			const s = session({expireAfter: 10, urlsExpireAfter: {[`${host}/api`]: 60}});
			const perRequest = await s.get(`${origin.url}/api/a`, {expireAfter: 3600});
			const byPattern = await s.get(`${origin.url}/api/b`);
			const bySession = await s.get(`${origin.url}/json?precedence=1`);
			assert.equal(perRequest.expires?.getTime(), clock.now + 3_600_000);
			assert.equal(byPattern.expires?.getTime(), clock.now + 60_000);
			assert.equal(bySession.expires?.getTime(), clock.now + 10_000);
			const neverPerRequest = await s.get(`${origin.url}/api/c`, {expireAfter: NEVER_EXPIRE});
			assert.equal(neverPerRequest.expires, null, 'NEVER_EXPIRE per request beats the pattern');
		});

		it('lets a per-request expireAfter decide for a response only, not for what is already stored', async () => {
			const s = session({expireAfter: 60});
			await s.get(`${origin.url}/json?stored=1`);
			clock.advance(30);
			const served = await s.get(`${origin.url}/json?stored=1`, {expireAfter: 10});
			assert.equal(served.fromCache, true, 'a stored entry keeps the expiry it was stored with');
		});
	});
});
