import assert from 'node:assert/strict';
import path from 'node:path';
import {normalizeCacheOptions} from '../../lib/config/options.js';
import {STORES, type StoreOption, isBackendName, storeFor} from '../../lib/config/stores.js';
import {parseTarget} from '../../lib/cli/open-cache.js';
import {MemoryStore} from '../../lib/backends/memory.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

describe('config/stores: the store registry', () => {
	const given: Record<StoreOption, unknown> = {useCacheDir: true, useTemp: true, url: 'redis://127.0.0.1:1', maxEntries: 10, maxBytes: 10, memoryTier: {}};

	it('names the built-in backends, and backend validation lists them', () => {
		assert.deepEqual(Object.keys(STORES), ['sqlite', 'memory', 'redis', 'mongodb']);
		assert.ok(isBackendName('redis') && !isBackendName('toString') && !isBackendName('sqlite3'));
		assert.throws(() => normalizeCacheOptions({backend: 'sqlite3' as never}), {name: 'TypeError', message: /`backend` must be one of 'sqlite', 'memory', 'redis', 'mongodb', a CacheStore/});
	});

	it('gives each backend the store options it takes and refuses the others, naming the backends that take them', () => {
		for (const [backend, store] of Object.entries(STORES)) {
			for (const [name, value] of Object.entries(given) as Array<[StoreOption, unknown]>) {
				const options = {backend, [name]: value} as never;
				if (store.options.includes(name)) {
					assert.doesNotThrow(() => normalizeCacheOptions(options), `${backend} takes ${name}`);
				} else {
					const takers = Object.entries(STORES).filter(([, each]) => each.options.includes(name)).map(([each]) => `'${each}'`).join(' or ');
					assert.throws(() => normalizeCacheOptions(options), {name: 'TypeError', message: new RegExp(`option \`${name}\` only applies to backend ${takers}`)}, `${backend} refuses ${name}`);
				}
			}
		}

		// A store given as backend is configured on its own.
		assert.throws(() => normalizeCacheOptions({backend: new MemoryStore(), maxEntries: 10}), {name: 'TypeError', message: /given as `backend` takes its own/});
	});

	it('builds the store a name asks for, with the options it takes', async () => {
		const memory = storeFor(normalizeCacheOptions({backend: 'memory', maxEntries: 5}));
		assert.equal(memory.name, 'memory');
		assert.deepEqual({...memory.budget}, {maxEntries: 5, maxBytes: undefined});
		const dir = tempDir('registry');
		const sqlite = storeFor(normalizeCacheOptions({backend: 'sqlite', cacheName: path.join(dir, 'built'), maxBytes: 1000}));
		assert.equal(sqlite.name, 'sqlite');
		assert.deepEqual({...sqlite.budget}, {maxEntries: undefined, maxBytes: 1000});
		await sqlite.close();
		removeDir(dir);
		const given = new MemoryStore();
		assert.equal(storeFor(normalizeCacheOptions({backend: given})), given, 'a store given as backend is used as it is');
	});

	it('tells the CLI which backend a URL scheme names', () => {
		for (const [url, backend] of [['redis://h', 'redis'], ['rediss://h', 'redis'], ['mongodb://h', 'mongodb'], ['mongodb+srv://h/db', 'mongodb']]) {
			assert.equal(parseTarget(url!, undefined).backend, backend, url);
		}

		assert.throws(() => parseTarget('memory://h', undefined), /unsupported cache URL scheme "memory:\/\/": give a SQLite file path, a redis:\/\/ URL or a mongodb:\/\/ URL/);
	});
});
