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
export const get = async (url: string | URL, options?: RequestOptions): Promise<Response> => request('GET', url, options);

/** POST with the default session. */
export const post = async (url: string | URL, options?: RequestOptions): Promise<Response> => request('POST', url, options);

/** PUT with the default session. */
export const put = async (url: string | URL, options?: RequestOptions): Promise<Response> => request('PUT', url, options);

/** PATCH with the default session. */
export const patch = async (url: string | URL, options?: RequestOptions): Promise<Response> => request('PATCH', url, options);

/** DELETE with the default session (exported as `delete`). */
export const del = async (url: string | URL, options?: RequestOptions): Promise<Response> => request('DELETE', url, options);

/** HEAD with the default session. */
export const head = async (url: string | URL, options?: RequestOptions): Promise<Response> => request('HEAD', url, options);

/** OPTIONS with the default session. */
export const options = async (url: string | URL, requestOptions?: RequestOptions): Promise<Response> => request('OPTIONS', url, requestOptions);
