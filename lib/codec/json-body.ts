import {parse} from 'lossless-json';
import type {FoundCredential} from './credentials.js';
import type {NameRole} from './secret-names.js';

/**
 * JSON request bodies read as written: numbers keep their text (`12345678901234567890`, `1e400`
 * and `1.0` stay themselves), `__proto__` is an ordinary key, and the same text always gives the
 * same tree. The key takes a canonical text (keys sorted); storage takes a redacted text (order
 * kept). Both walk the tree once and see every name at every depth.
 */

/** A JSON number as written in the body. */
class NumberText {
	constructor(readonly text: string) {}
}

/** A parsed JSON value; objects are plain objects with own enumerable keys only. */
type JsonValue = null | boolean | string | NumberText | JsonValue[] | {[key: string]: JsonValue};

/**
 * Parse a JSON text without loss, or undefined when it is not JSON (or has one key twice with
 * different values: its meaning depends on the reader, so it is keyed as opaque bytes).
 */
export function parseJson(text: string): JsonValue | undefined {
	try {
		return parse(text, null, {parseNumber: raw => new NumberText(raw)}) as JsonValue;
	} catch {
		// Syntax errors, conflicting duplicate keys, and nesting too deep for the stack.
		return undefined;
	}
}

function isObject(value: JsonValue): value is {[key: string]: JsonValue} {
	return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NumberText);
}

function scalarText(value: JsonValue): string {
	return value instanceof NumberText ? value.text : JSON.stringify(value);
}

/**
 * The canonical text of a JSON value for the cache key: object keys sorted (by UTF-16 code units)
 * at every depth, array order kept, numbers as written, strings re-escaped. A name whose role is
 * `ignored` is left out with its value; a `credential` is left out and reported to `found` with
 * its path, so that it reaches the key only through the credential derivation, and a `shared`
 * one to `shared` (the owner of a `private` response).
 */
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

/**
 * The JSON text of a value with every redacted name's value replaced by `replacement`, at any
 * depth; everything else (key order, numbers as written) as it came.
 */
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
