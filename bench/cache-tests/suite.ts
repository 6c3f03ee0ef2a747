/**
 * Locating and loading the public HTTP cache test suite (https://github.com/http-tests/cache-tests,
 * the suite behind https://cache-tests.fyi). The suite is never vendored into this repository: it
 * is a separate checkout found through `CACHE_TESTS_DIR`, `/work/cache-tests` or `../cache-tests`.
 */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

/** One test of the suite, as declared in its `tests/*.mjs` files. */
export type SuiteTest = {
	id: string;
	name: string;
	kind?: 'required' | 'optimal' | 'check';
	browser_only?: boolean;
	browser_skip?: boolean;
	cdn_only?: boolean;
	depends_on?: string[];
	dump?: boolean;
};

/** One test group (`tests/<name>.mjs`). */
export type Suite = {id: string; name: string; description?: string; tests: SuiteTest[]};

/** The suite's own result for one test: `true`, or `[errorName, message]`. */
export type TestResult = true | [string, string];

/** The files the runner uses; a checkout missing any of them is not the suite. */
export const requiredFiles = [
	'tests/index.mjs',
	'test-engine/client/runner.mjs',
	'test-engine/server/server.mjs',
] as const;

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the suite is looked for, in order. */
export function candidateDirs(env: NodeJS.ProcessEnv = process.env): string[] {
	const fromEnv = env['CACHE_TESTS_DIR'];
	if (fromEnv !== undefined && fromEnv !== '') {
		return [resolve(fromEnv)];
	}

	return ['/work/cache-tests', resolve(repoRoot, '..', 'cache-tests')];
}

/** How to get the suite, printed when it is absent. */
export function obtainInstructions(tried: readonly string[]): string {
	return [
		'The HTTP cache test suite (https://github.com/http-tests/cache-tests) was not found.',
		`Looked in: ${tried.join(', ')} (a directory holding ${requiredFiles.join(', ')}).`,
		'',
		'Get it, outside this repository, and run again:',
		'  git clone https://github.com/http-tests/cache-tests ../cache-tests',
		'  npx tsx bench/cache-tests/run.ts',
		'or point CACHE_TESTS_DIR at an existing checkout:',
		'  CACHE_TESTS_DIR=/path/to/cache-tests npx tsx bench/cache-tests/run.ts',
		'The runner needs no `npm install` in the suite: it uses only its test files, client engine and server.',
	].join('\n');
}

/** The suite's directory, or `undefined` with the places tried. */
export function locateSuite(env: NodeJS.ProcessEnv = process.env): {dir: string} | {dir: undefined; tried: string[]} {
	const tried = candidateDirs(env);
	for (const dir of tried) {
		if (requiredFiles.every(file => existsSync(join(dir, file)))) {
			return {dir};
		}
	}

	return {dir: undefined, tried};
}

/** What version of the suite is at `dir`: package version, git commit if any, reconstruction note. */
export function describeSuite(dir: string): {version: string; commit?: string; reconstructed: boolean} {
	let version = 'unknown';
	try {
		version = String((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {version?: unknown}).version ?? 'unknown');
	} catch {}

	const description: {version: string; commit?: string; reconstructed: boolean} = {
		version,
		reconstructed: existsSync(join(dir, 'RECONSTRUCTION.md')),
	};
	try {
		const head = readFileSync(join(dir, '.git', 'HEAD'), 'utf8').trim();
		const commit = head.startsWith('ref: ') ? readFileSync(join(dir, '.git', head.slice(5)), 'utf8').trim() : head;
		description.commit = commit;
	} catch {}

	return description;
}

/** The suite's test groups (`tests/index.mjs`). */
export async function loadSuites(dir: string): Promise<Suite[]> {
	const module = await import(pathToFileURL(join(dir, 'tests', 'index.mjs')).href) as {default: Suite[]};
	return module.default;
}

/** Whether a test runs when the suite targets a private (browser) cache, as the suite's runner decides. */
export function runsInBrowserMode(test: SuiteTest): boolean {
	return test.cdn_only !== true && test.browser_skip !== true;
}
