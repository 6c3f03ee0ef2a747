import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {Origin} from '../support/origin.js';
import {mysqlExecute, mysqlUrl, postgresExecute, postgresUrl, skipOrFail, tcpProblem} from '../support/services.js';
import {removeDir, tempDir} from '../support/temp-dir.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const page = readFileSync(path.join(root, 'docs', 'backends.md'), 'utf8');

/** The one fenced block of `language` in docs/backends.md that contains `marker`, as written. */
function block(language: string, marker: string): string {
	const blocks = [...page.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(match => match[1]!).filter(code => code.includes(marker));
	assert.equal(blocks.length, 1, `one ${language} block with ${marker} in docs/backends.md`);
	return blocks[0]!;
}

/** Run a script the way a user would (tsx for the TypeScript); resolves when it exits by itself. */
async function runScript(file: string, timeoutMs: number): Promise<{code: number | null; stdout: string; stderr: string; ms: number}> {
	const started = performance.now();
	const child = spawn(process.execPath, ['--import', 'tsx', file], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']});
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
	}, timeoutMs);
	const code = await new Promise<number | null>(resolve => {
		child.on('exit', resolve);
	});
	clearTimeout(timer);
	return {code, stdout, stderr, ms: performance.now() - started};
}

/**
 * The PostgreSQL and MariaDB examples of docs/backends.md, run as the page shows them, with the
 * origin for api.example.com, this checkout for 'requests-cache', the test servers and a table
 * of their own: each must print the response and exit by itself (it closes its session).
 */
describe('docs/backends.md examples', function () {
	this.timeout(60_000);
	let origin: Origin;
	let dir: string;
	const table = `docs_example_${process.pid}`;

	before(async () => {
		origin = await Origin.start();
		origin.route('/items', (_request, response) => {
			response.writeHead(200, {'content-type': 'application/json'}).end('[]');
		});
		dir = tempDir('docs-examples');
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	const adapt = (code: string, serverUrl: RegExp, testUrl: string): string => code
		.replaceAll('https://api.example.com', origin.url)
		.replaceAll('\'requests-cache\'', JSON.stringify(path.join(root, 'lib', 'index.ts')))
		.replace(serverUrl, testUrl)
		.replaceAll('http_cache', table);

	it('PostgreSQL: prints the response and exits by itself', async function () {
		const problem = await tcpProblem(postgresUrl, 5432);
		if (problem !== undefined) {
			skipOrFail(this, 'the PostgreSQL example', problem);
		}

		const file = path.join(dir, 'postgres.mts');
		writeFileSync(file, adapt(block('ts', '@keyv/postgres'), /postgresql:\/\/[^']+/, postgresUrl));
		try {
			const result = await runScript(file, 20_000);
			assert.equal(result.code, 0, `exit ${String(result.code)} after ${result.ms.toFixed(0)} ms: ${result.stderr}`);
			assert.equal(result.stdout.trim(), '200 false');
		} finally {
			await postgresExecute(postgresUrl, `DROP TABLE IF EXISTS ${table}`);
		}
	});

	it('MariaDB/MySQL: with the table the page creates, prints the response and exits by itself', async function () {
		const problem = await tcpProblem(mysqlUrl, 3306);
		if (problem !== undefined) {
			skipOrFail(this, 'the MariaDB example', problem);
		}

		await mysqlExecute(mysqlUrl, block('sql', 'CREATE TABLE http_cache').replaceAll('http_cache', table));
		const file = path.join(dir, 'mysql.mts');
		writeFileSync(file, adapt(block('ts', '@keyv/mysql'), /mysql:\/\/[^']+/, mysqlUrl));
		try {
			const result = await runScript(file, 20_000);
			assert.equal(result.code, 0, `exit ${String(result.code)} after ${result.ms.toFixed(0)} ms: ${result.stderr}`);
			assert.equal(result.stdout.trim(), '200 false');
		} finally {
			await mysqlExecute(mysqlUrl, `DROP TABLE IF EXISTS ${table}`);
		}
	});
});
