import {Buffer} from 'node:buffer';
import {crc32} from 'node:zlib';
import type {RecordKind, StoreRecord} from '../backends/store.js';
import type {RedirectHop, ResponseHeaders} from '../models/response.js';

/** A request as stored beside its response: secrets replaced by `REDACTED`. */
export type StoredRequest = {
	method: string;
	url: string;
	headers: Record<string, string>;
	/** The redacted body as UTF-8 text, or null. */
	body: string | null;
};

/** What the policy learnt from a response's headers when it was stored, so that a read is arithmetic. */
export type ResponseFacts = {
	/** Seconds the response was already old on arrival. */
	readonly age: number;
	/** `must-revalidate` or `proxy-revalidate`: never served stale. */
	readonly mustRevalidate: boolean;
	/** Unqualified `no-cache`: never served without revalidation. */
	readonly noCache: boolean;
	/** Seconds, from the response's `Cache-Control`. */
	readonly staleIfError?: number;
	readonly staleWhileRevalidate?: number;
	/** For a `private` response: the derived identity of its requester, to which alone it is served. */
	readonly owner?: string;
};

/** A stored response. Times are absolute, in milliseconds since the epoch. */
export type CachedEntry = {
	readonly kind: 'response';
	readonly status: number;
	readonly reason: string;
	readonly headers: ResponseHeaders;
	/** The final URL, secrets redacted. */
	readonly url: string;
	readonly history: readonly RedirectHop[];
	readonly request: StoredRequest;
	readonly createdAt: number;
	/** When the entry stops being fresh, or null for never. */
	readonly expires: number | null;
	readonly facts: ResponseFacts;
	readonly body: Buffer;
};

/** A pointer from a redirected URL's key to the key of the response it led to. */
export type RedirectAlias = {
	readonly kind: 'redirect';
	readonly target: string;
	readonly url: string;
	readonly createdAt: number;
	readonly expires: number | null;
};

/** Stored under a URL's key when its response has `Vary`: the request headers that select a variant's key. */
export type VariantIndex = {
	readonly kind: 'variants';
	/** Lower-case request header names from the response's Vary, sorted. */
	readonly names: readonly string[];
	readonly url: string;
	readonly createdAt: number;
	readonly expires: number | null;
};

/** Any value a store keeps. */
export type StoredValue = CachedEntry | RedirectAlias | VariantIndex;

/** Raised when stored bytes do not decode to a complete, well-typed value; the cache treats it as a miss. */
export class CorruptEntryError extends Error {
	constructor(reason: string) {
		super(`Corrupt cache entry: ${reason}`);
		this.name = 'CorruptEntryError';
	}
}

// Layout: magic "RQC", version 2, u32 BE length of the JSON head, the head, the body, u32 BE CRC-32 of all before it.
const magic = [0x52, 0x51, 0x43, 0x02] as const;
const headStart = 8;

/** The largest time a `Date` holds, ms either side of the epoch (ECMA-262): beyond it `toISOString()` throws. */
export const MAX_TIME = 8.64e15;

/** True when `ms` is a time a `Date` can hold. */
export function isTimeInRange(ms: number): boolean {
	return Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME;
}

// Refused before it is stored: the store's columns and every reader would carry a time no `Date` holds.
function assertTime(name: string, ms: number | null): void {
	if (ms !== null && !isTimeInRange(ms)) {
		throw new RangeError(`encodeValue(): \`${name}\` must be a time within ±${MAX_TIME} ms of the epoch, got ${ms}`);
	}
}

/** Encode a value as the bytes a store keeps; a time out of the Date range throws a RangeError. */
export function encodeValue(value: StoredValue): Buffer {
	assertTime('createdAt', value.createdAt);
	assertTime('expires', value.expires);
	const body = value.kind === 'response' ? value.body : undefined;
	const head = JSON.stringify(body === undefined ? value : {...value, body: undefined});
	const headLength = Buffer.byteLength(head);
	const bodyLength = body?.length ?? 0;
	const out = Buffer.allocUnsafe(headStart + headLength + bodyLength + 4);
	out.set(magic, 0);
	out.writeUInt32BE(headLength, 4);
	out.write(head, headStart, 'utf8');
	body?.copy(out, headStart + headLength);
	out.writeUInt32BE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
	return out;
}

/** The record a store keeps for `value` under `key`. */
export function toRecord(key: string, value: StoredValue, deleteAt: number | null): StoreRecord {
	assertTime('deleteAt', deleteAt);
	return {key, kind: value.kind, url: value.url, createdAt: value.createdAt, expires: value.expires, deleteAt, value: encodeValue(value)};
}

/** What {@link decodeValue} gives back for `record`, made from `value` without decoding: its body a view of the record's bytes. */
export function decodedOf(value: StoredValue, record: StoreRecord): StoredValue {
	if (value.kind !== 'response') {
		return value;
	}

	const bytes = record.value;
	return {...value, body: Buffer.from(bytes.buffer, bytes.byteOffset + bytes.byteLength - 4 - value.body.length, value.body.length)};
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown, anyFinite: boolean): value is number {
	return typeof value === 'number' && (anyFinite ? Number.isFinite(value) : isTimeInRange(value));
}

function isStrings(value: unknown): value is string[] {
	return Array.isArray(value) && value.every(item => typeof item === 'string');
}

function isHeaders(value: unknown): value is ResponseHeaders {
	return isObject(value) && Object.values(value).every(item => typeof item === 'string' || isStrings(item));
}

function isStringRecord(value: unknown): value is Record<string, string> {
	return isObject(value) && Object.values(value).every(item => typeof item === 'string');
}

// RFC 9110 §5.1, §5.5, as WHATWG Headers and Node's http module take them: what every door can replay.
const fieldName = /^[!#$%&'*+.^_`|~\dA-Za-z-]+$/;
const badFieldValue = /[\0\r\n\u0100-\uFFFF]/;

function unreplayableHeader(headers: ResponseHeaders): string | undefined {
	for (const name in headers) {
		if (!fieldName.test(name)) {
			return `header name ${JSON.stringify(name.slice(0, 40))} is not a token`;
		}

		const value = headers[name]!;
		if ((typeof value === 'string' ? [value] : value).some(item => badFieldValue.test(item))) {
			return `header ${JSON.stringify(name)} has a value no HTTP message can carry`;
		}
	}

	return undefined;
}

const bodilessStatuses: ReadonlySet<number> = new Set([204, 205, 304]);

function checkResponse(head: Record<string, unknown>, bodyLength: number): void {
	const {status, reason, headers, history, request, facts} = head;
	// Only a final status (RFC 9110 §15) is something a client can be answered with.
	if (!Number.isInteger(status) || (status as number) < 200 || (status as number) > 599) {
		throw new CorruptEntryError('status is not a final status (200-599)');
	}

	if (typeof reason !== 'string' || !isHeaders(headers)) {
		throw new CorruptEntryError('reason or headers malformed');
	}

	const unreplayable = unreplayableHeader(headers);
	if (unreplayable !== undefined) {
		throw new CorruptEntryError(unreplayable);
	}

	if (bodilessStatuses.has(status as number) && bodyLength > 0) {
		throw new CorruptEntryError(`a ${String(status)} with a body`);
	}

	if (!Array.isArray(history) || !history.every(hop => isObject(hop) && Number.isInteger(hop['status']) && typeof hop['url'] === 'string' && isHeaders(hop['headers']))) {
		throw new CorruptEntryError('history malformed');
	}

	if (!isObject(request) || typeof request['method'] !== 'string' || typeof request['url'] !== 'string'
		|| !isStringRecord(request['headers']) || !(request['body'] === null || typeof request['body'] === 'string')) {
		throw new CorruptEntryError('request malformed');
	}

	if (!isObject(facts) || typeof facts['age'] !== 'number' || typeof facts['mustRevalidate'] !== 'boolean' || typeof facts['noCache'] !== 'boolean'
		|| !(facts['owner'] === undefined || typeof facts['owner'] === 'string')) {
		throw new CorruptEntryError('facts malformed');
	}
}

/** Decode and validate a stored value, or throw {@link CorruptEntryError}; `anyFiniteTime` for the inspector, which marks a bad time. */
export function decodeValue(bytes: Uint8Array, expectedKind?: RecordKind, anyFiniteTime = false): StoredValue {
	const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (buffer.length < headStart + 4 || buffer[0] !== magic[0] || buffer[1] !== magic[1] || buffer[2] !== magic[2]) {
		throw new CorruptEntryError('not a requests-cache value');
	}

	if (buffer[3] !== magic[3]) {
		throw new CorruptEntryError(`format version ${buffer[3]}, expected ${magic[3]}`);
	}

	const headLength = buffer.readUInt32BE(4);
	const bodyEnd = buffer.length - 4;
	if (headStart + headLength > bodyEnd) {
		throw new CorruptEntryError('truncated');
	}

	if (crc32(buffer.subarray(0, bodyEnd)) !== buffer.readUInt32BE(bodyEnd)) {
		throw new CorruptEntryError('checksum mismatch');
	}

	let head: unknown;
	try {
		head = JSON.parse(buffer.toString('utf8', headStart, headStart + headLength));
	} catch {
		throw new CorruptEntryError('head is not JSON');
	}

	if (!isObject(head) || typeof head['url'] !== 'string' || !isTime(head['createdAt'], anyFiniteTime) || !(head['expires'] === null || isTime(head['expires'], anyFiniteTime))) {
		throw new CorruptEntryError('missing URL, or a time missing or out of the Date range');
	}

	const {kind} = head;
	if (expectedKind !== undefined && kind !== expectedKind) {
		throw new CorruptEntryError(`kind ${String(kind)} where ${expectedKind} was recorded`);
	}

	switch (kind) {
		case 'redirect': {
			if (typeof head['target'] !== 'string' || head['target'] === '') {
				throw new CorruptEntryError('redirect without a target');
			}

			return head as RedirectAlias;
		}

		case 'variants': {
			if (!isStrings(head['names'])) {
				throw new CorruptEntryError('variant index without header names');
			}

			return head as VariantIndex;
		}

		case 'response': {
			checkResponse(head, bodyEnd - headStart - headLength);
			return {...head, body: buffer.subarray(headStart + headLength, bodyEnd)} as unknown as CachedEntry;
		}

		default: {
			throw new CorruptEntryError('unknown kind');
		}
	}
}
