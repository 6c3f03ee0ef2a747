import {parse} from 'lossless-json';
import type {FoundCredential} from './credentials.js';
import type {NameRole} from './secret-names.js';

/** A JSON number as written in the body: `1e400` and `1.0` stay themselves. */
class NumberText {
	constructor(readonly text: string) {}
}

/** A parsed JSON value; objects are plain objects with own enumerable keys only. */
type JsonValue = null | boolean | string | NumberText | JsonValue[] | {[key: string]: JsonValue};

/** Parse a JSON text without loss (`__proto__` an ordinary key), or undefined when it is not JSON. */
export function parseJson(text: string): JsonValue | undefined {
	try {
		return parse(text, null, {parseNumber: raw => new NumberText(raw)}) as JsonValue;
	} catch {
		// A key twice with different values means what its reader decides: keyed as opaque bytes.
		return undefined;
	}
}

function isObject(value: JsonValue): value is {[key: string]: JsonValue} {
	return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NumberText);
}

function scalarText(value: JsonValue): string {
	return value instanceof NumberText ? value.text : JSON.stringify(value);
}

/** The canonical text of a JSON value for the cache key, keys sorted; secret names' values go to `found` or `shared`. */
export function canonicalJson(value: JsonValue, role: (name: string) => NameRole, found: FoundCredential[], path = '', shared?: FoundCredential[]): string {
	if (Array.isArray(value)) {
		return `[${value.map((item, index) => canonicalJson(item, role, found, `${path}[${index}]`, shared)).join(',')}]`;
	}

	if (!isObject(value)) {
		return scalarText(value);
	}

	const parts: string[] = [];
	for (const key of Object.keys(value).sort()) {
		const item = value[key]!;
		const kind = role(key);
		if (kind === 'credential' || kind === 'shared') {
			(kind === 'credential' ? found : shared)?.push([`${path}.${JSON.stringify(key)}`, canonicalJson(item, () => undefined, [], '')]);
		} else if (kind === undefined) {
			parts.push(`${JSON.stringify(key)}:${canonicalJson(item, role, found, `${path}.${JSON.stringify(key)}`, shared)}`);
		}
	}

	return `{${parts.join(',')}}`;
}

/** The JSON text of a value, as written, with every redacted name's value replaced at any depth. */
export function redactedJson(value: JsonValue, redacted: (name: string) => boolean, replacement: string): string {
	if (Array.isArray(value)) {
		return `[${value.map(item => redactedJson(item, redacted, replacement)).join(',')}]`;
	}

	if (!isObject(value)) {
		return scalarText(value);
	}

	const parts: string[] = [];
	for (const key of Object.keys(value)) {
		const text = redacted(key) ? JSON.stringify(replacement) : redactedJson(value[key]!, redacted, replacement);
		parts.push(`${JSON.stringify(key)}:${text}`);
	}

	return `{${parts.join(',')}}`;
}
