/**
 * Runs the public HTTP cache test suite (https://github.com/http-tests/cache-tests, the one behind
 * https://cache-tests.fyi) in its private-cache ("browser") mode against:
 *
 * - requests-cache: `new CachedSession({backend: 'memory', cacheControl: true}).fetch`
 * - undici 7's cache interceptor: `undici.fetch` over `new Agent().compose(interceptors.cache({store:
 *   new cacheStores.MemoryCacheStore(), type: 'private'}))`
 *
 * each with a fresh cache per test id, and prints passed / failed / setup-failed / harness-error
 * counts, then writes every result to bench/cache-tests/results.json.
 *
 *   npx tsx bench/cache-tests/run.ts                       # both caches, writes results.json
 *   npx tsx bench/cache-tests/run.ts --client=requests-cache   # one cache (merged into results.json)
 *   npx tsx bench/cache-tests/run.ts --id=vary-match       # one test, with the engine's dump, no write
 *   npx tsx bench/cache-tests/run.ts --options='{"allowableCodes":[200,404]}'  # extra CachedSession options
 *   npx tsx bench/cache-tests/run.ts --cache-per=run       # one cache for the whole run
 *
 * The suite is located through CACHE_TESTS_DIR (default /work/cache-tests, then ../cache-tests);
 * see suite.ts. The suite's own server (test-engine/server/server.mjs) is started on a free port.
 */
import {type ChildProcess, spawn} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {type ClientName, type ClientOptions, clientNames} from './clients.js';
import {type Suite, type SuiteTest, type TestResult, describeSuite, loadSuites, locateSuite, obtainInstructions, repoRoot, runsInBrowserMode} from './suite.js';
import type {WorkerJob, WorkerOutput} from './worker.js';

type Args = {
	clients: ClientName[];
	testId?: string;
	clientOptions: ClientOptions;
	out?: string;
	verbose: boolean;
	timeoutMs: number;
};

type Kind = 'required' | 'optimal' | 'check';

export type Counts = {run: number; passed: number; failed: number; setupFailed: number; harnessErrors: number};

export type Failure = {id: string; kind: Kind; result: [string, string]};

export type ClientReport = {
	description: string;
	version: string;
	durationMs: number;
	counts: Counts;
	byKind: Record<Kind, {passed: number; run: number}>;
	/** Not-passed test ids by test group (the suite's tests/*.mjs file), with the engine's message. */
	notPassedByGroup: Record<string, Failure[]>;
	results: Record<string, TestResult>;
};

export type ResultsFile = {
	suite: {source: string; dir: string; version: string; commit?: string; reconstructed: boolean};
	mode: string;
	date: string;
	node: string;
	clients: Partial<Record<ClientName, ClientReport>>;
};

const defaultOut = join(repoRoot, 'bench', 'cache-tests', 'results.json');
const usage = 'usage: npx tsx bench/cache-tests/run.ts [--client=requests-cache|undici|all] [--id=<test-id>] [--cache-per=test|run] [--options=<json CachedSession options>] [--out=<file>|--no-write] [--timeout=<seconds>] [--verbose]';

function parseArgs(argv: readonly string[]): Args {
	const args: Args = {clients: [...clientNames], clientOptions: {cachePer: 'test'}, out: defaultOut, verbose: false, timeoutMs: 600_000};
	for (const arg of argv) {
		const [name, value = ''] = arg.split(/=(.*)/s) as [string, string?];
		switch (name) {
			case '--client': {
				if (value === 'all') {
					args.clients = [...clientNames];
				} else if ((clientNames as readonly string[]).includes(value)) {
					args.clients = [value as ClientName];
				} else {
					throw new RangeError(`--client must be one of ${clientNames.join(', ')} or all, not ${JSON.stringify(value)}`);
				}

				break;
			}

			case '--id': {
				args.testId = value;
				break;
			}

			case '--cache-per': {
				if (value !== 'test' && value !== 'run') {
					throw new RangeError(`--cache-per must be test or run, not ${JSON.stringify(value)}`);
				}

				args.clientOptions.cachePer = value;
				break;
			}

			case '--options': {
				args.clientOptions.sessionOptions = JSON.parse(value) as NonNullable<ClientOptions['sessionOptions']>;
				break;
			}

			case '--out': {
				args.out = value;
				break;
			}

			case '--no-write': {
				delete args.out;
				break;
			}

			case '--timeout': {
				args.timeoutMs = Number(value) * 1000;
				if (!(args.timeoutMs > 0)) {
					throw new RangeError(`--timeout must be a positive number of seconds, not ${JSON.stringify(value)}`);
				}

				break;
			}

			case '--verbose': {
				args.verbose = true;
				break;
			}

			default: {
				throw new RangeError(`unknown argument ${JSON.stringify(arg)}\n${usage}`);
			}
		}
	}

	if (args.testId !== undefined || args.clientOptions.sessionOptions !== undefined || args.clientOptions.cachePer !== 'test') {
		// A debugging or experimental run never overwrites the recorded baseline unless asked to.
		if (args.out === defaultOut && !argv.some(arg => arg.startsWith('--out='))) {
			delete args.out;
		}
	}

	return args;
}

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const probe = createServer();
		probe.once('error', reject);
		probe.listen(0, '127.0.0.1', () => {
			const address = probe.address();
			probe.close(() => {
				if (address === null || typeof address === 'string') {
					reject(new Error('could not read the probe port'));
				} else {
					resolve(address.port);
				}
			});
		});
	});
}

/** Starts the suite's own server; resolves once it says it is listening. */
async function startServer(suiteDir: string, port: number, verbose: boolean): Promise<{process: ChildProcess; warnings: () => number}> {
	const child = spawn(process.execPath, [join('test-engine', 'server', 'server.mjs')], {
		cwd: suiteDir,
		env: {
			...process.env,
			npm_config_protocol: 'http',
			npm_config_port: String(port),
			npm_config_pidfile: join(tmpdir(), `http-cache-test-server-${process.pid}.pid`),
		},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let warnings = 0;
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => {
			reject(new Error('the suite server did not start within 10 s'));
		}, 10_000);
		child.once('exit', code => {
			clearTimeout(timer);
			reject(new Error(`the suite server exited with code ${String(code)} before listening`));
		});
		child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[server] ${chunk.toString()}`));
		child.stdout!.on('data', (chunk: Buffer) => {
			const text = chunk.toString();
			warnings += text.split('SERVER WARNING').length - 1;
			if (verbose) {
				process.stdout.write(text.replaceAll(/^/gm, '[server] '));
			}

			if (text.includes('Listening on')) {
				clearTimeout(timer);
				child.removeAllListeners('exit');
				resolve();
			}
		});
	});
	return {process: child, warnings: () => warnings};
}

async function runWorker(job: WorkerJob, verbose: boolean, timeoutMs: number): Promise<WorkerOutput> {
	const worker = join(fileURLToPath(new URL('.', import.meta.url)), 'worker.ts');
	const child = spawn(process.execPath, ['--import', 'tsx', worker, JSON.stringify(job)], {
		cwd: repoRoot,
		stdio: ['ignore', verbose || job.testId !== undefined ? 'inherit' : 'ignore', 'pipe'],
	});
	let stderr = '';
	child.stderr!.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
		if (verbose) {
			process.stderr.write(chunk);
		}
	});
	const code = await new Promise<number | null>(resolve => {
		const timer = setTimeout(() => {
			console.error(`${job.client}: no result after ${timeoutMs / 1000} s, stopping the worker`);
			child.kill();
		}, timeoutMs);
		child.once('exit', exitCode => {
			clearTimeout(timer);
			resolve(exitCode);
		});
	});
	if (code !== 0 || !existsSync(job.out)) {
		throw new Error(`${job.client} worker failed (exit ${String(code)}):\n${stderr.slice(-4000)}`);
	}

	return JSON.parse(readFileSync(job.out, 'utf8')) as WorkerOutput;
}

function kindOf(test: SuiteTest): Kind {
	return test.kind ?? 'required';
}

/** The engine's messages with the run's server address and test UUIDs masked, so runs can be diffed. */
function normalized(result: TestResult): TestResult {
	return result === true ? true : [result[0], result[1].replaceAll(/https?:\/\/127\.0\.0\.1:\d+/g, '<server>').replaceAll(/[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}/g, '<uuid>')];
}

export function summarize(output: WorkerOutput, suites: readonly Suite[]): ClientReport {
	const counts: Counts = {run: 0, passed: 0, failed: 0, setupFailed: 0, harnessErrors: 0};
	const byKind: ClientReport['byKind'] = {required: {passed: 0, run: 0}, optimal: {passed: 0, run: 0}, check: {passed: 0, run: 0}};
	const notPassedByGroup: Record<string, Failure[]> = {};
	for (const suite of suites) {
		for (const test of suite.tests) {
			const raw = output.results[test.id];
			if (raw === undefined) {
				continue;
			}

			const result = normalized(raw);
			output.results[test.id] = result;

			const kind = kindOf(test);
			counts.run++;
			byKind[kind].run++;
			if (result === true) {
				counts.passed++;
				byKind[kind].passed++;
				continue;
			}

			if (result[0] === 'Assertion') {
				counts.failed++;
			} else if (result[0] === 'Setup') {
				counts.setupFailed++;
			} else {
				counts.harnessErrors++;
			}

			(notPassedByGroup[suite.name] ??= []).push({id: test.id, kind, result});
		}
	}

	return {description: output.description, version: output.version, durationMs: output.durationMs, counts, byKind, notPassedByGroup, results: output.results};
}

function printReport(name: ClientName, report: ClientReport): void {
	const {counts, byKind} = report;
	console.log(`\n${name} ${report.version}: ${report.description}`);
	console.log(`  run ${counts.run}: passed ${counts.passed}, failed ${counts.failed}, setup failed ${counts.setupFailed}, harness errors ${counts.harnessErrors} (${(report.durationMs / 1000).toFixed(1)} s)`);
	console.log(`  by kind: required ${byKind.required.passed}/${byKind.required.run}, optimal ${byKind.optimal.passed}/${byKind.optimal.run}, check (answered yes) ${byKind.check.passed}/${byKind.check.run}`);
}

function printFailures(name: ClientName, report: ClientReport): void {
	console.log(`\n${name}: tests not passed, by group`);
	for (const [group, failures] of Object.entries(report.notPassedByGroup)) {
		console.log(`  ${group} (${failures.length})`);
		for (const failure of failures) {
			console.log(`    ${failure.id} [${failure.kind}] ${failure.result[0]}: ${failure.result[1]}`);
		}
	}
}

async function main(): Promise<number> {
	const args = parseArgs(process.argv.slice(2));
	const located = locateSuite();
	if (located.dir === undefined) {
		console.error(obtainInstructions(located.tried));
		return 2;
	}

	const suiteDir = located.dir;
	const suite = describeSuite(suiteDir);
	const suites = await loadSuites(suiteDir);
	const inMode = suites.flatMap(s => s.tests).filter(t => runsInBrowserMode(t)).length;
	console.log(`suite: ${suiteDir} (version ${suite.version}${suite.commit === undefined ? '' : `, commit ${suite.commit.slice(0, 12)}`}${suite.reconstructed ? ', reconstructed copy: see its RECONSTRUCTION.md' : ''}); ${inMode} tests run in private-cache mode`);
	const port = await freePort();
	const server = await startServer(suiteDir, port, args.verbose);
	const baseUrl = `http://127.0.0.1:${port}`;
	const scratch = mkdtempSync(join(tmpdir(), 'cache-tests-'));
	const reports: Partial<Record<ClientName, ClientReport>> = {};
	try {
		for (const client of args.clients) {
			console.log(`running ${client} against ${baseUrl} ...`);
			const job: WorkerJob = {client, suiteDir, baseUrl, out: join(scratch, `${client}.json`), clientOptions: args.clientOptions};
			if (args.testId !== undefined) {
				job.testId = args.testId;
			}

			const report = summarize(await runWorker(job, args.verbose, args.timeoutMs), suites);
			reports[client] = report;
			printReport(client, report);
		}
	} finally {
		server.process.kill();
		rmSync(scratch, {recursive: true, force: true});
	}

	for (const [client, report] of Object.entries(reports) as Array<[ClientName, ClientReport]>) {
		printFailures(client, report);
	}

	if (server.warnings() > 0) {
		console.log(`\n(the suite server logged ${server.warnings()} warnings; --verbose shows them)`);
	}

	if (args.out !== undefined) {
		let previous: ResultsFile | undefined;
		try {
			previous = JSON.parse(readFileSync(args.out, 'utf8')) as ResultsFile;
		} catch {}

		const file: ResultsFile = {
			suite: {source: 'https://github.com/http-tests/cache-tests', dir: suiteDir, ...suite},
			mode: `private cache ("browser" mode: runTests(tests, browserCache = true, base)), a fresh cache per ${args.clientOptions.cachePer === 'test' ? 'test id' : 'run'}`,
			date: new Date().toISOString(),
			node: process.version,
			clients: {...previous?.clients, ...reports},
		};
		writeFileSync(args.out, `${JSON.stringify(file, null, '\t')}\n`);
		console.log(`\nwrote ${relative(process.cwd(), args.out) || args.out}`);
	}

	return 0;
}

main().then(code => {
	process.exitCode = code;
}, (error: unknown) => {
	console.error(error instanceof Error ? error.message : error);
	process.exitCode = 1;
});
