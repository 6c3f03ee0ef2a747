import {statSync} from 'node:fs';
import {type Command, flag} from '../command.js';
import {type EntryRow, walkEntries} from '../entries.js';
import {escapeControls, formatBytes, formatTime, isoTime, jsonText} from '../format.js';
import {formatTable} from '../table.js';

type Bucket = {count: number; bytes: number};

function add(buckets: Map<string, Bucket>, name: string, bytes: number): void {
	const bucket = buckets.get(name);
	buckets.set(name, {count: (bucket?.count ?? 0) + 1, bytes: (bucket?.bytes ?? 0) + bytes});
}

function hostOf(url: string): string {
	return URL.canParse(url) ? new URL(url).host : '(no host)';
}

function fileBytes(file: string): number {
	let total = 0;
	for (const name of [file, `${file}-wal`]) {
		try {
			total += statSync(name).size;
		} catch {}
	}

	return total;
}

function bucketTable(title: string, buckets: Readonly<Record<string, Bucket>>): string {
	return formatTable(
		[{title}, {title: 'COUNT', align: 'right'}, {title: 'BYTES', align: 'right'}],
		Object.entries(buckets).map(([name, bucket]) => [name, String(bucket.count), formatBytes(bucket.bytes)]),
	);
}

/** `requests-cache stats`: counts, sizes, ages, by status and by host. */
export const statsCommand: Command = {
	name: 'stats',
	summary: 'counts, total bytes, oldest and newest entry, expired count, by status and by host',
	usage: '<cache>',
	description: 'Summarize what is stored: responses (fresh and expired), redirect aliases, Vary indexes, entries that do not decode, '
		+ 'body bytes and stored bytes, the oldest and newest response, and counts and bytes by status and by host '
		+ '(of the final URL). These are facts of the stored data; session.cache.stats() counts hits and misses of a running process.',
	options: {
		json: {type: 'boolean', description: 'the report as JSON (bytes as numbers, ISO times)'},
	},
	arguments: {min: 0, max: 0},
	examples: [
		'requests-cache stats ./http_cache.sqlite',
		'requests-cache stats \'redis://127.0.0.1:6379/0\' --cache-name api_cache --json',
	],
	async run({values, opened, now, output}) {
		const byStatus = new Map<string, Bucket>();
		const byHost = new Map<string, Bucket>();
		let oldest: EntryRow | undefined;
		let newest: EntryRow | undefined;
		const totals = {responses: 0, expired: 0, bodyBytes: 0, storedBytes: 0};
		const tally = await walkEntries(opened.store, now, () => true, row => {
			totals.responses++;
			totals.expired += row.stale ? 1 : 0;
			totals.bodyBytes += row.size;
			totals.storedBytes += row.storedBytes;
			add(byStatus, String(row.status), row.size);
			add(byHost, hostOf(row.url), row.size);
			oldest = oldest === undefined || row.createdAt < oldest.createdAt ? row : oldest;
			newest = newest === undefined || row.createdAt > newest.createdAt ? row : newest;
		});
		const point = (row: EntryRow | undefined) => (row === undefined ? null : {createdAt: isoTime(row.createdAt)!, url: row.url, key: row.key});
		const report = {
			cache: opened.description,
			responses: totals.responses,
			fresh: totals.responses - totals.expired,
			expired: totals.expired,
			redirectAliases: tally.redirects,
			varyIndexes: tally.variantIndexes,
			corrupt: tally.corrupt,
			bodyBytes: totals.bodyBytes,
			storedBytes: totals.storedBytes,
			...(opened.target.backend === 'sqlite' ? {fileBytes: fileBytes(opened.target.file)} : {}),
			oldest: point(oldest),
			newest: point(newest),
			byStatus: Object.fromEntries([...byStatus].sort(([a], [b]) => a.localeCompare(b))),
			byHost: Object.fromEntries([...byHost].sort(([a, x], [b, y]) => y.count - x.count || a.localeCompare(b))),
		};
		if (flag(values, 'json')) {
			output.write(jsonText(report));
			return 0;
		}

		const lines = [
			`cache      ${report.cache}`,
			`responses  ${report.responses} (${report.fresh} fresh, ${report.expired} expired)`,
			`aliases    ${tally.redirects} redirect ${tally.redirects === 1 ? 'alias' : 'aliases'}, ${tally.variantIndexes} Vary ${tally.variantIndexes === 1 ? 'index' : 'indexes'}`,
			`corrupt    ${tally.corrupt}`,
			`bytes      ${formatBytes(report.bodyBytes)} of bodies, ${formatBytes(report.storedBytes)} stored${report.fileBytes === undefined ? '' : `, ${formatBytes(report.fileBytes)} on disk`}`,
			`oldest     ${oldest === undefined ? '-' : `${formatTime(oldest.createdAt)}  ${escapeControls(oldest.url)}`}`,
			`newest     ${newest === undefined ? '-' : `${formatTime(newest.createdAt)}  ${escapeControls(newest.url)}`}`,
		];
		output.write(`${lines.join('\n')}\n`);
		if (report.responses > 0) {
			output.write(`\n${bucketTable('STATUS', report.byStatus)}\n${bucketTable('HOST', report.byHost)}`);
		}

		return 0;
	},
};
