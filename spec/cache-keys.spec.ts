import {storeOf} from '../lib/cache/base-cache.js';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {CachedSession, DEFAULT_IGNORED_PARAMETERS, type PreparedRequest, REDACTED, createKey, normalizeUrl} from '../lib/index.js';
import type {KeySettings} from '../lib/cache-keys.js';
import {redactRequest} from '../lib/cache-keys.js';
import {prepareRequest} from '../lib/models/request.js';
import type {RequestOptions} from '../lib/session.js';
import {Origin} from './support/origin.js';
import {removeDir, tempDir} from './support/temp-dir.js';

const defaults: KeySettings = {ignoredParameters: new Set(), matchHeaders: false};

function request(method: string, url: string, options: RequestOptions = {}): PreparedRequest {
	return prepareRequest(method, url, options, {});
}

function key(method: string, url: string, options: RequestOptions = {}, settings: KeySettings = defaults): string {
	return createKey(request(method, url, options), settings);
}

describe('cache keys', () => {
	describe('createKey()', () => {
		it('is a 32-character hex hash', () => {
			assert.match(key('GET', 'https://example.com/'), /^[\da-f]{32}$/);
		});

		it('normalizes the URL: scheme and host case, default port, fragment, query order', () => {
			const base = key('GET', 'https://example.com/path?a=1&b=2');
			assert.equal(key('GET', 'HTTPS://EXAMPLE.com/path?a=1&b=2'), base);
			assert.equal(key('GET', 'https://example.com:443/path?a=1&b=2'), base);
			assert.equal(key('GET', 'https://example.com/path?b=2&a=1'), base);
			assert.equal(key('GET', 'https://example.com/path?b=2&a=1#section'), base);
			assert.equal(key('GET', 'https://example.com/path', {params: {b: 2, a: 1}}), base);
			// Repeated names keep their relative order: `a=2&a=1` is a different request (issue 10).
			assert.notEqual(key('GET', 'https://example.com/path?a=2&a=1'), key('GET', 'https://example.com/path?a=1&a=2'));
			assert.equal(key('GET', 'https://example.com/path?b=1&a=2&a=1'), key('GET', 'https://example.com/path?a=2&b=1&a=1'));
			assert.equal(normalizeUrl('HTTP://Example.COM:80/x?z=1&y=2#f', new Set()), 'http://example.com/x?y=2&z=1');
		});

		// Issue 17, defect 3: the exported one-argument call threw "Invalid value used as weak map key".
		it('normalizeUrl() takes one argument, with the default ignoredParameters, or an array or Set of names', () => {
			assert.equal(normalizeUrl('https://Example.com/a?b=2&a=1'), 'https://example.com/a?a=1&b=2');
			assert.equal(normalizeUrl('https://example.com/a?api_key=s&a=1'), 'https://example.com/a?a=1');
			assert.equal(normalizeUrl('https://example.com/a?api_key=s&a=1'), normalizeUrl('https://example.com/a?a=1', new Set(DEFAULT_IGNORED_PARAMETERS)));
			assert.equal(normalizeUrl('https://example.com/a?B=2&a=1', ['b']), 'https://example.com/a?a=1');
			assert.equal(normalizeUrl('https://example.com/a?B=2&a=1', []), 'https://example.com/a?B=2&a=1');
			assert.throws(() => normalizeUrl('https://example.com/', 'b' as unknown as string[]), {name: 'TypeError', message: /ignoredParameters/});
		});

		it('tells apart what makes a different request: method, path case, port, query values, scheme', () => {
			const base = key('GET', 'https://example.com/path?a=1');
			const others = [
				key('HEAD', 'https://example.com/path?a=1'),
				key('GET', 'https://example.com/Path?a=1'),
				key('GET', 'https://example.com:8443/path?a=1'),
				key('GET', 'https://example.com/path?a=2'),
				key('GET', 'https://example.com/path?a=1&b='),
				key('GET', 'http://example.com/path?a=1'),
			];
			for (const other of others) {
				assert.notEqual(other, base);
			}

			assert.equal(new Set(others).size, others.length);
		});

		it('sorts JSON body keys at every depth, but keeps array order', () => {
			const a = key('POST', 'https://example.com/q', {json: {b: 1, a: {y: [1, {d: 1, c: 2}], x: null}}});
			const b = key('POST', 'https://example.com/q', {json: {a: {x: null, y: [1, {c: 2, d: 1}]}, b: 1}});
			assert.equal(a, b);
			assert.notEqual(key('POST', 'https://example.com/q', {json: {a: {x: null, y: [{c: 2, d: 1}, 1]}, b: 1}}), a);
			assert.notEqual(key('POST', 'https://example.com/q', {json: {a: {x: 0, y: [1, {c: 2, d: 1}]}, b: 1}}), a);
		});

		it('sorts JSON keys for +json content types too, and keys invalid JSON on its raw bytes', () => {
			const headers = {'content-type': 'application/vnd.api+json'};
			assert.equal(key('POST', 'https://e.com/', {body: '{"b":1,"a":2}', headers}), key('POST', 'https://e.com/', {body: '{"a":2,"b":1}', headers}));
			const json = {'content-type': 'application/json'};
			assert.notEqual(key('POST', 'https://e.com/', {body: '{oops', headers: json}), key('POST', 'https://e.com/', {body: '{oops!', headers: json}));
		});

		it('sorts form fields', () => {
			assert.equal(key('POST', 'https://e.com/', {form: {b: 2, a: 1}}), key('POST', 'https://e.com/', {form: {a: 1, b: 2}}));
			assert.notEqual(key('POST', 'https://e.com/', {form: {a: 1, b: 3}}), key('POST', 'https://e.com/', {form: {a: 1, b: 2}}));
		});

		it('keys other bodies on their raw bytes', () => {
			assert.equal(key('POST', 'https://e.com/', {body: 'b=2&a=1'}), key('POST', 'https://e.com/', {body: Buffer.from('b=2&a=1')}));
			assert.notEqual(key('POST', 'https://e.com/', {body: 'b=2&a=1'}), key('POST', 'https://e.com/', {body: 'a=1&b=2'}));
			assert.notEqual(key('POST', 'https://e.com/', {body: 'x'}), key('POST', 'https://e.com/'));
			assert.equal(key('POST', 'https://e.com/', {body: ''}), key('POST', 'https://e.com/'), 'an empty body is no body');
		});

		it('leaves the names a user adds to ignoredParameters out: query, JSON and form fields, any case', () => {
			const custom: KeySettings = {ignoredParameters: new Set([...defaults.ignoredParameters, 'session']), matchHeaders: false};
			assert.equal(key('GET', 'https://e.com/x?session=one&q=1', {}, custom), key('GET', 'https://e.com/x?q=1&SESSION=two', {}, custom));
			assert.equal(key('GET', 'https://e.com/x?session=t', {}, custom), key('GET', 'https://e.com/x', {}, custom));
			assert.equal(key('POST', 'https://e.com/x', {json: {q: 1, session: 'a'}}, custom), key('POST', 'https://e.com/x', {json: {q: 1, session: 'b'}}, custom));
			assert.equal(key('POST', 'https://e.com/x', {form: {q: 1, Session: 'a'}}, custom), key('POST', 'https://e.com/x', {form: {q: 1}}, custom), 'case-insensitive');
			assert.notEqual(key('GET', 'https://e.com/x?q=1', {}, custom), key('GET', 'https://e.com/x?q=2', {}, custom));
		});

		it('keys each credential apart (the built-in names): query, JSON and form fields, headers', () => {
			assert.notEqual(key('GET', 'https://e.com/x?api_key=one&q=1'), key('GET', 'https://e.com/x?q=1&api_key=two'));
			assert.equal(key('GET', 'https://e.com/x?api_key=one&q=1'), key('GET', 'https://e.com/x?q=1&api_key=one'));
			assert.notEqual(key('GET', 'https://e.com/x?access_token=t'), key('GET', 'https://e.com/x'));
			assert.notEqual(key('POST', 'https://e.com/x', {json: {q: 1, apikey: 'a'}}), key('POST', 'https://e.com/x', {json: {q: 1, apikey: 'b'}}));
			assert.notEqual(key('POST', 'https://e.com/x', {form: {q: 1, Access_Token: 'a'}}), key('POST', 'https://e.com/x', {form: {q: 1}}));
			assert.notEqual(key('GET', 'https://e.com/', {headers: {Authorization: 'one'}}), key('GET', 'https://e.com/', {headers: {Authorization: 'two'}}));
			const shared: KeySettings = {...defaults, shareCredentials: true};
			assert.equal(key('GET', 'https://e.com/x?api_key=one&q=1', {}, shared), key('GET', 'https://e.com/x?q=1&API_KEY=two', {}, shared), 'unless shareCredentials');
			assert.equal(key('POST', 'https://e.com/x', {json: {q: 1, apikey: 'a'}}, shared), key('POST', 'https://e.com/x', {json: {q: 1, apikey: 'b'}}, shared));
			const custom: KeySettings = {ignoredParameters: new Set(['session']), matchHeaders: false};
			assert.notEqual(key('GET', 'https://e.com/x?api_key=1', {}, custom), key('GET', 'https://e.com/x?api_key=2', {}, custom), 'a custom list leaves the built-in names isolated');
		});

		it('ignores request headers unless matchHeaders says otherwise', () => {
			const accept = (value: string, settings: KeySettings) => key('GET', 'https://e.com/', {headers: {Accept: value, Authorization: 'Bearer one'}}, settings);
			assert.equal(accept('text/html', defaults), accept('application/json', defaults));
			const all: KeySettings = {...defaults, matchHeaders: true};
			assert.notEqual(accept('text/html', all), accept('application/json', all));
			const shared: KeySettings = {...all, shareCredentials: true};
			assert.equal(
				key('GET', 'https://e.com/', {headers: {Accept: 'a', Authorization: 'one'}}, shared),
				key('GET', 'https://e.com/', {headers: {Accept: 'a', Authorization: 'two'}}, shared),
				'shared credential headers stay out even with matchHeaders: true',
			);
			assert.equal(
				key('GET', 'https://e.com/', {headers: {Accept: 'a', 'X-Listed': 'one'}}, {...all, ignoredParameters: new Set(['x-listed'])}),
				key('GET', 'https://e.com/', {headers: {Accept: 'a', 'X-Listed': 'two'}}, {...all, ignoredParameters: new Set(['x-listed'])}),
				'ignored headers stay out even with matchHeaders: true',
			);
			const list: KeySettings = {...defaults, matchHeaders: ['accept']};
			assert.notEqual(accept('text/html', list), accept('application/json', list));
			assert.equal(
				key('GET', 'https://e.com/', {headers: {Accept: 'a', 'X-Other': '1'}}, list),
				key('GET', 'https://e.com/', {headers: {Accept: 'a', 'X-Other': '2'}}, list),
				'headers not listed stay out',
			);
			assert.notEqual(key('GET', 'https://e.com/', {}, list), key('GET', 'https://e.com/', {headers: {Accept: ''}}, list), 'absent is not empty');
		});

		it('keys on an ignored header when matchHeaders names it, so that credentials get their own entries', () => {
			const byUser: KeySettings = {...defaults, matchHeaders: ['authorization']};
			const as = (user: string) => key('GET', 'https://e.com/', {headers: {Authorization: `Bearer ${user}`}}, byUser);
			assert.notEqual(as('alice'), as('bob'));
			assert.equal(as('alice'), as('alice'));
			assert.equal(redactRequest(request('GET', 'https://e.com/', {headers: {Authorization: 'Bearer alice'}}), byUser.ignoredParameters).headers['authorization'], REDACTED, 'and it is still redacted in storage');
		});
	});

	describe('redactRequest()', () => {
		it('replaces ignored parameters in the URL, headers and JSON (any depth) and form bodies, and drops opaque bodies', () => {
			const ignored = defaults.ignoredParameters;
			const get = redactRequest(request('GET', 'https://e.com/x?q=1&api_key=s1', {headers: {'X-API-Key': 's2', Cookie: 'sid=s3', Accept: 'a'}}), ignored);
			assert.equal(get.url, `https://e.com/x?q=1&api_key=${REDACTED}`);
			assert.deepEqual(get.headers, {'x-api-key': REDACTED, cookie: REDACTED, accept: 'a'});
			const json = redactRequest(request('POST', 'https://e.com/', {json: {a: 1, apikey: 's4', nested: [{Access_Token: 's5'}]}}), ignored);
			assert.deepEqual(JSON.parse(json.body!), {a: 1, apikey: REDACTED, nested: [{Access_Token: REDACTED}]});
			const form = redactRequest(request('POST', 'https://e.com/', {form: {a: 1, api_key: 's6'}}), ignored);
			assert.equal(form.body, `a=1&api_key=${REDACTED}`);
			assert.equal(redactRequest(request('POST', 'https://e.com/', {body: 'api_key=s7'}), ignored).body, null);
		});
	});

	describe('with a session and a real origin', () => {
		let origin: Origin;
		let dir: string;

		before(async () => {
			origin = await Origin.start();
			dir = tempDir('cache-keys');
			// Answers without echoing the request, so the only way a secret reaches the store is the cache itself.
			origin.route('/private', (_request, response) => {
				response.writeHead(200, {'content-type': 'text/plain'}).end('private data');
			});
			origin.route('/login', (request, response) => {
				const url = new URL(request.url!, origin.url);
				response.writeHead(302, {location: `/private?access_token=${url.searchParams.get('access_token') ?? ''}`}).end();
			});
		});

		after(async () => {
			await origin.close();
			removeDir(dir);
		});

		it('serves the same entry whatever the order of the query parameters', async () => {
			const session = new CachedSession({backend: 'memory'});
			const before = origin.hits('/json');
			await session.get(`${origin.url}/json?a=1&b=2`);
			const second = await session.get(`${origin.url}/json?b=2`, {params: {a: 1}});
			assert.equal(second.fromCache, true);
			assert.equal(origin.hits('/json'), before + 1);
			assert.equal((await session.get(`${origin.url}/json?a=1&b=3`)).fromCache, false);
			await session.close();
		});

		it('serves a cached POST for a JSON body with its keys in another order, and not for another body', async () => {
			const session = new CachedSession({backend: 'memory', allowableMethods: ['GET', 'POST']});
			await session.post(`${origin.url}/echo`, {json: {query: {b: 2, a: 1}, page: 1}});
			assert.equal((await session.post(`${origin.url}/echo`, {json: {page: 1, query: {a: 1, b: 2}}})).fromCache, true);
			assert.equal((await session.post(`${origin.url}/echo`, {json: {page: 2, query: {a: 1, b: 2}}})).fromCache, false);
			await session.close();
		});

		it('shares an entry between requests that differ only in credentials when shareCredentials says so', async () => {
			const session = new CachedSession({backend: 'memory', matchHeaders: true, shareCredentials: true});
			await session.get(`${origin.url}/json`, {params: {q: 1, api_key: 'first'}, headers: {Authorization: 'Bearer first'}});
			const second = await session.get(`${origin.url}/json`, {params: {q: 1, api_key: 'second'}, headers: {Authorization: 'Bearer second'}});
			assert.equal(second.fromCache, true);
			await session.close();
		});

		it('shares an entry between requests that differ only in parameters the user listed as ignored', async () => {
			const session = new CachedSession({backend: 'memory', matchHeaders: true, ignoredParameters: ['trace_id', 'X-Trace']});
			await session.get(`${origin.url}/json`, {params: {q: 1, trace_id: 'first'}, headers: {'X-Trace': 'first'}});
			const second = await session.get(`${origin.url}/json`, {params: {q: 1, trace_id: 'second'}, headers: {'X-Trace': 'second'}});
			assert.equal(second.fromCache, true);
			await session.close();
		});

		it('never serves one credential\'s response to another by default, and does when shareCredentials says so', async () => {
			const isolated = new CachedSession({backend: 'memory'});
			await isolated.get(`${origin.url}/json?isolated=1`, {params: {api_key: 'first'}, headers: {Authorization: 'Bearer first'}});
			assert.equal((await isolated.get(`${origin.url}/json?isolated=1`, {params: {api_key: 'second'}, headers: {Authorization: 'Bearer second'}})).fromCache, false);
			assert.equal((await isolated.get(`${origin.url}/json?isolated=1`, {params: {api_key: 'first'}, headers: {Authorization: 'Bearer first'}})).fromCache, true);
			const shared = new CachedSession({backend: 'memory', shareCredentials: true});
			await shared.get(`${origin.url}/json?shared=1`, {headers: {Authorization: 'Bearer first'}});
			assert.equal((await shared.get(`${origin.url}/json?shared=1`, {headers: {Authorization: 'Bearer second'}})).fromCache, true);
			await isolated.close();
			await shared.close();
		});

		it('matches on request headers only as matchHeaders says', async () => {
			const loose = new CachedSession({backend: 'memory'});
			const strict = new CachedSession({backend: 'memory', matchHeaders: ['Accept']});
			for (const session of [loose, strict]) {
				// eslint-disable-next-line no-await-in-loop -- sequential on purpose
				await session.get(`${origin.url}/json?headers=1`, {headers: {accept: 'application/json', 'x-trace': '1'}});
			}

			assert.equal((await loose.get(`${origin.url}/json?headers=1`, {headers: {accept: 'text/plain'}})).fromCache, true);
			assert.equal((await strict.get(`${origin.url}/json?headers=1`, {headers: {accept: 'text/plain'}})).fromCache, false);
			assert.equal((await strict.get(`${origin.url}/json?headers=1`, {headers: {accept: 'application/json', 'x-trace': '2'}})).fromCache, true);
			await loose.close();
			await strict.close();
		});

		it('uses keyFn instead of the built-in key, for lookups and for the key reported on the response', async () => {
			const seen: PreparedRequest[] = [];
			const session = new CachedSession({
				backend: 'memory',
				keyFn(prepared) {
					seen.push(prepared);
					return `path:${new URL(prepared.url).pathname}`;
				},
			});
			const first = await session.get(`${origin.url}/json?variant=1`);
			const second = await session.get(`${origin.url}/json?variant=2`);
			assert.equal(first.cacheKey, 'path:/json');
			assert.equal(second.fromCache, true, 'the query is not part of this key');
			assert.equal(second.json<{query: unknown}>().query !== undefined, true);
			assert.deepEqual(second.json<{query: unknown}>().query, {variant: '1'});
			assert.equal(seen[0]!.method, 'GET');
			assert.equal(seen[0]!.url, `${origin.url}/json?variant=1`);
			assert.equal(await session.cache.contains('path:/json'), true);
			await session.close();
		});

		it('rejects a keyFn result that is not a non-empty string', async () => {
			const session = new CachedSession({backend: 'memory', keyFn: () => ''});
			await assert.rejects(session.get(`${origin.url}/json?bad-key=1`), {name: 'TypeError', message: /keyFn must return a non-empty string/});
			const numbers = new CachedSession({backend: 'memory', keyFn: () => 5 as never});
			await assert.rejects(numbers.get(`${origin.url}/json?bad-key=2`), {name: 'TypeError', message: /keyFn/});
			await session.close();
			await numbers.close();
		});

		describe('secrets never reach the SQLite store', () => {
			const secrets = ['SECRET-header-1', 'SECRET-header-2', 'SECRET-apikey-3', 'SECRET-cookie-4', 'SECRET-json-5', 'SECRET-nested-6', 'SECRET-form-7', 'SECRET-custom-8'];

			/** Every byte of the cache's files (main database, WAL, shared memory), as text. */
			function rawBytes(cacheDir: string): string {
				return readdirSync(cacheDir).map(name => readFileSync(path.join(cacheDir, name)).toString('latin1')).join('\n');
			}

			async function rows(session: CachedSession): Promise<string> {
				// Every stored record, key and bytes, as the store returns them.
				const store = storeOf(session.cache);
				const lines: string[] = [];
				for await (const batch of store.scan()) {
					for (const meta of batch) {
						// eslint-disable-next-line no-await-in-loop
						const record = await store.get(meta.key);
						lines.push(`${meta.key} ${meta.url} ${Buffer.from(record?.value ?? []).toString('latin1')}`);
					}
				}

				return lines.join('\n');
			}

			it('redacts ignored parameters in headers, JSON and form bodies before storing', async () => {
				const cacheDir = path.join(dir, 'secrets');
				const session = new CachedSession({
					cacheName: path.join(cacheDir, 'cache'),
					allowableMethods: ['GET', 'POST'],
					ignoredParameters: ['X-Custom-Secret'],
				});
				await session.get(`${origin.url}/private`, {
					params: {q: 'visible'},
					headers: {
						Authorization: `Bearer ${secrets[1]}`, 'Proxy-Authorization': `Basic ${secrets[0]}`, 'X-API-Key': secrets[2]!,
						Cookie: `sid=${secrets[3]}`, 'X-Custom-Secret': secrets[7]!,
					},
				});
				await session.post(`${origin.url}/private`, {json: {query: 'visible', access_token: secrets[4], nested: {apikey: secrets[5]}}});
				await session.post(`${origin.url}/private`, {form: {query: 'visible', api_key: secrets[6]}});
				assert.equal(await session.cache.count(), 3, 'all three responses were stored');
				const stored = await rows(session);
				assert.match(stored, /visible/, 'the rows hold the requests (the search below can find text)');
				assert.match(stored, /REDACTED/);
				const whileOpen = rawBytes(cacheDir);
				await session.close();
				const afterClose = rawBytes(cacheDir);
				for (const secret of secrets) {
					assert.ok(!stored.includes(secret), `${secret} is in a row`);
					assert.ok(!whileOpen.includes(secret), `${secret} is in the files while open`);
					assert.ok(!afterClose.includes(secret), `${secret} is in the files after close`);
				}

				// Whoever holds the same secrets gets the cached response, in another session on the same file; anyone else does not.
				const reopened = new CachedSession({cacheName: path.join(cacheDir, 'cache'), ignoredParameters: ['X-Custom-Secret']});
				const sameHeaders = {
					Authorization: `Bearer ${secrets[1]}`, 'Proxy-Authorization': `Basic ${secrets[0]}`, 'X-API-Key': secrets[2]!,
					Cookie: `sid=${secrets[3]}`, 'X-Custom-Secret': 'another value: this name is shared',
				};
				const again = await reopened.get(`${origin.url}/private`, {params: {q: 'visible'}, headers: sameHeaders});
				assert.equal(again.fromCache, true);
				assert.equal(again.request.headers['authorization'], REDACTED, 'a cached response\'s request is the stored, redacted one (as in requests-cache)');
				const other = await reopened.get(`${origin.url}/private`, {params: {q: 'visible'}, headers: {...sameHeaders, Authorization: 'Bearer another'}});
				assert.equal(other.fromCache, false, 'other credentials: another entry');
				await reopened.close();
			});

			it('redacts ignored parameters in the query, including the stored final URL and redirect URLs', async () => {
				const cacheDir = path.join(dir, 'secrets-url');
				const session = new CachedSession({cacheName: path.join(cacheDir, 'cache')});
				await session.get(`${origin.url}/private`, {params: {q: 'visible', api_key: 'SECRET-query-9'}});
				await session.get(`${origin.url}/login?access_token=SECRET-redirect-10`);
				assert.equal(await session.cache.count(), 2);
				const stored = await rows(session);
				await session.close();
				const bytes = rawBytes(cacheDir);
				for (const secret of ['SECRET-query-9', 'SECRET-redirect-10']) {
					assert.ok(!stored.includes(secret), `${secret} is in a row`);
					assert.ok(!bytes.includes(secret), `${secret} is in the files`);
				}

				// A hit without redirects reports the caller's own URL; after redirects, the redacted final URL.
				const reopened = new CachedSession({cacheName: path.join(cacheDir, 'cache')});
				const direct = await reopened.get(`${origin.url}/private`, {params: {q: 'visible', api_key: 'SECRET-query-9'}});
				assert.equal(direct.fromCache, true);
				assert.equal(direct.url, `${origin.url}/private?q=visible&api_key=SECRET-query-9`);
				const redirected = await reopened.get(`${origin.url}/login?access_token=SECRET-redirect-10`);
				assert.equal(redirected.fromCache, true);
				assert.equal(redirected.url, `${origin.url}/private?access_token=${REDACTED}`);
				assert.deepEqual(await reopened.cache.urls(), [`${origin.url}/private?access_token=${REDACTED}`, `${origin.url}/private?q=visible&api_key=${REDACTED}`]);
				await reopened.close();
			});
		});
	});
});
