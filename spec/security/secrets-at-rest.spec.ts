import assert from 'node:assert/strict';
import {MONGO_COLLECTION} from '../../lib/backends/mongodb.js';
import {randomBytes} from 'node:crypto';
import {readdirSync, readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {createClient} from '@keyv/redis';
import {CachedSession} from '../../lib/cached-session.js';
import {DEFAULT_IGNORED_PARAMETERS} from '../../lib/cache-keys.js';
import {storeOf} from '../../lib/cache/base-cache.js';
import type {CacheOptions} from '../../lib/config/options.js';
import {Origin} from '../support/origin.js';
import {mongoUrl, redisProblem, redisUrl, skipOrFail} from '../support/services.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

/*
 * Every default secret, in every place a request carries one (headers, query, JSON at depth, form,
 * URL userinfo, a redirect's Location, a response's Set-Cookie and token headers), is written
 * through each backend; then the raw store (SQLite file and WAL bytes, Redis values, MongoDB
 * documents) is searched for each secret. A visible marker written beside them proves the search
 * reads the stored requests.
 */

const visible = 'VisibleMarker7q';

/** A store's raw contents as text, gathered by the spec from outside the cache. */
type RawStore = {
	readonly options: (cacheName: string) => CacheOptions;
	readonly cacheName: string;
	/** Read while the session is open (`session` given) and again after it closed (undefined), unless `openOnly`. */
	read(session: CachedSession | undefined): Promise<string>;
	readonly openOnly?: true;
	cleanup(): Promise<void>;
};

/** Base64 runs decoded too: a store (or Keyv's envelope) may keep bytes as base64 text. */
function withDecodedRuns(text: string): string {
	const decoded = [...text.matchAll(/[A-Za-z\d+/]{16,}={0,2}/g)].map(([run]) => Buffer.from(run, 'base64').toString('latin1'));
	return [text, ...decoded].join('\n');
}

/** Every string and byte run of a document, as text (BSON binaries included). */
function documentText(value: unknown): string {
	if (value === null || value === undefined) {
		return '';
	}

	if (typeof value === 'string') {
		return value;
	}

	if (value instanceof Uint8Array) {
		return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
	}

	if (typeof value === 'object' && 'buffer' in value && (value as {buffer: unknown}).buffer instanceof Uint8Array) {
		return documentText((value as {buffer: Uint8Array}).buffer);
	}

	if (Array.isArray(value)) {
		return value.map(item => documentText(item)).join('\n');
	}

	if (typeof value === 'object' && !(value instanceof Date)) {
		return Object.entries(value).map(([key, item]) => `${key}\n${documentText(item)}`).join('\n');
	}

	return String(value);
}

describe('security: no secret at rest, in any backend', function () {
	this.timeout(120_000);
	const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
	let origin: Origin;
	/** Secret values by where they were sent, each one unique. */
	const secrets = new Map<string, string>();
	const secret = (where: string): string => {
		const value = `Zq${randomBytes(9).toString('hex')}`;
		secrets.set(where, value);
		return value;
	};

	before(async () => {
		origin = await Origin.start();
		// Answers that do not echo the request: the only way a request's secret reaches the store is the cache.
		origin.route('/quiet', (_request, response) => {
			response.writeHead(200, {'content-type': 'text/plain'}).end('quiet');
		});
		origin.route('/issues-tokens', (request, response) => {
			const url = new URL(request.url!, origin.url);
			response.writeHead(200, {
				'content-type': 'text/plain',
				'set-cookie': [`sid=${url.searchParams.get('password') ?? ''}; HttpOnly`, 'theme=dark'],
				'x-auth-token': url.searchParams.get('token') ?? '',
			}).end('tokens issued');
		});
		origin.route('/login', (request, response) => {
			const url = new URL(request.url!, origin.url);
			response.writeHead(302, {location: `/quiet?access_token=${url.searchParams.get('access_token') ?? ''}&q=${visible}`}).end();
		});
	});

	after(async () => {
		await origin?.close();
	});

	/** Send every secret through a session on `store`; return the raw store read while open and after close. */
	async function writeEverySecret(store: RawStore): Promise<string[]> {
		const reads: string[] = [];
		const session = new CachedSession({...store.options(store.cacheName), allowableMethods: ['GET', 'POST']});
		try {
			const headers: Record<string, string> = {};
			const params: Record<string, string> = {q: visible};
			const fields: Record<string, string> = {q: visible};
			for (const name of DEFAULT_IGNORED_PARAMETERS) {
				headers[name] = name === 'Authorization' ? `Bearer ${secret(`header ${name}`)}` : secret(`header ${name}`);
				params[name] = secret(`query ${name}`);
				fields[name] = secret(`field ${name}`);
			}

			const nested = Object.fromEntries(DEFAULT_IGNORED_PARAMETERS.map(name => [name.toLowerCase(), secret(`nested ${name}`)]));
			// Made once: each request below is sent twice with the same secrets.
			const password = secret('userinfo password');
			const user = secret('userinfo user');
			const location = secret('redirect location');
			const cookie = secret('set-cookie');
			const token = secret('response x-auth-token');
			const requests = [
				async () => session.get(`${origin.url}/quiet`, {headers, params: {q: visible}}),
				async () => session.get(`${origin.url}/quiet`, {params}),
				async () => session.post(`${origin.url}/quiet`, {json: {...fields, deep: [{inner: nested}]}}),
				async () => session.post(`${origin.url}/quiet`, {form: fields}),
				async () => session.get(`${origin.url.replace('http://', `http://user:${password}@`)}/quiet?q=${visible}`),
				async () => session.get(`${origin.url.replace('http://', `http://${user}@`)}/quiet?q=${visible}`),
				// The request's own copies are redacted as query secrets; the response's copies are what is searched for.
				async () => session.get(`${origin.url}/login`, {params: {access_token: location}}),
				async () => session.get(`${origin.url}/issues-tokens`, {params: {password: cookie, token, q: visible}}),
			];
			for (const [index, send] of requests.entries()) {
				// eslint-disable-next-line no-await-in-loop -- one at a time, each stored before the next
				const first = await send();
				assert.equal(first.fromCache, false);
				// eslint-disable-next-line no-await-in-loop
				const again = await send();
				assert.equal(again.fromCache, true, `the same request with the same credentials is served from the cache (${first.url})`);
			}

			// The set-cookie response header is not replayed from the cache.
			const cookies = await requests.at(-1)!();
			assert.equal(cookies.fromCache, true);
			assert.equal(cookies.headers['set-cookie'], undefined, 'Set-Cookie is not stored, so not replayed');
			reads.push(await store.read(session));
		} finally {
			await session.close();
		}

		if (store.openOnly === undefined) {
			reads.push(await store.read(undefined));
		}

		return reads;
	}

	function assertNoSecret(reads: readonly string[]): void {
		for (const [index, text] of reads.entries()) {
			const raw = withDecodedRuns(text);
			const when = index === 0 ? 'while open' : 'after close';
			assert.ok(raw.includes(visible), `the raw store holds the requests ${when} (the search can find text)`);
			const found = [...secrets].filter(([, value]) => raw.includes(value)).map(([where]) => where);
			assert.deepEqual(found, [], `secrets found at rest ${when}: ${found.join(', ')}`);
		}
	}

	const backends: Array<[string, (context: Mocha.Context) => Promise<RawStore>]> = [
		['memory (every record the store holds, key, facts and bytes)', async () => ({
			cacheName: `secrets-${run}`,
			options: cacheName => ({backend: 'memory', cacheName}),
			openOnly: true,
			async read(session) {
				const store = storeOf(session!.cache);
				const parts: string[] = [];
				for await (const batch of store.scan()) {
					for (const meta of batch) {
						// eslint-disable-next-line no-await-in-loop
						const record = await store.get(meta.key);
						parts.push(JSON.stringify(meta), documentText(record?.value));
					}
				}

				return parts.join('\n');
			},
			cleanup: async () => undefined,
		})],
		['sqlite (database, WAL and shared-memory files)', async () => {
			const dir = tempDir('secrets-at-rest');
			return {
				cacheName: path.join(dir, 'cache'),
				options: cacheName => ({backend: 'sqlite', cacheName}),
				read: async () => readdirSync(dir).map(name => readFileSync(path.join(dir, name)).toString('latin1')).join('\n'),
				async cleanup() {
					removeDir(dir);
				},
			};
		}],
		['redis (every key and value under the prefix)', async context => {
			const problem = await redisProblem();
			if (problem !== undefined) {
				skipOrFail(context, 'the Redis secrets-at-rest spec', problem);
			}

			const client = createClient({url: redisUrl}) as unknown as {connect(): Promise<unknown>; close(): Promise<unknown>; sendCommand(args: string[]): Promise<unknown>};
			await client.connect();
			const cacheName = `rc:secrets-${run}`;
			return {
				cacheName,
				options: name => ({backend: 'redis', url: redisUrl, cacheName: name}),
				async read() {
					const keys = await client.sendCommand(['KEYS', `${cacheName}*`]) as string[];
					const parts: string[] = [...keys];
					for (const key of keys) {
						// eslint-disable-next-line no-await-in-loop
						const type = await client.sendCommand(['TYPE', key]) as string;
						const command = {string: ['GET', key], hash: ['HGETALL', key], zset: ['ZRANGE', key, '0', '-1', 'WITHSCORES'], set: ['SMEMBERS', key], list: ['LRANGE', key, '0', '-1']}[type];
						// eslint-disable-next-line no-await-in-loop
						parts.push(command === undefined ? '' : documentText(await client.sendCommand(command)));
					}

					return parts.join('\n');
				},
				async cleanup() {
					const keys = await client.sendCommand(['KEYS', `${cacheName}*`]) as string[];
					if (keys.length > 0) {
						await client.sendCommand(['DEL', ...keys]);
					}

					await client.close();
				},
			};
		}],
		['mongodb (every document of every collection)', async context => {
			let url: string;
			try {
				url = (await mongoUrl()).url;
			} catch (error) {
				skipOrFail(context, 'the MongoDB secrets-at-rest spec', `no MongoDB: ${(error as Error).message}`);
			}

			type Database = {
				collection(name: string): {find(filter: object): {toArray(): Promise<unknown[]>}};
				dropDatabase(): Promise<unknown>;
			};
			const {MongoClient} = createRequire(createRequire(import.meta.url).resolve('@keyv/mongo'))('mongodb') as {
				MongoClient: new (url: string, options: object) => {connect(): Promise<unknown>; close(): Promise<void>; db(name: string): Database};
			};
			const client = new MongoClient(url, {promoteBuffers: true});
			await client.connect();
			const cacheName = `rc_secrets_${run}`;
			return {
				cacheName,
				options: name => ({backend: 'mongodb', url, cacheName: name}),
				async read() {
					const database = client.db(cacheName);
					const parts: string[] = [];
					// The store's one collection (the jongodb emulator has no listCollections to find others).
					for (const name of [MONGO_COLLECTION]) {
						// eslint-disable-next-line no-await-in-loop
						parts.push(documentText(await database.collection(name).find({}).toArray()));
					}

					return parts.join('\n');
				},
				async cleanup() {
					await client.db(cacheName).dropDatabase().catch(() => undefined);
					await client.close();
				},
			};
		}],
	];

	for (const [name, open] of backends) {
		it(`${name}: no secret is found in the raw store`, async function () {
			const store = await open(this);
			try {
				assertNoSecret(await writeEverySecret(store));
			} finally {
				await store.cleanup();
			}
		});
	}

	it('another user (other credentials) is never served the first user\'s entry', async () => {
		const session = new CachedSession({backend: 'memory', cacheControl: true});
		try {
			origin.route('/private', (request, response) => {
				response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'private, max-age=60'}).end(`for ${request.headers.authorization ?? 'nobody'}`);
			});
			const alice = await session.get(`${origin.url}/private`, {headers: {Authorization: 'Bearer alice'}});
			const bob = await session.get(`${origin.url}/private`, {headers: {Authorization: 'Bearer bob'}});
			assert.equal(bob.fromCache, false);
			assert.equal(bob.text(), 'for Bearer bob');
			assert.equal((await session.get(`${origin.url}/private`, {headers: {Authorization: 'Bearer alice'}})).text(), alice.text());
			const shared = new CachedSession({backend: 'memory', cacheControl: true, shareCredentials: true});
			await shared.get(`${origin.url}/private`, {headers: {Authorization: 'Bearer alice'}});
			const other = await shared.get(`${origin.url}/private`, {headers: {Authorization: 'Bearer bob'}});
			assert.equal(other.text(), 'for Bearer bob', 'Cache-Control: private is never shared, even with shareCredentials');
			await shared.close();
		} finally {
			await session.close();
		}
	});
});
