/**
 * Runs the suite's own client engine against one cache, in a process of its own: the engine keeps
 * its results in module state, so two caches cannot share a process. Started by run.ts:
 *
 *   node --import tsx bench/cache-tests/worker.ts <json WorkerJob>
 *
 * The engine calls the global `fetch` (older versions: the fetch passed to `runTests`). Requests
 * that carry the suite's `Test-ID` header are the test's own and go to the cache under test;
 * the engine's plumbing (PUT /config, GET /state) goes to Node's plain fetch.
 */
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {type ClientName, type ClientOptions, type FetchFunction, createClient} from './clients.js';
import {type Suite, type TestResult, loadSuites} from './suite.js';

export type WorkerJob = {
	client: ClientName;
	suiteDir: string;
	baseUrl: string;
	out: string;
	clientOptions: ClientOptions;
	/** Run only this test id, with the engine's request/response dump. */
	testId?: string;
};

export type WorkerOutput = {
	client: ClientName;
	description: string;
	version: string;
	durationMs: number;
	results: Record<string, TestResult>;
};

type RunTests = ((tests: Suite[], browserCache: boolean, base: string) => Promise<void>)
	& ((tests: Suite[], fetch: FetchFunction, browserCache: boolean, base: string) => Promise<void>)
	& ((options: {tests: Suite[]; browserCache: boolean; base: string}) => Promise<void>);

function testIdOf(init: RequestInit | undefined): string | undefined {
	return init?.headers === undefined ? undefined : new Headers(init.headers).get('test-id') ?? undefined;
}

/** Rejects when the engine's per-request timeout fires, even if the client ignores the signal mid-flight. */
async function abortable(promise: Promise<globalThis.Response>, signal: AbortSignal | null | undefined): Promise<globalThis.Response> {
	if (!signal) {
		return promise;
	}

	signal.throwIfAborted();
	return new Promise((resolve, reject) => {
		const onAbort = () => {
			reject(signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError'));
		};

		signal.addEventListener('abort', onAbort, {once: true});
		promise.then(resolve, reject).finally(() => {
			signal.removeEventListener('abort', onAbort);
		});
	});
}

function selectTests(suites: Suite[], testId: string | undefined): Suite[] {
	if (testId === undefined) {
		return suites;
	}

	for (const suite of suites) {
		const test = suite.tests.find(t => t.id === testId);
		if (test !== undefined) {
			test.dump = true;
			return [{...suite, tests: [test]}];
		}
	}

	throw new RangeError(`No test with id ${JSON.stringify(testId)} in the suite`);
}

async function main(job: WorkerJob): Promise<void> {
	const client = createClient(job.client, job.clientOptions);
	const plainFetch = globalThis.fetch;
	const cacheFetch: FetchFunction = async (input, init) => {
		const testId = testIdOf(init);
		if (testId === undefined) {
			return plainFetch(input, init);
		}

		return abortable(client.fetchFor(testId)(input, init), init?.signal);
	};

	globalThis.fetch = cacheFetch as typeof globalThis.fetch;
	const suites = selectTests(await loadSuites(job.suiteDir), job.testId);
	const runner = await import(pathToFileURL(join(job.suiteDir, 'test-engine', 'client', 'runner.mjs')).href) as {
		runTests: RunTests;
		getResults(): Record<string, TestResult>;
	};
	const started = performance.now();
	// The engine's signature has changed over time: older ones take the fetch as second argument,
	// current ones use the global fetch, and a fork takes one options object.
	if (runner.runTests.length >= 4) {
		await runner.runTests(suites, cacheFetch, true, job.baseUrl);
	} else if (runner.runTests.length === 1) {
		await runner.runTests({tests: suites, browserCache: true, base: job.baseUrl});
	} else {
		await runner.runTests(suites, true, job.baseUrl);
	}

	const durationMs = Math.round(performance.now() - started);
	globalThis.fetch = plainFetch;
	await client.close();
	const output: WorkerOutput = {
		client: client.name,
		description: client.description,
		version: client.version,
		durationMs,
		results: runner.getResults(),
	};
	writeFileSync(job.out, JSON.stringify(output));
}

const job = JSON.parse(process.argv[2] ?? '') as WorkerJob;
main(job).then(() => {
	// Keep-alive sockets of the plain fetch would hold the process open for a few seconds.
	process.exit(0);
}, (error: unknown) => {
	console.error(error);
	process.exit(1);
});
