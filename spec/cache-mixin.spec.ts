import {storeOf} from '../lib/cache/base-cache.js';
import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import got from 'got';
import path from 'node:path';
import {
	BaseCache, CacheMixin, CachedSession, type PreparedRequest, Response, type SendOptions, Session, type SessionOptions, createStore,
} from '../lib/index.js';
import {prepareRequest} from '../lib/models/request.js';
import {Origin} from './support/origin.js';
import {removeDir, tempDir} from './support/temp-dir.js';

/** A got instance that counts the requests it starts: a cache hit must not start one. */
function countingGot(): {got: typeof got; calls: () => number} {
	let calls = 0;
	const instance = got.extend({
		retry: {limit: 0},
		hooks: {
			beforeRequest: [
				() => {
					calls++;
				},
			],
		},
	});
	return {got: instance, calls: () => calls};
}

/** A session-like class that is not a Session at all: it sends with the platform's fetch. */
class FetchSender {
	sent = 0;

	async send(request: PreparedRequest): Promise<Response> {
		this.sent++;
		const init: RequestInit = {method: request.method, headers: request.headers};
		if (request.body !== undefined) {
			init.body = request.body;
		}

		const raw = await fetch(request.url, init);
		return new Response({
			status: raw.status,
			headers: Object.fromEntries(raw.headers),
			url: raw.url,
			body: Buffer.from(await raw.arrayBuffer()),
			request,
		});
	}
}

/** A Session subclass with its own option, state and methods. */
type ApiOptions = SessionOptions & {apiName: string};
class ApiSession extends Session {
	apiName: string;
	logins = 0;

	constructor(options: ApiOptions) {
		const {apiName, ...rest} = options;
		super(rest);
		this.apiName = apiName;
	}

	login(): string {
		this.logins++;
		return `${this.apiName} logged in`;
	}
}

/** Another mixin that overrides send: records every request it sees. */
type SendLog = {log: string[]};
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mixin constructors take any[]
function LoggingMixin<T extends new (...args: any[]) => Session>(Base: T) {
	return class Logging extends Base implements SendLog {
		log: string[] = [];

		override async send(request: PreparedRequest, options?: SendOptions): Promise<Response> {
			this.log.push(`${request.method} ${new URL(request.url).pathname}`);
			return super.send(request, options);
		}
	};
}

describe('CacheMixin', () => {
	let origin: Origin;

	before(async () => {
		origin = await Origin.start();
	});

	after(async () => {
		await origin.close();
	});

	it('caches for any class with a compatible send(), not only Session', async () => {
		const Cached = CacheMixin(FetchSender);
		const session = new Cached({backend: 'memory'});
		const request = prepareRequest('GET', `${origin.url}/json?via=fetch`, {}, {});
		const before = origin.hits('/json');
		const first = await session.send(request);
		const second = await session.send(request);
		assert.equal(first.fromCache, false);
		assert.equal(second.fromCache, true);
		assert.equal(origin.hits('/json'), before + 1);
		assert.equal(session.sent, 1, 'the base send ran once');
		assert.deepEqual(second.json(), first.json());
		await session.close();
	});

	it('rejects something that cannot send', () => {
		assert.throws(() => CacheMixin(class {} as never), {name: 'TypeError', message: /send\(request, options\)/});
		assert.throws(() => CacheMixin({} as never), TypeError);
	});

	it('keeps the subclass\'s own methods, state and constructor options', async () => {
		class CachedApiSession extends CacheMixin(ApiSession) {}
		const session = new CachedApiSession({apiName: 'books', backend: 'memory', headers: {'x-api': 'books'}, timeout: 5000});
		assert.ok(session instanceof ApiSession);
		assert.ok(session instanceof Session);
		assert.equal(session.apiName, 'books');
		assert.equal(session.login(), 'books logged in');
		assert.equal(session.logins, 1);
		assert.equal(session.timeout, 5000, 'options the mixin does not own went to the base constructor');
		assert.equal(session.settings.backend, 'memory');
		const before = origin.hits('/echo');
		await session.get(`${origin.url}/echo`);
		const cached = await session.get(`${origin.url}/echo`);
		assert.equal(cached.fromCache, true);
		assert.equal(origin.hits('/echo'), before + 1);
		assert.equal(origin.seen.at(-1)!.headers['x-api'], 'books');
		await session.close();
	});

	it('passes further constructor arguments to the base class', async () => {
		class TwoArguments extends Session {
			readonly extra: string;
			constructor(options: SessionOptions, extra: string) {
				super(options);
				this.extra = extra;
			}
		}
		const session = new (CacheMixin(TwoArguments))({backend: 'memory'}, 'second');
		assert.equal(session.extra, 'second');
		await session.close();
	});

	for (const order of ['CacheMixin(LoggingMixin(Session))', 'LoggingMixin(CacheMixin(Session))'] as const) {
		it(`composes with another mixin: ${order}`, async () => {
			const Composed = order === 'CacheMixin(LoggingMixin(Session))'
				? CacheMixin(LoggingMixin(Session))
				: LoggingMixin(CacheMixin(Session));
			const session = new Composed({backend: 'memory'});
			const url = `${origin.url}/json?order=${encodeURIComponent(order)}`;
			const before = origin.hits('/json');
			const first = await session.get(url);
			const second = await session.get(url);
			assert.equal(first.fromCache, false);
			assert.equal(second.fromCache, true);
			assert.equal(origin.hits('/json'), before + 1);
			// Logging inside the cache sees only what goes to the origin; outside it, every request.
			assert.deepEqual(session.log, order.startsWith('CacheMixin') ? ['GET /json'] : ['GET /json', 'GET /json']);
			await session.cache.clear();
			await session.close();
		});
	}

	it('serves a hit without calling got at all', async () => {
		const counter = countingGot();
		const session = new CachedSession({backend: 'memory', got: counter.got});
		const url = `${origin.url}/json?count=got`;
		await session.get(url);
		assert.equal(counter.calls(), 1);
		for (let index = 0; index < 5; index++) {
			// eslint-disable-next-line no-await-in-loop -- sequential hits
			const response = await session.get(url);
			assert.equal(response.fromCache, true);
		}

		assert.equal(counter.calls(), 1, 'got was not called for the hits');
		await session.close();
	});

	it('serves a hit without calling the base class\'s send', async () => {
		let sends = 0;
		class CountingSession extends Session {
			override async send(request: PreparedRequest, options?: SendOptions): Promise<Response> {
				sends++;
				return super.send(request, options);
			}
		}
		const session = new (CacheMixin(CountingSession))({backend: 'memory'});
		await session.get(`${origin.url}/json?count=send`);
		await session.get(`${origin.url}/json?count=send`);
		await session.get(`${origin.url}/json?count=send`);
		assert.equal(sends, 1);
		await session.close();
	});

	it('runs cached responses through the response hooks like fresh ones, in order', async () => {
		const calls: string[] = [];
		const session = new CachedSession({
			backend: 'memory',
			hooks: {
				response: [
					response => {
						calls.push(`a fromCache=${response.fromCache}`);
					},
					response => {
						calls.push(`b fromCache=${response.fromCache}`);
					},
				],
			},
		});
		await session.get(`${origin.url}/json?hooks=1`);
		await session.get(`${origin.url}/json?hooks=1`);
		assert.deepEqual(calls, ['a fromCache=false', 'b fromCache=false', 'a fromCache=true', 'b fromCache=true']);
		await session.close();
	});

	for (const backend of ['memory', 'sqlite'] as const) {
		it(`lets hooks change or replace fresh and cached responses without changing what is stored (${backend})`, async () => {
			const dir = tempDir('hooks');
			const session = new CachedSession({backend, cacheName: path.join(dir, 'hooks')});
			session.hooks.response.push(response => {
				// Changes in place, to the headers and to the body's bytes, then a replacement body.
				response.headers['x-seen'] = 'yes';
				response.body.fill(0x78);
				const replacement = response.clone();
				replacement.body = Buffer.from('replaced');
				return replacement;
			});
			const fresh = await session.get(`${origin.url}/json?hooks=${backend}`);
			assert.equal(fresh.fromCache, false);
			assert.equal(fresh.text(), 'replaced');
			const cached = await session.get(`${origin.url}/json?hooks=${backend}`);
			assert.equal(cached.fromCache, true);
			assert.equal(cached.text(), 'replaced');
			session.hooks.response.length = 0;
			const again = await session.get(`${origin.url}/json?hooks=${backend}`);
			assert.equal(again.fromCache, true);
			assert.equal(again.headers['x-seen'], undefined, 'the hook changed a copy, not the cache');
			assert.deepEqual(again.json<{query: unknown}>().query, {hooks: backend}, 'the body bytes in the cache are intact');
			await session.close();
			removeDir(dir);
		});
	}

	describe('cacheDisabled()', () => {
		it('bypasses the cache for reading and writing inside the function only', async () => {
			const session = new CachedSession({backend: 'memory'});
			const url = `${origin.url}/json?disabled=1`;
			await session.get(url);
			const before = origin.hits('/json');
			const inside = await session.cacheDisabled(async () => {
				const response = await session.get(url);
				await session.get(`${origin.url}/json?disabled=new`);
				return response;
			});
			assert.equal(inside.fromCache, false);
			assert.equal(origin.hits('/json'), before + 2);
			assert.equal(await session.cache.contains({url: `${origin.url}/json?disabled=new`}), false, 'nothing was written');
			const after = await session.get(url);
			assert.equal(after.fromCache, true);
			await session.close();
		});

		it('leaves other sessions caching while one session is disabled', async () => {
			const disabled = new CachedSession({backend: 'memory'});
			const other = new CachedSession({backend: 'memory'});
			const url = `${origin.url}/json?disabled=other`;
			await other.get(url);
			const result = await disabled.cacheDisabled(async () => other.get(url));
			assert.equal(result.fromCache, true);
			await disabled.close();
			await other.close();
		});

		it('returns what the function returns and rejects a non-function', async () => {
			const session = new CachedSession({backend: 'memory'});
			assert.equal(await session.cacheDisabled(() => 42), 42);
			await assert.rejects(session.cacheDisabled('x' as never), TypeError);
			await session.close();
		});
	});

	it('close() closes the base session, then the store', async () => {
		const events: string[] = [];
		class Closing extends Session {
			override async close(): Promise<void> {
				events.push('base');
			}
		}
		const session = new (CacheMixin(Closing))({backend: 'memory'});
		const store = storeOf(session.cache);
		const storeClose = store.close.bind(store);
		(store as {close: () => Promise<void>}).close = async () => {
			events.push('store');
			await storeClose();
		};

		await session.close();
		assert.deepEqual(events, ['base', 'store']);
	});

	it('close() leaves a BaseCache given as backend open for the other sessions sharing it', async function () {
		const dir = tempDir('shared-close');
		this.slow(1000);
		try {
			const cache = new BaseCache(createStore({backend: 'sqlite', cacheName: path.join(dir, 'shared'), url: undefined, ttlOffset: 0}));
			const errors: Error[] = [];
			cache.on('error', error => errors.push(error));
			const first = new CachedSession({backend: cache});
			const second = new CachedSession({backend: cache});
			await first.get(`${origin.url}/json?shared-close=1`);
			await first.close();
			const response = await second.get(`${origin.url}/json?shared-close=1`);
			assert.deepEqual(errors.map(error => error.message), []);
			assert.equal(response.fromCache, true);
			await second.close();
			await cache.close();
		} finally {
			removeDir(dir);
		}
	});

	it('keeps each instance\'s cache and settings separate', async () => {
		const a = new CachedSession({backend: 'memory', expireAfter: 60});
		const b = new CachedSession({backend: 'memory'});
		assert.notEqual(a.cache, b.cache);
		const url = `${origin.url}/json?separate=1`;
		await a.get(url);
		assert.equal((await b.get(url)).fromCache, false);
		assert.equal(a.settings.expireAfter.kind, 'ttl');
		assert.equal(b.settings.expireAfter.kind, 'never');
		await a.close();
		await b.close();
	});
});
