import assert from 'node:assert/strict';
import {
	ageOf, conditionalHeaders, headerFreshness, mergeNotModified, parseCacheControl, parseHttpDate, storableHeaders,
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

	it('ignores an Age that is not a whole number', () => {
		assert.equal(ageOf({age: '7200.0'}), 0);
		assert.equal(ageOf({age: '-5'}), 0);
		assert.equal(ageOf({age: ' 30 '}), 30);
		assert.equal(ageOf({age: '7200, 0'}), 7200);
		assert.equal(ageOf({age: '0, 7200'}), 0);
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
