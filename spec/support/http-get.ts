import http from 'node:http';

/** What a plain `http.get` got back: status, headers and the body as text. */
export type HttpGot = {status: number; headers: http.IncomingHttpHeaders; body: string};

/**
 * A GET through `node:http` as most programs write it: the `(url, callback)` form, the one whose
 * null-prototype options once broke stacked interceptors (nock over the door). For the doors'
 * specs: what a client that knows nothing of the cache sees.
 */
export async function httpGet(url: string): Promise<HttpGot> {
	return new Promise((resolve, reject) => {
		http.get(url, response => {
			let body = '';
			response.on('data', (chunk: Buffer) => {
				body += chunk.toString();
			});
			response.on('end', () => {
				resolve({status: response.statusCode!, headers: response.headers, body});
			});
		}).on('error', reject);
	});
}
