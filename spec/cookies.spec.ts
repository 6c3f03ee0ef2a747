import assert from 'node:assert/strict';
import got from 'got';
import {CookieJar} from 'tough-cookie';
import {CachedSession, REDACTED, Session, get} from '../lib/index.js';
import {cookieHeaderFor, createSessionCookieJar} from '../lib/cookies.js';
import {Origin} from './support/origin.js';

type Cookies = {cookies: Record<string, string>; header: string | null};

describe('cookies', () => {
	let origin: Origin;

	before(async () => {
		origin = await Origin.start();
	});

	after(async () => {
		await origin.close();
	});

	const received = async (session: Session, path = '/cookies', headers?: Record<string, string>): Promise<Cookies> =>
		(await session.get(`${origin.url}${path}`, headers === undefined ? {} : {headers})).json<Cookies>();

	describe('a session keeps them', () => {
		it('sends a cookie set by one response with the next request', async () => {
			const session = new Session();
			await session.get(`${origin.url}/cookies/set?sid=abc123&theme=dark`);
			assert.deepEqual((await received(session)).cookies, {sid: 'abc123', theme: 'dark'});
			assert.equal(origin.seen.at(-1)!.headers.cookie, 'sid=abc123; theme=dark');
		});

		it('keeps each session\'s cookies to itself', async () => {
			const alice = new Session();
			const bob = new Session();
			await alice.get(`${origin.url}/cookies/set?user=alice`);
			assert.deepEqual((await received(bob)).cookies, {});
			assert.deepEqual((await received(alice)).cookies, {user: 'alice'});
		});

		it('sends a cookie only below its Path', async () => {
			const session = new Session();
			await session.get(`${origin.url}/cookies/raw?set=${encodeURIComponent('scoped=1; Path=/cookies/scoped')}`);
			assert.deepEqual((await received(session, '/cookies/scoped/deeper')).cookies, {scoped: '1'});
			assert.deepEqual((await received(session, '/cookies')).cookies, {});
		});

		it('keeps a host-only cookie to its host, and ignores a cookie for another domain without failing the request', async () => {
			const session = new Session();
			const response = await session.get(`${origin.url}/cookies/raw?set=${encodeURIComponent('here=1')}&set=${encodeURIComponent('elsewhere=1; Domain=example.com')}`);
			assert.equal(response.status, 200);
			assert.deepEqual((await received(session)).cookies, {here: '1'});
			// The same server by another name is another host.
			const byName = origin.url.replace('127.0.0.1', 'localhost');
			const other = await session.get(`${byName}/cookies`);
			assert.deepEqual(other.json<Cookies>().cookies, {});
		});

		it('drops a cookie that expires (Max-Age=0, or an Expires date in the past)', async () => {
			const session = new Session();
			await session.get(`${origin.url}/cookies/set?keep=1&gone=1`);
			await session.get(`${origin.url}/cookies/raw?set=${encodeURIComponent('gone=x; Path=/; Max-Age=0')}`);
			await session.get(`${origin.url}/cookies/raw?set=${encodeURIComponent('stale=1; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT')}`);
			assert.deepEqual((await received(session)).cookies, {keep: '1'});
		});

		it('sends a cookie set on a redirect hop to the next hop', async () => {
			const session = new Session();
			const response = await session.get(`${origin.url}/cookies/set?login=ok&next=/cookies`);
			assert.equal(response.history.length, 1);
			assert.deepEqual(response.json<Cookies>().cookies, {login: 'ok'});
		});

		it('lets a cookie header the caller gives win over the jar', async () => {
			const session = new Session();
			await session.get(`${origin.url}/cookies/set?sid=from-jar`);
			assert.equal((await received(session, '/cookies', {Cookie: 'sid=mine'})).header, 'sid=mine');
			const withDefault = new Session({headers: {cookie: 'sid=session-header'}});
			await withDefault.get(`${origin.url}/cookies/set?sid=from-jar`);
			assert.equal((await received(withDefault)).header, 'sid=session-header');
		});

		it('keeps no cookies with cookieJar: false', async () => {
			const session = new Session({cookieJar: false});
			assert.equal(session.cookieJar, undefined);
			await session.get(`${origin.url}/cookies/set?sid=abc`);
			assert.equal((await received(session)).header, null);
		});

		it('uses a jar of your own, which sessions can share', async () => {
			const jar = new CookieJar();
			await jar.setCookie('preset=1', origin.url);
			const first = new Session({cookieJar: jar});
			const second = new Session({cookieJar: jar});
			assert.equal(first.cookieJar, jar);
			assert.deepEqual((await received(first)).cookies, {preset: '1'});
			await first.get(`${origin.url}/cookies/set?shared=yes`);
			assert.deepEqual((await received(second)).cookies, {preset: '1', shared: 'yes'});
			assert.equal(await jar.getCookieString(`${origin.url}/`), 'preset=1; shared=yes');
		});

		it('uses the cookie jar of the given got instance', async () => {
			const jar = new CookieJar();
			const session = new Session({got: got.extend({retry: {limit: 0}, cookieJar: jar})});
			assert.equal(session.cookieJar, jar);
			await session.get(`${origin.url}/cookies/set?via=got`);
			assert.deepEqual((await received(session)).cookies, {via: 'got'});
		});

		it('sends cookies through session.fetch too', async () => {
			const session = new Session();
			await session.fetch(`${origin.url}/cookies/set?fetched=1`);
			const response = await session.fetch(`${origin.url}/cookies`);
			assert.deepEqual((await response.json() as Cookies).cookies, {fetched: '1'});
		});

		it('keeps no cookies between module-level calls, as requests.get() does', async () => {
			await get(`${origin.url}/cookies/set?global=1`);
			assert.equal((await get(`${origin.url}/cookies`)).json<Cookies>().header, null);
		});

		it('rejects a cookieJar that is not a jar, naming the option', () => {
			assert.throws(() => new Session({cookieJar: {} as never}), {name: 'TypeError', message: /`cookieJar` must be a tough-cookie CookieJar or false/});
			assert.throws(() => new Session({cookieJar: true as never}), {name: 'TypeError', message: /`cookieJar`/});
		});

		it('looks nothing up while the session\'s jar has never held a cookie', async () => {
			const jar = createSessionCookieJar();
			assert.equal(cookieHeaderFor(jar, `${origin.url}/x`), '');
			await jar.setCookie('a=1', origin.url);
			assert.equal(cookieHeaderFor(jar, `${origin.url}/x`), 'a=1');
			await jar.removeAllCookies();
			assert.equal(cookieHeaderFor(jar, `${origin.url}/x`), '');
		});
	});

	describe('with a cache', () => {
		it('does not store Set-Cookie by default, and replays none into the jar even when it is stored', async () => {
			for (const storeCookies of [false, true]) {
				const session = new CachedSession({backend: 'memory', storeCookies});
				const url = `${origin.url}/cookies/set?cached=${String(storeCookies)}`;
				// eslint-disable-next-line no-await-in-loop -- one case after the other
				await session.get(url);
				// eslint-disable-next-line no-await-in-loop
				await session.cookieJar!.removeAllCookies();
				const hits = origin.hits('/cookies/set');
				// eslint-disable-next-line no-await-in-loop
				const cached = await session.get(url);
				assert.equal(cached.fromCache, true);
				assert.equal(origin.hits('/cookies/set'), hits);
				assert.deepEqual(cached.headers['set-cookie'], storeCookies ? [`cached=${String(storeCookies)}; Path=/`] : undefined, 'stored only with storeCookies: true');
				// eslint-disable-next-line no-await-in-loop
				assert.equal(await session.cookieJar!.getCookieString(`${origin.url}/`), '', 'the jar gets nothing from a cached response');
				// eslint-disable-next-line no-await-in-loop
				await session.close();
			}
		});

		it('shows the cache the cookies it sends, so Vary: Cookie tells a logged-out page from a logged-in one', async () => {
			origin.route('/whoami', (request, response) => {
				response.writeHead(200, {'content-type': 'application/json', 'cache-control': 'max-age=600', vary: 'Cookie'});
				response.end(JSON.stringify({cookie: request.headers.cookie ?? null}));
			});
			const session = new CachedSession({backend: 'memory', cacheControl: true});
			const url = `${origin.url}/whoami`;
			assert.deepEqual((await session.get(url)).json(), {cookie: null});
			assert.equal((await session.get(url)).fromCache, true);
			await session.get(`${origin.url}/cookies/set?sid=logged-in`);
			const after = await session.get(url);
			assert.equal(after.fromCache, false, 'a different Cookie header is another variant');
			assert.deepEqual(after.json(), {cookie: 'sid=logged-in'});
			assert.equal(origin.hits('/whoami'), 2);
			await session.close();
		});

		it('never stores the cookies it sent', async () => {
			const session = new CachedSession({backend: 'memory'});
			await session.get(`${origin.url}/cookies/set?sid=secret-value`);
			await session.get(`${origin.url}/cookies?stored=1`);
			const cached = await session.get(`${origin.url}/cookies?stored=1`);
			assert.equal(cached.fromCache, true);
			assert.equal(cached.request.headers.cookie, REDACTED);
			await session.close();
		});
	});
});
