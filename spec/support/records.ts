import type {Buffer} from 'node:buffer';
import type {CacheStore, RecordMeta} from '../../lib/backends/store.js';
import type {CachedEntry} from '../../lib/codec/entry.js';

/** A stored response as the store specs write it: a 200 of `body` for a GET of `url`. */
export function storedResponse(url: string, body: Buffer, createdAt: number, expires: number | null): CachedEntry {
	return {
		kind: 'response', status: 200, reason: 'OK', headers: {'content-type': 'application/octet-stream'}, url, history: [],
		request: {method: 'GET', url, headers: {}, body: null}, createdAt, expires, facts: {age: 0, mustRevalidate: false, noCache: false}, body,
	};
}

/** Every record's facts, from a whole scan. */
export async function scanAll(store: CacheStore): Promise<RecordMeta[]> {
	const metas: RecordMeta[] = [];
	for await (const page of store.scan()) {
		metas.push(...page);
	}

	return metas;
}
