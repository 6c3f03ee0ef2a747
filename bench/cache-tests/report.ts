/**
 * What a run shows: the counts table (console and Markdown), the tests each configuration did not
 * pass, and the generated section of docs/http-cache-tests.md.
 */
import {readFileSync, writeFileSync} from 'node:fs';
import type {RawResult} from 'http-cache-tests/tests/index.mjs';
import type {Counts, Outcome} from './classify.js';
import type {SuiteMode} from './configurations.js';

/** One test of one configuration, as results.json keeps it. */
export type TestReport = {
	outcome: Outcome;
	kind: 'required' | 'optimal' | 'check';
	group: string;
	/** The suite's raw result, the server address and test UUIDs masked so runs can be diffed. */
	result: RawResult | null;
	/** For a dependency failure: the prerequisites that did not pass. */
	failedDependencies?: string[];
};

/** One configuration's part of results.json. */
export type ConfigurationReport = {
	name: string;
	/** The suite's selection it ran (absent in results recorded before there were two). */
	mode?: SuiteMode;
	/** As the table shows it. */
	description: string;
	/** The library's version (requests-cache: package version and commit). */
	version: string;
	sessionOptions?: Readonly<Record<string, unknown>>;
	durationMs: number;
	/** Set when the configuration could not run at all (e.g. the library rejected its options). */
	error?: string;
	counts?: Counts;
	tests?: Record<string, TestReport>;
};

/** bench/cache-tests/results.json. */
export type ResultsFile = {
	suite: {package: string; version: string; mode: string; tests: number; sharedMode?: string; sharedTests?: number};
	date: string;
	/** The commit measured (`+`: with changes to lib/ not committed). */
	commit?: string | undefined;
	node: string;
	configurations: ConfigurationReport[];
};

const columns: ReadonlyArray<[keyof Counts, string]> = [
	['passed', 'passed'],
	['failed', 'failed'],
	['requiredFailed', 'required failed'],
	['optionalFailed', 'optional failed'],
	['checksYes', 'checks "yes"'],
	['checksNo', 'checks "no"'],
	['dependencyFailed', 'dependency failed'],
	['setupErrors', 'setup errors'],
];

function cells(report: ConfigurationReport): string[] {
	if (report.counts === undefined) {
		return columns.map(() => '–');
	}

	const counts = report.counts;
	return columns.map(([key]) => String(counts[key]));
}

/** The counts table as aligned text, for the console. */
export function consoleTable(reports: readonly ConfigurationReport[]): string {
	const rows = [['configuration', ...columns.map(([, title]) => title)], ...reports.map(report => [report.name, ...cells(report)])];
	const widths = rows[0]!.map((_cell, index) => Math.max(...rows.map(row => row[index]!.length)));
	const lines = rows.map(row => row.map((cell, index) => (index === 0 ? cell.padEnd(widths[index]!) : cell.padStart(widths[index]!))).join('  '));
	const notes = reports.filter(report => report.error !== undefined).map(report => `${report.name}: not run: ${report.error!}`);
	return [...lines, ...notes].join('\n');
}

/** The counts table in Markdown. */
export function markdownTable(reports: readonly ConfigurationReport[]): string {
	const header = `| cache | version | ${columns.map(([, title]) => title).join(' | ')} |`;
	const rule = `| --- | --- | ${columns.map(() => '---:').join(' | ')} |`;
	const rows = reports.map(report => {
		const values = cells(report);
		values[0] = report.counts === undefined ? `not run: ${report.error ?? 'unknown'}` : `**${values[0]!}**`;
		return `| ${report.description} | ${report.version} | ${values.join(' | ')} |`;
	});
	return [header, rule, ...rows].join('\n');
}

const listed: ReadonlyArray<[Outcome, string]> = [
	['fail', 'Required failed'],
	['optional_fail', 'Optional failed'],
	['no', 'Checks answered "no"'],
	['setup_fail', 'Setup errors'],
	['retry', 'Retried (setup errors)'],
	['harness_fail', 'Harness errors'],
	['dependency_fail', 'Dependency failed'],
	['untested', 'Not run'],
];

function message(test: TestReport): string {
	if (test.outcome === 'dependency_fail') {
		return `needs ${(test.failedDependencies ?? []).map(id => `\`${id}\``).join(', ')}`;
	}

	return test.result === null || test.result === true ? '' : test.result[1].replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** Every test a configuration did not pass, grouped by outcome (Markdown). */
export function markdownFailures(report: ConfigurationReport): string {
	if (report.tests === undefined) {
		return `Not run: ${report.error ?? 'unknown'}`;
	}

	const tests = Object.entries(report.tests);
	const sections: string[] = [];
	for (const [outcome, title] of listed) {
		const matching = tests.filter(([, test]) => test.outcome === outcome);
		if (matching.length > 0) {
			sections.push(`${title} (${matching.length}):\n\n${matching.map(([id, test]) => `- \`${id}\`${message(test) === '' ? '' : `: ${message(test)}`}`).join('\n')}`);
		}
	}

	return sections.length === 0 ? 'Every test passed.' : sections.join('\n\n');
}

/** The generated part of docs/http-cache-tests.md. */
export function markdownSection(file: ResultsFile): string {
	const privateReports = file.configurations.filter(report => (report.mode ?? 'private') === 'private');
	const sharedReports = file.configurations.filter(report => report.mode === 'shared');
	const parts = [
		`${file.date.slice(0, 10)} (${file.date.slice(11, 16)} UTC)${file.commit === undefined ? '' : `, commit ${file.commit}`}, Node ${file.node}, ${file.suite.package} ${file.suite.version} from npm; `
		+ 'every cache in the same run, each in its own process with a fresh cache. Counted as cache-tests.fyi counts '
		+ '(the suite\'s `determineTestResult`, dependencies honoured).',
		'',
		`**Private-cache mode** (${file.suite.mode}, ${file.suite.tests} tests):`,
		'',
		markdownTable(privateReports),
	];
	if (sharedReports.length > 0) {
		parts.push('', `**Shared-cache mode** (${file.suite.sharedMode ?? 'shared-cache mode'}, ${file.suite.sharedTests ?? '?'} tests):`, '', markdownTable(sharedReports));
	}

	parts.push(
		'',
		'"passed": required and optional tests passed (✅); "failed" = required failed (⛔️) + optional failed (⚠️); checks (behaviour the specifications leave open) are counted apart, as "yes" or "no".',
	);
	for (const report of file.configurations) {
		parts.push('', `<details><summary>${report.name}: tests not passed</summary>`, '', markdownFailures(report), '', '</details>');
	}

	return parts.join('\n');
}

const begin = '<!-- cache-tests results: generated by `npm run cache-tests`, do not edit by hand -->';
const end = '<!-- end of cache-tests results -->';

/** Replace the generated section of the page at `path` (between its two markers). */
export function updateDocs(path: string, section: string): void {
	const page = readFileSync(path, 'utf8');
	const from = page.indexOf(begin);
	const to = page.indexOf(end);
	if (from === -1 || to < from) {
		throw new Error(`${path} has no generated section (the lines ${begin} and ${end})`);
	}

	writeFileSync(path, `${page.slice(0, from + begin.length)}\n${section}\n${page.slice(to)}`);
}
