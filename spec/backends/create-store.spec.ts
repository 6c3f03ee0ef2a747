import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {createStore} from '../../lib/config/assemble.js';
import {MemoryStore} from '../../lib/backends/memory.js';
import {SqliteStore} from '../../lib/backends/sqlite.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const drivers = ['better-sqlite3', 'sqlite3', 'mongodb', '@redis/client', '@keyv/redis', '@keyv/mongo'];

/** The drivers a fresh process has loaded after building a store for `backend` (and using it, for local ones). */
async function driversLoadedFor(backend: string, cacheName: string): Promise<string[]> {
	const script = `
import {createRequire} from 'node:module';
const {createStore} = await import(${JSON.stringify(path.join(repoRoot, 'lib', 'config', 'assemble.ts'))});
const store = createStore({backend: ${JSON.stringify(backend)}, cacheName: ${JSON.stringify(cacheName)}, url: undefined, ttlOffset: 3600, backendTimeout: 1000});
if (store.local) {
	await store.get('key');
}
const loaded = Object.keys(createRequire(import.meta.url).cache);
const drivers = ${JSON.stringify(drivers)};
console.log(JSON.stringify(drivers.filter(name => loaded.some(file => file.includes('/node_modules/' + name + '/')))));
await store.close();
`;
	const {stdout} = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {cwd: repoRoot});
	return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
}

describe('config/assemble: createStore', () => {
	let dir: string;

	before(() => {
		dir = tempDir('create-store');
	});

	after(() => {
		removeDir(dir);
	});

	it('builds the built-in stores by name', async () => {
		const memory = createStore({backend: 'memory', cacheName: 'x', url: undefined, ttlOffset: 3600, backendTimeout: 1000});
		assert.ok(memory instanceof MemoryStore);
		const sqlite = createStore({backend: 'sqlite', cacheName: path.join(dir, 'named'), url: undefined, ttlOffset: 3600, backendTimeout: 1000});
		assert.ok(sqlite instanceof SqliteStore);
		assert.equal(sqlite.file, path.join(dir, 'named.sqlite'));
		await Promise.all([memory.close(), sqlite.close()]);
	});

	it('refuses a backend that is neither a name nor a Keyv store, naming the option', () => {
		assert.throws(() => createStore({backend: 'sqlite3' as 'sqlite', cacheName: 'x', url: undefined, ttlOffset: 3600, backendTimeout: 1000}), {name: 'TypeError', message: /`backend`.*"sqlite3"/});
	});

	describe('loads drivers only for the backend chosen', function () {
		this.timeout(60_000);

		it('memory loads none', async () => {
			assert.deepEqual(await driversLoadedFor('memory', 'x'), []);
		});

		it('SQLite loads better-sqlite3 only', async () => {
			assert.deepEqual(await driversLoadedFor('sqlite', path.join(dir, 'lazy')), ['better-sqlite3']);
		});

		it('Redis loads neither SQLite driver nor MongoDB\'s', async () => {
			const loaded = await driversLoadedFor('redis', 'lazy');
			assert.deepEqual(loaded.filter(name => ['better-sqlite3', 'sqlite3', 'mongodb', '@keyv/mongo'].includes(name)), []);
		});

		it('MongoDB loads neither SQLite driver nor Redis\'', async () => {
			const loaded = await driversLoadedFor('mongodb', 'lazy');
			assert.deepEqual(loaded.filter(name => ['better-sqlite3', 'sqlite3', '@redis/client', '@keyv/redis'].includes(name)), []);
		});
	});
});
