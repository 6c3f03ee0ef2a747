import assert from 'node:assert/strict';
import {
	HEURISTIC_MAX_LIFETIME, MAX_DELTA_SECONDS, NOT_UPDATED_BY_304, ageOf, conditionalHeaders, headerFreshness, heuristicLifetime, mayStore, mergeNotModified,
	parseCacheControl, parseHttpDate, seconds, storableHeaders,
} from '../../lib/policy/cache-control.js';

describe('policy/cache-control', () => {
	const now = Date.parse('2026-01-01T00:00:00Z');

	it('parses directives with values, quotes and odd spacing', () => {
		const directives = parseCacheControl('Max-Age=60 , no-cache="set-cookie, x", private,stale-if-error=30');
		assert.equal(directives.get('max-age'), '60');
		assert.equal(directives.get('no-cache'), 'set-cookie, x');
		assert.equal(directives.get('private'), true);
		assert.equal(directives.get('stale-if-error'), '30');
	});

	it('reads no-store as do-not-store', () => {
		assert.deepEqual(headerFreshness({'cache-control': 'no-store, max-age=60'}, now), {kind: 'noStore'});
	});

	it('lets max-age beat Expires, less the Age header', () => {
		const freshness = headerFreshness({'cache-control': 'max-age=60', expires: 'Thu, 01 Jan 2099 00:00:00 GMT', age: '10'}, now);
		assert.deepEqual(freshness, {kind: 'explicit', expires: now + 50_000});
	});

	it('treats immutable as never expiring', () => {
		assert.deepEqual(headerFreshness({'cache-control': 'public, max-age=31536000, immutable'}, now), {kind: 'explicit', expires: null});
	});

	it('treats Expires of 0, -1 or garbage as already expired', () => {
		for (const expires of ['0', '-1', 'garbage', '']) {
			assert.deepEqual(headerFreshness({expires}, now), {kind: 'explicit', expires: now}, expires);
		}
	});

	it('counts an Expires date relative to the Date header', () => {
		const freshness = headerFreshness({date: 'Thu, 01 Jan 2026 00:00:00 GMT', expires: 'Thu, 01 Jan 2026 00:01:40 GMT'}, now + 5000);
		assert.deepEqual(freshness, {kind: 'explicit', expires: now + 5000 + 100_000});
	});

	it('makes no-cache and max-age=0 stale at once', () => {
		assert.deepEqual(headerFreshness({'cache-control': 'no-cache'}, now), {kind: 'explicit', expires: now});
		assert.deepEqual(headerFreshness({'cache-control': 'max-age=0, must-revalidate'}, now), {kind: 'explicit', expires: now});
	});

	it('says nothing when the headers say nothing', () => {
		assert.deepEqual(headerFreshness({'content-type': 'text/plain'}, now), {kind: 'none'});
	});

	it('builds conditional headers from ETag and Last-Modified', () => {
		assert.deepEqual(conditionalHeaders({etag: '"v1"', 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT'}), {
			'if-none-match': '"v1"', 'if-modified-since': 'Wed, 01 Jan 2025 00:00:00 GMT',
		});
	});

	it('merges a 304 into stored headers, keeping framing headers and reporting changes', () => {
		const stored = {'content-length': '10', etag: '"v1"', 'x-a': '1'};
		assert.deepEqual(mergeNotModified(stored, {'content-length': '0', etag: '"v1"'}), {headers: stored, changed: false});
		const merged = mergeNotModified(stored, {'x-a': '2', 'cache-control': 'max-age=5'});
		assert.equal(merged.changed, true);
		assert.deepEqual(merged.headers, {'content-length': '10', etag: '"v1"', 'x-a': '2', 'cache-control': 'max-age=5'});
	});

	it('updates every field a 304 carries except those describing the stored bytes and the ETag (RFC 9111 §4.3.4)', () => {
		const stored = {
			'content-length': '5', 'content-encoding': 'gzip', 'content-md5': 'rL0Y20zC+Fzt72VPzMSk2A==', 'content-range': 'bytes 0-4/5', etag: '"abcdef"',
			'content-type': 'text/plain', 'cache-control': 'max-age=1', expires: 'Fri, 01 Jan 2038 01:01:01 GMT', 'set-cookie': ['a=b'], 'x-frame-options': 'deny',
		};
		const update = {
			'content-length': '10', 'content-encoding': 'br', 'content-md5': 'N7UdGUp1E+RbVvZSTy1R8g==', 'content-range': 'bytes 0-9/10', etag: '"ghijkl"',
			'content-type': 'text/plain;charset=utf-8', 'cache-control': 'max-age=3600', expires: 'Mon, 11 Jan 2038 11:11:11 GMT', 'set-cookie': ['a=c'],
			'x-frame-options': 'sameorigin', connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=5', 'x-hop': '1',
		};
		const {headers, changed} = mergeNotModified(stored, update);
		assert.equal(changed, true);
		for (const name of NOT_UPDATED_BY_304) {
			assert.deepEqual(headers[name], stored[name as keyof typeof stored], name);
		}

		assert.deepEqual(headers, {
			...stored, 'content-type': 'text/plain;charset=utf-8', 'cache-control': 'max-age=3600', expires: 'Mon, 11 Jan 2038 11:11:11 GMT', 'set-cookie': ['a=c'],
			'x-frame-options': 'sameorigin',
		});
	});

	it('renews Date and Age from a 304 without counting the response as changed', () => {
		const {headers, changed} = mergeNotModified({date: 'Thu, 01 Jan 2026 00:00:00 GMT', age: '30', 'x-a': '1'}, {date: 'Thu, 01 Jan 2026 00:10:00 GMT', age: '0'});
		assert.equal(changed, false);
		assert.deepEqual(headers, {date: 'Thu, 01 Jan 2026 00:10:00 GMT', age: '0', 'x-a': '1'});
	});

	it('parses the three HTTP-date forms and nothing else', () => {
		const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
		assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), expected);
		assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(2026, 0, 1)), expected);
		assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), expected);
		assert.equal(parseHttpDate('SUN, 06 NOV 1994 08:49:37 gmt'), expected);
		// A two-digit year more than 50 years ahead is in the past.
		assert.equal(parseHttpDate('Thursday, 01-Jan-80 00:00:00 GMT', Date.UTC(2026, 0, 1)), Date.UTC(1980, 0, 1));
		for (const invalid of [
			'Sun, 06 Nov 1994 08:49:37 UTC', 'Sun, 6 Nov 1994 08:49:37 GMT', 'Sun 06 Nov 1994 08:49:37 GMT', 'Sun, 06  Nov 1994 08:49:37 GMT',
			'Sun, 06-Nov-1994 08:49:37 GMT', 'Sun, 06 Nov 1994 8:49:37 GMT', '1994-11-06T08:49:37Z', 'Sun, 31 Feb 1994 08:49:37 GMT', '',
		]) {
			assert.equal(parseHttpDate(invalid), undefined, invalid);
		}
	});

	it('treats a loosely formatted Expires as already expired', () => {
		assert.deepEqual(headerFreshness({expires: 'Sun, 06 Nov 2094 08:49:37 UTC'}, now), {kind: 'explicit', expires: now});
	});

	it('reads an Age of one non-negative integer, and 0 without one', () => {
		assert.equal(ageOf({}), 0);
		assert.equal(ageOf({age: '0'}), 0);
		assert.equal(ageOf({age: ' 30 '}), 30);
		assert.equal(ageOf({age: ['30']}), 30);
		// RFC 9111 §1.2.2: a delta-seconds beyond 2^31 counts as 2^31.
		assert.equal(ageOf({age: '99999999999999'}), MAX_DELTA_SECONDS);
	});

	it('uses the first member of a list-valued Age (RFC 9111 §5.1)', () => {
		assert.equal(ageOf({age: '7200,0'}), 7200);
		assert.equal(ageOf({age: '0,7200'}), 0);
		assert.equal(ageOf({age: '3600, 3600'}), 3600);
		// The field on two lines, kept apart or joined as Node and fetch join them.
		assert.equal(ageOf({age: ['0', '7200']}), 0);
		assert.equal(ageOf({age: ['7200', '0']}), 7200);
		assert.equal(ageOf({age: '0, 7200'}), 0);
	});

	it('ignores an invalid Age as if absent, instead of making the response stale (RFC 9111 §5.1)', () => {
		for (const age of ['abc', '-7200', '7200.0', '7200;foo=bar', '7200;foo=111', '', '+5', 'abc, 7200']) {
			assert.equal(ageOf({age}), 0, age);
		}

		assert.deepEqual(headerFreshness({'cache-control': 'max-age=3600', age: 'abc'}, now), {kind: 'explicit', expires: now + 3_600_000});
		assert.deepEqual(headerFreshness({'cache-control': 'max-age=3600', age: '7200, 0'}, now), {kind: 'explicit', expires: now - 3_600_000});
	});

	it('caps delta-seconds at 2^31 wherever they are read (RFC 9111 §1.2.2)', () => {
		assert.equal(seconds(parseCacheControl('max-age=9999999999999'), 'max-age'), MAX_DELTA_SECONDS);
		assert.equal(seconds(parseCacheControl('s-maxage=99999999999999999999'), 's-maxage'), MAX_DELTA_SECONDS);
		assert.equal(seconds(parseCacheControl('stale-if-error=9999999999999'), 'stale-if-error'), MAX_DELTA_SECONDS);
		assert.equal(seconds(parseCacheControl('max-age=60'), 'max-age'), 60);
		assert.equal(seconds(parseCacheControl('max-age=1.5'), 'max-age'), undefined);
		const freshness = headerFreshness({'cache-control': 'max-age=9999999999999'}, now);
		assert.equal(freshness.kind, 'explicit');
		const {expires} = freshness as {expires: number};
		assert.equal(expires, now + (MAX_DELTA_SECONDS * 1000));
		assert.ok(!Number.isNaN(new Date(expires).getTime()));
	});

	it('gives a heuristic lifetime of 10% of Date - Last-Modified, capped at a week', () => {
		const date = 'Thu, 01 Jan 2026 00:00:00 GMT';
		assert.equal(heuristicLifetime(200, {date, 'last-modified': 'Wed, 31 Dec 2025 00:00:00 GMT'}, now), 8_640_000);
		assert.equal(heuristicLifetime(404, {date, 'last-modified': 'Thu, 01 Jan 2026 00:00:30 GMT'}, now + 60_000), undefined);
		assert.equal(heuristicLifetime(200, {date, 'last-modified': 'Thu, 01 Jan 2015 00:00:00 GMT'}, now), HEURISTIC_MAX_LIFETIME);
		// Without Date, the response time stands in.
		assert.equal(heuristicLifetime(410, {'last-modified': 'Wed, 31 Dec 2025 23:00:00 GMT'}, now), 360_000);
		assert.equal(heuristicLifetime(200, {date, 'last-modified': 'yesterday'}, now), undefined);
		assert.equal(heuristicLifetime(200, {date}, now), undefined);
	});

	it('applies heuristics to the heuristically cacheable statuses only, unless the response is public', () => {
		const headers = {date: 'Thu, 01 Jan 2026 00:00:00 GMT', 'last-modified': 'Wed, 31 Dec 2025 00:00:00 GMT'};
		for (const status of [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]) {
			assert.equal(heuristicLifetime(status, headers, now), 8_640_000, String(status));
		}

		for (const status of [201, 202, 302, 303, 307, 403, 502, 503, 504, 599]) {
			assert.equal(heuristicLifetime(status, headers, now), undefined, String(status));
		}

		assert.equal(heuristicLifetime(599, {...headers, 'cache-control': 'public'}, now), 8_640_000);
	});

	it('allows storing what RFC 9111 §3 allows a private cache to store', () => {
		assert.equal(mayStore(200, {}), true);
		assert.equal(mayStore(404, {}), true);
		assert.equal(mayStore(500, {}), false);
		assert.equal(mayStore(500, {'cache-control': 'max-age=60'}), true);
		assert.equal(mayStore(599, {expires: 'Thu, 01 Jan 2099 00:00:00 GMT'}), true);
		assert.equal(mayStore(302, {'cache-control': 'private'}), true);
		assert.equal(mayStore(599, {'cache-control': 'public'}), true);
		assert.equal(mayStore(200, {'cache-control': 'no-store, max-age=60'}), false);
		assert.equal(mayStore(206, {'cache-control': 'max-age=60'}), false);
		assert.equal(mayStore(304, {'cache-control': 'max-age=60'}), false);
		assert.equal(mayStore(103, {'cache-control': 'max-age=60'}), false);
		// must-understand: only a status whose rules are implemented, and then no-store is overridden.
		assert.equal(mayStore(599, {'cache-control': 'max-age=3600, must-understand'}), false);
		assert.equal(mayStore(200, {'cache-control': 'max-age=3600, must-understand, no-store'}), true);
	});

	it('drops hop-by-hop headers, those Connection names, and qualified no-cache fields from what is stored', () => {
		const stored = storableHeaders({
			connection: 'x-hop, close', 'x-hop': '1', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked',
			'cache-control': 'max-age=60, no-cache="x-private"', 'x-private': 'secret', 'content-type': 'text/plain',
		});
		assert.deepEqual(stored, {'cache-control': 'max-age=60, no-cache="x-private"', 'content-type': 'text/plain'});
		assert.deepEqual(headerFreshness({'cache-control': 'max-age=60, no-cache="x-private"'}, now), {kind: 'explicit', expires: now + 60_000});
	});
});
