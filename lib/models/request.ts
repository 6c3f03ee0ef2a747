import {Buffer} from 'node:buffer';
import {optionTypeError} from '../errors.js';

/** Query parameter values accepted by `params`; arrays repeat the name, null/undefined are skipped. */
export type ParamValue = string | number | boolean | null | undefined;
/** Name-value pairs for `params` and `form`: a plain object, a `Map`, `URLSearchParams`, or a `FormData` of strings only. */
export type Params =
	| Record<string, ParamValue | readonly ParamValue[]>
	| ReadonlyMap<string, ParamValue | readonly ParamValue[]>
	| URLSearchParams
	| FormData;

/** A request ready to send: everything the transport and the cache key need. */
export type PreparedRequest = {
	/** Upper-case method. */
	readonly method: string;
	/** The full URL, with `params` merged into its query. */
	readonly url: string;
	/** Request headers, lower-case names. */
	readonly headers: Readonly<Record<string, string>>;
	/** The body bytes, or undefined when there is none. */
	readonly body: Buffer | undefined;
	/** The TLS client certificate's SHA-256 fingerprint it is sent with: a credential, so part of its identity. */
	readonly tlsIdentity?: string | undefined;
};

/** How a request is sent: what a front door's transport reads besides the request. */
export type TransportOptions = {
	/** Timeout of the whole request in milliseconds. */
	readonly timeout?: number | undefined;
	/** Follow redirects. @default true */
	readonly followRedirects?: boolean | undefined;
	/** Aborts the request: it then rejects at once with the signal's reason (an `AbortError`). */
	readonly signal?: AbortSignal | undefined;
};

/** What `prepareRequest` takes from the per-request options. */
export type RequestBodyOptions = {
	params?: Params | undefined;
	headers?: Record<string, string | number | undefined> | undefined;
	json?: unknown;
	form?: Params | undefined;
	body?: string | Uint8Array | undefined;
};

// A method is an HTTP token (RFC 9110 §9.1): M-SEARCH and friends included. So is a header name (§5.1).
const tokenRegex = /^[!#$%&'*+.^_`|~\dA-Za-z-]+$/;
// A field value (RFC 9110 §5.5): visible characters, obs-text, spaces and tabs; never CR, LF or NUL.
const invalidValueRegex = /[^\t\x20-\x7E\x80-\xFF]/;

/** Reject a header that would break the message or smuggle another; the value is not quoted: it may be a credential. */
function checkHeader(owner: string, name: string, value: string): void {
	if (!tokenRegex.test(name)) {
		throw new TypeError(`${owner} option \`headers\`: ${JSON.stringify(name.slice(0, 60))} is not a valid header name (RFC 9110 token characters only)`);
	}

	const bad = invalidValueRegex.exec(value);
	if (bad !== null) {
		const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(2, '0');
		throw new TypeError(`${owner} option \`headers['${name}']\` must be a valid header value: character U+${code} at index ${bad.index} is not allowed (no CR, LF, NUL or other control characters)`);
	}
}

/** Lower-case header names, drop undefined values, stringify numbers; later sources win. */
export function mergeHeaders(
	owner: string,
	...sources: Array<Record<string, string | number | undefined> | undefined>
): Record<string, string> {
	const merged: Record<string, string> = {};
	for (const source of sources) {
		if (source === undefined) {
			continue;
		}

		if (typeof source !== 'object' || source === null || Array.isArray(source)) {
			throw optionTypeError(owner, 'headers', 'an object of header names to strings', source);
		}

		for (const name of Object.keys(source)) {
			const value = source[name];
			if (value === undefined) {
				continue;
			}

			if (typeof value !== 'string' && typeof value !== 'number') {
				throw optionTypeError(owner, `headers['${name}']`, 'a string or a number', value);
			}

			const text = String(value);
			checkHeader(owner, name, text);
			merged[name.toLowerCase()] = text;
		}
	}

	return merged;
}

function appendValue(target: URLSearchParams, key: string, value: unknown, owner: string, name: string): void {
	const values: readonly unknown[] = Array.isArray(value) ? value : [value];
	for (const item of values) {
		if (item === null || item === undefined) {
			continue;
		}

		if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
			throw optionTypeError(owner, `${name}['${key}']`, 'a string, number, boolean, null or an array of them', item);
		}

		target.append(key, String(item));
	}
}

function appendParams(target: URLSearchParams, params: Params, owner: string, name: string): void {
	if (params instanceof URLSearchParams || (typeof FormData === 'function' && params instanceof FormData)) {
		for (const [key, value] of params) {
			if (typeof value !== 'string') {
				throw optionTypeError(owner, `${name}['${key}']`, `a string (FormData with files needs a multipart \`body\`; \`${name}\` sends only text fields)`, value);
			}

			target.append(key, value);
		}

		return;
	}

	if (params instanceof Map) {
		for (const [key, value] of params as ReadonlyMap<unknown, unknown>) {
			if (typeof key !== 'string') {
				throw optionTypeError(owner, name, 'a Map with string keys', key);
			}

			appendValue(target, key, value, owner, name);
		}

		return;
	}

	const prototype: unknown = typeof params === 'object' && params !== null ? Object.getPrototypeOf(params) : undefined;
	if (prototype !== Object.prototype && prototype !== null) {
		throw optionTypeError(owner, name, 'a plain object, a Map, URLSearchParams or FormData of strings', params);
	}

	for (const key of Object.keys(params)) {
		appendValue(target, key, (params as Record<string, unknown>)[key], owner, name);
	}
}

/** A relative `url` joined to a base the way got joins its `prefixUrl`: by text, with no leading slash. */
function joinPrefix(url: string, base: string, owner: string): URL {
	if (url.startsWith('/')) {
		throw new TypeError(`${owner}: the URL ${JSON.stringify(url)} must not start with a slash when the session's got has a prefixUrl (${JSON.stringify(base)}), as in got`);
	}

	try {
		return new URL(base + url);
	} catch (error) {
		throw new TypeError(`${owner}: invalid URL ${JSON.stringify(url)} after the prefixUrl ${JSON.stringify(base)}`, {cause: error});
	}
}

/** Build a {@link PreparedRequest}: `params` in the query, one body of `json`, `form` or `body`, a relative `url` after `base` (got's `prefixUrl`). */
export function prepareRequest(
	method: string,
	url: string | URL,
	options: RequestBodyOptions,
	sessionHeaders: Record<string, string>,
	owner = 'request',
	base = '',
): PreparedRequest {
	if (typeof method !== 'string' || !tokenRegex.test(method)) {
		throw optionTypeError(owner, 'method', 'an HTTP method name such as "GET"', method);
	}

	if (typeof url !== 'string' && !(url instanceof URL)) {
		throw optionTypeError(owner, 'url', 'a string or a URL', url);
	}

	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch (error) {
		if (base === '' || typeof url !== 'string') {
			throw new TypeError(`${owner}: invalid URL ${JSON.stringify(url)}: an absolute http(s) URL is required (or a got instance with a prefixUrl)`, {cause: error});
		}

		parsed = joinPrefix(url, base, owner);
	}

	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
		throw new TypeError(`${owner}: unsupported URL scheme ${JSON.stringify(parsed.protocol)} in ${JSON.stringify(parsed.href)}: only http and https are supported`);
	}

	if (options.params !== undefined) {
		appendParams(parsed.searchParams, options.params, owner, 'params');
	}

	const headers = mergeHeaders(owner, sessionHeaders, options.headers);
	// Counted without allocating: this runs on every request, cache hits included.
	if (Number(options.json !== undefined) + Number(options.form !== undefined) + Number(options.body !== undefined) > 1) {
		const given = ['json', 'form', 'body'].filter(name => options[name as keyof RequestBodyOptions] !== undefined);
		throw new TypeError(`${owner}: options ${given.map(n => `\`${n}\``).join(' and ')} cannot be combined: give one body`);
	}

	let body: Buffer | undefined;
	if (options.json !== undefined) {
		let text: string | undefined;
		try {
			text = JSON.stringify(options.json);
		} catch (error) {
			throw new TypeError(`${owner} option \`json\` must be JSON-serializable: ${(error as Error).message}`, {cause: error});
		}

		if (text === undefined) {
			throw optionTypeError(owner, 'json', 'a JSON-serializable value', options.json);
		}

		body = Buffer.from(text);
		headers['content-type'] ??= 'application/json';
	} else if (options.form !== undefined) {
		const form = new URLSearchParams();
		appendParams(form, options.form, owner, 'form');
		body = Buffer.from(form.toString());
		headers['content-type'] ??= 'application/x-www-form-urlencoded';
	} else if (options.body !== undefined) {
		if (typeof options.body === 'string') {
			body = Buffer.from(options.body);
		} else if (options.body instanceof Uint8Array) {
			body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body.buffer, options.body.byteOffset, options.body.byteLength);
		} else {
			throw optionTypeError(owner, 'body', 'a string, Buffer or Uint8Array', options.body);
		}
	}

	return {method: method.toUpperCase(), url: parsed.href, headers, body};
}
