import assert from 'node:assert/strict';
import {conditionalHeaders, headerFreshness, mergeNotModified, parseCacheControl} from '../../lib/policy/cache-control.js';

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
});
