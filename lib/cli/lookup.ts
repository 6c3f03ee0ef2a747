import type {CacheStore} from '../backends/store.js';
import {createKey, redactUrl} from '../cache-keys.js';
import {type CachedEntry, type StoredValue, decodeValue} from '../codec/entry.js';
import {prepareRequest} from '../models/request.js';
import {type EntryRow, rowOf} from './entries.js';

/** A response found for a key or URL, and how it was found. */
export type Found = {
	readonly row: EntryRow;
	readonly entry: CachedEntry;
	/** `key`, `redirect alias <key>`, `URL key (GET)`, `final URL`, `Vary index <key>`. */
	readonly via: string;
};

const ignored: ReadonlySet<string> = new Set();

function decode(bytes: Uint8Array): StoredValue | undefined {
	try {
		// Any finite time: a value stored with one out of range is shown, its time marked.
		return decodeValue(bytes, undefined, true);
	} catch {
		return undefined;
	}
}

/** The http(s) URL `text` names, normalized, or undefined. */
function asUrl(text: string): URL | undefined {
	try {
		const url = new URL(text);
		return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Find the stored responses a key or a URL names. A key is read directly (a redirect alias leads
 * to its response, a Vary index to its variants). A URL is looked up under the keys a session with
 * the default key settings builds for it (GET and HEAD), and among the responses whose final URL
 * it is (which finds entries stored with other key settings, and every Vary variant).
 */
export async function lookup(store: CacheStore, argument: string, now: number): Promise<Found[]> {
	const found = new Map<string, Found>();
	const variantUrls = new Set<string>();
	const add = (key: string, value: StoredValue | undefined, storedBytes: number, via: string): void => {
		if (value?.kind !== 'response' || found.has(key)) {
			return;
		}

		found.set(key, {row: rowOf(key, value, storedBytes, now), entry: value, via});
	};

	const visitKey = async (key: string, via: string): Promise<void> => {
		const record = await store.get(key);
		const value = record === undefined ? undefined : decode(record.value);
		if (value?.kind === 'redirect') {
			const target = await store.get(value.target);
			add(value.target, target === undefined ? undefined : decode(target.value), target?.value.byteLength ?? 0, `redirect alias ${key}`);
		} else if (value?.kind === 'variants') {
			variantUrls.add(value.url);
		} else if (record !== undefined) {
			add(key, value, record.value.byteLength, via);
		}
	};

	await visitKey(argument, 'key');
	const url = asUrl(argument);
	if (url !== undefined) {
		for (const method of ['GET', 'HEAD']) {
			// eslint-disable-next-line no-await-in-loop -- two keys
			await visitKey(createKey(prepareRequest(method, url.href, {}, {}, 'requests-cache show'), {ignoredParameters: ignored, matchHeaders: false}), `URL key (${method})`);
		}

		variantUrls.add(url.href);
		variantUrls.add(redactUrl(url.href, ignored));
	}

	if (variantUrls.size > 0) {
		const keys: string[] = [];
		for await (const batch of store.scan()) {
			for (const meta of batch) {
				if (meta.kind === 'response' && meta.corrupt !== true && variantUrls.has(meta.url) && !found.has(meta.key)) {
					keys.push(meta.key);
				}
			}
		}

		for (const key of keys) {
			// eslint-disable-next-line no-await-in-loop -- few matches
			await visitKey(key, 'final URL');
		}
	}

	return [...found.values()];
}
