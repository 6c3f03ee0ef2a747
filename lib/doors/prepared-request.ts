import type {Buffer} from 'node:buffer';
import type {PreparedRequest} from '../models/request.js';

// Headers about one connection or one encoding of the body: not part of what is asked. The
// length follows from the body bytes; the interceptor's own marker is not the caller's.
const connectionHeaders: ReadonlySet<string> = new Set([
	'connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer',
	'content-length', 'x-interceptors-internal-request-id',
]);

/**
 * The prepared request for a request a door intercepted: upper-case method, absolute URL,
 * lower-case headers (connection-level ones dropped, `host` kept only when it names another
 * host than the URL), the body bytes or undefined.
 */
export function preparedRequest(method: string, url: string, headers: Iterable<[string, string]>, body: Buffer | undefined): PreparedRequest {
	const own: Record<string, string> = {};
	const {host} = new URL(url);
	for (const [rawName, value] of headers) {
		const name = rawName.toLowerCase();
		if (connectionHeaders.has(name) || (name === 'host' && value.toLowerCase() === host)) {
			continue;
		}

		own[name] = own[name] === undefined ? value : `${own[name]}, ${value}`;
	}

	return {method: method.toUpperCase(), url, headers: own, body: body === undefined || body.length === 0 ? undefined : body};
}
