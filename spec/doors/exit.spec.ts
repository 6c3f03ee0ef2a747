import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {Origin} from '../support/origin.js';
import {redisProblem, redisUrl, skipOrFail} from '../support/services.js';

const index = fileURLToPath(new URL('../../lib/index.ts', import.meta.url));

/** Run `code` as an ES module in a child process; resolves with its exit code and output, or 'hung' after `ms`. */
async function runProgram(code: string, ms: number): Promise<{exit: number | 'hung'; output: string}> {
	return new Promise(resolve => {
		const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {stdio: ['ignore', 'pipe', 'pipe']});
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString();
		});
		child.stderr.on('data', (chunk: Buffer) => {
			output += chunk.toString();
		});
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			resolve({exit: 'hung', output});
		}, ms);
		child.on('exit', exitCode => {
			clearTimeout(timer);
			resolve({exit: exitCode ?? -1, output});
		});
	});
}

describe('doors: an installed cache never keeps the program alive (issue 18)', function () {
	this.timeout(60_000);
	let origin: Origin;

	before(async function () {
		const problem = await redisProblem();
		if (problem !== undefined) {
			skipOrFail(this, 'the Redis exit spec', problem);
		}

		origin = await Origin.start();
		origin.route('/exit', (_request, response) => {
			// No keep-alive: the only handle the child could keep is the cache's.
			response.writeHead(200, {'content-type': 'text/plain', connection: 'close'});
			response.end('bye');
		});
	});

	after(async () => {
		await origin?.close();
	});

	it('ends by itself after installCache({backend: \'redis\'}) and a miss, then a hit', async () => {
		const namespace = `exit-spec-${process.pid}`;
		const program = `
			import {installCache, getCache} from ${JSON.stringify(index)};
			installCache(${JSON.stringify(namespace)}, {backend: 'redis', url: ${JSON.stringify(redisUrl)}});
			const first = await fetch(${JSON.stringify(`${origin.url}/exit`)});
			await first.text();
			const second = await fetch(${JSON.stringify(`${origin.url}/exit`)});
			console.log('served', await second.text(), (await getCache().stats()).hits);
			// The program's own keys go; the connection is still not closed.
			await getCache().clear();
		`;
		const {exit, output} = await runProgram(program, 20_000);
		assert.equal(exit, 0, `the program ${exit === 'hung' ? 'was still running after 20 s' : `exited with ${exit}`}: ${output}`);
		assert.match(output, /served bye 1/, 'the second request was a hit, awaited to the end');
	});
});
