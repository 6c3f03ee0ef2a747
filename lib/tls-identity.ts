import {hash} from 'node:crypto';

type Material = string | Uint8Array | ReadonlyArray<string | Uint8Array | {buf?: string | Uint8Array}> | {buf?: string | Uint8Array} | undefined;

function bytesOf(value: Material): string[] {
	if (value === undefined) {
		return [];
	}

	// A PEM given as a string and the same PEM as a Buffer are one certificate: hashed as the same bytes.
	if (typeof value === 'string' || value instanceof Uint8Array) {
		return [Buffer.from(value).toString('base64')];
	}

	if (Array.isArray(value)) {
		return (value as ReadonlyArray<string | Uint8Array | {buf?: string | Uint8Array}>).flatMap(item => bytesOf(item as Material));
	}

	return bytesOf((value as {buf?: string | Uint8Array}).buf);
}

/** TLS options as node:tls (`cert`, `pfx`) and got (`certificate`, `pfx`) name them. */
export type TlsMaterial = {readonly cert?: unknown; readonly certificate?: unknown; readonly pfx?: unknown};

/** The SHA-256 fingerprint of the client certificates in `options`, the request's TLS identity (docs/security.md); undefined when none. */
export function tlsIdentityOf(options: TlsMaterial | undefined): string | undefined {
	if (options === undefined || options === null) {
		return undefined;
	}

	const parts = [...bytesOf(options.cert as Material), ...bytesOf(options.certificate as Material), ...bytesOf(options.pfx as Material)];
	return parts.length === 0 ? undefined : `sha256:${hash('sha256', parts.join('\0'), 'hex')}`;
}
