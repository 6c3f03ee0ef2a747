import assert from 'node:assert/strict';
import {CachedSession, type FetchInit, installCache, uninstallCache} from '../../lib/index.js';
import {Origin, type Seen} from '../support/origin.js';

const modes = ['default', 'no-store', 'reload', 'no-cache', 'force-cache', 'only-if-cached'] as const;
// The request headers a cache mode may change. (Pragma too, but undici adds `pragma: no-cache` to
// every conditional request it sends, as the Fetch standard says, and got does not: a difference
// of the transports below the cache, compared apart.)
const cacheHeaders = ['cache-control', 'if-none-match', 'if-modified-since'];

describe('doors: session.fetch and the global fetch door agree on every cache mode (issue 18)', () => {
	let origin: Origin;
	let session: CachedSession;

	before(async () => {
		origin = await Origin.start();
		origin.route('/m/*', (_request, response) => {
			// Stored this very second, the entry is young enough for no-cache's max-age=0: the mode
			// itself must make the cache ask (an Age here would hide that).
			response.writeHead(200, {'content-type': 'text/plain', 'cache-control': 'max-age=600', etag: '"v1"'});
			response.end('moded');
		});
		session = new CachedSession({backend: 'memory', cacheControl: true});
		installCache({backend: 'memory', cacheControl: true});
	});

	after(async () => {
		await uninstallCache();
		await session.close();
		await origin.close();
	});

	/** What reached the origin for `path`: per request, its cache headers. */
	function sent(path: string): Array<Record<string, string | undefined>> {
		return origin.seen.filter(seen => seen.path === path).map(seen => Object.fromEntries(cacheHeaders.map(name => [name, seen.headers[name] as string | undefined])));
	}

	for (const mode of modes) {
		it(`cache: '${mode}': the same requests reach the origin with the same headers, and the same status comes back`, async () => {
			const adapters = {
				'session.fetch': async (url: string, init?: object) => session.fetch(url, init as FetchInit),
				'global fetch door': async (url: string, init?: object) => fetch(url, init as RequestInit),
			};
			const seen: Record<string, unknown> = {};
			for (const [name, fetchIt] of Object.entries(adapters)) {
				const path = `/m/${mode}-${name.replaceAll(' ', '-')}`;
				// Something stored first, for the modes that read or refresh it.
				await (await fetchIt(`${origin.url}${path}`)).text();
				const response = await fetchIt(`${origin.url}${path}`, mode === 'only-if-cached' ? {cache: mode, mode: 'same-origin'} : {cache: mode});
				await response.text();
				seen[name] = {status: response.status, requests: sent(path)};
			}

			assert.deepEqual(seen['global fetch door'], seen['session.fetch'], JSON.stringify(seen));
			if (mode === 'no-cache') {
				// Always asked, however young the entry (the policy spec has the same-millisecond case).
				const {requests} = seen['session.fetch'] as {requests: Array<Record<string, string | undefined>>};
				assert.deepEqual(requests.map(request => request['if-none-match']), [undefined, '"v1"'], 'no-cache revalidates what is stored');
			}
			if (mode === 'no-store' || mode === 'reload') {
				for (const name of Object.keys(adapters)) {
					const path: string = `/m/${mode}-${name.replaceAll(' ', '-')}`;
					const last: Seen = origin.seen.filter(request => request.path === path).at(-1)!;
					assert.equal(last.headers['pragma'], 'no-cache', `${name} sends pragma: no-cache for ${mode}`);
					assert.equal(last.headers['cache-control'], 'no-cache', `${name} sends cache-control: no-cache for ${mode}`);
				}
			}
		});
	}
});
