import assert from 'node:assert/strict';
import {execFile, execFileSync} from 'node:child_process';
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {Origin} from './support/origin.js';

const run = promisify(execFile);
// The npm running the tests (npx/npm set npm_execpath); a bare `npm` may be the copy a dependency put in node_modules/.bin.
const npm = process.env.npm_execpath?.endsWith('npm-cli.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
const runNpm = async (args: string[], cwd: string) => run(npm[0]!, [...npm.slice(1), ...args], {cwd});
const root = fileURLToPath(new URL('..', import.meta.url));
const repoModules = path.join(root, 'node_modules');
const tsc = path.join(repoModules, 'typescript', 'bin', 'tsc');

type Manifest = {dependencies?: Record<string, string>};

/**
 * The packed tarball as a user gets it, without the network: `npm run build`, `npm pack`, the
 * tarball extracted into `<project>/node_modules/requests-cache`, and each dependency the
 * tarball's package.json declares linked beside it (so an undeclared import fails here as it
 * would for a user). better-sqlite3 is copied without its compiled binding, as
 * `npm install --ignore-scripts` leaves it where no prebuilt binary is fetched.
 */
function installPacked(into: string, type: 'commonjs' | 'module'): void {
	const modules = path.join(into, 'node_modules');
	const target = path.join(modules, 'requests-cache');
	mkdirSync(target, {recursive: true});
	writeFileSync(path.join(into, 'package.json'), JSON.stringify({name: `consumer-${type}`, private: true, type}));
	execFileSync('tar', ['xzf', tarball, '-C', target, '--strip-components=1']);
	const manifest = JSON.parse(readFileSync(path.join(target, 'package.json'), 'utf8')) as Manifest;
	for (const name of Object.keys(manifest.dependencies ?? {})) {
		const link = path.join(modules, name);
		mkdirSync(path.dirname(link), {recursive: true});
		if (name === 'better-sqlite3') {
			const source = path.join(repoModules, name);
			cpSync(path.join(source, 'package.json'), path.join(link, 'package.json'));
			cpSync(path.join(source, 'lib'), path.join(link, 'lib'), {recursive: true});
			for (const dependency of ['bindings', 'prebuild-install']) {
				symlinkSync(path.join(repoModules, dependency), path.join(modules, dependency), 'dir');
			}
		} else {
			symlinkSync(path.join(repoModules, name), link, 'dir');
		}
	}
}

let tarball = '';

describe('the packed package', function () {
	this.timeout(240_000);
	let origin: Origin;
	let work: string;

	before(async () => {
		origin = await Origin.start();
		// Outside the repository, so that no node_modules up the tree can stand in for a missing dependency.
		work = mkdtempSync(path.join(os.tmpdir(), 'requests-cache-pack-'));
		// With its scripts, as `npm publish` packs: `prepare` builds dist/, `prepack` puts the published manifest in place.
		const {stdout} = await runNpm(['pack', '--json', '--pack-destination', work], root);
		const [report] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as Array<{filename: string}>;
		tarball = path.join(work, report!.filename);
	});

	after(async () => {
		await origin.close();
		rmSync(work, {recursive: true, force: true});
	});

	// Issue 17: the published manifest kept `prepare` (a build from unshipped sources) and scripts
	// that run unshipped files (spec/, bench/, examples/).
	it('publishes no script (none could run where the package is installed), and leaves the repository\'s in place', () => {
		const unpacked = mkdtempSync(path.join(work, 'manifest-'));
		execFileSync('tar', ['xzf', tarball, '-C', unpacked, '--strip-components=1', 'package/package.json']);
		const published = JSON.parse(readFileSync(path.join(unpacked, 'package.json'), 'utf8')) as {scripts?: unknown; dependencies?: Record<string, string>};
		assert.equal(published.scripts, undefined);
		assert.ok(published.dependencies?.['@redis/client'] && published.dependencies['mongodb'], 'the drivers lib/ loads are declared');
		const repository = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {scripts?: Record<string, string>};
		assert.equal(repository.scripts?.['prepare'], 'npm run build', 'a clone\'s npm install still builds dist/');
		assert.equal(existsSync(path.join(root, 'package.json.repository')), false);
	});

	describe('in a CommonJS project', () => {
		let project: string;

		before(() => {
			project = path.join(work, 'cjs');
			installPacked(project, 'commonjs');
		});

		it('is loaded by require() on this Node (require(esm)), the same module import() gets, without a warning', async () => {
			writeFileSync(path.join(project, 'main.js'), `
const rc = require('requests-cache');
(async () => {
	const session = new rc.CachedSession({backend: 'memory'});
	const url = process.env.ORIGIN + '/json?cjs=1';
	const first = await session.get(url);
	const second = await session.get(url);
	const esm = await import('requests-cache');
	await session.close();
	const loaded = Object.keys(require.cache);
	console.log(JSON.stringify({
		requireModule: process.features.require_module,
		first: first.fromCache, second: second.fromCache,
		sameModule: esm.CachedSession === rc.CachedSession && esm.Session === rc.Session,
		exports: Object.keys(rc).sort(),
		sqliteLoaded: loaded.some(file => file.includes('better-sqlite3')),
		mongodbLoaded: loaded.some(file => /node_modules[\\\\/]mongodb[\\\\/]/.test(file)),
	}));
})();
`);
			const hits = origin.hits('/json');
			const {stdout, stderr} = await run(process.execPath, ['main.js'], {cwd: project, env: {...process.env, ORIGIN: origin.url}});
			const result = JSON.parse(stdout) as Record<string, unknown>;
			assert.equal(result.requireModule, true);
			assert.equal(result.first, false);
			assert.equal(result.second, true);
			assert.equal(origin.hits('/json'), hits + 1);
			assert.equal(result.sameModule, true);
			for (const name of ['CachedSession', 'Session', 'CacheMixin', 'RequestError', 'installCache', 'NEVER_EXPIRE']) {
				assert.ok((result.exports as string[]).includes(name), name);
			}

			assert.doesNotMatch(stderr, /ExperimentalWarning|ERR_REQUIRE/);
		});

		it('serves a memory-only program without loading the SQLite or MongoDB drivers (better-sqlite3 has no compiled binding here)', async () => {
			writeFileSync(path.join(project, 'memory.js'), `
const {CachedSession} = require('requests-cache');
(async () => {
	const session = new CachedSession({backend: 'memory'});
	await session.get(process.env.ORIGIN + '/json?memory-only=1');
	const cached = await session.get(process.env.ORIGIN + '/json?memory-only=1');
	await session.close();
	const loaded = Object.keys(require.cache);
	console.log(JSON.stringify({
		fromCache: cached.fromCache,
		sqliteLoaded: loaded.some(file => file.includes('better-sqlite3')),
		mongodbLoaded: loaded.some(file => /node_modules[\\\\/]mongodb[\\\\/]/.test(file)),
	}));
})();
`);
			const {stdout} = await run(process.execPath, ['memory.js'], {cwd: project, env: {...process.env, ORIGIN: origin.url}});
			assert.deepEqual(JSON.parse(stdout), {fromCache: true, sqliteLoaded: false, mongodbLoaded: false});
		});

		it('tells a SQLite program without the compiled driver which package to build, when it is used', async () => {
			// Stores fail open: the request is served by the origin and the failure goes to onError.
			writeFileSync(path.join(project, 'sqlite.js'), `
const {CachedSession} = require('requests-cache');
(async () => {
	const errors = [];
	try {
		const session = new CachedSession({cacheName: 'never_written', onError: error => errors.push(error.message)});
		const response = await session.get(process.env.ORIGIN + '/json?sqlite=1');
		await session.close().catch(error => errors.push(error.message));
		console.log(JSON.stringify({status: response.status, errors}));
	} catch (error) {
		console.log(JSON.stringify({status: null, errors: [...errors, String(error && error.message)]}));
	}
})();
`);
			const {stdout} = await run(process.execPath, ['sqlite.js'], {cwd: project, env: {...process.env, ORIGIN: origin.url}});
			const {errors} = JSON.parse(stdout) as {status: number | null; errors: string[]};
			assert.ok(errors.some(message => message.includes('better-sqlite3')), `no error names better-sqlite3: ${JSON.stringify(errors)}`);
		});

		// One TypeScript CommonJS project per module setting a user may have. node16 with
		// skipLibCheck off also checks our declarations (index.d.cts included) and our dependencies'.
		const settings: Array<[string, Record<string, unknown>]> = [
			['node16, skipLibCheck off (TS1479 without a require condition)', {module: 'node16', lib: ['ES2022', 'esnext.disposable'], skipLibCheck: false}],
			['nodenext', {module: 'nodenext', lib: ['ES2022'], skipLibCheck: true}],
			['commonjs (node10 resolution) with skipLibCheck', {module: 'commonjs', lib: ['ES2022', 'esnext.disposable'], skipLibCheck: true}],
		];
		for (const [label, compilerOptions] of settings) {
			it(`type-checks and runs a TypeScript CommonJS project: ${label}`, async () => {
				const dir = path.join(project, `ts-${String(compilerOptions.module)}`);
				mkdirSync(dir, {recursive: true});
				writeFileSync(path.join(dir, 'index.ts'), `
import {CachedSession, RequestError, type CacheOptions, type Response} from 'requests-cache';

const options: CacheOptions = {backend: 'memory', expireAfter: {minutes: 5}};

async function main(): Promise<void> {
	await using session = new CachedSession(options);
	const first: Response = await session.get(\`\${process.env.ORIGIN}/json?ts=\${process.env.LABEL}\`);
	const second = await session.get(\`\${process.env.ORIGIN}/json?ts=\${process.env.LABEL}\`);
	let networkCode: string | undefined;
	try {
		await session.get('http://127.0.0.1:1/', {timeout: 2000});
	} catch (error) {
		if (error instanceof RequestError) {
			networkCode = error.networkCode;
		}
	}

	console.log(JSON.stringify({first: first.fromCache, second: second.fromCache, networkCode}));
}

void main();
`);
				// Proof that the types are real, not any: one wrong use, which must be the only error.
				writeFileSync(path.join(dir, 'wrong.ts'), `
import {CachedSession} from 'requests-cache';
const session = new CachedSession({backend: 'memory'});
export const name: number = session.settings.cacheName;
`);
				writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
					compilerOptions: {target: 'ES2022', strict: true, outDir: 'out', types: ['node'], typeRoots: [path.join(repoModules, '@types')], ...compilerOptions},
					files: ['index.ts', 'wrong.ts'],
				}));
				const output = await run(process.execPath, [tsc, '-p', dir], {cwd: dir}).then(({stdout}) => stdout, (error: {stdout?: string}) => error.stdout ?? String(error));
				const errors = output.split('\n').filter(line => /error TS\d+/.test(line));
				assert.equal(errors.length, 1, `tsc reported:\n${output}`);
				assert.match(errors[0]!, /wrong\.ts\(4,14\): error TS2322: Type 'string' is not assignable to type 'number'/);
				// What tsc emitted anyway (require(), the lowered \`await using\`) runs on this Node.
				const {stdout} = await run(process.execPath, [path.join(dir, 'out', 'index.js')], {cwd: dir, env: {...process.env, ORIGIN: origin.url, LABEL: String(compilerOptions.module)}});
				assert.deepEqual(JSON.parse(stdout), {first: false, second: true, networkCode: 'ECONNREFUSED'});
			});
		}
	});

	describe('in an ES module project', () => {
		it('is imported, and type-checks under nodenext', async () => {
			const project = path.join(work, 'esm');
			installPacked(project, 'module');
			writeFileSync(path.join(project, 'index.ts'), `
import {CachedSession} from 'requests-cache';

await using session = new CachedSession({backend: 'memory'});
await session.get(\`\${process.env.ORIGIN}/json?esm=1\`);
const cached = await session.get(\`\${process.env.ORIGIN}/json?esm=1\`);
console.log(JSON.stringify({fromCache: cached.fromCache}));
`);
			writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
				compilerOptions: {
					target: 'ES2022', module: 'nodenext', lib: ['ES2022', 'esnext.disposable'], strict: true, skipLibCheck: true, outDir: 'out',
					types: ['node'], typeRoots: [path.join(repoModules, '@types')],
				},
				files: ['index.ts'],
			}));
			await run(process.execPath, [tsc, '-p', project], {cwd: project}).catch((error: {stdout?: string}) => {
				assert.fail(`tsc failed:\n${error.stdout ?? String(error)}`);
			});
			const {stdout} = await run(process.execPath, [path.join(project, 'out', 'index.js')], {cwd: project, env: {...process.env, ORIGIN: origin.url}});
			assert.deepEqual(JSON.parse(stdout), {fromCache: true});
		});
	});
});
