import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import path from 'node:path';
import KeyvMysql from '@keyv/mysql';
import KeyvPostgres from '@keyv/postgres';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import {Keyv} from 'keyv';
import {adapterNamespace, createKeyvStore} from '../../lib/backends/keyv-store.js';
import type {CacheStore, RecordMeta} from '../../lib/backends/store.js';
import {type CachedEntry, decodeValue, toRecord} from '../../lib/codec/entry.js';
import {mysqlExecute, mysqlUrl, postgresExecute, postgresUrl, redisProblem, redisUrl, skipOrFail, tcpProblem} from '../support/services.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

function response(url: string, createdAt = Date.now(), expires: number | null = null): CachedEntry {
	return {
		kind: 'response', status: 200, reason: 'OK', headers: {'content-type': 'text/plain'}, url, history: [],
		request: {method: 'GET', url, headers: {}, body: null}, createdAt, expires, facts: {age: 0, mustRevalidate: false, noCache: false}, body: Buffer.from(`body of ${url}`),
	};
}

async function keysOf(store: CacheStore): Promise<string[]> {
	const metas: RecordMeta[] = [];
	for await (const page of store.scan()) {
		metas.push(...page);
	}

	return metas.map(meta => meta.key).sort();
}

describe('the Keyv store (any Keyv or Keyv store adapter)', function () {
	this.timeout(60_000);
	let dir: string;
	const stores: CacheStore[] = [];

	function track(store: CacheStore): CacheStore {
		stores.push(store);
		return store;
	}

	before(() => {
		dir = tempDir('keyv-store');
	});

	afterEach(async () => {
		for (const store of stores.splice(0)) {
			// eslint-disable-next-line no-await-in-loop -- one at a time, so shared pools close in order
			await store.clear().catch(() => undefined);
			// eslint-disable-next-line no-await-in-loop
			await store.close();
		}
	});

	after(() => {
		removeDir(dir);
	});

	it('writes plain JSON through the Keyv a user gave, in its layout, and leaves that Keyv as it was', async () => {
		const map = new Map<string, unknown>();
		const keyv = new Keyv({store: map, namespace: 'mine'});
		const store = track(createKeyvStore(keyv, 'unused'));
		const record = toRecord('key', response('https://example.com/a'), null);
		await store.set([record]);
		assert.equal(keyv.throwOnErrors, false, 'the user\'s Keyv is not reconfigured');
		assert.deepEqual([...map.keys()], ['mine:key'], 'the Keyv\'s own key prefix');
		const stored = await keyv.get('key') as Record<string, unknown>;
		assert.deepEqual(Object.keys(stored).sort(), ['createdAt', 'deleteAt', 'expires', 'kind', 'namespace', 'requestsCache', 'url', 'value']);
		assert.equal(stored['namespace'], 'mine');
		assert.ok(Buffer.from(stored['value'] as string, 'base64').equals(Buffer.from(record.value)), 'the codec\'s bytes, base64 in JSON (a Keyv store may hold only JSON)');
		assert.equal((decodeValue((await store.get('key'))!.value, 'response') as CachedEntry).url, 'https://example.com/a');
	});

	it('lists and sweeps values of its namespace that are not records (an older version\'s entries), and nothing else', async () => {
		const map = new Map<string, unknown>();
		const store = track(createKeyvStore(new Keyv({store: map, namespace: 'ns'}), 'unused'));
		await store.set([toRecord('mine', response('https://example.com/mine'), null)]);
		// requests-cache 0.1 wrote Keyv's envelope around its own object, body as base64.
		await new Keyv({store: map, namespace: 'ns'}).set('old', {kind: 'response', v: 1, status: 200, url: 'https://example.com/old', createdAt: 1, expires: null, body: 'AAAA'});
		// Another namespace's value, written by hand (a Keyv on another namespace would take the adapter's namespace over).
		map.set('other:theirs', JSON.stringify({value: {any: 'thing'}, expires: null}));
		assert.equal(await store.get('old'), undefined);
		const listed: RecordMeta[] = [];
		for await (const page of store.scan()) {
			listed.push(...page);
		}

		assert.deepEqual(listed.map(meta => [meta.key, meta.corrupt === true]).sort(), [['mine', false], ['old', true]]);
		assert.equal(await store.delete(['old']), 1);
		assert.ok(map.has('other:theirs'), 'another namespace is left alone');
	});

	it('keeps caches apart on one @keyv/sqlite table, whose clear() and iterator match an unescaped LIKE', async () => {
		const uri = `sqlite://${path.join(dir, 'shared.sqlite')}`;
		// As LIKE patterns, 'a_b:%' matches 'aXb:…' and 'a%25:%' matches 'a%25x%25:…'.
		const names = ['a_b', 'aXb', 'a%', 'a%x%', 'a:b'];
		const caches = names.map(name => track(createKeyvStore(new KeyvSqlite({uri}), name)));
		for (const [index, store] of caches.entries()) {
			// eslint-disable-next-line no-await-in-loop
			await store.set([toRecord('same-key', response(`https://example.com/${index}`), null), toRecord(`own-${index}`, response('https://example.com/own'), null)]);
		}

		for (const [index, store] of caches.entries()) {
			// eslint-disable-next-line no-await-in-loop
			assert.deepEqual(await keysOf(store), [`own-${index}`, 'same-key'], `${names[index]!} lists only its own`);
			// eslint-disable-next-line no-await-in-loop
			assert.equal((await store.get('same-key'))?.url, `https://example.com/${index}`);
		}

		await caches[0]!.clear();
		await caches[2]!.clear();
		assert.deepEqual(await keysOf(caches[0]!), []);
		assert.deepEqual(await keysOf(caches[1]!), ['own-1', 'same-key'], "clearing 'a_b' left 'aXb' alone");
		assert.deepEqual(await keysOf(caches[3]!), ['own-3', 'same-key'], "clearing 'a%' left 'a%x%' alone");
		assert.deepEqual(await keysOf(caches[4]!), ['own-4', 'same-key']);
	});

	it('refuses one adapter object for two cache names (Keyv writes its namespace into the adapter it wraps)', () => {
		const adapter = new Map();
		track(createKeyvStore(adapter, 'first'));
		track(createKeyvStore(adapter, 'first'));
		assert.throws(() => createKeyvStore(adapter, 'second'), {name: 'TypeError', message: /`backend`.*own adapter/});
	});

	it('says so when a Keyv store cannot list its records, and still reads and writes', async () => {
		const values = new Map<string, unknown>();
		// A minimal adapter of someone's own, without an iterator.
		const adapter = {
			opts: {dialect: 'custom', url: 'custom://'},
			async get(key: string) {
				return values.get(key);
			},
			async set(key: string, value: unknown) {
				values.set(key, value);
			},
			async delete(key: string) {
				return values.delete(key);
			},
			async clear() {
				values.clear();
			},
		};
		const store = track(createKeyvStore(adapter as never, 'custom'));
		await store.set([toRecord('key', response('https://example.com/custom'), null)]);
		assert.equal((await store.get('key'))?.url, 'https://example.com/custom');
		await assert.rejects(keysOf(store), {name: 'TypeError', message: /cannot list its records/});
		assert.equal(await store.delete(['key', 'nothing']), 1);
	});

	it("escapes ':' and '%' in a cache name used as a Keyv namespace", () => {
		assert.equal(adapterNamespace('a:b%c'), 'a%3Ab%25c');
		assert.equal(adapterNamespace('plain'), 'plain');
	});

	describe('on servers', () => {
		const mysqlTable = `requests_cache_keyv_${run}`;
		const postgresTable = `requests_cache_keyv_${run}`;

		after(async () => {
			await mysqlExecute(mysqlUrl, `DROP TABLE IF EXISTS ${mysqlTable}`).catch(() => undefined);
			await postgresExecute(postgresUrl, `DROP TABLE IF EXISTS ${postgresTable}`).catch(() => undefined);
		});

		it('never changes a @keyv/mysql adapter\'s methods, and closing one store leaves the pool to the others', async function () {
			const problem = await tcpProblem(mysqlUrl, 3306);
			if (problem !== undefined) {
				skipOrFail(this, 'the @keyv/mysql case', problem);
			}

			await mysqlExecute(mysqlUrl, `CREATE TABLE IF NOT EXISTS ${mysqlTable} (id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY, value LONGTEXT)`);
			const first = new KeyvMysql({uri: mysqlUrl, table: mysqlTable});
			const second = new KeyvMysql({uri: mysqlUrl, table: mysqlTable});
			const methods = ['get', 'getMany', 'set', 'delete', 'deleteMany', 'clear', 'iterator', 'has', 'disconnect'] as const;
			const before = methods.map(name => (first as unknown as Record<string, unknown>)[name]);
			const a = createKeyvStore(first, 'pool-a');
			const b = track(createKeyvStore(second, 'pool-b'));
			await a.set([toRecord('k', response('https://example.com/a'), null), toRecord('l', response('https://example.com/l'), null)]);
			await b.set([toRecord('k', response('https://example.com/b'), null)]);
			assert.deepEqual(methods.map(name => (first as unknown as Record<string, unknown>)[name]), before, 'the same methods');
			assert.equal(Object.hasOwn(first, 'set') || Object.hasOwn(first, 'setMany'), false, 'none of its own added');
			await a.clear();
			await a.close();
			assert.equal((await b.get('k'))?.url, 'https://example.com/b', 'the other store still reads');
			await b.set([toRecord('m', response('https://example.com/m'), null)]);
			assert.deepEqual(await keysOf(b), ['k', 'm']);
		});

		it('closing one store on a shared @keyv/postgres pool leaves the others working', async function () {
			const problem = await tcpProblem(postgresUrl, 5432);
			if (problem !== undefined) {
				skipOrFail(this, 'the @keyv/postgres case', problem);
			}

			await postgresExecute(postgresUrl, `CREATE TABLE IF NOT EXISTS ${postgresTable} (key VARCHAR(255) PRIMARY KEY, value TEXT)`);
			const a = createKeyvStore(new KeyvPostgres({uri: postgresUrl, table: postgresTable}), 'pool-a');
			const b = track(createKeyvStore(new KeyvPostgres({uri: postgresUrl, table: postgresTable}), 'pool-b'));
			await a.set([toRecord('k', response('https://example.com/a'), null)]);
			await b.set([toRecord('k', response('https://example.com/b'), null)]);
			await a.clear();
			await a.close();
			await a.close();
			assert.equal((await b.get('k'))?.url, 'https://example.com/b');
			await b.set([toRecord('m', response('https://example.com/m'), null)]);
			assert.deepEqual(await keysOf(b), ['k', 'm']);
		});

		it('works on a @keyv/redis adapter (keys `<ns>::<ns>:<key>`, native expiry at deleteAt), apart from names a glob would confuse', async function () {
			const problem = await redisProblem();
			if (problem !== undefined) {
				skipOrFail(this, 'the @keyv/redis case', problem);
			}

			const name = `rc-keyv-${run}`;
			const star = track(createKeyvStore(new KeyvRedis(redisUrl), `${name}*`));
			const plain = track(createKeyvStore(new KeyvRedis(redisUrl), `${name}X`));
			const now = Date.now();
			await star.set([toRecord('key', response('https://example.com/star', now, now + 1000), now + 60_000)]);
			await plain.set([toRecord('key', response('https://example.com/plain'), null)]);
			assert.deepEqual(await keysOf(star), ['key']);
			assert.deepEqual(await keysOf(plain), ['key']);
			const adapter = new KeyvRedis(redisUrl);
			const client = await adapter.getClient() as unknown as {sendCommand(arguments_: string[]): Promise<unknown>};
			const pttl = Number(await client.sendCommand(['PTTL', `${name}*::${name}*:key`]));
			assert.ok(pttl > 50_000 && pttl <= 60_000, `Redis drops it at deleteAt: PTTL ${pttl}`);
			assert.equal(Number(await client.sendCommand(['PTTL', `${name}X::${name}X:key`])), -1);
			await adapter.disconnect();
			await star.clear();
			assert.equal((await plain.get('key'))?.url, 'https://example.com/plain', 'clearing `name*` left `nameX` alone');
		});
	});
});
