import type {Buffer} from 'node:buffer';
import type {PreparedRequest} from '../models/request.js';

// About one connection or one encoding of the body, not what is asked; the interceptor's marker is not the caller's.
const connectionHeaders: ReadonlySet<string> = new Set([
	'connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer',
	'content-length', 'x-interceptors-internal-request-id',
]);

/** The prepared request for an intercepted one (`host` kept only when it names another host than the URL). */
export function preparedRequest(method: string, url: string, headers: Iterable<[string, string]>, body: Buffer | undefined, tlsIdentity?: string): PreparedRequest {
	const own: Record<string, string> = {};
	const {host} = new URL(url);
	for (const [rawName, value] of headers) {
		const name = rawName.toLowerCase();
		if (connectionHeaders.has(name) || (name === 'host' && value.toLowerCase() === host)) {
			continue;
		}

		own[name] = own[name] === undefined ? value : `${own[name]}, ${value}`;
	}

	const prepared = {method: method.toUpperCase(), url, headers: own, body: body === undefined || body.length === 0 ? undefined : body};
	return tlsIdentity === undefined ? prepared : {...prepared, tlsIdentity};
}
