import {type Cookie, CookieJar, type ErrorCallback, MemoryCookieStore} from 'tough-cookie';
import type {PromiseCookieJar} from 'got';

/** A memory store that remembers whether it ever held a cookie: tough-cookie takes ~5 µs per URL even on an empty jar. */
class SessionCookieStore extends MemoryCookieStore {
	#written = false;

	get written(): boolean {
		return this.#written;
	}

	// Every way into a MemoryCookieStore (setCookie, import, deserialize) goes through putCookie.
	override putCookie(cookie: Cookie): Promise<void>;
	override putCookie(cookie: Cookie, callback: ErrorCallback): void;
	override putCookie(cookie: Cookie, callback?: ErrorCallback): Promise<void> | void {
		this.#written = true;
		return callback === undefined ? super.putCookie(cookie) : super.putCookie(cookie, callback);
	}
}

/** A new, empty cookie jar for a session: tough-cookie's defaults (RFC 6265, public suffixes rejected). */
export function createSessionCookieJar(): CookieJar {
	return new CookieJar(new SessionCookieStore());
}

/** True for a tough-cookie `CookieJar`, or anything with its two methods got calls (another copy of tough-cookie). */
export function isCookieJar(value: unknown): value is CookieJar {
	return value instanceof CookieJar || (typeof value === 'object' && value !== null
		&& typeof (value as Partial<CookieJar>).getCookieString === 'function'
		&& typeof (value as Partial<CookieJar>).setCookie === 'function');
}

/** The `Cookie` header the jar holds for `url` ('' when none): synchronously when the store allows, so a request adds no await. */
export function cookieHeaderFor(jar: CookieJar, url: string): string | Promise<string> {
	const {store} = jar as Partial<Pick<CookieJar, 'store'>>;
	if (store instanceof SessionCookieStore && !store.written) {
		return '';
	}

	if (store?.synchronous === true && typeof jar.getCookieStringSync === 'function') {
		return jar.getCookieStringSync(url);
	}

	return jar.getCookieString(url);
}

/**
 * The `cookieJar` got gets for one request: the first hop sends the prepared request's own `Cookie`
 * header (the one the cache keyed on), later hops the jar's for their URL; invalid `Set-Cookie`s are ignored.
 */
export function cookieJarForRequest(jar: CookieJar): PromiseCookieJar {
	let hops = 0;
	return {
		async getCookieString(url) {
			return hops++ === 0 ? '' : jar.getCookieString(url);
		},
		async setCookie(rawCookie, url) {
			return jar.setCookie(rawCookie, url, {ignoreError: true});
		},
	};
}
