import type {CacheStore} from '../backends/store.js';
import {decodeValue} from '../codec/entry.js';
import {inAnyGroup} from '../policy/cache-groups.js';

/**
 * The keys of the stored responses of `groups` on `origin` (RFC 9875). One pass over the
 * store's record facts, which carry each record's URL: only the responses of that origin are
 * read and decoded to see their `Cache-Groups`. An invalidation is rare (an unsafe request that
 * names groups, or `invalidateGroups()`), and lookups pay nothing for it; a generation record per
 * (origin, group) checked at lookup would skip the pass, at the price of a record kind every
 * store (and SQLite's schema) would have to learn. Keys are collected first and deleted by the
 * caller, never during the scan.
 */
export async function groupMemberKeys(store: CacheStore, origin: string, groups: readonly string[]): Promise<string[]> {
	const wanted = new Set(groups);
	const candidates: string[] = [];
	for await (const page of store.scan()) {
		for (const meta of page) {
			if (meta.kind === 'response' && sameOrigin(meta.url, origin)) {
				candidates.push(meta.key);
			}
		}
	}

	const keys: string[] = [];
	for (const key of candidates) {
		// eslint-disable-next-line no-await-in-loop -- one value in memory at a time
		const record = await store.get(key);
		if (record === undefined) {
			continue;
		}

		try {
			const value = decodeValue(record.value, record.kind);
			if (value.kind === 'response' && inAnyGroup(value.headers, wanted)) {
				keys.push(key);
			}
		} catch {
			// A corrupt record is the read path's to drop; it belongs to no group.
		}
	}

	return keys;
}

function sameOrigin(url: string, origin: string): boolean {
	try {
		return new URL(url).origin === origin;
	} catch {
		return false;
	}
}
