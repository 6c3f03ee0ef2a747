/**
 * The public HTTP cache test suite as installed from npm (`http-cache-tests`, a devDependency): its
 * version, and the tests it runs in private-cache ("browser") mode and in shared-cache mode.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname} from 'node:path';
import groups, {type SuiteTest, type TestGroup} from 'http-cache-tests/tests/index.mjs';
import type {SuiteMode} from './configurations.js';

const require = createRequire(import.meta.url);

/** The installed package's directory. */
export const suiteDir = dirname(require.resolve('http-cache-tests/package.json'));

/** The installed package's version. */
export const suiteVersion = String((JSON.parse(readFileSync(`${suiteDir}/package.json`, 'utf8')) as {version?: unknown}).version);

/** The suite's test groups (`tests/index.mjs`, the list cache-tests.fyi runs). */
export const testGroups: TestGroup[] = groups;

/** Whether the suite's client runs `test` with `browserCache = true` (its `runTests` filter). */
export function runsInBrowserMode(test: SuiteTest): boolean {
	return test.browser_skip !== true;
}

/** The tests a private-cache run executes, with the group each belongs to. */
export const browserTests: ReadonlyArray<{test: SuiteTest; group: TestGroup}> = testGroups.flatMap(group =>
	group.tests.filter(test => runsInBrowserMode(test)).map(test => ({test, group})));

/**
 * Whether the suite's client runs `test` with `browserCache = false`, as it runs a proxy or CDN
 * (its `runTests` filter). 0.4.5 marks no test `cdn_only`; the filter does not read it.
 */
export function runsInSharedMode(test: SuiteTest): boolean {
	return test.browser_only !== true;
}

/** The tests a shared-cache run executes, with the group each belongs to. */
export const sharedTests: ReadonlyArray<{test: SuiteTest; group: TestGroup}> = testGroups.flatMap(group =>
	group.tests.filter(test => runsInSharedMode(test)).map(test => ({test, group})));

/** The tests a run in `mode` executes. */
export function testsOf(mode: SuiteMode): ReadonlyArray<{test: SuiteTest; group: TestGroup}> {
	return mode === 'shared' ? sharedTests : browserTests;
}
