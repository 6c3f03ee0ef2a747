import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import fc from 'fast-check';
import {CachedSession} from '../../lib/cached-session.js';
import {
	DEFAULT_IGNORED_PARAMETERS, type KeySettings, REDACTED, createKey, createKeyNonBlocking, createVariantKey,
	ownerOf, isCredentialName, normalizeUrl, redactRequest, redactUrl, storableResponseHeaders,
} from '../../lib/cache-keys.js';
import {renewedEntryOf, storedEntryOf} from '../../lib/codec/redact.js';
import {type PreparedRequest, type RequestBodyOptions, prepareRequest} from '../../lib/models/request.js';
import {MAX_EXPIRE_AFTER_MS, olderThanCutoff, parseExpireAfter} from '../../lib/policy/expiration.js';
import {normalizeCacheOptions} from '../../lib/config/options.js';
import {Origin} from '../support/origin.js';

/*
 * Adversarial properties of cache keys and redaction (lib/codec/*). Each new credential value costs
 * one scrypt derivation (tens of ms), so the credential properties run fewer cases than the others.
 */

/** The user's ignoredParameters: none (the built-in credential names need no listing). */
const ignored = new Set<string>();
const defaults: KeySettings = {ignoredParameters: ignored, matchHeaders: false};
const json = {'content-type': 'application/json'};

function request(method: string, url: string, options: RequestBodyOptions = {}): PreparedRequest {
	return prepareRequest(method, url, options, {});
}

function key(method: string, url: string, options: RequestBodyOptions = {}, settings: KeySettings = defaults): string {
	return createKey(request(method, url, options), settings);
}

/** Where a credential can travel in a request. */
type Place = 'header' | 'query' | 'form' | 'json' | 'json-nested' | 'userinfo-user' | 'userinfo-password';
const places: readonly Place[] = ['header', 'query', 'form', 'json', 'json-nested', 'userinfo-user', 'userinfo-password'];

/** A request carrying `secret` under `name` at `place`, otherwise always the same. */
function carrying(place: Place, name: string, secret: string): PreparedRequest {
	const url = 'https://api.example.com/v1/items?page=2';
	switch (place) {
		case 'header': {
			return request('GET', url, {headers: {[name]: secret}});
		}

		case 'query': {
			return request('GET', url, {params: {[name]: secret}});
		}

		case 'form': {
			return request('POST', url, {form: {q: 'x', [name]: secret}});
		}

		case 'json': {
			return request('POST', url, {json: {q: 'x', [name]: secret}});
		}

		case 'json-nested': {
			return request('POST', url, {json: {q: 'x', list: [{deep: {[name]: secret}}]}});
		}

		case 'userinfo-user': {
			return request('GET', url.replace('https://', `https://${secret}@`));
		}

		case 'userinfo-password': {
			return request('GET', url.replace('https://', `https://user:${secret}@`));
		}
	}
}

/** The ways a user may spell a secret name: any case, `-` or `_`, camelCase. */
function spellings(name: string): string[] {
	const parts = name.split(/[-_]/);
	return [
		name,
		name.toLowerCase(),
		name.toUpperCase(),
		name.replaceAll('-', '_'),
		name.replaceAll('_', '-'),
		parts.map((part, index) => (index === 0 ? part.toLowerCase() : part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())).join(''),
	];
}

const secretName = fc.constantFrom(...DEFAULT_IGNORED_PARAMETERS).chain(name => fc.constantFrom(...spellings(name)));
/** The built-in names that key per credential: all but Cookie, a session's own state. */
const keyedName = fc.constantFrom(...DEFAULT_IGNORED_PARAMETERS.filter(name => name !== 'Cookie')).chain(name => fc.constantFrom(...spellings(name)));
/** A secret that survives URL and form encoding unchanged, so that a search of the output is exact. */
const secretValue = fc.stringMatching(/^[A-Za-z\d]{6,20}$/).map(value => `Zq${value}`);

describe('security: cache keys and redaction (lib/codec)', function () {
	this.timeout(120_000);

	describe('credential isolation', () => {
		it('never gives one key to two different credentials, at any place, under any built-in name but Cookie', () => {
			fc.assert(fc.property(
				fc.constantFrom(...places), keyedName, secretValue, fc.constantFrom(...places), keyedName, secretValue,
				(place1, name1, secret1, place2, name2, secret2) => {
					const first = createKey(carrying(place1, name1, secret1), defaults);
					const second = createKey(carrying(place2, name2, secret2), defaults);
					const sameName = place1 === 'header' ? name1.toLowerCase() === name2.toLowerCase() : name1 === name2;
					const same = place1 === place2 && secret1 === secret2 && (place1.startsWith('userinfo') || sameName);
					assert.equal(first === second, same, `${place1} ${name1} vs ${place2} ${name2}`);
					assert.equal(createKey(carrying(place1, name1, secret1), defaults), first, 'the same credentials find their entry again');
				},
			), {numRuns: 60});
		});

		it('never shares a key between a request with credentials and the same request without', () => {
			const url = 'https://api.example.com/v1/items?page=2';
			const without: Record<Place, PreparedRequest> = {
				header: request('GET', url),
				query: request('GET', url),
				'userinfo-user': request('GET', url),
				'userinfo-password': request('GET', url),
				form: request('POST', url, {form: {q: 'x'}}),
				json: request('POST', url, {json: {q: 'x'}}),
				'json-nested': request('POST', url, {json: {q: 'x', list: [{deep: {}}]}}),
			};
			for (const place of places) {
				assert.notEqual(createKey(carrying(place, 'api_key', 'ZqOne'), defaults), createKey(without[place], defaults), place);
			}

			assert.notEqual(key('GET', 'https://e.com/', {headers: {Authorization: ''}}), key('GET', 'https://e.com/'), 'an empty Authorization header is still a credential header');
		});

		it('keys Authorization and Proxy-Authorization, never Cookie (a session\'s own state), and redacts all three', () => {
			const replaced: KeySettings = {ignoredParameters: new Set(['session']), matchHeaders: false};
			assert.equal(key('GET', 'https://e.com/', {headers: {Cookie: 'a'}}, replaced), key('GET', 'https://e.com/', {headers: {Cookie: 'b'}}, replaced), 'Cookie');
			assert.equal(key('GET', 'https://e.com/', {headers: {Cookie: 'a'}}, replaced), key('GET', 'https://e.com/', {}, replaced), 'Cookie or none');
			for (const name of ['Authorization', 'Proxy-Authorization', 'Cookie']) {
				if (name !== 'Cookie') {
					assert.notEqual(key('GET', 'https://e.com/', {headers: {[name]: 'a'}}, replaced), key('GET', 'https://e.com/', {headers: {[name]: 'b'}}, replaced), name);
				}

				const stored = redactRequest(request('GET', 'https://e.com/', {headers: {[name]: 'ZqHeader'}}), replaced.ignoredParameters);
				assert.equal(stored.headers[name.toLowerCase()], REDACTED, `${name} is still redacted`);
			}
		});

		it('ignores the order in which credential headers were set', () => {
			assert.equal(
				key('GET', 'https://e.com/', {headers: {Authorization: 'Bearer a', Cookie: 'sid=1'}}),
				key('GET', 'https://e.com/', {headers: {Cookie: 'sid=1', Authorization: 'Bearer a'}}),
			);
		});

		it('gives the same key in another process for the same cache, and another key for another cache', () => {
			const ours = createKey(carrying('header', 'Authorization', 'Basic dXNlcjpodW50ZXIy'), {...defaults, cacheName: 'shared-cache'});
			const keys = fileURLToPath(new URL('../../lib/cache-keys.ts', import.meta.url));
			const models = fileURLToPath(new URL('../../lib/models/request.ts', import.meta.url));
			const script = `
				const {createKey} = await import(${JSON.stringify(keys)});
				const {prepareRequest} = await import(${JSON.stringify(models)});
				const request = prepareRequest('GET', 'https://api.example.com/v1/items?page=2', {headers: {Authorization: 'Basic dXNlcjpodW50ZXIy'}}, {});
				const ignoredParameters = new Set();
				console.log(createKey(request, {ignoredParameters, matchHeaders: false, cacheName: 'shared-cache'}));
				console.log(createKey(request, {ignoredParameters, matchHeaders: false, cacheName: 'another-cache'}));`;
			const [theirs, otherCache] = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {encoding: 'utf8'}).trim().split('\n');
			assert.equal(theirs, ours);
			assert.notEqual(otherCache, ours);
		});

		it('hashes a token at once, and stretches a password off the event loop once, then at once', async () => {
			const token = request('GET', 'https://e.com/', {headers: {Authorization: `Bearer ${Math.random()}`}});
			assert.equal(typeof createKeyNonBlocking(token, defaults), 'string', 'a new bearer token is hashed on the spot');
			const password = request('GET', 'https://e.com/', {headers: {Authorization: `Basic ${Buffer.from(`u:${Math.random()}`).toString('base64')}`}});
			const pending = createKeyNonBlocking(password, defaults);
			assert.ok(pending instanceof Promise, 'a new password is stretched on the thread pool');
			const derived = await pending;
			assert.equal(createKeyNonBlocking(password, defaults), derived, 'then it is a plain string');
			assert.equal(createKey(password, defaults), derived);
			assert.equal(createKeyNonBlocking(request('GET', 'https://e.com/'), defaults), key('GET', 'https://e.com/'), 'no credentials: a string at once');
		});

		it('stretches a password (slow on purpose), never a token: a token\'s key costs what a memoized password\'s does', () => {
			const basic = (secret: string) => request('GET', 'https://e.com/x?a=1', {headers: {Authorization: `Basic ${Buffer.from(`u:${secret}`).toString('base64')}`}});
			createKey(basic('known'), defaults);
			const timed = (make: (index: number) => PreparedRequest, count: number): number => {
				const started = performance.now();
				for (let index = 0; index < count; index++) {
					createKey(make(index), defaults);
				}

				return (performance.now() - started) / count;
			};

			const memoized = timed(() => basic('known'), 2000);
			const tokens = timed(index => request('GET', 'https://e.com/x?a=1', {headers: {Authorization: `Bearer ${index}-${Math.random()}`}}), 2000);
			const password = timed(() => basic(String(Math.random())), 1);
			// Ratios, not absolute times: they scale alike on a loaded machine.
			assert.ok(password > 100 * memoized, `a new password costs ${password.toFixed(1)} ms, a memoized one ${(memoized * 1000).toFixed(1)} µs`);
			assert.ok(tokens < 10 * memoized, `a new token costs ${(tokens * 1000).toFixed(1)} µs, a memoized password ${(memoized * 1000).toFixed(1)} µs`);
		});

		describe('shareCredentials (opt-in)', () => {
			it('true: requests differing only in credentials share an entry, and the credentials are still redacted', () => {
				const shared: KeySettings = {...defaults, shareCredentials: true};
				for (const place of places) {
					assert.equal(createKey(carrying(place, 'api_key', 'ZqOne'), shared), createKey(carrying(place, 'api_key', 'ZqTwo'), shared), place);
				}

				assert.equal(key('GET', 'https://e.com/', {headers: {Authorization: 'a'}}, shared), key('GET', 'https://e.com/', {headers: {Authorization: 'b'}}, shared));
				assert.equal(redactRequest(request('GET', 'https://e.com/', {headers: {Authorization: 'ZqOne'}}), ignored).headers['authorization'], REDACTED);
			});

			it('a list shares only the names it gives', () => {
				const cookies: KeySettings = {...defaults, shareCredentials: new Set(['cookie'])};
				assert.equal(key('GET', 'https://e.com/', {headers: {Cookie: 'a'}}, cookies), key('GET', 'https://e.com/', {headers: {Cookie: 'b'}}, cookies));
				assert.notEqual(key('GET', 'https://e.com/', {headers: {Authorization: 'a'}}, cookies), key('GET', 'https://e.com/', {headers: {Authorization: 'b'}}, cookies));
				assert.equal(isCredentialName('X-Goog-Api-Key'), true);
				assert.equal(isCredentialName('page'), false);
			});

			it('a credential header named in matchHeaders is keyed on (derived), shared or not', () => {
				const byUser: KeySettings = {...defaults, shareCredentials: true, matchHeaders: ['authorization']};
				assert.notEqual(key('GET', 'https://e.com/', {headers: {Authorization: 'a'}}, byUser), key('GET', 'https://e.com/', {headers: {Authorization: 'b'}}, byUser));
				const all: KeySettings = {...defaults, matchHeaders: true};
				assert.notEqual(key('GET', 'https://e.com/', {headers: {Authorization: 'a'}}, all), key('GET', 'https://e.com/', {headers: {Authorization: 'b'}}, all));
			});
		});

		it('a name the user lists in ignoredParameters is shared (left out of the key) and redacted, as in requests-cache, built-in or not', () => {
			const settings: KeySettings = {ignoredParameters: new Set(['session_id', 'token']), matchHeaders: false};
			assert.equal(key('GET', 'https://e.com/x?session_id=1&q=1', {}, settings), key('GET', 'https://e.com/x?q=1&sessionId=2', {}, settings));
			assert.equal(key('POST', 'https://e.com/x', {json: {q: 1, nested: {session_id: 'a'}}}, settings), key('POST', 'https://e.com/x', {json: {q: 1, nested: {session_id: 'b'}}}, settings), 'at any depth, as redaction');
			assert.equal(key('GET', 'https://e.com/x?id=1&token=A', {}, settings), key('GET', 'https://e.com/x?id=1&token=B', {}, settings), 'a built-in name the user lists is shared');
			assert.notEqual(key('GET', 'https://e.com/x?api_key=1', {}, settings), key('GET', 'https://e.com/x?api_key=2', {}, settings), 'the built-in names not listed stay isolated');
			assert.equal(redactUrl('https://e.com/x?session_id=ZqS&api_key=ZqK', settings.ignoredParameters), `https://e.com/x?session_id=${REDACTED}&api_key=${REDACTED}`);
		});

		it('ownerOf: one identity per set of credentials and cookies, "none" included, whatever shareCredentials says', () => {
			const alice = request('GET', 'https://e.com/', {headers: {Authorization: 'alice'}});
			const bob = request('GET', 'https://e.com/', {headers: {Authorization: 'bob'}});
			const aliceCookie = request('GET', 'https://e.com/', {headers: {Cookie: 'sid=alice'}});
			const shared: KeySettings = {...defaults, shareCredentials: true};
			const none = ownerOf(request('GET', 'https://e.com/'), defaults);
			assert.match(none!, /^[\da-f]{32}$/, 'no credentials is an identity of its own');
			assert.notEqual(ownerOf(alice, defaults), none);
			assert.notEqual(ownerOf(aliceCookie, defaults), none, 'a cookie is part of the owner');
			assert.notEqual(ownerOf(aliceCookie, defaults), ownerOf(request('GET', 'https://e.com/', {headers: {Cookie: 'sid=bob'}}), defaults));
			assert.notEqual(ownerOf(alice, shared), ownerOf(bob, shared));
			assert.equal(ownerOf(alice, shared), ownerOf(alice, defaults));
			assert.notEqual(ownerOf({...alice, tlsIdentity: 'cert-a'}, defaults), ownerOf({...alice, tlsIdentity: 'cert-b'}, defaults), 'a client certificate is part of the owner');
		});

		it('createVariantKey: a Vary on Authorization or Cookie keys each user apart, derived', () => {
			const variant = (value: string, names = ['authorization', 'accept']) =>
				createVariantKey('primary', names, request('GET', 'https://e.com/', {headers: {Authorization: value, Accept: 'text/html'}}), {...defaults, shareCredentials: true});
			assert.notEqual(variant('alice'), variant('bob'));
			assert.equal(variant('alice'), variant('alice'));
			assert.notEqual(variant('alice', ['accept']), variant('alice'));
			assert.equal(variant('alice', ['accept']), variant('bob', ['accept']));
		});
	});

	describe('URLs: equivalent forms share one key, different URLs never do', () => {
		const unreserved = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
		/** A character of a path or query as a server reads it: unreserved, a literal sub-delimiter, or an encoded byte. */
		type Unit = {kind: 'plain'; char: string} | {kind: 'literal'; char: string} | {kind: 'byte'; code: number};
		const unit = (literals: string): fc.Arbitrary<Unit> => fc.oneof(
			{weight: 6, arbitrary: fc.constantFrom(...unreserved).map(char => ({kind: 'plain' as const, char}))},
			{weight: 1, arbitrary: fc.constantFrom(...literals).map(char => ({kind: 'literal' as const, char}))},
			{weight: 1, arbitrary: fc.integer({min: 0, max: 255}).map(code => ({kind: 'byte' as const, code}))},
		);
		const word = (literals: string, min = 1): fc.Arbitrary<Unit[]> => fc.array(unit(literals), {minLength: min, maxLength: 6});
		const hex = (code: number, upper: boolean) => code.toString(16).padStart(2, '0')[upper ? 'toUpperCase' : 'toLowerCase']();

		/** Spell units: `noise` picks, per unit, whether an unreserved character is percent-encoded and the hex case. */
		function spell(units: readonly Unit[], noise: readonly boolean[] = []): string {
			return units.map((item, index) => {
				const flip = noise[index % Math.max(noise.length, 1)] ?? false;
				const upper = noise[(index + 1) % Math.max(noise.length, 1)] ?? true;
				if (item.kind === 'plain') {
					return flip ? `%${hex(item.char.charCodeAt(0), upper)}` : item.char;
				}

				if (item.kind === 'literal') {
					return item.char;
				}

				return unreserved.includes(String.fromCharCode(item.code)) && !flip ? String.fromCharCode(item.code) : `%${hex(item.code, upper)}`;
			}).join('');
		}

		const names = fc.constantFrom<string>('a', 'b', 'page', 'q', 'sort', 'Q');
		const pair = fc.tuple(names, word("!$'()*,;:@/?", 0));
		const shape = fc.record({
			https: fc.boolean(),
			host: fc.constantFrom('example.com', 'api.example.org', '127.0.0.1', 'xn--bcher-kva.example'),
			segments: fc.array(word("!$'()*+,;=:@"), {maxLength: 4}),
			pairs: fc.array(pair, {maxLength: 5}),
		});
		type Shape = typeof shape extends fc.Arbitrary<infer T> ? T : never;

		function build(value: Shape, noise: readonly boolean[] = [], options: {order?: readonly number[]; dressing?: boolean} = {}): string {
			const scheme = value.https ? 'https' : 'http';
			const host = options.dressing ? value.host.toUpperCase() : value.host;
			const port = options.dressing ? (value.https ? ':443' : ':80') : '';
			const path = `/${value.segments.map(segment => spell(segment, noise)).join('/')}`;
			const pairs = (options.order ?? value.pairs.map((_pair, index) => index)).map(index => {
				const [name, text] = value.pairs[index]!;
				return `${name}=${spell(text, noise)}`;
			});
			const query = pairs.length === 0 ? (options.dressing ? '?' : '') : `?${options.dressing ? '&' : ''}${pairs.join(options.dressing ? '&&' : '&')}`;
			return `${options.dressing ? scheme.toUpperCase() : scheme}://${host}${port}${path}${query}${options.dressing ? '#fragment' : ''}`;
		}

		/** A shuffle that keeps the relative order of repeated names (what "sort by name, stable" must see as equal). */
		function reorder(pairs: Shape['pairs'], priorities: readonly number[]): number[] {
			const indexes = pairs.map((_pair, index) => index);
			const shuffled = [...indexes].sort((a, b) => (priorities[a] ?? 0) - (priorities[b] ?? 0) || a - b);
			const byName = new Map<string, number[]>();
			for (const index of indexes) {
				byName.set(pairs[index]![0], [...(byName.get(pairs[index]![0]) ?? []), index]);
			}

			const next = new Map<string, number>();
			return shuffled.map(index => {
				const name = pairs[index]![0];
				const position = next.get(name) ?? 0;
				next.set(name, position + 1);
				return byName.get(name)![position]!;
			});
		}

		it('one key for every spelling: percent-encoding case, encoded unreserved characters, case of scheme and host, default port, fragment, empty query and segments, order of names', () => {
			fc.assert(fc.property(shape, fc.array(fc.boolean(), {minLength: 1, maxLength: 7}), fc.array(fc.integer(), {maxLength: 5}), (value, noise, priorities) => {
				const plain = build(value);
				const dressed = build(value, noise, {order: reorder(value.pairs, priorities), dressing: true});
				assert.equal(key('GET', dressed), key('GET', plain), `${dressed} vs ${plain}`);
				assert.equal(normalizeUrl(dressed, ignored), normalizeUrl(plain, ignored));
			}), {numRuns: 300});
		});

		it('different keys for URLs a server may read differently', () => {
			fc.assert(fc.property(shape, fc.nat(), fc.constantFrom('char', 'literal', 'plus', 'swap', 'drop', 'add', 'case', 'port', 'scheme'), (value, at, mutation) => {
				const original = build(value);
				let changed: string | undefined;
				switch (mutation) {
					case 'char': {
						// Change one character of the path into another unreserved one.
						const segments = value.segments.map(segment => [...segment]);
						const target = segments.flat().filter(item => item.kind === 'plain');
						const item = target[at % Math.max(target.length, 1)];
						if (item?.kind === 'plain') {
							item.char = item.char === 'x' ? 'y' : 'x';
							changed = build({...value, segments});
							item.char = item.char === 'x' ? 'y' : 'x';
						}

						break;
					}

					case 'literal': {
						// A reserved character and its encoding are different URLs (RFC 3986 §2.2).
						changed = `${original.split('?')[0]!}%27${original.includes('?') ? `?${original.split('?')[1]!}` : ''}`;
						const literal = `${original.split('?')[0]!}'${original.includes('?') ? `?${original.split('?')[1]!}` : ''}`;
						assert.notEqual(key('GET', changed), key('GET', literal));
						break;
					}

					case 'plus': {
						assert.notEqual(key('GET', `${original.split('?')[0]!}?q=a+b`), key('GET', `${original.split('?')[0]!}?q=a%20b`));
						break;
					}

					case 'swap': {
						const base = original.split('?')[0]!;
						assert.notEqual(key('GET', `${base}?a=1&a=2`), key('GET', `${base}?a=2&a=1`));
						break;
					}

					case 'drop': {
						if (value.pairs.length > 0) {
							changed = build({...value, pairs: value.pairs.filter((_pair, index) => index !== at % value.pairs.length)});
						}

						break;
					}

					case 'add': {
						changed = build({...value, pairs: [...value.pairs, ['zz', [{kind: 'plain', char: 'v'}]]]});
						break;
					}

					case 'case': {
						const pathAt = original.indexOf('/', original.indexOf('//') + 2);
						const upper = original.slice(0, pathAt) + original.slice(pathAt).replace(/\/[^/?]*[a-z][^/?]*/, segment => segment.toUpperCase());
						changed = upper === original ? undefined : upper;
						break;
					}

					case 'port': {
						changed = original.replace(value.host, `${value.host}:8443`);
						break;
					}

					case 'scheme': {
						changed = original.replace(/^https?/, scheme => (scheme === 'https' ? 'http' : 'https'));
						break;
					}
				}

				if (changed !== undefined && changed !== original) {
					assert.notEqual(key('GET', changed), key('GET', original), `${changed} vs ${original}`);
				}
			}), {numRuns: 300});
		});

		it('the cases the review found: /a? is /a; /%7e, /%7E and /~ are one; repeated names keep their order', () => {
			assert.equal(key('GET', 'https://e.com/a?'), key('GET', 'https://e.com/a'));
			assert.equal(key('GET', 'https://e.com/%7e'), key('GET', 'https://e.com/~'));
			assert.equal(key('GET', 'https://e.com/%7E'), key('GET', 'https://e.com/~'));
			assert.equal(key('GET', 'https://e.com/a%2fb'), key('GET', 'https://e.com/a%2Fb'));
			assert.notEqual(key('GET', 'https://e.com/a%2Fb'), key('GET', 'https://e.com/a/b'));
			assert.equal(key('GET', 'https://e.com/x?b=1&a=2&a=1'), key('GET', 'https://e.com/x?a=2&b=1&a=1'));
			assert.notEqual(key('GET', 'https://e.com/x?a=2&a=1'), key('GET', 'https://e.com/x?a=1&a=2'));
			assert.equal(normalizeUrl('HTTP://User:pw@Example.COM:80/%7e/a%2fb?z=1&y=2&&a=%7e#f', ignored), 'http://example.com/~/a%2Fb?a=~&y=2&z=1');
		});
	});

	describe('JSON bodies: different documents never share a key, equal ones always do', () => {
		/** A JSON tree as generated: numbers as the text a client sends, objects as pairs with unique names. */
		type Tree = null | boolean | string | {number: string} | Tree[] | {pairs: Array<[string, Tree]>};
		const numberText = fc.oneof(
			fc.bigInt({min: -(10n ** 30n), max: 10n ** 30n}).map(String),
			fc.double({noNaN: true, noDefaultInfinity: true}).map(value => JSON.stringify(value)),
			fc.constantFrom('1e400', '-1e400', '1E2', '100', '1.0', '1', '-0', '0', '12345678901234567890', '12345678901234567891', '9007199254740993'),
		);
		const name = fc.oneof(
			fc.constantFrom('__proto__', 'constructor', 'prototype', 'a', 'b', 'A', '1', '10', 'id', ''),
			fc.string({maxLength: 4}),
		).filter(text => !isCredentialName(text));
		const {tree} = fc.letrec<{tree: Tree}>(tie => ({
			tree: fc.oneof(
				{depthSize: 'small', withCrossShrink: true},
				fc.constant(null),
				fc.boolean(),
				fc.string({maxLength: 6}),
				numberText.map(number => ({number})),
				fc.array(tie('tree'), {maxLength: 4}),
				fc.uniqueArray(fc.tuple(name, tie('tree')), {maxLength: 4, selector: ([key]) => key}).map(pairs => ({pairs})),
			),
		}));

		/** JSON text for a tree; `order` reverses object pairs and adds whitespace: the same document spelt otherwise. */
		function text(value: Tree, other = false): string {
			if (value === null || typeof value === 'boolean' || typeof value === 'string') {
				return JSON.stringify(value);
			}

			if (Array.isArray(value)) {
				return `[${value.map(item => text(item, other)).join(other ? ' , ' : ',')}]`;
			}

			if ('number' in value) {
				return value.number;
			}

			const pairs = other ? [...value.pairs].reverse() : value.pairs;
			return `{${pairs.map(([key, item]) => `${JSON.stringify(key)}${other ? ' : ' : ':'}${text(item, other)}`).join(',')}}`;
		}

		/** The oracle: a tree's identity, independent of the code under test (pairs sorted, numbers as written). */
		function identity(value: Tree): string {
			if (value === null || typeof value === 'boolean' || typeof value === 'string') {
				return `s${JSON.stringify(value)}`;
			}

			if (Array.isArray(value)) {
				return `a[${value.map(item => identity(item)).join(',')}]`;
			}

			if ('number' in value) {
				return `n${value.number}`;
			}

			return `o{${[...value.pairs].sort(([a], [b]) => (a < b ? -1 : (a > b ? 1 : 0))).map(([key, item]) => `${JSON.stringify(key)}:${identity(item)}`).join(',')}}`;
		}

		const post = (body: string) => key('POST', 'https://e.com/search', {body, headers: json});

		it('equal keys exactly when the documents are equal (numbers as written, __proto__ as a key, any key order)', () => {
			fc.assert(fc.property(tree, tree, (first, second) => {
				assert.equal(post(text(first)), post(text(first, true)), 'key order and whitespace do not matter');
				assert.equal(post(text(first)) === post(text(second)), identity(first) === identity(second), `${text(first)} vs ${text(second)}`);
			}), {numRuns: 400});
		});

		it('the cases the review found: big integers, __proto__, 1e400 vs null', () => {
			assert.notEqual(post('{"id":12345678901234567890}'), post('{"id":12345678901234567891}'));
			assert.notEqual(post('{"__proto__":{"q":"x"}}'), post('{"__proto__":{"q":"y"}}'));
			assert.notEqual(post('{"__proto__":{"q":"x"}}'), post('{}'));
			assert.notEqual(post('{"a":1e400}'), post('{"a":null}'));
			assert.notEqual(post('{"a":1e400}'), post('{"a":-1e400}'));
			assert.notEqual(post('{"a":"x","a":"y"}'), post('{"a":"y"}'), 'conflicting duplicate names are keyed on the bytes');
			assert.notEqual(post('{"a":"x","a":"y"}'), post('{"a":"y","a":"x"}'));
		});

		it('bytes that are not UTF-8 are keyed as bytes, not as the U+FFFD they decode to', () => {
			const bytes = (byte: number) => key('POST', 'https://e.com/', {body: Buffer.from([...Buffer.from('{"a":"'), byte, ...Buffer.from('"}')]), headers: json});
			assert.notEqual(bytes(0xFF), bytes(0xFE));
			const form = (byte: number) => key('POST', 'https://e.com/', {body: Buffer.from([...Buffer.from('a='), byte]), headers: {'content-type': 'application/x-www-form-urlencoded'}});
			assert.notEqual(form(0xFF), form(0xFE));
		});

		it('a body too deep to walk is keyed on its bytes, never dropped', () => {
			const deep = (leaf: string) => `${'['.repeat(50_000)}${leaf}${']'.repeat(50_000)}`;
			assert.notEqual(post(deep('1')), post(deep('2')));
		});
	});

	describe('redaction: no default secret name survives, in any spelling or place', () => {
		it('redactRequest and redactUrl never output the secret', () => {
			fc.assert(fc.property(fc.constantFrom(...places), secretName, secretValue, (place, name, secret) => {
				const prepared = carrying(place, name, secret);
				const stored = redactRequest(prepared, ignored);
				assert.ok(!JSON.stringify(stored).includes(secret), `${place} ${name}: ${JSON.stringify(stored)}`);
				assert.ok(!redactUrl(prepared.url, ignored).includes(secret));
			}), {numRuns: 500});
		});

		it('in a fragment, a Location reference, a percent-encoded name, and under __proto__', () => {
			assert.equal(redactUrl('https://app.example/cb#access_token=ZqA&state=1', ignored), `https://app.example/cb#access_token=${REDACTED}&state=1`);
			assert.equal(redactUrl('/next?api%5Fkey=ZqB', ignored), `/next?api%5Fkey=${REDACTED}`);
			assert.equal(redactUrl('//u:ZqC@host/x', ignored), `//${REDACTED}:${REDACTED}@host/x`);
			assert.equal(redactUrl(String.raw`http:\\u:ZqD@host/x`, ignored), String.raw`http:\\${REDACTED}:${REDACTED}@host/x`);
			const body = redactRequest(request('POST', 'https://e.com/', {body: '{"__proto__":{"password":"ZqE"},"n":12345678901234567890}', headers: json}), ignored).body;
			assert.equal(body, `{"__proto__":{"password":"${REDACTED}"},"n":12345678901234567890}`, 'redacted, and otherwise as sent');
			assert.equal(redactRequest(request('POST', 'https://e.com/', {body: '{"password":"ZqF"', headers: json}), ignored).body, null, 'a body that is not JSON is not stored');
		});

		it('storableResponseHeaders drops Set-Cookie unless storeCookies, and redacts secret headers and Location URLs', () => {
			const headers = {
				'set-cookie': ['sid=ZqG; HttpOnly', 'other=1'], 'x-auth-token': 'ZqH', location: 'https://u:ZqI@e.com/next?sig=ZqJ&page=2',
				'content-location': '/doc?token=ZqK', etag: '"v1"',
			};
			const stored = storableResponseHeaders(headers, {ignoredParameters: ignored});
			assert.deepEqual(stored, {
				'x-auth-token': REDACTED, location: `https://${REDACTED}:${REDACTED}@e.com/next?sig=${REDACTED}&page=2`,
				'content-location': `/doc?token=${REDACTED}`, etag: '"v1"',
			});
			const kept = storableResponseHeaders(headers, {ignoredParameters: ignored, storeCookies: true});
			assert.deepEqual(kept['set-cookie'], ['sid=ZqG; HttpOnly', 'other=1']);
			assert.notEqual(kept['set-cookie'], headers['set-cookie'], 'a copy, never the caller\'s array');
			assert.equal(headers['x-auth-token'], 'ZqH', 'the input is left as it was');
		});

		it('storedEntryOf builds the whole stored entry in one call: URL, redirect hops, request and headers redacted', () => {
			const request = prepareRequest('POST', 'https://u:ZqL@e.com/a?token=ZqM&page=1', {headers: {authorization: 'Bearer ZqN', accept: 'application/json'}, json: {password: 'ZqO', n: 1}}, {});
			const facts = {age: 0, mustRevalidate: false, noCache: false, owner: 'derived-owner'};
			const decision = {headers: {'x-api-key': 'ZqP', 'set-cookie': 'sid=ZqQ', etag: '"v1"'}, createdAt: 1000, expires: 61_000, facts};
			const response = {
				status: 200, reason: 'OK', url: 'https://e.com/b?sig=ZqR', body: Buffer.from('ok'),
				history: [{status: 302, url: 'https://e.com/a?token=ZqM&page=1', headers: {location: '/b?sig=ZqR', 'set-cookie': 'x=ZqS'}}],
			};
			const entry = storedEntryOf(request, response, decision, {ignoredParameters: ignored});
			const text = JSON.stringify({...entry, body: undefined});
			for (const secret of ['ZqL', 'ZqM', 'ZqN', 'ZqO', 'ZqP', 'ZqQ', 'ZqR', 'ZqS']) {
				assert.ok(!text.includes(secret), `${secret} reached the entry: ${text}`);
			}

			assert.equal(entry.url, `https://e.com/b?sig=${REDACTED}`);
			// A relative Location is stored resolved, then redacted like any URL.
			assert.deepEqual(entry.history, [{status: 302, url: `https://e.com/a?token=${REDACTED}&page=1`, headers: {location: `https://e.com/b?sig=${REDACTED}`}}]);
			assert.deepEqual(entry.headers, {'x-api-key': REDACTED, etag: '"v1"'});
			assert.equal(entry.request.headers['accept'], 'application/json');
			assert.deepEqual(JSON.parse(entry.request.body!), {password: REDACTED, n: 1});
			assert.deepEqual([entry.createdAt, entry.expires, entry.facts, entry.body], [1000, 61_000, facts, response.body]);
			// storeCookies keeps Set-Cookie, on the response and its hops.
			const cookies = storedEntryOf(request, response, decision, {ignoredParameters: ignored, storeCookies: true});
			assert.equal(cookies.headers['set-cookie'], 'sid=ZqQ');
			assert.equal(cookies.history[0]!.headers['set-cookie'], 'x=ZqS');
			// A 304's renewal is redacted as stored headers are.
			const renewed = renewedEntryOf(entry, {...decision, headers: {'x-api-key': 'ZqT', 'x-new': '1'}, createdAt: 2000}, {ignoredParameters: ignored});
			assert.deepEqual([renewed.headers, renewed.createdAt, renewed.url], [{'x-api-key': REDACTED, 'x-new': '1'}, 2000, entry.url]);
		});

		it('a name the user lists is redacted too, and the built-in names always are', () => {
			const listed = new Set(['x-tenant-secret']);
			assert.equal(redactRequest(request('GET', 'https://e.com/', {headers: {'X-Tenant-Secret': 'ZqL'}}), listed).headers['x-tenant-secret'], REDACTED);
			assert.equal(redactUrl('https://e.com/?token=hidden', listed), `https://e.com/?token=${REDACTED}`);
		});
	});

	describe('inputs are checked, the option named', () => {
		it('params and form take a plain object, a Map, URLSearchParams or a string-only FormData, all alike', () => {
			const form = new FormData();
			form.append('a', '1');
			form.append('b', 'x y');
			const urls = [
				{a: 1, b: 'x y'}, new Map<string, string | number>([['a', 1], ['b', 'x y']]), new URLSearchParams({a: '1', b: 'x y'}), form,
			].map(params => request('GET', 'https://e.com/', {params}).url);
			assert.deepEqual(new Set(urls), new Set(['https://e.com/?a=1&b=x+y']));
			const bodies = [{a: 1, b: 'x y'}, new Map([['a', '1'], ['b', 'x y']]), form].map(value => request('POST', 'https://e.com/', {form: value}).body!.toString());
			assert.deepEqual(new Set(bodies), new Set(['a=1&b=x+y']));
		});

		it('rejects anything else with a TypeError naming the option', () => {
			const withFile = new FormData();
			withFile.append('upload', new Blob(['data']), 'file.txt');
			const bad: Array<[RequestBodyOptions, RegExp]> = [
				[{params: [['a', '1']] as never}, /`params`/],
				[{params: new Date() as never}, /`params`/],
				[{params: 'a=1' as never}, /`params`/],
				[{params: new (class Custom {a = 1})() as never}, /`params`/],
				[{params: new Map([[1, 'x']]) as never}, /`params`/],
				[{params: new Map([['a', {}]]) as never}, /`params\['a'\]`/],
				[{form: withFile}, /`form\['upload'\]`.*multipart/],
				[{form: new Set(['a']) as never}, /`form`/],
			];
			for (const [options, message] of bad) {
				assert.throws(() => request('POST', 'https://e.com/', options), {name: 'TypeError', message}, JSON.stringify(Object.keys(options)));
			}
		});

		it('rejects CR, LF, NUL and other invalid header characters before anything is read, without echoing the value', () => {
			fc.assert(fc.property(
				fc.string({maxLength: 8}), fc.constantFrom('\r', '\n', '\r\n', '\0', '\u0001', '\u007F', '\u0100'), fc.string({maxLength: 8}),
				(before, bad, after) => {
					const value = `Zq${before}${bad}${after}`;
					assert.throws(() => request('GET', 'https://e.com/', {headers: {'X-Thing': value}}), (error: Error) => {
						assert.equal(error.name, 'TypeError');
						assert.match(error.message, /`headers\['X-Thing'\]`/);
						assert.ok(!error.message.includes('Zq'), 'the value (maybe a credential) is not in the message');
						return true;
					});
				},
			), {numRuns: 100});
			assert.throws(() => request('GET', 'https://e.com/', {headers: {'X-A\r\nInjected': 'x'}}), {name: 'TypeError', message: /not a valid header name/});
			assert.throws(() => request('GET', 'https://e.com/', {headers: {'': 'x'}}), {name: 'TypeError'});
			assert.equal(request('GET', 'https://e.com/', {headers: {'X-Ok': 'tab\tand obs-text \u00E9'}}).headers['x-ok'], 'tab\tand obs-text \u00E9');
		});

		it('expiry overflow, and negative or non-finite ages, are RangeErrors naming the option', () => {
			for (const value of [1e308, MAX_EXPIRE_AFTER_MS / 1000 + 1, {days: 1e300}]) {
				assert.throws(() => parseExpireAfter(value, 'CachedSession', 'expireAfter'), {name: 'RangeError', message: /`expireAfter/});
			}

			assert.equal(parseExpireAfter(MAX_EXPIRE_AFTER_MS / 1000, 'CachedSession', 'expireAfter').kind, 'ttl');
			for (const value of [-5, -0.001, Number.NaN, Number.POSITIVE_INFINITY, 1e308, new Date(Number.NaN), {seconds: -1}]) {
				assert.throws(() => olderThanCutoff(value, 1_000_000, 'BaseCache.delete()', 'olderThan'), {name: 'RangeError', message: /`olderThan/});
			}

			assert.throws(() => olderThanCutoff('5', 1_000_000, 'BaseCache.delete()', 'olderThan'), {name: 'TypeError', message: /`olderThan`/});
			assert.equal(olderThanCutoff(5, 1_000_000, 'BaseCache.delete()', 'olderThan'), 995_000);
			assert.equal(olderThanCutoff({minutes: 1}, 1_000_000, 'BaseCache.delete()', 'olderThan'), 940_000);
			assert.equal(olderThanCutoff(new Date(42), 1_000_000, 'BaseCache.delete()', 'olderThan'), 42);
		});
	});
	describe('options and a session, end to end (memory backend, a real origin)', () => {
		let origin: Origin;

		before(async () => {
			origin = await Origin.start();
		});

		after(async () => {
			await origin.close();
		});

		it('validates shareCredentials and storeCookies, naming them', () => {
			assert.throws(() => normalizeCacheOptions({shareCredentials: 'yes' as never}), {name: 'TypeError', message: /`shareCredentials`/});
			assert.throws(() => normalizeCacheOptions({shareCredentials: ['page']}), {name: 'RangeError', message: /`shareCredentials`.*built-in credential names/});
			assert.throws(() => normalizeCacheOptions({storeCookies: 1 as never}), {name: 'TypeError', message: /`storeCookies`/});
			assert.equal(normalizeCacheOptions({}).shareCredentials, false);
			assert.equal(normalizeCacheOptions({}).storeCookies, false);
			assert.deepEqual(normalizeCacheOptions({shareCredentials: ['Cookie', 'X-API-Key']}).shareCredentials, new Set(['cookie', 'x-api-key']));
			assert.throws(() => normalizeCacheOptions({expireAfter: 1e308}), {name: 'RangeError', message: /`expireAfter`/});
		});

		it('two users of one session never see each other\'s responses; the same user hits', async () => {
			origin.route('/whoami', (request, response) => {
				response.writeHead(200, {'content-type': 'text/plain'}).end(`you are ${request.headers.authorization ?? 'nobody'}`);
			});
			const session = new CachedSession({backend: 'memory'});
			try {
				const before = origin.hits('/whoami');
				assert.equal((await session.get(`${origin.url}/whoami`, {headers: {Authorization: 'Bearer alice'}})).text(), 'you are Bearer alice');
				const bob = await session.get(`${origin.url}/whoami`, {headers: {Authorization: 'Bearer bob'}});
				assert.equal(bob.fromCache, false);
				assert.equal(bob.text(), 'you are Bearer bob');
				const alice = await session.get(`${origin.url}/whoami`, {headers: {Authorization: 'Bearer alice'}});
				assert.equal(alice.fromCache, true);
				assert.equal(alice.text(), 'you are Bearer alice');
				assert.equal(origin.hits('/whoami'), before + 2);
				assert.equal((await session.get(`${origin.url}/whoami`)).text(), 'you are nobody');
			} finally {
				await session.close();
			}
		});

		it('rejects a CRLF header on a request whose response is cached, before the cache is read', async () => {
			const session = new CachedSession({backend: 'memory'});
			try {
				await session.get(`${origin.url}/json?crlf=1`);
				const before = origin.hits();
				await assert.rejects(session.get(`${origin.url}/json?crlf=1`, {headers: {'X-Trace': 'a\r\nInjected: yes'}}), {name: 'TypeError', message: /`headers\['X-Trace'\]`/});
				assert.equal(origin.hits(), before);
			} finally {
				await session.close();
			}
		});

		it('rejects per-request cache options of the wrong type, and impossible maintenance ages, naming them', async () => {
			const session = new CachedSession({backend: 'memory'});
			try {
				await session.get(`${origin.url}/json?options=1`);
				for (const [name, value] of [['refresh', 'yes'], ['forceRefresh', 1], ['onlyIfCached', 'true']] as const) {
					// eslint-disable-next-line no-await-in-loop
					await assert.rejects(session.get(`${origin.url}/json?options=1`, {[name]: value} as never), {name: 'TypeError', message: new RegExp(`\`${name}\``)});
				}

				for (const olderThan of [-5, Number.NaN, Number.POSITIVE_INFINITY]) {
					// eslint-disable-next-line no-await-in-loop
					await assert.rejects(session.cache.delete({olderThan}), {name: 'RangeError', message: /`olderThan`/});
				}

				assert.equal(await session.cache.count(), 1, 'nothing was deleted');
			} finally {
				await session.close();
			}
		});
	});
});
