import type {CacheStore} from '../backends/store.js';
import {createKey, redactUrl} from '../cache-keys.js';
import {type CachedEntry, type StoredValue, decodeValue} from '../codec/entry.js';
import {prepareRequest} from '../models/request.js';
import {type EntryRow, rowOf} from './entries.js';

/** A response found for a key or URL, and how (`key`, `redirect alias <key>`, `URL key (GET)`, `final URL`). */
export type Found = {
	readonly row: EntryRow;
	readonly entry: CachedEntry;
	readonly via: string;
};

const ignored: ReadonlySet<string> = new Set();

function decode(bytes: Uint8Array | undefined): StoredValue | undefined {
	try {
		// Any finite time: a value stored with one out of range is shown, its time marked.
		return bytes === undefined ? undefined : decodeValue(bytes, undefined, true);
	} catch {
		return undefined;
	}
}

/** Find the stored responses a key or a URL names, in the ways docs/cli.md (`show`) lists. */
export async function lookup(store: CacheStore, argument: string, now: number): Promise<Found[]> {
	const found = new Map<string, Found>();
	const variantUrls = new Set<string>();
	const add = (key: string, value: StoredValue | undefined, storedBytes: number, via: string): void => {
		if (value?.kind === 'response' && !found.has(key)) {
			found.set(key, {row: rowOf(key, value, storedBytes, now), entry: value, via});
		}
	};

	const visitKey = async (key: string, via: string): Promise<void> => {
		const bytes = (await store.get(key))?.value;
		const value = decode(bytes);
		if (value?.kind === 'redirect') {
			const target = (await store.get(value.target))?.value;
			add(value.target, decode(target), target?.byteLength ?? 0, `redirect alias ${key}`);
		} else if (value?.kind === 'variants') {
			variantUrls.add(value.url);
		} else {
			add(key, value, bytes?.byteLength ?? 0, via);
		}
	};

	await visitKey(argument, 'key');
	const url = URL.canParse(argument) ? new URL(argument) : undefined;
	if (url?.protocol === 'http:' || url?.protocol === 'https:') {
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
			keys.push(...batch.filter(meta => meta.kind === 'response' && meta.corrupt !== true && variantUrls.has(meta.url) && !found.has(meta.key)).map(meta => meta.key));
		}

		for (const key of keys) {
			// eslint-disable-next-line no-await-in-loop -- few matches
			await visitKey(key, 'final URL');
		}
	}

	return [...found.values()];
}
