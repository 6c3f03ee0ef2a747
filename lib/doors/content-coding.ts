import {Buffer} from 'node:buffer';
import {promisify} from 'node:util';
import {brotliDecompress, gunzip, inflate, inflateRaw} from 'node:zlib';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);
const brotliAsync = promisify(brotliDecompress);

const decoders: ReadonlyMap<string, (body: Buffer) => Promise<Buffer>> = new Map([
	['gzip', gunzipAsync],
	['x-gzip', gunzipAsync],
	// "deflate" is the zlib format (RFC 9110 §8.4.1.2), but some servers send raw deflate.
	['deflate', async (body: Buffer) => inflateAsync(body).catch(async () => inflateRawAsync(body))],
	['br', brotliAsync],
	['identity', async (body: Buffer) => body],
]);

/** The codings of a `content-encoding` value, in the order they were applied. */
function codingsOf(value: string | string[] | undefined): string[] {
	if (value === undefined) {
		return [];
	}

	return (Array.isArray(value) ? value.join(',') : value).split(',').map(coding => coding.trim().toLowerCase()).filter(coding => coding !== '');
}

/** True when every coding named is one a door decodes: the answer then describes the decoded body. */
export function isDecodable(contentEncoding: string | string[] | undefined): boolean {
	return codingsOf(contentEncoding).every(coding => decoders.has(coding));
}

/**
 * The body with its content codings undone (gzip, deflate, br), as got and fetch give it; a body
 * with a coding Node cannot undo is returned as it is.
 */
export async function decodeBody(body: Buffer, contentEncoding: string | string[] | undefined): Promise<Buffer> {
	const codings = codingsOf(contentEncoding);
	if (codings.length === 0 || body.length === 0 || !codings.every(coding => decoders.has(coding))) {
		return body;
	}

	let decoded = body;
	for (const coding of codings.reverse()) {
		// eslint-disable-next-line no-await-in-loop -- each coding undoes the one applied after it
		decoded = await decoders.get(coding)!(decoded);
	}

	return Buffer.isBuffer(decoded) ? decoded : Buffer.from(decoded);
}
