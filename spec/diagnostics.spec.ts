import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import {inspect} from 'node:util';
import {CachedSession} from '../lib/index.js';
import {type CacheEventMessage, CACHE_CHANNELS} from '../lib/diagnostics.js';
import {FakeClock} from './support/clock.js';
import {Origin} from './support/origin.js';

describe('observability', () => {
	let origin: Origin;
	const clock = new FakeClock();

	before(async () => {
		origin = await Origin.start();
		origin.route('/etag', (request, response) => {
			if (request.headers['if-none-match'] === '"v1"') {
				response.writeHead(304, {etag: '"v1"'}).end();
				return;
			}

			response.writeHead(200, {'content-type': 'text/plain', etag: '"v1"'}).end('version 1');
		});
	});

	after(async () => {
		await origin.close();
	});

	it('publishes every decision on a diagnostics channel, with the key, URL and timing', async () => {
		const seen: CacheEventMessage[] = [];
		const listener = (message: unknown): void => {
			seen.push(message as CacheEventMessage);
		};

		for (const channel of Object.values(CACHE_CHANNELS)) {
			channel.subscribe(listener);
		}

		try {
			const session = new CachedSession({backend: 'memory', cacheName: 'observed', clock: clock.read, expireAfter: 60});
			await session.get(`${origin.url}/etag?observe=1`);
			await session.get(`${origin.url}/etag?observe=1`);
			clock.advance(61);
			await session.get(`${origin.url}/etag?observe=1`);
			await session.post(`${origin.url}/echo?observe=1`);
			await session.close();
		} finally {
			for (const channel of Object.values(CACHE_CHANNELS)) {
				channel.unsubscribe(listener);
			}
		}

		assert.deepEqual(seen.map(message => message.event), ['stored', 'miss', 'hit', 'revalidated', 'stored', 'bypass'], 'the 304 renewed the stored entry');
		const [stored, , hit] = seen;
		assert.equal(stored!.cacheName, 'observed');
		assert.equal(stored!.bytes, 'version 1'.length);
		assert.equal(hit!.url, `${origin.url}/etag?observe=1`);
		assert.match(hit!.key, /^[\da-f]{32}$/);
		assert.equal(typeof hit!.ms, 'number');
		assert.ok(diagnosticsChannel.hasSubscribers('requests-cache:hit') === false, 'unsubscribed again');
	});

	it('counts hits, misses, revalidations, stores, bytes, bypasses and errors in cache.stats()', async () => {
		const session = new CachedSession({backend: 'memory', clock: clock.read, expireAfter: 60});
		await session.get(`${origin.url}/etag?stats=1`);
		await session.get(`${origin.url}/etag?stats=1`);
		await session.get(`${origin.url}/etag?stats=1`);
		clock.advance(61);
		await session.get(`${origin.url}/etag?stats=1`);
		await session.post(`${origin.url}/echo?stats=1`);
		assert.deepEqual(session.cache.stats(), {hits: 2, staleServed: 0, misses: 1, revalidations: 1, stores: 2, bytesStored: 18, bypassed: 1, evicted: 0, errors: 0, coalesced: 0, coalesceFallbacks: 0, takeovers: 0});
		await session.close();
	});

	it('logs each decision in one line with NODE_DEBUG=requests-cache', () => {
		const script = `
			import {CachedSession} from './lib/index.ts';
			import {Origin} from './spec/support/origin.ts';
			const origin = await Origin.start();
			const session = new CachedSession({backend: 'memory'});
			await session.get(origin.url + '/json?debug=1');
			await session.get(origin.url + '/json?debug=1');
			await session.close();
			await origin.close();`;
		const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {env: {...process.env, NODE_DEBUG: 'requests-cache'}, encoding: 'utf8'});
		assert.equal(result.status, 0, result.stderr);
		const lines = result.stderr.split('\n').filter(line => line.includes('REQUESTS-CACHE'));
		assert.equal(lines.length, 3, result.stderr);
		assert.match(lines[0]!, /stored GET http:\/\/127\.0\.0\.1:\d+\/json\?debug=1 200 \d+ bytes key=[\da-f]{32}/);
		assert.match(lines[1]!, /miss GET .*\/json\?debug=1 200 key=/);
		assert.match(lines[2]!, /hit GET .*\/json\?debug=1 key=.* \d+\.\d+ms \[http_cache\]/);
	});

	it('shows a session, a response and the cache briefly in util.inspect', async () => {
		const session = new CachedSession({backend: 'memory', cacheName: 'shown'});
		await session.get(`${origin.url}/json?inspect=1`);
		const response = await session.get(`${origin.url}/json?inspect=1`);
		assert.equal(inspect(session), 'CachedSession <memory "shown">');
		assert.match(inspect(response), /^<Response \[200\] GET http:\/\/127\.0\.0\.1:\d+\/json\?inspect=1 fromCache \d+ bytes>$/);
		assert.match(inspect(session.cache), /^BaseCache <memory "shown"> \{"hits":1/);
		await session.close();
	});
});
