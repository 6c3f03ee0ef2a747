import {Buffer} from 'node:buffer';
import {promisify} from 'node:util';
import {type ZlibOptions, brotliDecompress, gunzip, inflate, inflateRaw} from 'node:zlib';

type Decoder = (body: Buffer, options: ZlibOptions) => Promise<Buffer>;

const gunzipAsync = promisify(gunzip) as Decoder;
const inflateAsync = promisify(inflate) as Decoder;
const inflateRawAsync = promisify(inflateRaw) as Decoder;

const decoders: ReadonlyMap<string, Decoder> = new Map<string, Decoder>([
	['gzip', gunzipAsync],
	['x-gzip', gunzipAsync],
	// "deflate" is the zlib format (RFC 9110 §8.4.1.2), but some servers send raw deflate.
	['deflate', async (body, options) => inflateAsync(body, options).catch(async (error: unknown) => {
		if (error instanceof RangeError) {
			throw error;
		}

		return inflateRawAsync(body, options);
	})],
	['br', promisify(brotliDecompress) as Decoder],
	['identity', async body => body],
]);

/** The codings of a `content-encoding` value, in the order they were applied. */
function codingsOf(value: string | string[] = []): string[] {
	return [value].flat().join(',').split(',').map(coding => coding.trim().toLowerCase()).filter(coding => coding !== '');
}

/** True when every coding named is one a door decodes. */
export function isDecodable(contentEncoding: string | string[] | undefined): boolean {
	return codingsOf(contentEncoding).every(coding => decoders.has(coding));
}

/** The body with its content codings undone (as it is if Node cannot); past `limit` bytes produced, a `RangeError`. */
export async function decodeBody(body: Buffer, contentEncoding: string | string[] | undefined, limit = Number.POSITIVE_INFINITY): Promise<Buffer> {
	const codings = codingsOf(contentEncoding);
	if (codings.length === 0 || body.length === 0 || !codings.every(coding => decoders.has(coding))) {
		return body;
	}

	// zlib takes at most buffer.kMaxLength; one byte over the limit tells "too large" from "exactly".
	const options: ZlibOptions = Number.isFinite(limit) ? {maxOutputLength: Math.min(limit + 1, 2 ** 32)} : {};
	let decoded = body;
	for (const coding of codings.reverse()) {
		decoded = await decoders.get(coding)!(decoded, options);
		if (decoded.length > limit) {
			throw new RangeError(`the decoded body is larger than ${limit} bytes`);
		}
	}

	return Buffer.isBuffer(decoded) ? decoded : Buffer.from(decoded);
}
