import {TextDecoder} from 'node:util';
import type {ResponseHeaders} from '../models/response.js';

/** A body as the inspector shows it: text when it decodes, else why it is binary. */
export type BodyView =
	| {readonly kind: 'text'; readonly text: string; readonly charset: string}
	| {readonly kind: 'binary'; readonly reason: string};

/** The parts of a Content-Type header the inspector uses. */
export type MediaType = ReturnType<typeof mediaTypeOf>;

const textual = /^text\/|[/+](?:json|xml)$|^application\/(?:javascript|ecmascript|x-www-form-urlencoded|x-ndjson|graphql|yaml|x-yaml|toml|csv|sql)$/;
// C0 controls other than tab, line feed, form feed and carriage return: a sign of binary data.
const controls = /[\u0000-\u0008\u000B\u000E-\u001F]/;

/** The first value of a header, whatever its case and arity. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
	const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
	return typeof found === 'string' ? found : found?.[0];
}

/** A Content-Type header's type (lower-cased, without parameters), charset label (lower-cased) and raw value; '' for none. */
export function mediaTypeOf(headers: ResponseHeaders) {
	const raw = headerValue(headers, 'content-type') ?? '';
	const [essence = ''] = raw.split(';');
	const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(raw)?.[1]?.toLowerCase();
	return {essence: essence.trim().toLowerCase(), charset, raw};
}

/** Decode a body for display, by the rules in docs/cli.md ("Bodies"). */
export function decodeBody(body: Uint8Array, type: MediaType): BodyView {
	if (body.byteLength === 0) {
		return {kind: 'text', text: '', charset: type.charset ?? 'utf-8'};
	}

	if (type.charset === undefined && type.essence !== '' && !textual.test(type.essence)) {
		return {kind: 'binary', reason: `${type.essence} without a charset`};
	}

	const label = type.charset ?? 'utf-8';
	let decoder: TextDecoder | undefined;
	try {
		decoder = new TextDecoder(label, {fatal: true});
		const text = decoder.decode(body);
		return type.charset === undefined && controls.test(text) ? {kind: 'binary', reason: 'control characters in the text'} : {kind: 'text', text, charset: decoder.encoding};
	} catch {
		return {kind: 'binary', reason: decoder === undefined ? `unknown charset ${JSON.stringify(label)}` : `not valid ${label}`};
	}
}

/** A hex dump (offset, 16 bytes in hex, printable ASCII) of the first `limit` bytes. */
export function hexDump(bytes: Uint8Array, limit = 256): string {
	const lines: string[] = [];
	const end = Math.min(bytes.byteLength, limit);
	for (let offset = 0; offset < end; offset += 16) {
		const row = bytes.subarray(offset, Math.min(offset + 16, end));
		const hex = [...row].map(byte => byte.toString(16).padStart(2, '0')).join(' ');
		const ascii = [...row].map(byte => (byte >= 0x20 && byte < 0x7F ? String.fromCodePoint(byte) : '.')).join('');
		lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
	}

	if (bytes.byteLength > end) {
		lines.push(`… ${bytes.byteLength - end} more bytes`);
	}

	return lines.join('\n');
}
