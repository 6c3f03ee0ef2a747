import {Buffer} from 'node:buffer';
import {TextDecoder} from 'node:util';

// Decoders keep no state between non-streaming decode() calls, so one per encoding can be shared.
const utf8 = new TextDecoder('utf-8');
const utf16le = new TextDecoder('utf-16le');
const utf16be = new TextDecoder('utf-16be');

// `;` then `charset=`, quoted or not: a `charset` word inside another parameter's value does not count.
const charsetParameter = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

/** The `charset` parameter of a Content-Type header ('' or missing: undefined). */
export function charsetOf(contentType: string | readonly string[] | undefined): string | undefined {
	const value = typeof contentType === 'string' ? contentType : contentType?.at(-1);
	const match = value === undefined ? null : charsetParameter.exec(value);
	const label = (match?.[1] ?? match?.[2])?.trim();
	return label === '' ? undefined : label;
}

// index-windows-1252 of the Encoding Standard for bytes 0x80-0x9F (the rest is Latin-1).
const cp1252High = '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F'
	+ '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';
const c1Controls = /[\u0080-\u009F]/g;

/** windows-1252 by hand: Node >= 20.18.3's TextDecoder makes € ‘ ’ “ ” ™ C1 controls (nodejs/node#60888); small-icu lacks it. */
function decodeWindows1252(body: Uint8Array): string {
	return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1')
		.replace(c1Controls, control => cp1252High[control.charCodeAt(0) - 0x80]!);
}

function decoderFor(label: string | undefined): TextDecoder {
	try {
		return label === undefined ? utf8 : new TextDecoder(label);
	} catch {
		// An unknown label (or one the standard maps to "replacement", such as iso-2022-kr) is UTF-8.
		return utf8;
	}
}

/** Decode a body as a browser would: a byte order mark (dropped) wins, then the `charset`, then UTF-8; bad bytes become U+FFFD. */
export function decodeBody(body: Uint8Array, contentType: string | readonly string[] | undefined): string {
	const [first, second, third] = body;
	if (first === 0xEF && second === 0xBB && third === 0xBF) {
		return utf8.decode(body);
	}

	if (first === 0xFF && second === 0xFE) {
		return utf16le.decode(body);
	}

	if (first === 0xFE && second === 0xFF) {
		return utf16be.decode(body);
	}

	const decoder = decoderFor(charsetOf(contentType));
	return decoder.encoding === 'windows-1252' ? decodeWindows1252(body) : decoder.decode(body);
}
