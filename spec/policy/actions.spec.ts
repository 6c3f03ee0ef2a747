import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import type {CachedEntry, ResponseFacts} from '../../lib/codec/entry.js';
import type {PreparedRequest} from '../../lib/models/request.js';
import type {RedirectHop, ResponseHeaders} from '../../lib/models/response.js';
import {
	type Lookup, type LookupAction, type PlanOptions, type Requester, type StoreDecision, decideLookup, decideStore, decideStoreHead, planRequest, servedAge, servesRequester,
} from '../../lib/policy/actions.js';
import {cacheStatusOf, fetchReason, revalidateReason} from '../../lib/policy/cache-status.js';
import {DO_NOT_CACHE} from '../../lib/policy/expiration.js';
import {decideInvalidation} from '../../lib/policy/invalidation.js';
import {ANY_STALE, REVALIDATE} from '../../lib/policy/request-options.js';
import {decideRefreshed, decideRenewal, revalidationRequest} from '../../lib/policy/revalidation.js';
import {type CacheOptions, normalizeCacheOptions} from '../../lib/config/options.js';
import type {CacheSettings} from '../../lib/policy/settings.js';

// The decisions alone, as requests-cache tests its CacheActions: a request (and what is stored)
// in, a named action out. No server, no store, no clock: `now` is given.

const now = Date.UTC(2026, 0, 1);
const url = 'https://api.example/items?page=1';

function settingsOf(options: CacheOptions = {}): CacheSettings {
	return normalizeCacheOptions({backend: 'memory', ...options}, 'spec');
}

function get(headers: Record<string, string> = {}, method = 'GET'): PreparedRequest {
	return {method, url, headers, body: undefined};
}

function lookupOf(headers: Record<string, string> = {}, options: PlanOptions = {}, settings = settingsOf()): Lookup {
	const plan = planRequest(get(headers), options, settings);
	assert.equal(plan.kind, 'lookup');
	return plan as Lookup;
}

/** A stored entry, `age` seconds old at `now`, fresh for `ttl` more seconds (null: never expires). */
function entryOf({age = 0, ttl = 60 as number | null, headers = {} as ResponseHeaders, facts = {} as Partial<ResponseFacts>, status = 200} = {}): CachedEntry {
	const createdAt = now - (age * 1000);
	return {
		kind: 'response', status, reason: 'OK', headers, url, history: [], request: {method: 'GET', url, headers: {}, body: null},
		createdAt, expires: ttl === null ? null : now + (ttl * 1000), facts: {age: 0, mustRevalidate: false, noCache: false, ...facts}, body: Buffer.from('{}'),
	};
}

/** A response from the origin. */
function responseOf(headers: ResponseHeaders, {status = 200, body = Buffer.from('{"a":1}') as Buffer, history = [] as RedirectHop[]} = {}) {
	return {status, headers, body, history};
}

/** A requester without credentials, reached without redirects. */
const anyone: Requester = {owner: () => 'identity-of-nobody', hopAddsIdentity: () => false};

describe('policy/actions: the decisions alone', () => {
	describe('planRequest', () => {
		const cases: Array<{name: string; request: PreparedRequest; options?: PlanOptions; settings?: CacheOptions; expected: Record<string, unknown>}> = [
			{name: 'a plain GET is looked up', request: get(), expected: {kind: 'lookup', onlyIfCached: false, noCache: false, forceRefresh: false, refresh: false, anyStale: false}},
			{name: 'a request no-store bypasses', request: get({'cache-control': 'no-store'}), expected: {kind: 'bypass'}},
			{name: 'an unsafe method invalidates with cacheControl', request: get({}, 'POST'), settings: {cacheControl: true}, expected: {kind: 'invalidate'}},
			{name: 'an unsafe method bypasses without cacheControl', request: get({}, 'POST'), expected: {kind: 'bypass'}},
			{name: 'an unsafe method bypasses a readOnly cache', request: get({}, 'DELETE'), settings: {cacheControl: true, readOnly: true}, expected: {kind: 'bypass'}},
			{name: 'a safe method not in allowableMethods bypasses', request: get({}, 'OPTIONS'), settings: {cacheControl: true}, expected: {kind: 'bypass'}},
			{name: 'the caller\'s own conditional request bypasses a private cache', request: get({'if-none-match': '"a"'}), expected: {kind: 'bypass'}},
			{name: 'a shared cache answers a client\'s conditional request', request: get({'if-none-match': '"a"'}), settings: {cacheControl: 'rfc9111', shared: true}, expected: {kind: 'lookup', conditional: {'if-none-match': '"a"'}}},
			{name: 'a range bypasses outside rfc9111', request: get({range: 'bytes=0-9'}), expected: {kind: 'bypass'}},
			{name: 'rfc9111 looks a single range up', request: get({range: 'bytes=0-9'}), settings: {cacheControl: 'rfc9111'}, expected: {kind: 'lookup', range: {kind: 'from', first: 0, last: 9}}},
			{name: 'only-if-cached wins over no-cache', request: get({'cache-control': 'only-if-cached, no-cache'}), expected: {kind: 'lookup', onlyIfCached: true, noCache: false}},
			{name: 'onlyIfCached as an option', request: get(), options: {onlyIfCached: true}, expected: {onlyIfCached: true}},
			{name: 'a request no-cache asks the origin', request: get({'cache-control': 'no-cache'}), expected: {noCache: true}},
			{name: 'Pragma: no-cache counts without Cache-Control', request: get({pragma: 'no-cache'}), expected: {noCache: true}},
			{name: 'Pragma is ignored beside Cache-Control', request: get({pragma: 'no-cache', 'cache-control': 'max-age=60'}), expected: {noCache: false}},
			{name: 'refresh and forceRefresh are carried', request: get(), options: {refresh: true, forceRefresh: true}, expected: {refresh: true, forceRefresh: true}},
			{name: 'fetch\'s force-cache accepts any staleness', request: get(), options: {[ANY_STALE]: true}, expected: {anyStale: true}},
			{name: 'a shared cache notes Authorization', request: get({authorization: 'Bearer x'}), settings: {shared: true, cacheControl: 'rfc9111'}, expected: {authorized: true}},
			{name: 'a private cache does not', request: get({authorization: 'Bearer x'}), expected: {authorized: undefined}},
			{name: 'a DO_NOT_CACHE URL pattern bypasses', request: get(), settings: {urlsExpireAfter: {'api.example': DO_NOT_CACHE}}, expected: {kind: 'bypass'}},
			{name: 'a per-request DO_NOT_CACHE bypasses', request: get(), options: {expireAfter: DO_NOT_CACHE}, expected: {kind: 'bypass'}},
		];
		for (const {name, request, options = {}, settings, expected} of cases) {
			it(name, () => {
				const plan = planRequest(request, options, settingsOf(settings)) as unknown as Record<string, unknown>;
				for (const [field, value] of Object.entries(expected)) {
					assert.deepEqual(plan[field], value, `${field} of ${JSON.stringify(plan)}`);
				}
			});
		}

		it('resolves expiration by precedence: per request, then the first matching URL pattern, then the session\'s', () => {
			const settings = settingsOf({expireAfter: 10, urlsExpireAfter: {'api.example/items': 60, '*': 600}});
			const expiration = (options: PlanOptions, request = get()): unknown => (planRequest(request, options, settings) as Lookup).expiration;
			assert.deepEqual(expiration({expireAfter: 3600}), {kind: 'ttl', ms: 3_600_000});
			assert.deepEqual(expiration({}), {kind: 'ttl', ms: 60_000});
			assert.deepEqual(expiration({}, {...get(), url: 'https://other.example/'}), {kind: 'ttl', ms: 600_000});
			// 'default' skips the URL patterns for the session's own.
			assert.deepEqual(expiration({expireAfter: 'default'}), {kind: 'ttl', ms: 10_000});
			assert.deepEqual((planRequest(get(), {}, settingsOf({expireAfter: 10})) as Lookup).expiration, {kind: 'ttl', ms: 10_000});
		});

		it('checks the per-request options first, naming the option, whatever the request', () => {
			const settings = settingsOf();
			for (const [name, value] of [['refresh', 'yes'], ['forceRefresh', 1], ['onlyIfCached', 'true'], ['refresh', null]] as const) {
				assert.throws(() => planRequest(get({'cache-control': 'no-store'}), {[name]: value} as PlanOptions, settings), {name: 'TypeError', message: new RegExp(`request option \`${name}\` must be a boolean`)});
			}

			assert.throws(() => planRequest(get(), {expireAfter: 'soon'} as unknown as PlanOptions, settings), {name: 'TypeError', message: /`expireAfter`/});
			assert.throws(() => planRequest(get(), {expireAfter: 1e308}, settings), {name: 'RangeError', message: /`expireAfter`/});
			assert.equal(planRequest(get(), {refresh: true, forceRefresh: false, onlyIfCached: false, expireAfter: null}, settings).kind, 'lookup');
		});
	});

	describe('decideLookup', () => {
		const serve: LookupAction = {kind: 'serve', stale: false};
		const serveStale: LookupAction = {kind: 'serve', stale: true};
		const etag = {etag: '"v1"'};
		const cases: Array<{name: string; headers?: Record<string, string>; options?: PlanOptions; settings?: CacheOptions; entry: CachedEntry | undefined; expected: LookupAction}> = [
			{name: 'nothing stored: fetch', entry: undefined, expected: {kind: 'fetch'}},
			{name: 'nothing stored, only-if-cached: a 504', headers: {'cache-control': 'only-if-cached'}, entry: undefined, expected: {kind: 'gatewayTimeout'}},
			{name: 'fresh: serve', entry: entryOf(), expected: serve},
			{name: 'never expires: serve', entry: entryOf({ttl: null, age: 1e6}), expected: serve},
			{name: 'forceRefresh: fetch, even when fresh', options: {forceRefresh: true}, entry: entryOf(), expected: {kind: 'fetch'}},
			{name: 'stale: revalidate', entry: entryOf({ttl: -1, headers: etag}), expected: {kind: 'revalidate'}},
			{name: 'stale, only-if-cached: a 504, the origin untouched', headers: {'cache-control': 'only-if-cached'}, entry: entryOf({ttl: -1, headers: etag}), expected: {kind: 'gatewayTimeout'}},
			{name: 'fresh, only-if-cached: serve', headers: {'cache-control': 'only-if-cached'}, entry: entryOf(), expected: serve},
			{name: 'refresh with a validator: revalidate', options: {refresh: true}, entry: entryOf({headers: etag}), expected: {kind: 'revalidate'}},
			{name: 'refresh without a validator: the fresh entry stands', options: {refresh: true}, entry: entryOf(), expected: serve},
			{name: 'alwaysRevalidate with a validator: revalidate', settings: {alwaysRevalidate: true}, entry: entryOf({headers: etag}), expected: {kind: 'revalidate'}},
			{name: 'request no-cache: revalidate a fresh entry', headers: {'cache-control': 'no-cache'}, entry: entryOf({headers: etag}), expected: {kind: 'revalidate'}},
			{name: 'request max-age older than the entry: revalidate', headers: {'cache-control': 'max-age=5'}, entry: entryOf({age: 10}), expected: {kind: 'revalidate'}},
			{name: 'request max-age younger than the entry: serve', headers: {'cache-control': 'max-age=50'}, entry: entryOf({age: 10}), expected: serve},
			{name: 'min-fresh beyond what is left: revalidate', headers: {'cache-control': 'min-fresh=120'}, entry: entryOf({ttl: 60}), expected: {kind: 'revalidate'}},
			{name: 'max-stale within: serve stale', headers: {'cache-control': 'max-stale=30'}, entry: entryOf({ttl: -10}), expected: serveStale},
			{name: 'max-stale beyond: revalidate', headers: {'cache-control': 'max-stale=5'}, entry: entryOf({ttl: -10}), expected: {kind: 'revalidate'}},
			{name: 'max-stale on a must-revalidate entry (cacheControl): revalidate', headers: {'cache-control': 'max-stale=30'}, settings: {cacheControl: true}, entry: entryOf({ttl: -10, facts: {mustRevalidate: true}}), expected: {kind: 'revalidate'}},
			{name: 'force-cache: serve stale', options: {[ANY_STALE]: true}, entry: entryOf({ttl: -1e5}), expected: serveStale},
			{name: 'stale-while-revalidate within (cacheControl): serve stale and refresh', settings: {cacheControl: true}, entry: entryOf({ttl: -10, facts: {staleWhileRevalidate: 30}}), expected: {kind: 'serveStaleAndRevalidate'}},
			{name: 'stale-while-revalidate beyond: revalidate', settings: {cacheControl: true}, entry: entryOf({ttl: -60, facts: {staleWhileRevalidate: 30}}), expected: {kind: 'revalidate'}},
			{name: 'the session\'s staleWhileRevalidate window', settings: {staleWhileRevalidate: 30}, entry: entryOf({ttl: -10}), expected: {kind: 'serveStaleAndRevalidate'}},
			{name: 'fetch\'s no-cache on an entry stored this second (age 0, which its max-age=0 accepts): revalidate', headers: {'cache-control': 'max-age=0'}, options: {[REVALIDATE]: true}, entry: entryOf({headers: etag}), expected: {kind: 'revalidate'}},
			{name: 'fetch\'s no-cache within stale-while-revalidate: revalidate, not serve stale', headers: {'cache-control': 'max-age=0'}, options: {[REVALIDATE]: true}, settings: {staleWhileRevalidate: 30}, entry: entryOf({ttl: -10, headers: etag}), expected: {kind: 'revalidate'}},
			{name: 'fetch\'s no-cache on a fresh immutable entry (rfc9111, RFC 8246): serve', headers: {'cache-control': 'max-age=0'}, options: {[REVALIDATE]: true}, settings: {cacheControl: 'rfc9111'}, entry: entryOf({age: 10, headers: {...etag, 'cache-control': 'max-age=60, immutable'}}), expected: serve},
			{name: 'a stored part does not answer a whole request: fetch', entry: entryOf({status: 206}), expected: {kind: 'fetch'}},
			{name: 'shared: a conditional request a fresh entry meets: a 304', headers: {'if-none-match': '"v1"'}, settings: {cacheControl: 'rfc9111', shared: true}, entry: entryOf({headers: etag}), expected: {kind: 'serve', stale: false, notModified: true}},
			{name: 'shared: a conditional request it does not meet: the full response', headers: {'if-none-match': '"v0"'}, settings: {cacheControl: 'rfc9111', shared: true}, entry: entryOf({headers: etag}), expected: serve},
			{name: 'shared: a conditional request on a stale entry passes through', headers: {'if-none-match': '"v1"'}, settings: {cacheControl: 'rfc9111', shared: true}, entry: entryOf({ttl: -1, headers: etag}), expected: {kind: 'pass'}},
		];
		for (const {name, headers = {}, options = {}, settings, entry, expected} of cases) {
			it(name, () => {
				const resolved = settingsOf(settings);
				assert.deepEqual(decideLookup(lookupOf(headers, options, resolved), entry, resolved, now), expected);
			});
		}

		it('the Age served counts from storing plus the age it arrived with, only with cacheControl', () => {
			const entry = entryOf({age: 10, facts: {age: 5}});
			assert.equal(servedAge(entry, settingsOf({cacheControl: true}), now), 15);
			assert.equal(servedAge(entry, settingsOf(), now), undefined);
		});
	});

	describe('servesRequester: a private response is its owner\'s alone', () => {
		const cases: Array<{name: string; entry: CachedEntry; requester: string | undefined; expected: boolean}> = [
			{name: 'an entry without an owner is anyone\'s', entry: entryOf(), requester: 'bob', expected: true},
			{name: 'its owner is served', entry: entryOf({facts: {owner: 'alice'}, headers: {'cache-control': 'private'}}), requester: 'alice', expected: true},
			{name: 'another user is not', entry: entryOf({facts: {owner: 'alice'}, headers: {'cache-control': 'private'}}), requester: 'bob', expected: false},
			{name: 'a requester whose identity cannot be derived now is not', entry: entryOf({facts: {owner: 'alice'}}), requester: undefined, expected: false},
			{name: 'a private entry stored without an owner (an earlier version) is nobody\'s', entry: entryOf({headers: {'cache-control': 'private, max-age=60'}}), requester: 'bob', expected: false},
		];
		for (const {name, entry, requester, expected} of cases) {
			it(name, () => {
				let asked = 0;
				assert.equal(servesRequester(entry, () => {
					asked++;
					return requester;
				}), expected);
				// The identity is derived only for an entry that has an owner to compare.
				assert.equal(asked, entry.facts.owner === undefined && entry.headers['cache-control'] === undefined ? 0 : 1);
			});
		}
	});

	describe('decideStore and decideStoreHead', () => {
		const store = (headers: ResponseHeaders, {settings = {} as CacheOptions, request = {} as Record<string, string>, status = 200, body = undefined as Buffer | undefined, history = [] as RedirectHop[], requester = anyone} = {}): StoreDecision => {
			const resolved = settingsOf(settings);
			return decideStore(lookupOf(request, {}, resolved), responseOf(headers, {status, history, ...(body === undefined ? {} : {body})}), resolved, now, requester);
		};

		const skipped = (decision: StoreDecision, reason: RegExp): void => {
			assert.equal(decision.kind, 'skip');
			assert.match((decision as {reason: string}).reason, reason);
		};

		it('stores a fresh response with its expiry, deleteAt, facts, Vary names and storable headers', () => {
			const decision = store({'cache-control': 'max-age=60, stale-if-error=30', vary: 'Accept-Encoding, accept', connection: 'x-hop', 'x-hop': '1', etag: '"a"'}, {settings: {cacheControl: true, ttlOffset: 3600}});
			assert.equal(decision.kind, 'store');
			const stored = decision as Extract<StoreDecision, {kind: 'store'}>;
			assert.equal(stored.createdAt, now);
			assert.equal(stored.expires, now + 60_000);
			assert.equal(stored.deleteAt, now + 60_000 + 3_600_000);
			assert.deepEqual(stored.vary, ['accept', 'accept-encoding']);
			assert.deepEqual(stored.facts, {age: 0, mustRevalidate: false, noCache: false, staleIfError: 30});
			// Hop-by-hop headers and those Connection names are not stored (RFC 9111 §3.1).
			assert.equal(stored.headers['x-hop'], undefined);
			assert.equal(stored.headers['connection'], undefined);
			assert.equal(stored.headers['etag'], '"a"');
		});

		it('expiration precedence: Cache-Control beats expireAfter with cacheControl, and is ignored without it', () => {
			const expires = (options: CacheOptions, headers: ResponseHeaders): unknown => (store(headers, {settings: options}) as {expires?: unknown}).expires;
			assert.equal(expires({cacheControl: true, expireAfter: 3600}, {'cache-control': 'max-age=60'}), now + 60_000);
			assert.equal(expires({cacheControl: true, expireAfter: 3600}, {}), now + 3_600_000);
			assert.equal(expires({expireAfter: 3600}, {'cache-control': 'max-age=60'}), now + 3_600_000);
			assert.equal(expires({}, {}), null);
			assert.equal(expires({cacheControl: true}, {'cache-control': 'immutable'}), null);
		});

		const skips: Array<{name: string; headers: ResponseHeaders; options?: Parameters<typeof store>[1]; reason: RegExp}> = [
			{name: 'a response no-store (cacheControl)', headers: {'cache-control': 'no-store'}, options: {settings: {cacheControl: true}}, reason: /response no-store/},
			{name: 'Vary: *', headers: {vary: 'Accept, *'}, reason: /Vary: \*/},
			{name: 'a body over maxEntrySize', headers: {}, options: {settings: {maxEntrySize: 4}, body: Buffer.alloc(5)}, reason: /maxEntrySize/},
			{name: 'a 206 (a part, not the resource)', headers: {}, options: {status: 206}, reason: /status 206/},
			{name: 'a status not in allowableCodes', headers: {}, options: {status: 404}, reason: /status 404/},
			{name: 'a readOnly cache', headers: {}, options: {settings: {readOnly: true}}, reason: /readOnly/},
			{name: 'stale on arrival without a validator', headers: {'cache-control': 'max-age=0'}, options: {settings: {cacheControl: true}}, reason: /stale on arrival/},
			{name: 'a private response whose owner cannot be derived now', headers: {'cache-control': 'private'}, options: {requester: {owner: () => undefined, hopAddsIdentity: () => false}}, reason: /private/},
			{name: 'a private response reached through redirects', headers: {'cache-control': 'private'}, options: {history: [{status: 302, url: 'https://api.example/old', headers: {location: url}}]}, reason: /redirects/},
			{name: 'what a redirect hop\'s added credentials obtained', headers: {}, options: {requester: {owner: () => 'x', hopAddsIdentity: () => true}}, reason: /hop added credentials/},
		];
		for (const {name, headers, options, reason} of skips) {
			it(`skips ${name}`, () => {
				skipped(store(headers, options), reason);
			});
		}

		it('stores a response stale on arrival that has a validator (it can be revalidated)', () => {
			assert.equal(store({'cache-control': 'max-age=0', etag: '"a"'}, {settings: {cacheControl: true}}).kind, 'store');
		});

		it('stores a private response with its owner, asking the hop check whether it is private', () => {
			const asked: boolean[] = [];
			const decision = store({'cache-control': 'private, max-age=60'}, {requester: {owner: () => 'alice', hopAddsIdentity: isPrivate => {
				asked.push(isPrivate);
				return false;
			}}});
			assert.equal(decision.kind, 'store');
			assert.equal((decision as Extract<StoreDecision, {kind: 'store'}>).facts.owner, 'alice');
			assert.deepEqual(asked, [true]);
			assert.equal((store({}) as Extract<StoreDecision, {kind: 'store'}>).facts.owner, undefined);
		});

		it('decideStoreHead decides before the body: a declared content-length over maxEntrySize skips at once', () => {
			const resolved = settingsOf({maxEntrySize: 100});
			const plan = lookupOf({}, {}, resolved);
			skipped(decideStoreHead(plan, {status: 200, headers: {'content-length': '101'}, history: []}, resolved, now, anyone), /content-length 101/);
			assert.equal(decideStoreHead(plan, {status: 200, headers: {'content-length': '100'}, history: []}, resolved, now, anyone).kind, 'store');
			assert.equal(decideStoreHead(plan, {status: 200, headers: {}, history: []}, resolved, now, anyone).kind, 'store');
			skipped(decideStoreHead(plan, {status: 200, headers: {vary: '*'}, history: []}, resolved, now, anyone), /Vary/);
		});
	});

	describe('revalidation', () => {
		it('asks conditionally when the entry has a validator, as it is otherwise', () => {
			const request = get({accept: 'application/json'});
			const conditional = revalidationRequest(request, entryOf({headers: {etag: '"v1"', 'last-modified': 'Wed, 31 Dec 2025 00:00:00 GMT'}}));
			assert.deepEqual(conditional.headers, {accept: 'application/json', 'if-none-match': '"v1"', 'if-modified-since': 'Wed, 31 Dec 2025 00:00:00 GMT'});
			assert.equal(revalidationRequest(request, entryOf()), request);
		});

		const cases: Array<{name: string; entry: CachedEntry; conditional?: boolean; status: number | undefined; settings?: CacheOptions; expected: string}> = [
			{name: 'a 304 to our conditional renews', entry: entryOf({ttl: -1}), status: 304, expected: 'renew'},
			{name: 'a 304 to a plain request is not a renewal', entry: entryOf({ttl: -1}), conditional: false, status: 304, expected: 'replace'},
			{name: 'a 200 replaces', entry: entryOf({ttl: -1}), status: 200, expected: 'replace'},
			{name: 'a 404 replaces (an answer, not a failure)', entry: entryOf({ttl: -1, facts: {staleIfError: 60}}), status: 404, settings: {cacheControl: true}, expected: 'replace'},
			{name: 'an error within stale-if-error serves stale', entry: entryOf({ttl: -10, facts: {staleIfError: 60}}), status: undefined, settings: {cacheControl: true}, expected: 'serveStale'},
			{name: 'a 503 within stale-if-error serves stale', entry: entryOf({ttl: -10, facts: {staleIfError: 60}}), status: 503, settings: {cacheControl: true}, expected: 'serveStale'},
			{name: 'an error beyond stale-if-error fails', entry: entryOf({ttl: -100, facts: {staleIfError: 60}}), status: undefined, settings: {cacheControl: true}, expected: 'fail'},
			{name: 'a 503 beyond stale-if-error replaces', entry: entryOf({ttl: -100, facts: {staleIfError: 60}}), status: 503, settings: {cacheControl: true}, expected: 'replace'},
			{name: 'an error without any window fails', entry: entryOf({ttl: -10}), status: undefined, expected: 'fail'},
			{name: 'the session\'s staleIfError window', entry: entryOf({ttl: -10}), status: undefined, settings: {staleIfError: 60}, expected: 'serveStale'},
			{name: 'a 503 the user stores (allowableCodes) replaces', entry: entryOf({ttl: -10}), status: 503, settings: {staleIfError: 60, allowableCodes: [200, 503]}, expected: 'replace'},
			{name: 'must-revalidate is never served stale on error', entry: entryOf({ttl: -10, facts: {staleIfError: 60, mustRevalidate: true}}), status: undefined, settings: {cacheControl: true}, expected: 'fail'},
		];
		for (const {name, entry, conditional = true, status, settings, expected} of cases) {
			it(name, () => {
				assert.equal(decideRefreshed(entry, conditional, status, settingsOf(settings), now).kind, expected);
			});
		}

		it('a 304 merges its headers and renews the expiry, counting age from now; the owner stays', () => {
			const settings = settingsOf({cacheControl: true});
			const entry = entryOf({ttl: -5, headers: {etag: '"v1"', 'cache-control': 'max-age=60', 'x-old': '1'}, facts: {owner: 'alice'}});
			const renewal = decideRenewal(lookupOf({}, {}, settings), entry, {'cache-control': 'max-age=120', 'x-new': '2', etag: '"other"'}, settings, now);
			assert.equal(renewal.kind, 'rewrite');
			assert.equal(renewal.expires, now + 120_000);
			assert.equal(renewal.createdAt, now);
			assert.equal(renewal.facts.owner, 'alice');
			// Every field the 304 carries replaces the stored one, but not the validator it was selected by.
			assert.deepEqual(renewal.headers, {etag: '"v1"', 'cache-control': 'max-age=120', 'x-old': '1', 'x-new': '2'});
		});

		it('a 304 whose headers now forbid storing forgets the entry; one that changes nothing keeps it', () => {
			const settings = settingsOf({cacheControl: true});
			const plan = lookupOf({}, {}, settings);
			const forget = decideRenewal(plan, entryOf({ttl: -5, headers: {etag: '"v1"'}}), {'cache-control': 'no-store'}, settings, now);
			assert.equal(forget.kind, 'forget');
			assert.equal(forget.expires, now);
			// Stale on arrival before and after (no-cache): nothing to rewrite, the old expiry stays.
			const entry = entryOf({ttl: -5, headers: {etag: '"v1"', 'cache-control': 'no-cache'}});
			const keep = decideRenewal(plan, entry, {'cache-control': 'no-cache'}, settings, now);
			assert.equal(keep.kind, 'keep');
			assert.equal(keep.expires, entry.expires);
		});
	});

	describe('decideInvalidation: an unsafe request\'s answer', () => {
		const post = (headers: Record<string, string> = {}): PreparedRequest => ({method: 'POST', url, headers, body: undefined});
		it('invalidates its URL and a same-origin Location or Content-Location, below 400 only', () => {
			const response = {status: 201, url, headers: {location: '/items/7', 'content-location': 'https://elsewhere.example/x'}};
			assert.deepEqual(decideInvalidation(post(), response, settingsOf()).urls, [url, 'https://api.example/items/7']);
			assert.deepEqual(decideInvalidation(post(), {...response, status: 400}, settingsOf()).urls, []);
			assert.deepEqual(decideInvalidation(post(), {...response, status: 399}, settingsOf()).urls.length, 2);
		});

		it('names the Cache Groups it invalidates (RFC 9875), not on an error', () => {
			const headers = {'cache-group-invalidation': '"a", "b"'};
			assert.deepEqual(decideInvalidation(post(), {status: 200, url, headers}, settingsOf()).groups, ['a', 'b']);
			assert.deepEqual(decideInvalidation(post(), {status: 500, url, headers}, settingsOf()).groups, []);
		});

		it('rfc9111: a fresh POST response whose Content-Location is its own URL is stored for later GETs', () => {
			const response = {status: 200, url, headers: {'content-location': url, 'cache-control': 'max-age=60'}};
			assert.equal(decideInvalidation(post(), response, settingsOf({cacheControl: 'rfc9111'})).storeAsGet, true);
			assert.equal(decideInvalidation(post(), response, settingsOf({cacheControl: true})).storeAsGet, false);
			assert.equal(decideInvalidation(post(), {...response, headers: {'content-location': url}}, settingsOf({cacheControl: 'rfc9111'})).storeAsGet, false);
		});
	});

	describe('Cache-Status: what the member says of each outcome', () => {
		it('chooses the forward reason', () => {
			assert.equal(fetchReason(true, true, false), 'request');
			assert.equal(fetchReason(false, false, false), 'uri-miss');
			assert.equal(fetchReason(false, false, true), 'vary-miss');
			assert.equal(fetchReason(false, true, false), 'partial');
			assert.equal(revalidateReason(now, now), 'stale');
			assert.equal(revalidateReason(now + 1000, now), 'request');
			assert.equal(revalidateReason(null, now), 'request');
		});

		const cases = [
			{outcome: {kind: 'hit', expires: now + 30_000}, expected: {hit: true, ttl: 30}},
			{outcome: {kind: 'hit', expires: null}, expected: {hit: true, ttl: undefined}},
			{outcome: {kind: 'gatewayTimeout'}, expected: {detail: 'only-if-cached'}},
			{outcome: {kind: 'staleOnError', fwd: 'stale'}, expected: {fwd: 'stale', detail: 'stale-on-error'}},
			{outcome: {kind: 'forwarded', fwd: 'uri-miss', status: 200, revalidated: false, expires: now + 60_000, stored: true}, expected: {fwd: 'uri-miss', fwdStatus: 200, ttl: 60, stored: true, detail: undefined}},
			{outcome: {kind: 'forwarded', fwd: 'uri-miss', status: 200, revalidated: false, expires: null, stored: false}, expected: {fwd: 'uri-miss', fwdStatus: 200, ttl: undefined, stored: false, detail: 'store-failed'}},
			{outcome: {kind: 'forwarded', fwd: 'bypass', status: 200, revalidated: false, expires: null, stored: undefined}, expected: {fwd: 'bypass', fwdStatus: 200, ttl: undefined, stored: false, detail: undefined}},
			{outcome: {kind: 'forwarded', fwd: 'stale', status: 200, revalidated: true, expires: now + 10_000, stored: undefined}, expected: {fwd: 'stale', fwdStatus: 304, ttl: 10, stored: true, detail: undefined}},
		] as const;
		for (const {outcome, expected} of cases) {
			it(`${outcome.kind} ${JSON.stringify(outcome)}`, () => {
				assert.deepEqual(cacheStatusOf(outcome, now), expected);
			});
		}
	});
});
