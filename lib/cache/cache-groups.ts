import type {CacheStore} from '../backends/store.js';
import {decodeValue} from '../codec/entry.js';
import {inAnyGroup} from '../policy/cache-groups.js';

/** The keys of the stored responses of `groups` on `origin` (RFC 9875): one pass over the record facts (docs/http-caching.md). */
export async function groupMemberKeys(store: CacheStore, origin: string, groups: readonly string[]): Promise<string[]> {
	const wanted = new Set(groups);
	const candidates: string[] = [];
	for await (const page of store.scan()) {
		for (const meta of page) {
			if (meta.kind === 'response' && originOf(meta.url) === origin) {
				candidates.push(meta.key);
			}
		}
	}

	const keys: string[] = [];
	for (const key of candidates) {
		// eslint-disable-next-line no-await-in-loop -- one value in memory at a time
		const record = await store.get(key);
		try {
			const value = record === undefined ? undefined : decodeValue(record.value, record.kind);
			if (value?.kind === 'response' && inAnyGroup(value.headers, wanted)) {
				keys.push(key);
			}
		} catch {
			// A corrupt record is the read path's to drop; it belongs to no group.
		}
	}

	return keys;
}

/** The origin of an absolute URL, or undefined when it is none (`null` origins included). */
export function originOf(url: string): string | undefined {
	try {
		const {origin} = new URL(url);
		return origin === 'null' ? undefined : origin;
	} catch {
		return undefined;
	}
}
