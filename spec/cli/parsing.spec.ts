import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {decodeBody, hexDump, mediaTypeOf} from '../../lib/cli/body.js';
import {CliError} from '../../lib/cli/cli-error.js';
import {parseAge} from '../../lib/cli/duration.js';
import {parseFilter, parseStatus, urlMatches} from '../../lib/cli/filters.js';
import {parseTarget} from '../../lib/cli/open-cache.js';
import {formatTable} from '../../lib/cli/table.js';

describe('requests-cache CLI parsing and formatting', () => {
	it('reads ages with units, and sums of them', () => {
		assert.equal(parseAge('7d', '--older-than'), 7 * 86_400_000);
		assert.equal(parseAge('12h', '--older-than'), 12 * 3_600_000);
		assert.equal(parseAge('30m', '--older-than'), 30 * 60_000);
		assert.equal(parseAge('1d12h', '--older-than'), 36 * 3_600_000);
		assert.equal(parseAge('2w', '--older-than'), 14 * 86_400_000);
		assert.equal(parseAge('1.5h', '--older-than'), 5_400_000);
		for (const bad of ['7', 'd', '7x', '-1d', '7 d', '']) {
			assert.throws(() => parseAge(bad, '--older-than'), (error: unknown) => error instanceof CliError && error.message.startsWith('--older-than must be an age'), bad);
		}
	});

	it('reads status codes and classes, comma-separated or repeated', () => {
		const status = parseStatus(['200,304', '5xx']);
		assert.deepEqual([200, 304, 500, 503, 404, 201].map(code => status.test(code)), [true, true, true, true, false, false]);
		assert.throws(() => parseStatus(['ok']), CliError);
		assert.throws(() => parseStatus(['99']), CliError);
	});

	it('matches URL globs by the urlsExpireAfter rules, with or without the scheme', () => {
		const {url} = parseFilter({url: 'api.example.com/v1'});
		assert.equal(urlMatches(url!.regex, 'https://api.example.com/v1/users?page=2'), true);
		assert.equal(urlMatches(url!.regex, 'https://api.example.com/v10'), false);
		assert.equal(urlMatches(parseFilter({url: '*.example.com/*'}).url!.regex, 'http://img.example.com/a.png'), true);
		assert.throws(() => parseFilter({fresh: true, stale: true}), /exclude each other/);
	});

	it('aligns table columns, numbers on the right, the last column unpadded', () => {
		const table = formatTable([{title: 'A'}, {title: 'N', align: 'right'}, {title: 'URL'}], [['x', '5', 'http://a'], ['long', '1234', 'http://b/long']]);
		assert.equal(table, 'A        N  URL\nx        5  http://a\nlong  1234  http://b/long\n');
		assert.equal(formatTable([{title: 'A'}], []), '');
	});

	it('decodes bodies with the declared charset, UTF-8 for textual types, and calls the rest binary', () => {
		const text = (bytes: number[], type: string): unknown => decodeBody(Buffer.from(bytes), mediaTypeOf({'content-type': type}));
		assert.deepEqual(text([0x63, 0x61, 0x66, 0xE9], 'text/plain; charset=windows-1252'), {kind: 'text', text: 'café', charset: 'windows-1252'});
		assert.deepEqual(text([0x82, 0xA0], 'text/html; charset="Shift_JIS"'), {kind: 'text', text: 'あ', charset: 'shift_jis'});
		assert.deepEqual(text([0x63, 0x61, 0x66, 0xC3, 0xA9], 'application/json'), {kind: 'text', text: 'café', charset: 'utf-8'});
		assert.deepEqual(text([0x63, 0x61, 0x66, 0xE9], 'text/plain'), {kind: 'binary', reason: 'not valid utf-8'});
		assert.deepEqual(text([0x61], 'text/plain; charset=no-such-charset'), {kind: 'binary', reason: 'unknown charset "no-such-charset"'});
		assert.deepEqual(text([0x89, 0x50, 0x4E, 0x47], 'image/png'), {kind: 'binary', reason: 'image/png without a charset'});
		assert.deepEqual(decodeBody(Buffer.from([0x00, 0x01, 0x41]), mediaTypeOf({})), {kind: 'binary', reason: 'control characters in the text'});
		assert.equal(hexDump(Buffer.from('AB\n')), `00000000  ${'41 42 0a'.padEnd(47)}  AB.`);
	});

	it('reads a cache argument: a file path, or a Redis or MongoDB URL with its cache name', () => {
		assert.deepEqual(parseTarget('redis://127.0.0.1:6379/0?cacheName=api', undefined), {backend: 'redis', url: 'redis://127.0.0.1:6379/0', cacheName: 'api'});
		assert.deepEqual(parseTarget('redis://127.0.0.1:6379/0?cacheName=api', 'other'), {backend: 'redis', url: 'redis://127.0.0.1:6379/0', cacheName: 'other'});
		assert.deepEqual(parseTarget('mongodb://127.0.0.1:27017/', undefined), {backend: 'mongodb', url: 'mongodb://127.0.0.1:27017/', cacheName: 'http_cache'});
		assert.equal(parseTarget('rediss://h:6380', 'x').backend, 'redis');
		assert.deepEqual(parseTarget('cache/http_cache.sqlite', undefined), {backend: 'sqlite', file: `${process.cwd()}/cache/http_cache.sqlite`});
		assert.throws(() => parseTarget('postgres://h/db', undefined), /unsupported cache URL scheme/);
		assert.throws(() => parseTarget('x.sqlite', 'name'), /--cache-name applies to/);
	});
});
