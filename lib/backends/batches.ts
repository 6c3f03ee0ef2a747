import {type EntryMeta, fromStored, metaOf} from '../cache/entry.js';

/** How a stored value that does not decode is listed: created at 0 and expired, so sweeps remove it. */
export function corruptMeta(key: string): EntryMeta {
	return {key, kind: 'response', url: '', createdAt: 0, expires: 0, corrupt: true};
}

/**
 * Delete `keys` in batches of `size`, one batch after another so that a large delete never floods
 * the store; `deleteBatch` resolves to how many of its keys existed. Returns the total.
 */
export async function deleteInBatches(keys: readonly string[], size: number, deleteBatch: (slice: string[]) => Promise<number>): Promise<number> {
	let deleted = 0;
	for (let index = 0; index < keys.length; index += size) {
		// eslint-disable-next-line no-await-in-loop -- bounded batches, one at a time, by design
		deleted += await deleteBatch(keys.slice(index, index + size));
	}

	return deleted;
}

/** Group the items of an iterable (sync or async) into arrays of at most `size`. */
export async function * batched<T>(items: Iterable<T> | AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
	let batch: T[] = [];
	for await (const item of items) {
		batch.push(item);
		if (batch.length >= size) {
			yield batch;
			batch = [];
		}
	}

	if (batch.length > 0) {
		yield batch;
	}
}

/**
 * The metadata of a raw value decoded the Keyv way (`{value, expires}`), or {@link corruptMeta}
 * when it does not decode to an entry.
 */
export async function decodeMeta(key: string, raw: unknown, decode: (raw: unknown) => Promise<unknown>): Promise<EntryMeta> {
	try {
		const data = await decode(raw) as {value?: unknown} | undefined;
		return metaOf(key, fromStored(data?.value));
	} catch {
		return corruptMeta(key);
	}
}

/**
 * The metadata of a row whose fields the server extracted (`kind`, `url`, `createdAt`, and
 * `expires`, where null means never); a row without a known kind is {@link corruptMeta}.
 */
export function metaOfColumns(key: string, row: Readonly<Record<string, unknown>>): EntryMeta {
	const {kind, url, createdAt, expires} = row;
	if ((kind !== 'response' && kind !== 'redirect' && kind !== 'variants') || typeof url !== 'string' || createdAt === null || createdAt === undefined) {
		return corruptMeta(key);
	}

	return {
		key,
		kind,
		url,
		createdAt: Number(createdAt),
		expires: expires === null || expires === undefined ? null : Number(expires),
	};
}

/** True when an entry falls under a `deleteWhere` filter: created before, or expired at, its time. */
export function matchesDeleteFilter(meta: EntryMeta, filter: {createdBefore?: number; expiredAt?: number}): boolean {
	return (filter.createdBefore !== undefined && meta.createdAt < filter.createdBefore)
		|| (filter.expiredAt !== undefined && meta.expires !== null && meta.expires <= filter.expiredAt);
}
