import type {CacheStore, RecordMeta} from '../backends/store.js';
import {type CachedEntry, decodeValue} from '../codec/entry.js';

/** One stored response as the inspector lists it (the body stays in the entry). */
export type EntryRow = Readonly<ReturnType<typeof rowOf>>;

/** True when a response record is past its expiry at `now`. */
export function isStale(expires: number | null, now: number): boolean {
	return expires !== null && expires <= now;
}

/** The request header values a `Vary` response was stored for (`accept-language=fr`): what tells variants apart. */
function variantOf({headers, request}: CachedEntry): string {
	const names = [headers['vary'] ?? []].flat().join(',').split(',').map(name => name.trim().toLowerCase()).filter(name => name !== '' && name !== '*');
	return names.map(name => `${name}=${request.headers[name] ?? ''}`).join(' ');
}

/** The row of a response stored under `key`: `url` is the final URL, `size` the body's bytes (`--json` keeps this order). */
export function rowOf(key: string, entry: CachedEntry, storedBytes: number, now: number) {
	return {
		key,
		method: entry.request.method,
		url: entry.url,
		requestUrl: entry.request.url,
		status: entry.status,
		size: entry.body.byteLength,
		storedBytes,
		createdAt: entry.createdAt,
		expires: entry.expires,
		stale: isStale(entry.expires, now),
		variant: variantOf(entry),
	};
}

/** The response a stored value holds, or undefined; any finite time decodes, an out-of-range one is shown marked. */
export function responseOf(bytes: Uint8Array): CachedEntry | undefined {
	try {
		const value = decodeValue(bytes, 'response', true);
		return value.kind === 'response' ? value : undefined;
	} catch {
		return undefined;
	}
}

/** Visit the stored responses `preselect` keeps (not those deleted meanwhile), one batch in memory at a time; counts the other records. */
export async function walkEntries(store: CacheStore, now: number, preselect: (meta: RecordMeta) => boolean, visit: (row: EntryRow) => void) {
	const tally = {redirects: 0, variantIndexes: 0, corrupt: 0};
	// Values read at once from a store in another process, a round trip each.
	const concurrency = store.local ? 1 : 16;
	for await (const batch of store.scan()) {
		const wanted: RecordMeta[] = [];
		for (const meta of batch) {
			if (meta.corrupt === true) {
				tally.corrupt++;
			} else if (meta.kind === 'redirect') {
				tally.redirects++;
			} else if (meta.kind === 'variants') {
				tally.variantIndexes++;
			} else if (preselect(meta)) {
				wanted.push(meta);
			}
		}

		for (let start = 0; start < wanted.length; start += concurrency) {
			// eslint-disable-next-line no-await-in-loop -- bounded: `concurrency` values in flight
			const records = await Promise.all(wanted.slice(start, start + concurrency).map(async ({key}) => ({key, record: await store.get(key)})));
			for (const {key, record} of records) {
				const entry = record === undefined ? undefined : responseOf(record.value);
				if (entry !== undefined) {
					visit(rowOf(key, entry, record!.value.byteLength, now));
				} else if (record !== undefined) {
					tally.corrupt++;
				}
			}
		}
	}

	return tally;
}
