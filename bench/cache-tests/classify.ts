/**
 * Raw results classified as cache-tests.fyi shows them: by the suite's own
 * `determineTestResult` (lib/display.mjs), which honours each test's `depends_on` (a test whose
 * prerequisite did not pass is "dependency failed", whatever its own result) and its kind
 * (required / optimal / check).
 */
import {determineTestResult} from 'http-cache-tests/lib/display.mjs';
import type {RawResult} from 'http-cache-tests/tests/index.mjs';
import type {SuiteMode} from './configurations.js';
import {testGroups, testsOf} from './suite.js';

/** The outcomes `determineTestResult` can give, named as the suite names them. */
export const outcomes = ['pass', 'yes', 'fail', 'optional_fail', 'no', 'dependency_fail', 'setup_fail', 'retry', 'harness_fail', 'untested'] as const;
export type Outcome = typeof outcomes[number];

// determineTestResult returns [glyph, colour, emoji]; the emoji tells the outcomes apart.
const byEmoji: Readonly<Record<string, Outcome>> = {
	'✅': 'pass',
	Y: 'yes',
	'⛔️': 'fail',
	'⚠️': 'optional_fail',
	N: 'no',
	'⚪️': 'dependency_fail',
	'🔹': 'setup_fail',
	'↻': 'retry',
	'⁉️': 'harness_fail',
	'-': 'untested',
};

/** The table's columns. */
export type Counts = {
	/** Tests the suite runs in the configuration's mode. */
	tests: number;
	/** Required and optional tests passed (✅). */
	passed: number;
	/** requiredFailed + optionalFailed (+ harness failures). */
	failed: number;
	requiredFailed: number;
	optionalFailed: number;
	/** Checks (behaviour the specification leaves open) answered "yes". */
	checksYes: number;
	/** Checks answered "no". */
	checksNo: number;
	/** A prerequisite (`depends_on`) did not pass, so the test says nothing. */
	dependencyFailed: number;
	/** The test could not get to its check (a setup step failed, or the suite saw a retry). */
	setupErrors: number;
	/** No result at all (the run stopped early). */
	untested: number;
};

/** The outcome of every test the suite runs in `mode`, in suite order. */
export function classify(results: Readonly<Record<string, RawResult>>, mode: SuiteMode = 'private'): Map<string, Outcome> {
	const classified = new Map<string, Outcome>();
	for (const {test} of testsOf(mode)) {
		const [, , emoji] = determineTestResult(testGroups, test.id, results as Record<string, RawResult>);
		const outcome = byEmoji[emoji];
		if (outcome === undefined) {
			throw new Error(`determineTestResult gave an unknown result ${JSON.stringify(emoji)} for ${test.id}`);
		}

		classified.set(test.id, outcome);
	}

	return classified;
}

/** The table's figures for one configuration. */
export function count(classified: ReadonlyMap<string, Outcome>): Counts {
	const counts: Counts = {tests: 0, passed: 0, failed: 0, requiredFailed: 0, optionalFailed: 0, checksYes: 0, checksNo: 0, dependencyFailed: 0, setupErrors: 0, untested: 0};
	for (const outcome of classified.values()) {
		counts.tests++;
		switch (outcome) {
			case 'pass': {
				counts.passed++;
				break;
			}

			case 'yes': {
				counts.checksYes++;
				break;
			}

			case 'fail': {
				counts.failed++;
				counts.requiredFailed++;
				break;
			}

			case 'optional_fail': {
				counts.failed++;
				counts.optionalFailed++;
				break;
			}

			case 'no': {
				counts.checksNo++;
				break;
			}

			case 'harness_fail': {
				counts.failed++;
				break;
			}

			case 'dependency_fail': {
				counts.dependencyFailed++;
				break;
			}

			case 'setup_fail':
			case 'retry': {
				counts.setupErrors++;
				break;
			}

			case 'untested': {
				counts.untested++;
				break;
			}
		}
	}

	return counts;
}
