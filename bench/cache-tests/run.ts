/**
 * `npm run cache-tests`: the public HTTP cache test suite (`http-cache-tests` from npm, the suite
 * behind https://cache-tests.fyi) in private-cache ("browser") mode and in shared-cache mode
 * against undici's cache interceptor and requests-cache's configurations (configurations.ts), all
 * in one run. Starts the
 * suite's server on 127.0.0.1, runs each configuration in a child process of its own (a fresh
 * cache; one at a time unless `--jobs` says otherwise), classifies the results with the suite's
 * own `determineTestResult`, prints the table, writes bench/cache-tests/results.json and the
 * generated section of docs/http-cache-tests.md.
 *
 *   npm run cache-tests                                          # everything (about 2 minutes)
 *   npm run cache-tests -- --config=undici,requests-cache        # some configurations; writes nothing
 *   npm run cache-tests -- --id=age-parse-float --config=undici  # one or more tests, with the suite's dump
 *   npm run cache-tests -- --options='{"backend":"memory","cacheControl":true,"expireAfter":60}'
 *   npm run cache-tests -- --options='{"backend":"memory","cacheControl":"rfc9111","shared":true}'  # the shared-cache selection
 *   npm run cache-tests -- --lib=/path/to/other/lib/index.ts     # requests-cache from another copy (A/B)
 *   npm run cache-tests -- --config=requests-cache-rfc9111 --out=/tmp/rfc.json  # a partial run, results kept
 *   npm run cache-tests -- --jobs=2 --verbose --timeout=15
 */
import {type ChildProcess, execFileSync, fork, spawn} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {RawResult} from 'http-cache-tests/tests/index.mjs';
import {type Outcome, classify, count} from './classify.js';
import {type Configuration, type SuiteMode, defaultConfigurations, describeConfiguration, modeOf} from './configurations.js';
import {type ConfigurationReport, type ResultsFile, type TestReport, consoleTable, markdownSection, updateDocs} from './report.js';
import {browserTests, sharedTests, suiteVersion, testsOf} from './suite.js';
import type {WorkerJob, WorkerReport} from './worker.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const resultsPath = join(here, 'results.json');
const docsPath = join(repoRoot, 'docs', 'http-cache-tests.md');

type Args = {
	configurations: Configuration[];
	testIds?: string[];
	libraryEntry: string;
	jobs: number;
	requestTimeoutMs: number;
	write: boolean;
	/** Where a run that is not recorded writes its results anyway (`--out`). */
	out?: string;
	verbose: boolean;
};

const usage = `usage: npm run cache-tests -- [--config=<name,...>] [--options=<json CachedSession options>] [--id=<test id,...>]
  [--lib=<requests-cache entry module>] [--jobs=<n>] [--timeout=<seconds per request>] [--no-write] [--out=<results file>] [--verbose]
configurations: ${defaultConfigurations.map(configuration => configuration.name).join(', ')}`;

function parseArgs(argv: readonly string[]): Args {
	const args: Args = {
		configurations: [...defaultConfigurations],
		libraryEntry: join(repoRoot, 'lib', 'index.ts'),
		jobs: 1,
		requestTimeoutMs: 15_000,
		write: true,
		verbose: false,
	};
	let custom = false;
	for (const argument of argv) {
		const [name, value = ''] = argument.split(/=(.*)/s) as [string, string?];
		switch (name) {
			case '--config': {
				args.configurations = value.split(',').map(wanted => {
					const configuration = defaultConfigurations.find(candidate => candidate.name === wanted);
					if (configuration === undefined) {
						throw new RangeError(`--config: no configuration named ${JSON.stringify(wanted)}\n${usage}`);
					}

					return configuration;
				});
				custom = true;
				break;
			}

			case '--options': {
				const sessionOptions = JSON.parse(value) as Record<string, unknown>;
				// A shared cache's options run the suite's shared-cache selection.
				const mode = sessionOptions['shared'] === true ? 'shared' : 'private';
				args.configurations = [...(custom ? args.configurations : []), {name: 'custom', client: 'requests-cache', mode, sessionOptions}];
				custom = true;
				break;
			}

			case '--id': {
				args.testIds = value.split(',');
				break;
			}

			case '--lib': {
				args.libraryEntry = resolve(value);
				custom = true;
				break;
			}

			case '--jobs': {
				args.jobs = Number(value);
				if (!Number.isInteger(args.jobs) || args.jobs < 1) {
					throw new RangeError(`--jobs must be a positive whole number, not ${JSON.stringify(value)}`);
				}

				break;
			}

			case '--timeout': {
				args.requestTimeoutMs = Number(value) * 1000;
				if (!(args.requestTimeoutMs > 0)) {
					throw new RangeError(`--timeout must be a positive number of seconds, not ${JSON.stringify(value)}`);
				}

				break;
			}

			case '--no-write': {
				args.write = false;
				break;
			}

			case '--out': {
				args.out = resolve(value);
				break;
			}

			case '--verbose': {
				args.verbose = true;
				break;
			}

			default: {
				throw new RangeError(`unknown argument ${JSON.stringify(argument)}\n${usage}`);
			}
		}
	}

	// Only a full run of the default configurations is recorded.
	if (custom || args.testIds !== undefined) {
		args.write = false;
	}

	return args;
}

/** Starts the suite's server (suite-server.ts); resolves with its base URL once it listens. */
async function startServer(verbose: boolean): Promise<{child: ChildProcess; baseUrl: string; warnings: () => number}> {
	const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'suite-server.ts')], {cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit']});
	let warnings = 0;
	const baseUrl = await new Promise<string>((resolvePromise, reject) => {
		const timer = setTimeout(() => {
			reject(new Error('the suite server did not start within 20 s'));
		}, 20_000);
		child.once('exit', code => {
			clearTimeout(timer);
			reject(new Error(`the suite server exited (code ${String(code)}) before listening`));
		});
		child.stdout!.on('data', (chunk: Buffer) => {
			const text = chunk.toString();
			warnings += text.split('SERVER WARNING').length - 1;
			if (verbose) {
				process.stdout.write(text.replaceAll(/^(?=.)/gm, '[server] '));
			}

			const listening = /Listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(text);
			if (listening) {
				clearTimeout(timer);
				child.removeAllListeners('exit');
				resolvePromise(listening[1]!);
			}
		});
	});
	return {child, baseUrl, warnings: () => warnings};
}

/** Runs one configuration in its own process. */
async function runWorker(job: WorkerJob, showOutput: boolean): Promise<WorkerReport> {
	const child = fork(join(here, 'worker.ts'), [JSON.stringify(job)], {
		cwd: repoRoot,
		execArgv: ['--import', 'tsx'],
		stdio: ['ignore', showOutput ? 'inherit' : 'ignore', 'pipe', 'ipc'],
	});
	let stderr = '';
	child.stderr!.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
		if (showOutput) {
			process.stderr.write(chunk);
		}
	});
	let report: WorkerReport | undefined;
	child.on('message', message => {
		report = message as WorkerReport;
	});
	// The suite pauses 3 s in many tests, 100 tests at a time: a healthy run takes well under a minute.
	const limitMs = 10 * 60_000;
	const code = await new Promise<number | null>(resolvePromise => {
		const timer = setTimeout(() => {
			child.kill();
		}, limitMs);
		child.once('exit', exitCode => {
			clearTimeout(timer);
			resolvePromise(exitCode);
		});
	});
	if (report === undefined) {
		const lines = stderr.trim().split('\n');
		throw new Error(code === null ? `no result within ${limitMs / 60_000} minutes` : lines.find(line => /Error\b/.test(line)) ?? lines.at(-1) ?? `exit code ${String(code)}`);
	}

	return report;
}

/** The suite's messages with the run's server address and test UUIDs masked. */
function masked(result: RawResult | undefined): RawResult | null {
	if (result === undefined || result === true) {
		return result ?? null;
	}

	return [result[0], result[1].replaceAll(/http:\/\/127\.0\.0\.1:\d+/g, '<server>').replaceAll(/[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}/g, '<uuid>')];
}

function testReports(results: Record<string, RawResult>, mode: SuiteMode): Record<string, TestReport> {
	const classified = classify(results, mode);
	const passed = (outcome: Outcome | undefined) => outcome === 'pass' || outcome === 'yes';
	const tests: Record<string, TestReport> = {};
	for (const {test, group} of testsOf(mode)) {
		const outcome = classified.get(test.id)!;
		const report: TestReport = {outcome, kind: test.kind ?? 'required', group: group.id, result: masked(results[test.id])};
		if (outcome === 'dependency_fail') {
			report.failedDependencies = (test.depends_on ?? []).filter(id => !passed(classified.get(id)));
		}

		tests[test.id] = report;
	}

	return tests;
}

/** The commit the run measured (short), with `+` when lib/ has changes not committed; undefined outside git. */
function commitOf(): string | undefined {
	try {
		const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim();
		const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], {cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim() !== '';
		return `${commit}${dirty ? '+' : ''}`;
	} catch {
		return undefined;
	}
}

function libraryVersion(configuration: Configuration): string {
	if (configuration.client === 'undici') {
		return String((JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'undici', 'package.json'), 'utf8')) as {version: unknown}).version);
	}

	const version = String((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {version: unknown}).version);
	const commit = commitOf();
	return commit === undefined ? version : `${version} (${commit})`;
}

async function runConfiguration(configuration: Configuration, baseUrl: string, args: Args): Promise<ConfigurationReport> {
	const job: WorkerJob = {configuration, baseUrl, libraryEntry: args.libraryEntry, requestTimeoutMs: args.requestTimeoutMs};
	if (args.testIds !== undefined) {
		job.testIds = args.testIds;
	}

	const report: ConfigurationReport = {
		name: configuration.name,
		mode: modeOf(configuration),
		description: describeConfiguration(configuration),
		version: libraryVersion(configuration),
		durationMs: 0,
	};
	if (configuration.sessionOptions !== undefined) {
		report.sessionOptions = configuration.sessionOptions;
	}

	const started = performance.now();
	try {
		const output = await runWorker(job, args.verbose || args.testIds !== undefined);
		report.durationMs = output.durationMs;
		report.tests = testReports(output.results, modeOf(configuration));
		if (args.testIds !== undefined) {
			// A partial run: only the selected tests have results, so count only those.
			report.tests = Object.fromEntries(Object.entries(report.tests).filter(([id]) => args.testIds!.includes(id)));
		}

		report.counts = count(new Map(Object.entries(report.tests).map(([id, test]) => [id, test.outcome])));
	} catch (error) {
		report.durationMs = Math.round(performance.now() - started);
		report.error = error instanceof Error ? error.message : String(error);
	}

	console.log(`${configuration.name}: ${report.error === undefined ? `${report.counts!.passed} passed` : `not run (${report.error})`} in ${(report.durationMs / 1000).toFixed(1)} s`);
	return report;
}

/** Runs `items` through `work`, at most `limit` at a time, keeping their order. */
async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
	const results: R[] = [];
	let next = 0;
	const lanes = Array.from({length: Math.min(limit, items.length)}, async () => {
		while (next < items.length) {
			const index = next++;
			// eslint-disable-next-line no-await-in-loop -- each lane runs its items one after another
			results[index] = await work(items[index]!);
		}
	});
	await Promise.all(lanes);
	return results;
}

function printNotPassed(reports: readonly ConfigurationReport[]): void {
	const shown: ReadonlyArray<[Outcome, string]> = [['fail', 'required failed'], ['optional_fail', 'optional failed'], ['no', 'checks "no"'], ['setup_fail', 'setup errors'], ['retry', 'retried'], ['harness_fail', 'harness errors'], ['dependency_fail', 'dependency failed'], ['untested', 'not run']];
	for (const report of reports) {
		if (report.tests === undefined) {
			continue;
		}

		console.log(`\n${report.name}:`);
		for (const [outcome, title] of shown) {
			const ids = Object.entries(report.tests).filter(([, test]) => test.outcome === outcome).map(([id]) => id);
			if (ids.length > 0) {
				console.log(`  ${title} (${ids.length}): ${ids.join(' ')}`);
			}
		}
	}
}

async function main(): Promise<number> {
	const args = parseArgs(process.argv.slice(2));
	const server = await startServer(args.verbose);
	console.log(`http-cache-tests ${suiteVersion} (npm), ${browserTests.length} tests in private-cache mode, ${sharedTests.length} in shared-cache mode, server ${server.baseUrl}`);
	let reports: ConfigurationReport[];
	try {
		reports = await inBatches(args.configurations, args.jobs, async configuration => runConfiguration(configuration, server.baseUrl, args));
	} finally {
		server.child.kill('SIGTERM');
	}

	printNotPassed(reports);
	console.log(`\n${consoleTable(reports)}`);
	if (server.warnings() > 0) {
		console.log(`(the suite server logged ${server.warnings()} warnings; --verbose shows them)`);
	}

	if (args.write || args.out !== undefined) {
		const file: ResultsFile = {
			suite: {
				package: 'http-cache-tests',
				version: suiteVersion,
				mode: 'private-cache ("browser") mode: runTests(tests, fetch, true, base)',
				tests: browserTests.length,
				sharedMode: 'shared-cache mode: runTests(tests, fetch, false, base)',
				sharedTests: sharedTests.length,
			},
			commit: commitOf(),
			date: new Date().toISOString(),
			node: process.version,
			configurations: reports,
		};
		if (args.out !== undefined) {
			writeFileSync(args.out, `${JSON.stringify(file, null, '\t')}\n`);
			console.log(`wrote ${relative(process.cwd(), args.out)}`);
		} else {
			writeFileSync(resultsPath, `${JSON.stringify(file, null, '\t')}\n`);
			updateDocs(docsPath, markdownSection(file));
			console.log(`wrote ${relative(process.cwd(), resultsPath)} and ${relative(process.cwd(), docsPath)}`);
		}
	}

	return reports.some(report => report.error !== undefined) ? 1 : 0;
}

main().then(code => {
	process.exitCode = code;
}, (error: unknown) => {
	console.error(error instanceof Error ? error.message : error);
	process.exitCode = 2;
});
