import {hash} from 'node:crypto';

/**
 * The TLS client identity a request is sent with: a SHA-256 fingerprint of the client
 * certificate (or PKCS#12 bundle) in a set of TLS options, or undefined when there is none. A
 * client certificate authenticates a request as a credential does, so the cache keys on it
 * (docs/security.md); front doors read it from the options and agents they send with.
 */

type Material = string | Uint8Array | ReadonlyArray<string | Uint8Array | {buf?: string | Uint8Array}> | {buf?: string | Uint8Array} | undefined;

function bytesOf(value: Material): string[] {
	if (value === undefined) {
		return [];
	}

	// A PEM given as a string and the same PEM as a Buffer are one certificate: hashed as the same bytes.
	if (typeof value === 'string') {
		return [Buffer.from(value).toString('base64')];
	}

	if (value instanceof Uint8Array) {
		return [Buffer.from(value).toString('base64')];
	}

	if (Array.isArray(value)) {
		return (value as ReadonlyArray<string | Uint8Array | {buf?: string | Uint8Array}>).flatMap(item => bytesOf(item as Material));
	}

	return bytesOf((value as {buf?: string | Uint8Array}).buf);
}

/** TLS options as node:tls (`cert`, `pfx`) and got (`certificate`, `pfx`) name them. */
export type TlsMaterial = {readonly cert?: unknown; readonly certificate?: unknown; readonly pfx?: unknown};

/** The fingerprint of the client certificates in `options`, or undefined when they hold none. */
export function tlsIdentityOf(options: TlsMaterial | undefined): string | undefined {
	if (options === undefined || options === null) {
		return undefined;
	}

	const parts = [...bytesOf(options.cert as Material), ...bytesOf(options.certificate as Material), ...bytesOf(options.pfx as Material)];
	return parts.length === 0 ? undefined : `sha256:${hash('sha256', parts.join('\0'), 'hex')}`;
}
