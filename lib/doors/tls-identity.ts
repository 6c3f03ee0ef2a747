import {Buffer} from 'node:buffer';
import {X509Certificate, createHash} from 'node:crypto';

// Fingerprints already worked out, per certificate value (a client sends the same one every time).
const byObject = new WeakMap<object, string>();
const byText = new Map<string, string>();
const maxTexts = 64;

function sha256(bytes: string | Buffer): string {
	return createHash('sha256').update(bytes).digest('hex');
}

/** The SHA-256 fingerprint of one `cert` or `pfx` value (PEM text, DER or PKCS#12 bytes, or the first of a list). */
function fingerprintOf(value: unknown, kind: 'cert' | 'pfx'): string | undefined {
	const first: unknown = Array.isArray(value) ? value[0] : value;
	// A pfx list holds {buf, passphrase} objects.
	const material: unknown = typeof first === 'object' && first !== null && !Buffer.isBuffer(first) && 'buf' in first ? (first as {buf: unknown}).buf : first;
	if (typeof material !== 'string' && !Buffer.isBuffer(material) && !(material instanceof Uint8Array)) {
		return undefined;
	}

	const known = typeof material === 'string' ? byText.get(material) : byObject.get(material);
	if (known !== undefined) {
		return known;
	}

	const bytes = typeof material === 'string' ? material : Buffer.from(material);
	let fingerprint: string;
	try {
		// The certificate's own fingerprint: the same identity whatever its encoding (PEM or DER).
		fingerprint = kind === 'cert' ? `sha256:${new X509Certificate(bytes).fingerprint256.replaceAll(':', '').toLowerCase()}` : `sha256:${sha256(bytes)}`;
	} catch {
		fingerprint = `sha256:${sha256(bytes)}`;
	}

	if (typeof material === 'string') {
		if (byText.size >= maxTexts) {
			byText.clear();
		}

		byText.set(material, fingerprint);
	} else {
		byObject.set(material, fingerprint);
	}

	return fingerprint;
}

/**
 * The TLS client identity a `node:https` request is sent with: the SHA-256 fingerprint of the
 * client certificate (`cert`, else `pfx`) in its own options, else in its agent's
 * (`agent.options`, public on `https.Agent`); undefined when it sends none.
 */
export function tlsIdentityOf(options: Readonly<Record<string, unknown>>, agent: unknown): string | undefined {
	const agentOptions: unknown = typeof agent === 'object' && agent !== null ? Reflect.get(agent, 'options') : undefined;
	for (const source of [options, typeof agentOptions === 'object' && agentOptions !== null ? agentOptions as Record<string, unknown> : undefined]) {
		if (source === undefined) {
			continue;
		}

		for (const kind of ['cert', 'pfx'] as const) {
			if (source[kind] !== undefined && source[kind] !== null) {
				const fingerprint = fingerprintOf(source[kind], kind);
				if (fingerprint !== undefined) {
					return fingerprint;
				}
			}
		}
	}

	return undefined;
}
