/**
 * Types for the parts of the `http-cache-tests` npm package (the suite behind cache-tests.fyi) the
 * runner uses. The package ships plain ES modules without declarations; these describe what its
 * 0.4.5 files export, nothing more.
 */
declare module 'http-cache-tests/tests/index.mjs' {
	/** One test as the suite declares it (`tests/*.mjs`); the request scripts are left opaque. */
	export type SuiteTest = {
		id: string;
		name: string;
		/** `required` when absent. */
		kind?: 'required' | 'optimal' | 'check';
		browser_only?: boolean;
		browser_skip?: boolean;
		cdn_only?: boolean;
		depends_on?: string[];
		/** Log every request and response of this test (the suite's own debugging switch). */
		dump?: boolean;
		requests: unknown[];
	};

	/** One group of tests (one `tests/<name>.mjs` file). */
	export type TestGroup = {id: string; name: string; description?: string; tests: SuiteTest[]};

	/** A test's raw result as the suite's client records it: `true`, or `[error name, message]`. */
	export type RawResult = true | [string, string];

	const groups: TestGroup[];
	export default groups;
}

declare module 'http-cache-tests/client/runner.mjs' {
	import type {RawResult, TestGroup} from 'http-cache-tests/tests/index.mjs';

	/** The fetch the suite's client calls for every request, its own plumbing included. */
	export type SuiteFetch = (url: string, init?: RequestInit) => Promise<Response>;

	/** Run `tests` through `fetch` against the suite's server at `base`, `chunkSize` tests at a time. */
	export function runTests(tests: TestGroup[], fetch: SuiteFetch, browserCache: boolean, base: string, chunkSize?: number): Promise<void>;
	/** The results so far, by test id. */
	export function getResults(): Record<string, RawResult>;
}

declare module 'http-cache-tests/lib/display.mjs' {
	import type {RawResult, TestGroup} from 'http-cache-tests/tests/index.mjs';

	/** `[font-awesome glyph, colour, emoji]`; the emoji names the outcome. */
	export type ResultType = [string, string, string];

	/** How cache-tests.fyi shows a test's result, dependencies honoured by default. */
	export function determineTestResult(groups: TestGroup[], testId: string, results: Record<string, RawResult>, honorDependencies?: boolean): ResultType;
}

declare module 'http-cache-tests/server/handle-test.mjs' {
	import type {IncomingMessage, ServerResponse} from 'node:http';

	export default function handleTest(pathSegments: string[], request: IncomingMessage, response: ServerResponse): void;
}

declare module 'http-cache-tests/server/handle-config.mjs' {
	import type {IncomingMessage, ServerResponse} from 'node:http';

	export default function handleConfig(pathSegments: string[], request: IncomingMessage, response: ServerResponse): void;
}

declare module 'http-cache-tests/server/handle-state.mjs' {
	import type {IncomingMessage, ServerResponse} from 'node:http';

	export default function handleState(pathSegments: string[], request: IncomingMessage, response: ServerResponse): void;
}
