/**
 * The public HTTP cache test suite as installed from npm (`http-cache-tests`, a devDependency): its
 * version, and the tests it runs in private-cache ("browser") mode.
 */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname} from 'node:path';
import groups, {type SuiteTest, type TestGroup} from 'http-cache-tests/tests/index.mjs';

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
