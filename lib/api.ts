import type {Response} from './models/response.js';
import {type RequestOptions, Session} from './session.js';

let defaultSession: Session | undefined;

/**
 * The session behind the module-level functions (a plain `Session`; cached after `installCache()`).
 * It keeps no cookies: as `requests.get()`, unrelated calls share no state (use a `Session` for a jar).
 */
export function getDefaultSession(): Session {
	defaultSession ??= new Session({cookieJar: false});
	return defaultSession;
}

/** Send a request with the default session. */
export async function request(method: string, url: string | URL, options?: RequestOptions): Promise<Response> {
	return getDefaultSession().request(method, url, options);
}

/** GET with the default session. */
export async function get(url: string | URL, options?: RequestOptions): Promise<Response> {
	return request('GET', url, options);
}

/** POST with the default session. */
export async function post(url: string | URL, options?: RequestOptions): Promise<Response> {
	return request('POST', url, options);
}

/** PUT with the default session. */
export async function put(url: string | URL, options?: RequestOptions): Promise<Response> {
	return request('PUT', url, options);
}

/** PATCH with the default session. */
export async function patch(url: string | URL, options?: RequestOptions): Promise<Response> {
	return request('PATCH', url, options);
}

/** DELETE with the default session (exported as `delete`). */
export async function del(url: string | URL, options?: RequestOptions): Promise<Response> {
	return request('DELETE', url, options);
}

/** HEAD with the default session. */
export async function head(url: string | URL, options?: RequestOptions): Promise<Response> {
	return request('HEAD', url, options);
}

/** OPTIONS with the default session. */
export async function options(url: string | URL, requestOptions?: RequestOptions): Promise<Response> {
	return request('OPTIONS', url, requestOptions);
}
