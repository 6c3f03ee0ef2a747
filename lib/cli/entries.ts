import type {CacheStore, RecordMeta} from '../backends/store.js';
import {type CachedEntry, decodeValue} from '../codec/entry.js';

/** One stored response as the inspector lists it (the body stays in `entry`). */
export type EntryRow = {
	readonly key: string;
	readonly method: string;
	/** The final URL (after redirects), secrets redacted. */
	readonly url: string;
	/** The URL that was requested, secrets redacted. */
	readonly requestUrl: string;
	readonly status: number;
	/** Body bytes. */
	readonly size: number;
	/** Bytes of the stored value (head, body, checksum). */
	readonly storedBytes: number;
	readonly createdAt: number;
	readonly expires: number | null;
	/** Past its expiry (a stale entry may still be revalidated or served stale by a session). */
	readonly stale: boolean;
	/** For a response with `Vary`, the request header values that selected it (`accept-language=fr`), else ''. */
	readonly variant: string;
};

/** What a walk over a store found besides responses. */
export type WalkTally = {
	redirects: number;
	variantIndexes: number;
	/** Records that do not decode (listed as corrupt by the store, or failing the codec's checks). */
	corrupt: number;
};

/** True when a response record is past its expiry at `now`. */
export function isStale(expires: number | null, now: number): boolean {
	return expires !== null && expires <= now;
}

/** The request header values a `Vary` response was stored for: what tells its variants apart. */
function variantOf(entry: CachedEntry): string {
	const vary = entry.headers['vary'];
	if (vary === undefined) {
		return '';
	}

	const names = (typeof vary === 'string' ? vary : vary.join(',')).split(',').map(name => name.trim().toLowerCase()).filter(name => name !== '' && name !== '*');
	return names.map(name => `${name}=${entry.request.headers[name] ?? ''}`).join(' ');
}

/** The listing row of a decoded response stored under `key`. */
export function rowOf(key: string, entry: CachedEntry, storedBytes: number, now: number): EntryRow {
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

/** Values read at once from a store that is not in this process (one round trip each). */
const remoteConcurrency = 16;

/**
 * Visit every stored response: the store's listing (facts only) is walked batch by batch, the
 * responses that `preselect` keeps are read and decoded, and `visit` gets each with its decoded
 * entry, one batch in memory at a time. Records deleted meanwhile are skipped; records that do not
 * decode are counted as corrupt. Returns the tally of the other records.
 */
export async function walkEntries(
	store: CacheStore,
	now: number,
	preselect: (meta: RecordMeta) => boolean,
	visit: (row: EntryRow, entry: CachedEntry) => void | Promise<void>,
): Promise<WalkTally> {
	const tally: WalkTally = {redirects: 0, variantIndexes: 0, corrupt: 0};
	const concurrency = store.local ? 1 : remoteConcurrency;
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
			const slice = wanted.slice(start, start + concurrency);
			// eslint-disable-next-line no-await-in-loop -- bounded: `concurrency` values in flight
			const records = await Promise.all(slice.map(async meta => store.get(meta.key)));
			for (const [index, record] of records.entries()) {
				if (record === undefined) {
					continue;
				}

				let entry: CachedEntry | undefined;
				try {
					const value = decodeValue(record.value, 'response', true);
					entry = value.kind === 'response' ? value : undefined;
				} catch {
					entry = undefined;
				}

				if (entry === undefined) {
					tally.corrupt++;
					continue;
				}

				// eslint-disable-next-line no-await-in-loop -- the visitor may write output in order
				await visit(rowOf(slice[index]!.key, entry, record.value.byteLength, now), entry);
			}
		}
	}

	return tally;
}
