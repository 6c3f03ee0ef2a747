import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import got, {type Got} from 'got';
import {CacheMixin, CachedSession, type PreparedRequest, Response} from '../lib/index.js';
import {Origin} from './support/origin.js';

/**
 * CacheMixin over session-like classes the library did not write, shaped the way small API
 * client libraries on npm are: their own constructor options (some required), their own methods
 * that call their own `request`, and a `send` they implement with got. Type checks are part of
 * the spec: `npm test` runs tsc, so each `@ts-expect-error` must stay an error.
 */

type ClientOptions = {baseUrl: string; token?: string};

/** An API client with required options. */
class ApiClient {
	readonly baseUrl: string;
	readonly token: string | undefined;
	readonly got: Got;
	sent = 0;

	constructor(options: ClientOptions) {
		if (typeof options?.baseUrl !== 'string') {
			throw new TypeError('ApiClient needs a baseUrl');
		}

		this.baseUrl = options.baseUrl;
		this.token = options.token;
		this.got = got.extend({retry: {limit: 0}, throwHttpErrors: false});
	}

	async send(request: PreparedRequest): Promise<Response> {
		this.sent++;
		const raw = await this.got(request.url, {method: request.method as 'GET', headers: request.headers, responseType: 'buffer'});
		return new Response({status: raw.statusCode, headers: raw.headers as Record<string, string>, url: raw.url, body: raw.body, request});
	}

	async item(id: number): Promise<unknown> {
		const request = {method: 'GET', url: `${this.baseUrl}/json?item=${id}`, headers: this.token ? {authorization: `Bearer ${this.token}`} : {}, body: undefined};
		return (await this.send(request)).json();
	}
}

/** A client with options named like cache options (`url`, `clock`), with its own meanings. */
class StatusClient extends ApiClient {
	/** Where the client's status page is. */
	readonly url: string | undefined;
	readonly clock: (() => number) | undefined;

	constructor(options: ClientOptions & {url?: string; clock?: () => number}) {
		super(options);
		this.url = options.url;
		this.clock = options.clock;
	}
}

/** A client with a positional constructor: `new Positional(baseUrl, {timeout})`. */
class Positional {
	sent = 0;
	constructor(readonly baseUrl: string, readonly options: {timeout?: number} = {}) {}

	async send(request: PreparedRequest): Promise<Response> {
		this.sent++;
		const raw = await fetch(request.url, {method: request.method, headers: request.headers});
		return new Response({status: raw.status, headers: Object.fromEntries(raw.headers), url: raw.url, body: Buffer.from(await raw.arrayBuffer()), request});
	}

	async get(path: string): Promise<Response> {
		return this.send({method: 'GET', url: `${this.baseUrl}${path}`, headers: {}, body: undefined});
	}
}

describe('CacheMixin over classes the library did not write', () => {
	let origin: Origin;

	before(async () => {
		origin = await Origin.start();
	});

	after(async () => {
		await origin.close();
	});

	it('caches a got-based client with its own options and methods, and keeps them', async () => {
		class CachedClient extends CacheMixin(ApiClient) {}
		const client = new CachedClient({baseUrl: origin.url, token: 't', backend: 'memory', expireAfter: 60});
		assert.equal(client.baseUrl, origin.url);
		assert.equal(client.token, 't');
		const before = origin.hits('/json');
		await client.item(1);
		await client.item(1);
		assert.equal(origin.hits('/json'), before + 1);
		assert.equal(client.sent, 1, 'the second call never reached the base send');
		assert.equal(client.settings.expireAfter.kind, 'ttl');
		await client.close();
	});

	it('keeps a required first argument required', () => {
		const Cached = CacheMixin(ApiClient);
		// @ts-expect-error -- ApiClient requires its options
		assert.throws(() => new Cached(), {message: /baseUrl/});
		// @ts-expect-error -- CachedSession's options stay optional, but a client's required ones do not go away
		assert.throws(() => new Cached({backend: 'memory'}), {message: /baseUrl/});
		assert.ok(new CachedSession({backend: 'memory'}));
	});

	it('takes cache options in the mixin call for a positional constructor, passing its arguments untouched', async () => {
		class CachedPositional extends CacheMixin(Positional, {backend: 'memory', cacheName: 'positional'}) {}
		const client = new CachedPositional(origin.url, {timeout: 5000});
		assert.equal(client.baseUrl, origin.url);
		assert.deepEqual(client.options, {timeout: 5000});
		assert.equal(client.settings.cacheName, 'positional');
		await client.get('/json?positional=1');
		assert.equal((await client.get('/json?positional=1')).fromCache, true);
		assert.equal(client.sent, 1);
		// @ts-expect-error -- a positional constructor's first argument is not an options object
		assert.ok(new CachedPositional({baseUrl: origin.url}));
		await client.close();
	});

	it('never takes a base option named like a cache option when the cache options are given to the mixin', async () => {
		const clock = (): number => 42;
		class CachedClient extends CacheMixin(StatusClient, {backend: 'memory'}) {}
		const client = new CachedClient({baseUrl: origin.url, url: `${origin.url}/status`, clock});
		assert.equal(client.url, `${origin.url}/status`, 'the client keeps its url');
		assert.equal(client.clock, clock, 'and its clock');
		assert.equal(client.settings.url, undefined);
		await client.close();
	});

	it('does not type-check the split form when a base option is named like a cache option', () => {
		const Cached = CacheMixin(StatusClient);
		// @ts-expect-error -- `url` and `clock` are StatusClient's and the cache's: the compiler names the clash
		assert.throws(() => new Cached({baseUrl: origin.url, url: `${origin.url}/status`, backend: 'memory'}), {name: 'TypeError', message: /url/});
	});
});
