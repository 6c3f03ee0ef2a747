import {Buffer} from 'node:buffer';
import type {CachedEntry} from '../codec/entry.js';
import type {ResponseHeaders} from '../models/response.js';

/** One byte range of a `Range: bytes=…` request: `first-[last]`, or the last `length` bytes. */
export type ByteRange =
	| {readonly kind: 'from'; readonly first: number; readonly last?: number}
	| {readonly kind: 'suffix'; readonly length: number};

/** What a stored `206` holds: `Content-Range: bytes first-last/total` (`total` undefined for `*`). */
type StoredRange = {readonly first: number; readonly last: number; readonly total: number | undefined};

/** The one byte range (RFC 9110 §14) a `Range` header asks for, or undefined when the cache does not answer it. */
export function parseRange(value: string | undefined): ByteRange | undefined {
	const match = value === undefined ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
	if (match === null) {
		return undefined;
	}

	const [, first = '', last = ''] = match;
	if (first === '') {
		const length = Number(last);
		return last === '' || length === 0 ? undefined : {kind: 'suffix', length};
	}

	if (last === '') {
		return {kind: 'from', first: Number(first)};
	}

	return Number(last) < Number(first) ? undefined : {kind: 'from', first: Number(first), last: Number(last)};
}

/** A `Content-Range: bytes first-last/total` header, or undefined when it is not one. */
export function parseContentRange(headers: ResponseHeaders): StoredRange | undefined {
	const value = headers['content-range'];
	const match = typeof value === 'string' ? /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value) : null;
	if (match === null) {
		return undefined;
	}

	const first = Number(match[1]);
	const last = Number(match[2]);
	const total = match[3] === '*' ? undefined : Number(match[3]);
	return last < first || (total !== undefined && last >= total) ? undefined : {first, last, total};
}

type Slice = {readonly first: number; readonly last: number; readonly total: number | undefined; readonly start: number; readonly end: number};

/** Where `range` lies in a stored body, or undefined when the stored response does not hold all of it. */
function sliceOf(entry: Pick<CachedEntry, 'status' | 'headers' | 'body'>, range: ByteRange): Slice | undefined {
	const size = entry.body.length;
	if (size === 0) {
		return undefined;
	}

	if (entry.status === 200) {
		if (range.kind === 'suffix') {
			const first = Math.max(0, size - range.length);
			return {first, last: size - 1, total: size, start: first, end: size};
		}

		if (range.first >= size) {
			return undefined;
		}

		const last = Math.min(range.last ?? size - 1, size - 1);
		return {first: range.first, last, total: size, start: range.first, end: last + 1};
	}

	const stored = entry.status === 206 ? parseContentRange(entry.headers) : undefined;
	if (stored === undefined) {
		return undefined;
	}

	if (range.kind === 'suffix') {
		// Only a stored part that reaches the end holds the last bytes; they are the end of its body.
		if (stored.total === undefined || stored.last !== stored.total - 1) {
			return undefined;
		}

		const length = Math.min(range.length, size);
		return {first: stored.total - length, last: stored.last, total: stored.total, start: size - length, end: size};
	}

	const last = range.last ?? (stored.total === undefined ? undefined : stored.total - 1);
	if (range.first < stored.first || last === undefined || last > stored.last) {
		return undefined;
	}

	return {first: range.first, last, total: stored.total, start: range.first - stored.first, end: Math.min(size, last - stored.first + 1)};
}

/** Whether a stored response (a complete `200`, or a `206`) holds every byte of `range`. */
export function covers(entry: Pick<CachedEntry, 'status' | 'headers' | 'body'>, range: ByteRange): boolean {
	return sliceOf(entry, range) !== undefined;
}

/** The stored entry cut down to `range` as a `206 Partial Content`, or undefined when it does not cover it. */
export function partialEntry(entry: CachedEntry, range: ByteRange): CachedEntry | undefined {
	const slice = sliceOf(entry, range);
	if (slice === undefined) {
		return undefined;
	}

	const body = Buffer.from(entry.body.subarray(slice.start, slice.end));
	const headers: ResponseHeaders = {
		...entry.headers,
		'content-range': `bytes ${slice.first}-${slice.last}/${slice.total ?? '*'}`,
		'content-length': String(body.length),
	};
	return {...entry, status: 206, reason: 'Partial Content', headers, body};
}
