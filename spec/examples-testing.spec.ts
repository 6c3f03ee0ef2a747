import assert from 'node:assert/strict';
import {execFile, spawn} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {Origin} from './support/origin.js';
import {removeDir, tempDir} from './support/temp-dir.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const page = readFileSync(path.join(root, 'docs', 'testing.md'), 'utf8');

/** The ```ts blocks of docs/testing.md by the file name on their first line (`// test/x.test.ts`). */
const blocks = new Map([...page.matchAll(/```ts\n\/\/ (test\/[\w-]+\.test\.ts)\n([\s\S]*?)```/g)].map(match => [match[1]!, match[2]!]));

type Run = {code: number | null; stdout: string; stderr: string; passing: number; pending: number};

/**
 * Every example of docs/testing.md, run as the mocha test file it is: the origin stands in for
 * https://api.example.com, 'requests-cache' is this checkout, and each run is checked against what
 * the origin saw (recording reaches it, replaying and mocking do not).
 */
describe('docs/testing.md examples', function () {
	this.timeout(120_000);
	let origin: Origin;
	let project: string;

	before(async () => {
		origin = await Origin.start();
		origin.route('/items', (request, response) => {
			const page = new URL(request.url!, origin.url).searchParams.get('page') ?? '1';
			response.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({page: Number(page), items: [`item ${page}.1`, `item ${page}.2`]}));
		});
		// Inside the checkout (.tmp/), so that the examples resolve nock, undici and mocha's config from it.
		project = tempDir('testing-docs');
		mkdirSync(path.join(project, 'test'));
		for (const [name, code] of blocks) {
			writeFileSync(path.join(project, name), code
				.replaceAll('https://api.example.com', origin.url)
				.replaceAll('\'requests-cache\'', JSON.stringify(path.join(root, 'lib', 'index.js'))));
		}
	});

	after(async () => {
		await origin.close();
		removeDir(project);
	});

	/** `mocha test/<name>` in the example project, as `npm test` would run it; it must end by itself. */
	async function runExample(name: string, environment: Record<string, string> = {}): Promise<Run> {
		const child = spawn(process.execPath, [mocha, name], {cwd: project, env: {...process.env, ...environment}, stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
		});
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
		}, 60_000);
		const code = await new Promise<number | null>(resolve => {
			child.on('exit', resolve);
		});
		clearTimeout(timer);
		const count = (word: string): number => Number(new RegExp(`(\\d+) ${word}`).exec(stdout)?.[1] ?? 0);
		return {code, stdout, stderr, passing: count('passing'), pending: count('pending')};
	}

	const succeeded = (run: Run): void => {
		assert.equal(run.code, 0, `mocha exited with ${String(run.code)}:\n${run.stdout}\n${run.stderr}`);
	};

	it('has the examples this spec expects', () => {
		assert.deepEqual([...blocks.keys()].sort(), ['test/from-recording.test.ts', 'test/items.test.ts', 'test/mock-agent.test.ts', 'test/mocked.test.ts']);
	});

	it('type-checks every example', async () => {
		writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
			extends: path.join(root, 'tsconfig.json'),
			compilerOptions: {noEmit: true, rootDir: root, typeRoots: [path.join(root, 'node_modules', '@types')]},
			include: ['test/*.ts'],
		}));
		await promisify(execFile)(process.execPath, [tsc, '-p', project], {cwd: project}).catch((error: {stdout?: string}) => {
			assert.fail(`tsc:\n${error.stdout ?? String(error)}`);
		});
	});

	it('records once: with RECORD_HTTP=1 the requests reach the API and are stored', async () => {
		const before = origin.hits('/items');
		const run = await runExample('test/items.test.ts', {RECORD_HTTP: '1'});
		succeeded(run);
		assert.deepEqual([run.passing, run.pending], [1, 1]);
		assert.equal(origin.hits('/items'), before + 1);
	});

	it('replays: the same tests pass without reaching the API, and an unrecorded request fails', async () => {
		const before = origin.hits();
		const run = await runExample('test/items.test.ts');
		succeeded(run);
		assert.deepEqual([run.passing, run.pending], [2, 0]);
		assert.equal(origin.hits(), before, 'nothing reached the API, not even the unrecorded request');
	});

	it('fails the replay of a test whose request was never recorded', async () => {
		const changed = path.join(project, 'test', 'changed.test.ts');
		writeFileSync(changed, readFileSync(path.join(project, 'test', 'items.test.ts'), 'utf8').replace('{page: 1}', '{page: 2}'));
		const before = origin.hits();
		const run = await runExample('test/changed.test.ts');
		assert.notEqual(run.code, 0);
		assert.match(run.stdout, /GET .*\/items\?page=2 was never recorded: run the tests once with RECORD_HTTP=1/);
		assert.equal(origin.hits(), before);
	});

	it('mocks with nock: the first answer from the mock, the second from the cache; cacheDisabled lets both through', async () => {
		const before = origin.hits();
		const run = await runExample('test/mocked.test.ts');
		succeeded(run);
		assert.equal(run.passing, 2);
		assert.equal(origin.hits(), before, 'nock answered for the origin');
	});

	it('builds nock mocks from the recording, for code without a cache', async () => {
		const before = origin.hits();
		const run = await runExample('test/from-recording.test.ts');
		succeeded(run);
		assert.equal(run.passing, 2);
		assert.equal(origin.hits(), before);
	});

	it('shows MockAgent mocking the global fetch, behind installCache() too, and not a requests-cache session', async () => {
		const before = origin.hits('/items');
		const run = await runExample('test/mock-agent.test.ts');
		succeeded(run);
		assert.equal(run.passing, 3);
		assert.equal(origin.hits('/items'), before + 1, 'the session reached the origin; fetch did not');
	});
});
