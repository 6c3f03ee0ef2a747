import {Buffer} from 'node:buffer';
import type {StoredRequest} from '../cache-keys.js';
import type {RedirectHop, ResponseHeaders} from '../models/response.js';

/** A stored response. Times are absolute, in milliseconds since the epoch. */
export type CachedEntry = {
	kind: 'response';
	/** Format version, so that a future format can tell old entries apart. */
	v: 1;
	status: number;
	reason: string;
	headers: ResponseHeaders;
	url: string;
	history: RedirectHop[];
	/** The request, with secrets redacted. */
	request: StoredRequest;
	createdAt: number;
	/** When the entry stops being fresh, or null for never. */
	expires: number | null;
	/** Request headers named by the response's `Vary`, as sent (redacted values are never stored). */
	vary?: Record<string, string | null> | undefined;
	body: Buffer;
};

/** A pointer from a redirected URL's key to the key of the response it led to. */
export type RedirectAlias = {
	kind: 'redirect';
	v: 1;
	target: string;
	url: string;
	createdAt: number;
	expires: number | null;
};

/**
 * Stored under a URL's key when its response has `Vary`: the request headers that select a
 * variant. Each variant lives under its own key, derived from this key and those headers' values.
 */
export type VariantIndex = {
	kind: 'variants';
	v: 1;
	/** Lower-case request header names from the response's Vary. */
	names: string[];
	url: string;
	createdAt: number;
	expires: number | null;
};

export type StoredValue = CachedEntry | RedirectAlias | VariantIndex;

/** What bulk operations need to know of an entry, without its body. */
export type EntryMeta = {
	key: string;
	kind: 'response' | 'redirect' | 'variants';
	url: string;
	createdAt: number;
	expires: number | null;
	/** Set for a stored value that does not decode: listed so that sweeps and clear() remove it, never counted. */
	corrupt?: true;
};

/** Raised when a stored value does not decode to an entry; the cache treats it as a miss. */
export class CorruptEntryError extends Error {
	constructor(reason: string) {
		super(`Corrupt cache entry: ${reason}`);
		this.name = 'CorruptEntryError';
	}
}

/** A value with the body as base64, safe for any JSON serializer. */
export type JsonSafeValue = Omit<CachedEntry, 'body'> & {body: string} | RedirectAlias | VariantIndex;

/** Turn an entry into a JSON-safe value (body as base64). */
export function toJsonSafe(value: StoredValue): JsonSafeValue {
	return value.kind === 'response' ? {...value, body: value.body.toString('base64')} : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
	return typeof value === 'number' && Number.isFinite(value);
}

/** Validate a decoded value (JSON-safe or with a Buffer body) into a {@link StoredValue}. */
export function fromStored(value: unknown): StoredValue {
	if (!isObject(value)) {
		throw new CorruptEntryError('not an object');
	}

	if (value['v'] !== 1 || !isTime(value['createdAt']) || !(value['expires'] === null || isTime(value['expires'])) || typeof value['url'] !== 'string') {
		throw new CorruptEntryError('missing version, times or URL');
	}

	if (value['kind'] === 'redirect') {
		if (typeof value['target'] !== 'string') {
			throw new CorruptEntryError('redirect without a target');
		}

		return value as RedirectAlias;
	}

	if (value['kind'] === 'variants') {
		if (!Array.isArray(value['names']) || value['names'].some(name => typeof name !== 'string')) {
			throw new CorruptEntryError('variant index without header names');
		}

		return value as VariantIndex;
	}

	if (value['kind'] !== 'response' || !Number.isInteger(value['status']) || !isObject(value['headers']) || !isObject(value['request'])) {
		throw new CorruptEntryError('not a response');
	}

	const {body} = value;
	if (typeof body === 'string') {
		return {...value, body: Buffer.from(body, 'base64')} as CachedEntry;
	}

	if (!Buffer.isBuffer(body)) {
		throw new CorruptEntryError('body is neither bytes nor base64');
	}

	return value as CachedEntry;
}

/** The metadata of a decoded value. */
export function metaOf(key: string, value: StoredValue | JsonSafeValue): EntryMeta {
	return {key, kind: value.kind, url: value.url, createdAt: value.createdAt, expires: value.expires};
}
