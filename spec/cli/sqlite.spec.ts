import assert from 'node:assert/strict';
import {Buffer} from 'node:buffer';
import {createHash} from 'node:crypto';
import {copyFileSync, existsSync, readFileSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {BaseCache, CachedSession, createStore} from '../../lib/index.js';
import {Origin} from '../support/origin.js';
import {freePort} from '../support/services.js';
import {removeDir, tempDir} from '../support/temp-dir.js';
import {type Filled, addRoutes, fillCache} from './fill-cache.js';
import {harProblems} from './har-schema.js';
import {type CliRun, runCli} from './run-cli.js';

type Row = {key: string; method: string; url: string; requestUrl: string; status: number; size: number; storedBytes: number; createdAt: string; expires: string | null; state: string};
type HarEntry = {
	startedDateTime: string;
	request: {method: string; url: string; cookies: unknown[]; queryString: Array<{name: string; value: string}>; postData?: {mimeType: string; params: Array<{name: string; value: string}>; text: string}};
	response: {status: number; redirectURL: string; cookies: Array<{name: string; value: string; expires?: string; httpOnly?: boolean}>; content: {size: number; mimeType: string; text?: string; encoding?: string}};
	_requestsCache: {key: string};
};

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A failure reported the way the CLI promises: exit code 2, one line on stderr, no stack. */
function assertCleanError(run: CliRun, pattern: RegExp): void {
	assert.equal(run.code, 2, `exit code 2; stderr: ${run.stderr}`);
	assert.match(run.stderr, pattern);
	assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
	assert.doesNotMatch(run.stderr, /\n\s+at |Error:|node:internal/, 'no stack trace');
	assert.equal(run.stdout, '');
}

describe('requests-cache CLI on a SQLite file', function () {
	this.timeout(60_000);
	let origin: Origin;
	let dir: string;
	let file: string;
	let filled: Filled;
	let copies = 0;

	/** A copy of the filled cache, for a command that deletes. */
	const copy = (): string => {
		const target = path.join(dir, `copy-${copies++}.sqlite`);
		copyFileSync(file, target);
		return target;
	};

	const key = (response: {cacheKey: string | undefined}): string => {
		assert.ok(response.cacheKey, 'the session stored the response under a key');
		return response.cacheKey;
	};

	before(async () => {
		origin = await Origin.start();
		addRoutes(origin);
		dir = tempDir('cli-sqlite');
		file = path.join(dir, 'http_cache.sqlite');
		filled = await fillCache(origin, {backend: 'sqlite', cacheName: path.join(dir, 'http_cache')});
		assert.ok(!existsSync(`${file}-wal`) || readFileSync(`${file}-wal`).length === 0, 'the sessions closed the file cleanly');
	});

	after(async () => {
		await origin.close();
		removeDir(dir);
	});

	describe('list', () => {
		it('prints every stored response as an aligned table, with the redirect as requested -> final URL', async () => {
			const run = await runCli(['list', file]);
			assert.equal(run.code, 0, run.stderr);
			const [header, ...rows] = run.stdout.trimEnd().split('\n');
			assert.match(header!, /^METHOD\s+STATUS\s+SIZE\s+CREATED\s+EXPIRES\s+STATE\s+KEY\s+URL$/);
			assert.equal(rows.length, filled.all.length);
			const keyColumn = header!.indexOf('KEY');
			const urlColumn = header!.indexOf('URL');
			for (const response of filled.all) {
				const row = rows.find(line => line.includes(key(response)));
				assert.ok(row, `a row for ${response.url}`);
				assert.equal(row.indexOf(key(response)), keyColumn, 'the key column is aligned');
				assert.equal(row.slice(urlColumn).startsWith(response.request.url.replace('api_key=secret', 'api_key=REDACTED')), true, row);
			}

			const redirected = rows.find(line => line.includes(key(filled.redirected)))!;
			assert.ok(redirected.endsWith(`${origin.url}/redirect/2 -> ${origin.url}/json`), redirected);
			assert.match(rows.find(line => line.includes(key(filled.oldNotFound)))!, /^GET\s+404\s+10 B\s.*\sstale\s/);
			assert.match(rows.find(line => line.includes(key(filled.post)))!, /^POST\s+200\s.*\sfresh\s/);
		});

		it('gives the stored facts as JSON with --json: sizes, times, states', async () => {
			const run = await runCli(['list', file, '--json']);
			assert.equal(run.code, 0, run.stderr);
			const rows = JSON.parse(run.stdout) as Row[];
			assert.equal(rows.length, filled.all.length);
			for (const response of filled.all) {
				const row = rows.find(item => item.key === key(response));
				assert.ok(row, response.url);
				assert.equal(row.status, response.status);
				assert.equal(row.size, response.body.length);
				assert.equal(row.url, response.url.replace('api_key=secret', 'api_key=REDACTED'), 'the stored URL, secrets redacted');
				assert.equal(row.method, response.request.method);
				assert.equal(row.createdAt, response.createdAt!.toISOString());
				assert.equal(row.expires, response.expires?.toISOString() ?? null);
			}

			assert.deepEqual(rows.filter(row => row.state === 'stale').map(row => row.key).sort(), [key(filled.oldJson), key(filled.oldNotFound)].sort());
			assert.deepEqual(rows.map(row => row.createdAt), rows.map(row => row.createdAt).sort(), 'oldest first');
		});

		it('filters by URL glob (requested or final URL), status, and freshness', async () => {
			const keysOf = async (...arguments_: string[]): Promise<string[]> => {
				const run = await runCli(['list', file, '--json', ...arguments_]);
				assert.equal(run.code, 0, run.stderr);
				return (JSON.parse(run.stdout) as Row[]).map(row => row.key).sort();
			};

			const host = new URL(origin.url).host;
			const [json, redirect, notFound, errors, stale, fresh, staleErrors, none] = await Promise.all([
				keysOf('--url', `${host}/json`),
				keysOf('--url', '*/redirect/*'),
				keysOf('--status', '404'),
				keysOf('--status', '4xx,5xx'),
				keysOf('--stale'),
				keysOf('--fresh'),
				keysOf('--stale', '--status', '2xx'),
				keysOf('--url', `${host}/jso`),
			]);
			// `/json` matches /json?old=1, /json?a=1 and the redirect that ended at /json, but not `/jso`'s boundary.
			assert.deepEqual(json, [key(filled.oldJson), key(filled.json), key(filled.redirected)].sort());
			assert.deepEqual(redirect, [key(filled.redirected)]);
			assert.deepEqual(notFound, [key(filled.oldNotFound)]);
			assert.deepEqual(errors, [key(filled.oldNotFound)]);
			assert.deepEqual(stale, [key(filled.oldJson), key(filled.oldNotFound)].sort());
			assert.equal(fresh.length, filled.all.length - 2);
			assert.deepEqual(staleErrors, [key(filled.oldJson)]);
			assert.deepEqual(none, []);
		});

		it('refuses a --sort that is not one of its orders, even the name of an object property', async () => {
			for (const sort of ['age', 'constructor', 'toString']) {
				// eslint-disable-next-line no-await-in-loop
				const run = await runCli(['list', file, '--sort', sort]);
				assert.equal(run.code, 2, `--sort ${sort}`);
				assert.match(run.stderr, /--sort must be one of .*got "/);
			}
		});

		it('says so on stderr when nothing matches, and prints no table', async () => {
			const run = await runCli(['list', file, '--url', 'nowhere.example/*']);
			assert.equal(run.code, 0);
			assert.equal(run.stdout, '');
			assert.match(run.stderr, /no stored responses match/);
		});
	});

	describe('show', () => {
		it('shows an entry by key: facts, the stored request and the response headers, and a body hint', async () => {
			const run = await runCli(['show', file, key(filled.redirected)]);
			assert.equal(run.code, 0, run.stderr);
			assert.match(run.stdout, new RegExp(`^key +${key(filled.redirected)}\n`));
			assert.match(run.stdout, new RegExp(`request +GET ${origin.url}/redirect/2\n`));
			assert.match(run.stdout, new RegExp(`redirects +302 ${origin.url}/redirect/2 -> 302 ${origin.url}/redirect/1 -> ${origin.url}/json\n`));
			assert.match(run.stdout, /status +200 OK\n/);
			assert.match(run.stdout, /expires +\S+ \(fresh\)\n/);
			assert.match(run.stdout, /response headers\n {2}content-type: application\/json\n/);
			assert.match(run.stdout, /body: \d+ B, application\/json \(text, utf-8\); show it with --body/);
			assert.doesNotMatch(run.stdout, /"path":"\/json"/, 'no body without --body');
		});

		it('finds an entry by URL, decodes its body with the declared charset, and lists both Set-Cookie headers', async () => {
			const run = await runCli(['show', file, `${origin.url}/cafe`, '--body']);
			assert.equal(run.code, 0, run.stderr);
			// Requested with a Cookie, which is not part of the key: the URL's own key finds it.
			assert.match(run.stdout, /found by URL key \(GET\)/);
			assert.match(run.stdout, /set-cookie: sid=abc; Path=\/; HttpOnly\n {2}set-cookie: theme=dark; Max-Age=3600\n/);
			assert.match(run.stdout, /cookie: REDACTED/, 'the request\'s Cookie was stored redacted');
			assert.match(run.stdout, /body \(4 B, text, windows-1252\)\ncafé\n/);
		});

		it('finds an entry by the key a default session builds for a URL, and a redirected response by the URL of a hop, through its alias', async () => {
			const [bytes, hop] = await Promise.all([runCli(['show', file, `${origin.url}/bytes?n=300`]), runCli(['show', file, `${origin.url}/redirect/1`])]);
			assert.equal(bytes.code, 0, bytes.stderr);
			assert.match(bytes.stdout, new RegExp(`key +${key(filled.bytes)} +\\(found by URL key \\(GET\\)\\)`));
			assert.equal(hop.code, 0, hop.stderr);
			assert.match(hop.stdout, new RegExp(`key +${key(filled.redirected)} +\\(found by redirect alias [0-9a-f]+\\)`));
		});

		it('shows a binary body as a hex dump, and --raw writes its exact bytes', async () => {
			const [dump, raw] = await Promise.all([
				runCli(['show', file, key(filled.bytes), '--body']),
				runCli(['show', file, key(filled.bytes), '--raw']),
			]);
			assert.equal(dump.code, 0, dump.stderr);
			assert.match(dump.stdout, /body \(300 B, binary: application\/octet-stream without a charset; /);
			assert.match(dump.stdout, /\n00000000 {2}03 0a 11 18 1f 26 2d 34 3b 42 49 50 57 5e 65 6c {2}\.\.\.\.\.&-4;BIPW\^el\n/);
			assert.match(dump.stdout, /… 44 more bytes\n$/);
			assert.equal(raw.code, 0, raw.stderr);
			assert.deepEqual(raw.bytes, filled.bytes.body);
		});

		it('gives the entry, its headers and its body as JSON with --json --body', async () => {
			const run = await runCli(['show', file, key(filled.post), '--json', '--body']);
			assert.equal(run.code, 0, run.stderr);
			const [entry] = JSON.parse(run.stdout) as Array<Record<string, unknown> & {request: {body: string}; body: {text: string}}>;
			assert.equal(entry!['method'], 'POST');
			assert.equal(entry!.request.body, 'a=1&b=x+y');
			assert.equal(entry!.body.text, filled.post.body.toString('utf8'));
		});

		it('exits with 1 and a note when nothing is stored for the key or URL', async () => {
			const [byKey, byUrl] = await Promise.all([runCli(['show', file, 'no-such-key']), runCli(['show', file, `${origin.url}/never-requested`])]);
			for (const run of [byKey, byUrl]) {
				assert.equal(run.code, 1);
				assert.equal(run.stdout, '');
				assert.match(run.stderr, /^nothing stored for /);
			}
		});
	});

	describe('stats', () => {
		it('counts responses, expired ones, aliases and bytes, by status and by host', async () => {
			const [json, text] = await Promise.all([runCli(['stats', file, '--json']), runCli(['stats', file])]);
			assert.equal(json.code, 0, json.stderr);
			const report = JSON.parse(json.stdout) as Record<string, unknown> & {byStatus: Record<string, {count: number; bytes: number}>; byHost: Record<string, {count: number}>; oldest: {url: string}; newest: {key: string}};
			const bodyBytes = filled.all.reduce((total, response) => total + response.body.length, 0);
			assert.equal(report['responses'], 7);
			assert.equal(report['expired'], 2);
			assert.equal(report['fresh'], 5);
			assert.equal(report['redirectAliases'], 2);
			assert.equal(report['corrupt'], 0);
			assert.equal(report['bodyBytes'], bodyBytes);
			assert.ok((report['storedBytes'] as number) > bodyBytes);
			assert.ok((report['fileBytes'] as number) >= 4096);
			assert.deepEqual(report.byStatus, {200: {count: 6, bytes: bodyBytes - 10}, 404: {count: 1, bytes: 10}});
			assert.deepEqual(Object.keys(report.byHost), [new URL(origin.url).host]);
			assert.ok([filled.oldJson.url, filled.oldNotFound.url].includes(report.oldest.url));
			assert.equal(report.newest.key, key(filled.post));

			assert.equal(text.code, 0, text.stderr);
			assert.match(text.stdout, /^cache +sqlite .*http_cache\.sqlite\nresponses +7 \(5 fresh, 2 expired\)\naliases +2 redirect aliases, 0 Vary indexes\n/);
			assert.match(text.stdout, /\nSTATUS +COUNT +BYTES\n200 +6 /);
			assert.match(text.stdout, /\n404 +1 +10 B\n/);
		});
	});

	describe('export-har', () => {
		it('writes a HAR 1.2 log that has the structure the spec requires, with the hops, bodies and cookies', async () => {
			const har = path.join(dir, 'cache.har');
			const run = await runCli(['export-har', file, har]);
			assert.equal(run.code, 0, run.stderr);
			assert.match(run.stdout, /^wrote 9 HAR entries \(7 stored responses\) to /);
			const document = JSON.parse(readFileSync(har, 'utf8')) as {log: {version: string; creator: {name: string}; entries: HarEntry[]}};
			assert.deepEqual(harProblems(document), []);
			assert.equal(document.log.creator.name, 'requests-cache');
			const {entries} = document.log;
			assert.equal(entries.length, 9, '7 responses and 2 redirect hops');
			assert.deepEqual(entries.map(entry => entry.startedDateTime), entries.map(entry => entry.startedDateTime).sort(), 'in time order');

			const hops = entries.filter(entry => entry.response.status === 302);
			assert.deepEqual(hops.map(hop => [hop.request.url, hop.response.redirectURL]), [
				[`${origin.url}/redirect/2`, `${origin.url}/redirect/1`],
				[`${origin.url}/redirect/1`, `${origin.url}/json`],
			]);
			const bytes = entries.find(entry => entry.request.url.endsWith('/bytes?n=300'))!;
			assert.equal(bytes.response.content.encoding, 'base64');
			assert.deepEqual(Buffer.from(bytes.response.content.text!, 'base64'), filled.bytes.body);
			assert.deepEqual(bytes.request.queryString, [{name: 'n', value: '300'}]);

			const cafe = entries.find(entry => entry.request.url.endsWith('/cafe'))!;
			assert.equal(cafe.response.content.text, 'café');
			assert.equal(cafe.response.content.size, 4);
			assert.equal(cafe.response.content.mimeType, 'text/plain; charset=windows-1252');
			assert.deepEqual(cafe.response.cookies.map(item => [item.name, item.value, item.httpOnly ?? false]), [['sid', 'abc', true], ['theme', 'dark', false]]);
			assert.equal(Date.parse(cafe.response.cookies[1]!.expires!) - Date.parse(cafe.startedDateTime), 3600e3, 'Max-Age counted from when it was stored');
			assert.deepEqual(cafe.request.cookies, [], 'a redacted Cookie header lists no cookies');

			const post = entries.find(entry => entry.request.method === 'POST')!;
			assert.deepEqual(post.request.postData, {mimeType: 'application/x-www-form-urlencoded', params: [{name: 'a', value: '1'}, {name: 'b', value: 'x y'}], text: 'a=1&b=x+y'});
			assert.equal(post._requestsCache.key, key(filled.post));
		});

		it('exports only what the filters keep, to stdout with -', async () => {
			const run = await runCli(['export-har', file, '-', '--stale']);
			assert.equal(run.code, 0, run.stderr);
			const document = JSON.parse(run.stdout) as {log: {entries: HarEntry[]}};
			assert.deepEqual(harProblems(document), []);
			assert.deepEqual(document.log.entries.map(entry => entry._requestsCache.key).sort(), [key(filled.oldJson), key(filled.oldNotFound)].sort());
		});

		it('the schema check finds what a broken HAR lacks', () => {
			const broken = {log: {version: '1.1', creator: {name: 'x'}, entries: [{startedDateTime: 'yesterday', time: 5, request: {}, response: {status: '200'}, cache: {}, timings: {send: 0, wait: 0, receive: 1}, extra: 1}]}};
			const problems = harProblems(broken);
			for (const expected of ['har.log.version: must be "1.2"', 'har.log.creator.version: is required', 'har.log.entries[0].startedDateTime: must be an ISO 8601', 'har.log.entries[0].request.method: is required',
				'har.log.entries[0].response.status: must be a number', 'har.log.entries[0].extra: is not a HAR 1.2 field', 'har.log.entries[0].time: is 5, the timings add up to 1']) {
				assert.ok(problems.some(problem => problem.startsWith(expected)), `${expected} in ${problems.join('\n')}`);
			}
		});
	});

	describe('reading commands', () => {
		it('leave the file as it was', async () => {
			const target = copy();
			const before = sha256(target);
			for (const arguments_ of [['list', target], ['show', target, key(filled.cafe), '--body'], ['stats', target], ['export-har', target, '-']]) {
				// eslint-disable-next-line no-await-in-loop -- one process at a time on the file
				const run = await runCli(arguments_);
				assert.equal(run.code, 0, run.stderr);
			}

			assert.equal(sha256(target), before);
			assert.ok(!existsSync(`${target}-wal`) || readFileSync(`${target}-wal`).length === 0, 'nothing was written to the WAL');
		});
	});

	describe('delete and clear-expired', () => {
		it('delete --url removes the matching responses with their redirect aliases, and a session then misses them', async () => {
			const target = copy();
			const run = await runCli(['delete', target, '--url', '*/redirect/2']);
			assert.equal(run.code, 0, run.stderr);
			assert.match(run.stdout, /^deleted 3 entries from sqlite /, 'the response and its two aliases');

			const session = new CachedSession({cacheName: target.replace(/\.sqlite$/, '')});
			try {
				const hits = origin.hits();
				const bytes = await session.get(`${origin.url}/bytes?n=300`);
				assert.equal(bytes.fromCache, true);
				assert.equal(origin.hits(), hits, 'what was not deleted is still served from the cache');
				// A hop first: refetching /redirect/2 first would store the chain, and its aliases, again.
				for (const url of ['/redirect/1', '/redirect/2']) {
					// eslint-disable-next-line no-await-in-loop -- in order
					const response = await session.get(`${origin.url}${url}`);
					assert.equal(response.fromCache, false, url);
				}

				assert.ok(origin.hits() > hits, 'the deleted chain went to the origin');
			} finally {
				await session.close();
			}
		});

		it('delete --older-than removes what was stored before that age', async () => {
			const target = copy();
			const [tooYoung] = [await runCli(['delete', target, '--older-than', '11d'])];
			assert.match(tooYoung.stdout, /^deleted 0 entries/);
			const run = await runCli(['delete', target, '--older-than', '9d', '--json']);
			assert.equal(run.code, 0, run.stderr);
			assert.deepEqual(JSON.parse(run.stdout), {deleted: 2});
			const list = JSON.parse((await runCli(['list', target, '--json'])).stdout) as Row[];
			assert.equal(list.length, 5);
			assert.ok(list.every(row => row.state === 'fresh'));
		});

		it('delete --key removes one entry, and repeated --key several', async () => {
			const target = copy();
			const run = await runCli(['delete', target, '--key', key(filled.cafe), '--key', key(filled.bytes), '--key', 'not-stored']);
			assert.equal(run.code, 0, run.stderr);
			assert.match(run.stdout, /^deleted 2 entries/);
			const cache = new BaseCache(createStore({backend: 'sqlite', cacheName: target, url: undefined, ttlOffset: 3600}));
			try {
				assert.equal(await cache.contains(key(filled.cafe)), false);
				assert.equal(await cache.contains(key(filled.bytes)), false);
				assert.equal(await cache.contains(key(filled.post)), true);
			} finally {
				await cache.close();
			}
		});

		it('clear-expired removes the expired entries and nothing else', async () => {
			const target = copy();
			const run = await runCli(['clear-expired', target]);
			assert.equal(run.code, 0, run.stderr);
			assert.match(run.stdout, /^deleted 2 expired entries from sqlite /);
			const stats = JSON.parse((await runCli(['stats', target, '--json'])).stdout) as Record<string, number>;
			assert.equal(stats['responses'], 5);
			assert.equal(stats['expired'], 0);
			assert.equal(stats['redirectAliases'], 2);
		});
	});

	describe('Vary variants', () => {
		it('lists each variant with the header values it was stored for, shows them all by URL, and deletes them with their index', async () => {
			origin.route('/vary', (request, response) => {
				response.writeHead(200, {'content-type': 'text/plain', vary: 'Accept-Language', 'cache-control': 'max-age=600'});
				response.end(`hello ${String(request.headers['accept-language'])}`);
			});
			const cacheName = path.join(dir, 'vary');
			const session = new CachedSession({cacheName, cacheControl: true});
			try {
				for (const language of ['en', 'fr']) {
					// eslint-disable-next-line no-await-in-loop -- one variant after the other
					await session.get(`${origin.url}/vary`, {headers: {'accept-language': language}});
				}
			} finally {
				await session.close();
			}

			const target = `${cacheName}.sqlite`;
			const [list, show, stats] = await Promise.all([runCli(['list', target]), runCli(['show', target, `${origin.url}/vary`, '--body']), runCli(['stats', target, '--json'])]);
			assert.equal(list.code, 0, list.stderr);
			assert.match(list.stdout, new RegExp(`${origin.url}/vary \\[accept-language=en\\]\n`));
			assert.match(list.stdout, new RegExp(`${origin.url}/vary \\[accept-language=fr\\]\n`));
			assert.equal(show.code, 0, show.stderr);
			assert.equal(show.stdout.match(/\(found by final URL\)/g)?.length, 2);
			assert.match(show.stdout, /accept-language: en\n[^]*\nhello en\n/);
			assert.match(show.stdout, /accept-language: fr\n[^]*\nhello fr\n/);
			assert.equal((JSON.parse(stats.stdout) as Record<string, number>)['varyIndexes'], 1);
			const deleted = await runCli(['delete', target, '--url', '*/vary']);
			assert.match(deleted.stdout, /^deleted 3 entries/, 'two variants and their index');
		});
	});

	describe('errors', () => {
		it('reports a bad command line with exit code 2 and one line, never a stack trace', async () => {
			const cases: Array<[string[], RegExp]> = [
				[['frobnicate', file], /^requests-cache: unknown command "frobnicate"; the commands are list, show, stats, delete, clear-expired, export-har/],
				[['lsit', file], /^requests-cache: unknown command "lsit" \(did you mean list\?\)/],
				[['list'], /missing the cache/],
				[['list', file, '--bogus'], /list: Unknown option '--bogus' \(see requests-cache list --help\)/],
				[['list', file, '--status', 'ok'], /--status takes status codes or classes/],
				[['list', file, '--fresh', '--stale'], /--fresh and --stale exclude each other/],
				[['delete', file], /delete needs --url <glob>, --older-than <age> or --key <key>/],
				[['delete', file, '--older-than', '7'], /--older-than must be an age such as 7d/],
				[['show', file], /show: missing an argument/],
				[['list', file, '--cache-name', 'x'], /--cache-name applies to redis:\/\/ and mongodb:\/\/ URLs/],
				[['list', 'postgres://127.0.0.1/test'], /unsupported cache URL scheme "postgres:\/\/"/],
			];
			const runs = await Promise.all(cases.map(async ([arguments_]) => runCli(arguments_)));
			for (const [index, [, pattern]] of cases.entries()) {
				assertCleanError(runs[index]!, pattern);
			}
		});

		it('reports a missing file, a directory, a file that is not SQLite, and another program\'s SQLite file, and creates nothing', async () => {
			const missing = path.join(dir, 'missing.sqlite');
			const text = path.join(dir, 'notes.sqlite');
			writeFileSync(text, 'not a database');
			const foreign = path.join(dir, 'other.sqlite');
			const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => {exec(sql: string): void; close(): void};
			const db = new Database(foreign);
			db.exec('CREATE TABLE things (id INTEGER PRIMARY KEY)');
			db.close();
			const foreignBefore = sha256(foreign);

			const [onMissing, onDirectory, onText, onForeign] = await Promise.all([
				runCli(['list', missing]), runCli(['stats', dir]), runCli(['list', text]), runCli(['delete', foreign, '--older-than', '1d']),
			]);
			assertCleanError(onMissing, /^requests-cache: no such cache file: .*missing\.sqlite$/m);
			assertCleanError(onDirectory, /is a directory, not a cache file/);
			assertCleanError(onText, /notes\.sqlite is not a SQLite database/);
			assertCleanError(onForeign, /other\.sqlite is a SQLite database, but not a requests-cache cache/);
			assert.equal(existsSync(missing), false, 'no file was created');
			assert.equal(readFileSync(text, 'utf8'), 'not a database');
			assert.equal(sha256(foreign), foreignBefore, 'no table was added to another program\'s database');
		});

		it('reports a server that does not answer', async () => {
			const port = await freePort();
			const run = await runCli(['list', `redis://127.0.0.1:${port}/0?cacheName=x`, '--timeout', '2000']);
			assertCleanError(run, new RegExp(`^requests-cache: cannot reach redis redis://127\\.0\\.0\\.1:${port}/0 \\(cache "x"\\): .*ECONNREFUSED`));
		});
	});

	describe('help', () => {
		it('prints the commands, and each command\'s usage, options and examples', async () => {
			const commands = ['list', 'show', 'stats', 'delete', 'clear-expired', 'export-har'];
			const [general, helpList, ...runs] = await Promise.all([
				runCli(['--help']), runCli(['help', 'list']), ...commands.map(async command => runCli([command, '--help'])),
			]);
			assert.equal(general.code, 0);
			for (const command of commands) {
				assert.match(general.stdout, new RegExp(`\n {2}${command} +\\S`));
			}

			for (const [index, command] of commands.entries()) {
				const run = runs[index]!;
				assert.equal(run.code, 0, run.stderr);
				assert.match(run.stdout, new RegExp(`^Usage: requests-cache ${command} <cache>`));
				assert.match(run.stdout, /\nOptions:\n/);
				assert.match(run.stdout, /--cache-name <name>/);
				assert.match(run.stdout, new RegExp(`\nExamples:\n {2}requests-cache ${command} `));
			}

			assert.equal(helpList.stdout, runs[0]!.stdout);
			assert.match(runs[0]!.stdout, /--url <glob>.*\n.*--status <codes>.*\(repeatable\)/);
			assert.match(runs[3]!.stdout, /--older-than <age>/);
		});
	});
});
