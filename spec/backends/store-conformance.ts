import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import type {CacheStore, DeleteFilter, RecordMeta, StoreRecord} from '../../lib/backends/store.js';
import {matchesDeleteFilter} from '../../lib/backends/store.js';
import {type CachedEntry, type RedirectAlias, type StoredValue, type VariantIndex, decodeValue, toRecord} from '../../lib/codec/entry.js';
import {storedResponse} from '../support/records.js';
import {skipOrFail} from '../support/services.js';

/**
 * One backend under test at the store level (lib/backends/store.ts), the way keyv's test suite
 * runs every adapter: the suite calls the store's methods directly, with records made by
 * `toRecord()`. Each backend's spec file is one call of {@link storeConformance}.
 */
export type StoreTarget = {
	/** The backend's name in the suite's title. */
	readonly name: string;
	/** True when two stores opened under one name share their records (a file, a server). */
	readonly shared: boolean;
	/** Get ready; resolves to why the backend cannot be tested here (its server is absent), or undefined. */
	prepare?(): Promise<string | undefined>;
	/**
	 * A store under `name`: a cache name the suite made unique to this run, of letters, digits,
	 * `_`, `-`, `[` and `]` (valid for every backend). Different names must stay apart.
	 */
	open(name: string): CacheStore | Promise<CacheStore>;
	/**
	 * Write under `key`, in the place of the store named `name`, something that store did not
	 * write as a record (another program's row, a value without the store's framing, wrong column
	 * types). Absent where no such thing can exist (memory).
	 */
	injectForeign?(name: string, key: string): Promise<void>;
	/** Records in the scale case, unless REQUESTS_CACHE_SCALE says otherwise. @default 100000 */
	readonly scale?: number;
	/** Release what prepare() and open() made (files, databases). */
	teardown?(): Promise<void>;
};

/** Scale figures measured by the suites in this process, for the docs. */
export const storeScaleFigures: Array<{backend: string; records: number; fillMs: number; deleteMs: number; scanMs: number; how: string}> = [];

const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

const response = storedResponse;

type RecordSpec = {url?: string; body?: Buffer; createdAt?: number; expires?: number | null; deleteAt?: number | null};

const now = 1_800_000_000_000;

/** A response record under `key`, made by the codec. */
function record(key: string, spec: RecordSpec = {}): StoreRecord {
	const {url = `https://example.com/${encodeURIComponent(key)}`, body = Buffer.from(`body of ${key}`), createdAt = now, expires = null, deleteAt = null} = spec;
	return toRecord(key, response(url, body, createdAt, expires), deleteAt);
}

function factsOf(meta: RecordMeta): Omit<RecordMeta, 'corrupt'> & {corrupt: boolean} {
	return {key: meta.key, kind: meta.kind, url: meta.url, createdAt: meta.createdAt, expires: meta.expires, deleteAt: meta.deleteAt, corrupt: meta.corrupt === true};
}

/** A record as it must read back: the facts it was written with, and the same bytes. */
function assertSameRecord(actual: StoreRecord | undefined, expected: StoreRecord): void {
	assert.ok(actual !== undefined, `${expected.key} should be found`);
	assert.deepEqual(factsOf(actual), factsOf(expected));
	assert.ok(actual.value instanceof Uint8Array, 'the value is bytes');
	assert.equal(actual.value.byteLength, expected.value.byteLength);
	assert.ok(Buffer.from(actual.value.buffer, actual.value.byteOffset, actual.value.byteLength).equals(Buffer.from(expected.value)), `${expected.key}: the value bytes are the ones written`);
}

/** Every listed fact, from a whole scan; checks that no page carries a value. */
async function scanAll(store: CacheStore): Promise<RecordMeta[]> {
	const metas: RecordMeta[] = [];
	for await (const page of store.scan()) {
		assert.ok(Array.isArray(page), 'scan() yields arrays');
		for (const meta of page) {
			assert.equal('value' in meta, false, `scan() listed the value of ${meta.key}`);
			metas.push(meta);
		}
	}

	return metas;
}

async function scanKeys(store: CacheStore): Promise<string[]> {
	return (await scanAll(store)).map(meta => meta.key).sort();
}

/** Delete by time the way the cache does: deleteWhere when the store has it, else scan, then delete. */
async function sweep(store: CacheStore, filter: DeleteFilter): Promise<number> {
	if (store.deleteWhere) {
		return store.deleteWhere(filter);
	}

	const keys: string[] = [];
	for await (const page of store.scan()) {
		for (const meta of page) {
			if (meta.corrupt === true || matchesDeleteFilter(meta, filter)) {
				keys.push(meta.key);
			}
		}
	}

	let deleted = 0;
	for (let index = 0; index < keys.length; index += 5000) {
		// eslint-disable-next-line no-await-in-loop -- bounded batches, one after another
		deleted += await store.delete(keys.slice(index, index + 5000));
	}

	return deleted;
}

async function setInBatches(store: CacheStore, records: readonly StoreRecord[], size = 1000): Promise<void> {
	for (let index = 0; index < records.length; index += size) {
		// eslint-disable-next-line no-await-in-loop -- bounded batches, one after another
		await store.set(records.slice(index, index + size));
	}
}

/** Run the store contract's cases against `target`. */
export function storeConformance(target: StoreTarget): void {
	describe(`store conformance: ${target.name}`, function () {
		this.timeout(300_000);
		const opened: CacheStore[] = [];
		let counter = 0;

		/** A name unique to this run and test. */
		function uniqueName(label: string): string {
			counter++;
			return `rc${run}_${counter}_${label}`;
		}

		async function open(name: string): Promise<CacheStore> {
			const store = await target.open(name);
			opened.push(store);
			return store;
		}

		async function fresh(label: string): Promise<CacheStore> {
			return open(uniqueName(label));
		}

		before(async function () {
			const problem = await target.prepare?.();
			if (problem !== undefined) {
				skipOrFail(this, `the ${target.name} store conformance suite`, problem);
			}
		});

		afterEach(async () => {
			for (const store of opened.splice(0)) {
				// eslint-disable-next-line no-await-in-loop -- few stores, each emptied then closed
				await store.clear().catch(() => undefined);
				// eslint-disable-next-line no-await-in-loop
				await store.close();
			}
		});

		after(async () => {
			await target.teardown?.();
		});

		describe('get and set', () => {
			it('reads a record back with the facts and the bytes it was written with', async () => {
				const store = await fresh('roundtrip');
				const written = [
					record('fresh', {expires: now + 60_000, deleteAt: now + 3_660_000}),
					record('never', {expires: null, deleteAt: null}),
					record('old', {createdAt: 1, expires: 2, deleteAt: 3}),
				];
				await store.set(written);
				for (const expected of written) {
					// eslint-disable-next-line no-await-in-loop -- one key after another
					assertSameRecord(await store.get(expected.key), expected);
				}

				const decoded = decodeValue((await store.get('fresh'))!.value, 'response');
				assert.equal(decoded.kind, 'response');
			});

			it('reads a key that was never written as undefined', async () => {
				const store = await fresh('missing');
				assert.equal(await store.get('never-written'), undefined);
				await store.set([record('present')]);
				assert.equal(await store.get('present-not'), undefined);
				assert.equal(await store.get('presen'), undefined);
			});

			it('keeps binary bodies byte for byte, all 256 byte values', async () => {
				const store = await fresh('binary');
				const every = Buffer.from(Array.from({length: 256 * 4}, (_, index) => (index * 7) % 256));
				const shapes: Array<[string, Buffer]> = [
					['all-bytes', every],
					['empty', Buffer.alloc(0)],
					['nul-only', Buffer.alloc(300)],
					['invalid-utf8', Buffer.from([0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x28, 0xA1, 0xF0, 0x28, 0x8C, 0xBC, 0xFF, 0xFE])],
				];
				const written = shapes.map(([key, body]) => record(key, {body}));
				await store.set(written);
				for (const [index, [key, body]] of shapes.entries()) {
					// eslint-disable-next-line no-await-in-loop -- one key after another
					const read = await store.get(key);
					assertSameRecord(read, written[index]!);
					const value = decodeValue(read!.value, 'response') as CachedEntry;
					assert.ok(value.body.equals(body), `${key}: the body decodes to the bytes stored`);
				}
			});

			it('keeps a 10 MB body', async () => {
				const store = await fresh('large');
				const body = Buffer.alloc(10 * 1024 * 1024);
				for (let index = 0; index < body.length; index += 4096) {
					body.writeUInt32BE(index, index);
				}

				const written = record('large', {body});
				await store.set([written]);
				const read = await store.get('large');
				assertSameRecord(read, written);
				assert.ok((decodeValue(read!.value) as CachedEntry).body.equals(body));
			});

			it('keeps unicode URLs and keys', async () => {
				const store = await fresh('unicode');
				const written = [
					record('ключ-😀-キー', {url: 'https://例え.テスト/パス?q=ü&emoji=😀'}),
					record('plain', {url: 'https://example.com/caf\u00E9/\u{1F600}?\u00FC=\u00E4'}),
				];
				await store.set(written);
				for (const expected of written) {
					// eslint-disable-next-line no-await-in-loop -- one key after another
					assertSameRecord(await store.get(expected.key), expected);
				}

				const listed = await scanAll(store);
				assert.deepEqual(listed.map(meta => [meta.key, meta.url]).sort(), written.map(item => [item.key, item.url]).sort());
			});

			it('keeps keys with quotes, %, _, *, ?, :, brackets and backslashes apart', async () => {
				const store = await fresh('odd');
				const keys = ['a"b', 'a\'b', 'a%', 'a%b', 'a_b', 'aXb', 'a*', 'a*b', 'a?b', 'a:b', 'a::b', ':', '::', 'a[b]', 'a[', 'a\\b', 'a\\', '%', '_', '*', ' spaced key ', 'a\nb', 'GET https://x/?a=1&b=2#f'];
				const written = keys.map((key, index) => record(key, {url: `https://example.com/odd/${index}`}));
				await store.set(written);
				for (const expected of written) {
					// eslint-disable-next-line no-await-in-loop -- one key after another
					assertSameRecord(await store.get(expected.key), expected);
				}

				assert.deepEqual(await scanKeys(store), [...keys].sort());
				// Patterns that an unescaped LIKE or glob would widen delete only their own key.
				assert.equal(await store.delete(['a_b', 'a%', 'a*', 'a?b', 'a[b]', '%', '_', '*']), 8);
				assert.deepEqual(await scanKeys(store), keys.filter(key => !['a_b', 'a%', 'a*', 'a?b', 'a[b]', '%', '_', '*'].includes(key)).sort());
				assertSameRecord(await store.get('aXb'), written[keys.indexOf('aXb')]!);
			});

			it('writes a batch: a response, its redirect aliases and a Vary index', async () => {
				const store = await fresh('batch');
				const variant = record('variant-key', {url: 'https://example.com/final', expires: now + 1000, deleteAt: now + 2000});
				const values: Array<[string, StoredValue]> = [
					['primary', {kind: 'variants', names: ['accept', 'accept-language'], url: 'https://example.com/final', createdAt: now, expires: now + 1000}],
					['alias-1', {kind: 'redirect', target: 'primary', url: 'https://example.com/start', createdAt: now, expires: now + 1000}],
					['alias-2', {kind: 'redirect', target: 'primary', url: 'https://example.com/middle', createdAt: now, expires: now + 1000}],
				];
				const written = [variant, ...values.map(([key, value]) => toRecord(key, value, now + 2000))];
				await store.set(written);
				for (const expected of written) {
					// eslint-disable-next-line no-await-in-loop -- one key after another
					assertSameRecord(await store.get(expected.key), expected);
				}

				const listed = await scanAll(store);
				assert.deepEqual(listed.map(meta => factsOf(meta)).sort((a, b) => a.key.localeCompare(b.key)), written.map(item => factsOf(item)).sort((a, b) => a.key.localeCompare(b.key)));
				assert.equal((decodeValue((await store.get('alias-1'))!.value, 'redirect') as RedirectAlias).target, 'primary');
				assert.deepEqual((decodeValue((await store.get('primary'))!.value, 'variants') as VariantIndex).names, ['accept', 'accept-language']);
			});

			it('replaces a record written again under its key', async () => {
				const store = await fresh('replace');
				await store.set([record('key', {body: Buffer.from('first'), createdAt: now, expires: now + 1})]);
				const second = record('key', {body: Buffer.from('second, longer than the first'), createdAt: now + 5, expires: null, deleteAt: null});
				await store.set([second]);
				assertSameRecord(await store.get('key'), second);
				const listed = await scanAll(store);
				assert.deepEqual(listed.map(meta => factsOf(meta)), [factsOf(second)]);
			});

			it('writes an empty batch as nothing', async () => {
				const store = await fresh('empty-batch');
				await store.set([]);
				assert.deepEqual(await scanAll(store), []);
			});
		});

		describe('delete', () => {
			it('resolves to how many of the keys existed, each counted once', async () => {
				const store = await fresh('delete');
				await store.set(['a', 'b', 'c', 'd'].map(key => record(key)));
				assert.equal(await store.delete([]), 0);
				assert.equal(await store.delete(['a', 'missing', 'b']), 2);
				assert.equal(await store.delete(['a', 'b']), 0, 'deleted keys are gone');
				assert.equal(await store.delete(['c', 'c']), 1, 'a key given twice existed once');
				assert.equal(await store.get('c'), undefined);
				assert.deepEqual(await scanKeys(store), ['d']);
			});

			it('deletes thousands of keys in one call', async () => {
				const store = await fresh('delete-many');
				const records = Array.from({length: 12_000}, (_, index) => record(`many-${index}`, {body: Buffer.alloc(0)}));
				await setInBatches(store, records);
				assert.equal(await store.delete(records.slice(0, 11_000).map(item => item.key)), 11_000);
				assert.equal((await scanAll(store)).length, 1000);
			});
		});

		describe('scan', () => {
			it('lists nothing for an empty store', async () => {
				const store = await fresh('scan-empty');
				assert.deepEqual(await scanAll(store), []);
			});

			it('lists every record once, with its facts and never its value', async () => {
				const store = await fresh('scan');
				const records: StoreRecord[] = [];
				for (let index = 0; index < 12_001; index++) {
					const kind = index % 7;
					records.push(kind === 0
						? toRecord(`scan-${index}`, {kind: 'redirect', target: 'scan-1', url: `https://example.com/r/${index}`, createdAt: now - index, expires: index % 2 === 0 ? null : now + index}, index % 3 === 0 ? null : now + index + 10)
						: record(`scan-${index}`, {url: `https://example.com/s/${index}`, createdAt: now - index, expires: index % 2 === 0 ? null : now + index, deleteAt: index % 3 === 0 ? null : now + index + 10}));
				}

				await setInBatches(store, records);
				const listed = await scanAll(store);
				assert.equal(listed.length, records.length, 'every record is listed');
				const byKey = new Map(listed.map(meta => [meta.key, meta]));
				assert.equal(byKey.size, records.length, 'no record is listed twice');
				for (const item of records) {
					assert.deepEqual(factsOf(byKey.get(item.key)!), factsOf(item));
				}
			});

			it('lists every record that stays exactly once while records are deleted during the scan', async () => {
				const store = await fresh('scan-delete');
				const records = Array.from({length: 12_000}, (_, index) => record(`sd-${String(index).padStart(5, '0')}`, {body: Buffer.alloc(0)}));
				await setInBatches(store, records);
				const seen = new Map<string, number>();
				const deletedAhead = new Set<string>();
				let pages = 0;
				for await (const page of store.scan()) {
					pages++;
					for (const meta of page) {
						seen.set(meta.key, (seen.get(meta.key) ?? 0) + 1);
					}

					// Delete what was just listed, and a few records not listed yet.
					// eslint-disable-next-line no-await-in-loop -- deletes between pages, as sweeps do
					await store.delete(page.map(meta => meta.key));
					const ahead = records.map(item => item.key).filter(key => !seen.has(key) && !deletedAhead.has(key)).filter((_, index) => index % 10 === 0).slice(0, 50);
					for (const key of ahead) {
						deletedAhead.add(key);
					}

					// eslint-disable-next-line no-await-in-loop
					await store.delete(ahead);
				}

				assert.ok(pages >= 1);
				for (const item of records) {
					if (!deletedAhead.has(item.key)) {
						assert.equal(seen.get(item.key), 1, `${item.key} listed once`);
					}
				}

				for (const [key, times] of seen) {
					assert.equal(times, 1, `${key} listed ${times} times`);
				}

				assert.deepEqual(await scanAll(store), []);
			});
		});

		describe('deleteWhere', () => {
			const cutoff = now;

			async function timed(store: CacheStore): Promise<StoreRecord[]> {
				const records = [
					record('created-long-before', {createdAt: cutoff - 10_000, expires: null}),
					record('created-just-before', {createdAt: cutoff - 1, expires: null}),
					record('created-at-cutoff', {createdAt: cutoff, expires: null}),
					record('created-after', {createdAt: cutoff + 1, expires: null}),
					record('expired-long-ago', {createdAt: cutoff + 5, expires: cutoff - 10_000}),
					record('expires-at-cutoff', {createdAt: cutoff + 5, expires: cutoff}),
					record('expires-just-after', {createdAt: cutoff + 5, expires: cutoff + 1}),
					record('never-expires', {createdAt: cutoff + 5, expires: null}),
					toRecord('alias-expired', {kind: 'redirect', target: 'x', url: 'https://example.com/a', createdAt: cutoff + 5, expires: cutoff - 1}, null),
					toRecord('index-old', {kind: 'variants', names: ['accept'], url: 'https://example.com/v', createdAt: cutoff - 1, expires: null}, null),
				];
				await store.set(records);
				return records;
			}

			/** deleteWhere when the store has it; else the cache's sweep (scan, then delete), held to the same rule. */
			async function check(filter: DeleteFilter, gone: readonly string[]): Promise<void> {
				const store = await fresh('where');
				const records = await timed(store);
				assert.equal(await sweep(store, filter), gone.length, `deleteWhere(${JSON.stringify(filter)}) counts what it deleted`);
				assert.deepEqual(await scanKeys(store), records.map(item => item.key).filter(key => !gone.includes(key)).sort());
				// The rule is the contract's own.
				assert.deepEqual(records.filter(item => matchesDeleteFilter(item, filter)).map(item => item.key).sort(), [...gone].sort());
			}

			it('deletes exactly what was created before the time (not at it)', async () => {
				await check({createdBefore: cutoff}, ['created-long-before', 'created-just-before', 'index-old']);
			});

			it('deletes exactly what expired at or before the time, never what never expires', async () => {
				await check({expiredAt: cutoff}, ['expired-long-ago', 'expires-at-cutoff', 'alias-expired']);
			});

			it('deletes what matches either time when both are given', async () => {
				await check({createdBefore: cutoff, expiredAt: cutoff}, ['created-long-before', 'created-just-before', 'index-old', 'expired-long-ago', 'expires-at-cutoff', 'alias-expired']);
			});

			it('deletes nothing for an empty filter', async () => {
				await check({}, []);
			});
		});

		describe('clear and closing', () => {
			it('clears only its own records: stores whose names a LIKE or glob pattern would confuse stay apart', async () => {
				const base = uniqueName('clear');
				const names = [base, `${base}_a`, `${base}Xa`, `${base}[a]`, `${base}a`];
				const stores = await Promise.all(names.map(async name => open(name)));
				for (const [index, store] of stores.entries()) {
					// eslint-disable-next-line no-await-in-loop -- one store after another
					await store.set([record('shared-key', {url: `https://example.com/${index}`}), record(`own-${index}`)]);
				}

				for (const [index, store] of stores.entries()) {
					// eslint-disable-next-line no-await-in-loop
					assert.equal((await store.get('shared-key'))?.url, `https://example.com/${index}`, `${names[index]!} reads its own record`);
				}

				await stores[1]!.clear();
				assert.deepEqual(await scanAll(stores[1]!), []);
				assert.equal(await stores[1]!.get('shared-key'), undefined);
				for (const [index, store] of stores.entries()) {
					if (index !== 1) {
						// eslint-disable-next-line no-await-in-loop
						assert.deepEqual(await scanKeys(store), ['own-' + index, 'shared-key'].sort(), `${names[index]!} kept its records`);
					}
				}

				await stores[0]!.clear();
				for (const index of [2, 3, 4]) {
					// eslint-disable-next-line no-await-in-loop
					assert.equal((await scanAll(stores[index]!)).length, 2, `clearing ${base} left ${names[index]!} alone`);
				}
			});

			it('closes idempotently, and settles later calls instead of throwing', async () => {
				const store = await target.open(uniqueName('close'));
				await store.set([record('key')]);
				await store.close();
				await store.close();
				let settled: Promise<unknown>;
				assert.doesNotThrow(() => {
					settled = store.get('key');
				}, 'a call after close() returns a promise');
				await Promise.race([
					settled!.then(() => undefined, () => undefined),
					new Promise((_resolve, reject) => {
						setTimeout(() => {
							reject(new Error('get() after close() did not settle within 5 s'));
						}, 5000).unref();
					}),
				]);
			});
		});

		if (target.shared) {
			describe('one name, two stores', () => {
				it('sees the other store\'s writes, replacements, deletions and clear() at once', async () => {
					const name = uniqueName('shared');
					const a = await open(name);
					const b = await open(name);
					const first = record('key', {body: Buffer.from('first')});
					await a.set([first]);
					assertSameRecord(await b.get('key'), first);
					assertSameRecord(await b.get('key'), first);
					const second = record('key', {body: Buffer.from('second'), createdAt: now + 1});
					await a.set([second]);
					assertSameRecord(await b.get('key'), second);
					assert.equal(await a.delete(['key']), 1);
					assert.equal(await b.get('key'), undefined);
					await b.set([record('other')]);
					assert.ok(await a.get('other'));
					await b.clear();
					assert.equal(await a.get('other'), undefined);
					await a.set([record('again', {createdAt: now - 10})]);
					assert.ok(await b.get('again'));
					if (b.deleteWhere) {
						assert.equal(await b.deleteWhere({createdBefore: now}), 1);
						assert.equal(await a.get('again'), undefined);
					}
				});
			});
		}

		if (target.injectForeign) {
			const inject = target.injectForeign.bind(target);
			describe('records the store did not write', () => {
				it('reads one as missing, lists it as corrupt, and sweeps it', async () => {
					const name = uniqueName('foreign');
					const store = await open(name);
					const good = record('good', {createdAt: now, expires: null});
					await store.set([good]);
					await inject(name, 'foreign');
					assert.equal(await store.get('foreign'), undefined, 'a foreign row reads as missing');
					const listed = await scanAll(store);
					assert.deepEqual(listed.map(meta => factsOf(meta)).sort((a, b) => a.key.localeCompare(b.key)), [
						{key: 'foreign', kind: 'response', url: '', createdAt: 0, expires: 0, deleteAt: 0, corrupt: true},
						factsOf(good),
					]);
					// A sweep by any time takes it (listed as created at 0 and expired), and nothing else.
					assert.equal(await sweep(store, {expiredAt: 1}), 1);
					assert.deepEqual(await scanKeys(store), ['good']);
					await inject(name, 'foreign-2');
					assert.equal(await sweep(store, {createdBefore: 1}), 1);
					assert.deepEqual(await scanKeys(store), ['good']);
					await inject(name, 'foreign-3');
					await store.clear();
					assert.deepEqual(await scanAll(store), [], 'clear() removes it too');
				});

				it('replaces one when a record is written under its key', async () => {
					const name = uniqueName('foreign-replace');
					const store = await open(name);
					await inject(name, 'key');
					const written = record('key');
					await store.set([written]);
					assertSameRecord(await store.get('key'), written);
				});
			});
		}

		describe('at scale', () => {
			const records = Number(process.env['REQUESTS_CACHE_SCALE'] ?? target.scale ?? 100_000);

			it(`deletes exactly the old third of ${records.toLocaleString('en')} records by creation time`, async () => {
				const store = await fresh('scale');
				const template = record('template', {body: Buffer.from('{"scale":true}')});
				const cutoff = now;
				const batch: StoreRecord[] = [];
				let started = performance.now();
				for (let index = 0; index < records; index++) {
					batch.push({
						...template,
						key: `bulk-${String(index).padStart(6, '0')}`,
						url: `https://example.com/bulk?i=${index}`,
						createdAt: index % 3 === 0 ? cutoff - 1000 - index : cutoff + index,
						expires: index % 5 === 0 ? cutoff + 60_000 : null,
					});
					if (batch.length === 1000) {
						// eslint-disable-next-line no-await-in-loop -- bounded batches, one after another
						await store.set(batch.splice(0));
					}
				}

				await store.set(batch.splice(0));
				const fillMs = performance.now() - started;
				const old = Math.ceil(records / 3);

				started = performance.now();
				const removed = await sweep(store, {createdBefore: cutoff});
				const deleteMs = performance.now() - started;
				assert.equal(removed, old, 'exactly the old third went');

				started = performance.now();
				const listed = await scanAll(store);
				const scanMs = performance.now() - started;
				assert.equal(listed.length, records - old, 'the rest stayed');
				assert.equal(listed.filter(meta => meta.createdAt < cutoff).length, 0, 'no old record stayed');
				assert.equal(new Set(listed.map(meta => meta.key)).size, listed.length);
				const how = store.deleteWhere ? 'deleteWhere' : 'scan + delete';
				storeScaleFigures.push({backend: target.name, records, fillMs, deleteMs, scanMs, how});
				console.log(`      ${target.name}: ${how}({createdBefore}) on ${records.toLocaleString('en')} records: ${deleteMs.toFixed(0)} ms; scan of the rest ${scanMs.toFixed(0)} ms; writing them ${fillMs.toFixed(0)} ms`);
			});
		});
	});
}
