/**
 * Runs the whole suite against one configuration, in a process of its own: the suite's client
 * (`http-cache-tests/client/runner.mjs`) keeps its results in module state, and each configuration
 * must start with an empty cache. Started by run.ts with the job as JSON; sends a
 * {@link WorkerReport} back over IPC.
 *
 *   node --import tsx bench/cache-tests/worker.ts '<json WorkerJob>'
 */
import {getResults, runTests} from 'http-cache-tests/client/runner.mjs';
import groups, {type RawResult, type TestGroup} from 'http-cache-tests/tests/index.mjs';
import {type CacheFetch, createClient} from './clients.js';
import {type Configuration, modeOf} from './configurations.js';

/** What run.ts asks of a worker. */
export type WorkerJob = {
	configuration: Configuration;
	/** The suite server's origin, e.g. `http://127.0.0.1:41234`. */
	baseUrl: string;
	/** Where requests-cache is imported from. */
	libraryEntry: string;
	/** A request the cache has not answered after this long fails its test. */
	requestTimeoutMs: number;
	/** Run only these tests, with the suite's request/response dump. */
	testIds?: string[];
};

/** What a worker sends back. */
export type WorkerReport = {
	results: Record<string, RawResult>;
	durationMs: number;
};

/** The suite's tests, or only `ids` (marked for dumping). */
function selectTests(ids: readonly string[] | undefined): TestGroup[] {
	if (ids === undefined) {
		return groups;
	}

	const selected = groups
		.map(group => ({...group, tests: group.tests.filter(test => ids.includes(test.id))}))
		.filter(group => group.tests.length > 0);
	for (const group of selected) {
		for (const test of group.tests) {
			test.dump = true;
		}
	}

	const found = new Set(selected.flatMap(group => group.tests.map(test => test.id)));
	const unknown = ids.filter(id => !found.has(id));
	if (unknown.length > 0) {
		throw new RangeError(`--id: no test named ${unknown.join(', ')} in the suite`);
	}

	return selected;
}

/** `promise`, or a rejection after `ms`: a cache that never answers fails its test instead of stalling the run. */
async function within(promise: Promise<Response>, ms: number, url: string): Promise<Response> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_resolve, reject) => {
		timer = setTimeout(() => {
			reject(new Error(`no response to ${url} after ${ms / 1000} s`));
		}, ms);
	});
	try {
		return await Promise.race([promise, timeout]);
	} finally {
		clearTimeout(timer);
	}
}

async function main(job: WorkerJob): Promise<WorkerReport> {
	const client = await createClient(job.configuration, job.libraryEntry);
	const plainFetch = globalThis.fetch;
	// The suite's client sends its own plumbing (PUT /config/<uuid>, GET /state/<uuid>) through the
	// same fetch; only the test requests (/test/<uuid>...) are the cache's business.
	const shared = modeOf(job.configuration) === 'shared';
	const suiteFetch: CacheFetch = async (url, init) => {
		if (new URL(url).pathname.startsWith('/test/')) {
			// In shared mode the suite asks with `cache: 'no-store'` so that a browser's own cache in
			// front of the proxy stays out of the way; here the cache under test is the proxy, and
			// that fetch option is not a request header any proxy would see.
			const {cache: _browserCache, ...proxied} = (init ?? {}) as RequestInit & {cache?: string};
			return within(client.fetch(url, shared ? proxied : init), job.requestTimeoutMs, url);
		}

		return plainFetch(url, init);
	};

	const started = performance.now();
	await runTests(selectTests(job.testIds), suiteFetch, !shared, job.baseUrl);
	const durationMs = Math.round(performance.now() - started);
	await client.close();
	return {results: getResults(), durationMs};
}

const job = JSON.parse(process.argv[2] ?? 'null') as WorkerJob;
main(job).then(report => {
	process.send!(report, () => {
		// Keep-alive sockets of the plain fetch would hold the process open for seconds.
		process.exit(0);
	});
}, (error: unknown) => {
	console.error(error instanceof Error ? error.stack ?? error.message : error);
	process.exit(1);
});
