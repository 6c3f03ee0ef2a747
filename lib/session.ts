import {Buffer} from 'node:buffer';
import defaultGot, {type Got, type OptionsInit} from 'got';
import type {CookieJar} from 'tough-cookie';
import {RequestError, assertKnownOptions, networkCodeOf, optionRangeError, optionTypeError} from './errors.js';
import {type TlsMaterial, tlsIdentityOf} from './tls-identity.js';
import {cookieHeaderFor, cookieJarForRequest, createSessionCookieJar, isCookieJar} from './cookies.js';
import {type Params, type ParamValue, type PreparedRequest, type TransportOptions, mergeHeaders, prepareRequest} from './models/request.js';
import {type RedirectHop, Response} from './models/response.js';
import type {CacheRequestOptions} from './policy/request-options.js';
import {type FetchInit, fetchWith} from './fetch.js';
import {definedHeaders, responseHeaders, tolerantRequest} from './origin-response.js';

/** A response hook: may return a replacement response. Called for every response, cached ones too. */
export type ResponseHook = (response: Response, session: Session) => Response | void | undefined | Promise<Response | void | undefined>;

/** Hooks of a {@link Session}: `response` hooks run in order, and one that returns a response replaces it. */
export type SessionHooks = {response: ResponseHook[]};

/** Options of `new Session()`. */
export type SessionOptions = {
	/** Headers sent with every request (per-request headers win). */
	headers?: Record<string, string | number | undefined>;
	/** Default timeout of a whole request, in **milliseconds** (as in got). @default undefined (none) */
	timeout?: number;
	/** Hooks; see {@link SessionHooks}. */
	hooks?: Partial<SessionHooks>;
	/** A got instance to send with (with a `prefixUrl`, URLs may be relative to it). @default got with retries off, as in requests */
	got?: Got;
	/** A tough-cookie `CookieJar`, or `false` for none. @default a new, empty jar (or the got instance's `cookieJar`) */
	cookieJar?: CookieJar | false;
};

/** Per-request options of `session.request()` and the method shortcuts. */
export type RequestOptions = {
	/** Query parameters merged into the URL's query. */
	params?: Params;
	/** Headers for this request, merged over the session's. */
	headers?: Record<string, string | number | undefined>;
	/** A value sent as a JSON body (sets `content-type: application/json`). */
	json?: unknown;
	/** Fields sent as a URL-encoded form body. */
	form?: Record<string, ParamValue | readonly ParamValue[]> | URLSearchParams;
	/** A raw body. */
	body?: string | Uint8Array;
	/** Timeout of the whole request in **milliseconds**; overrides the session's. */
	timeout?: number;
	/** Follow redirects. @default true */
	followRedirects?: boolean;
	/** Abort the request: it rejects at once with the signal's reason, and the network request is cancelled. */
	signal?: AbortSignal;
} & CacheRequestOptions;

/** What `send()` receives besides the prepared request: the transport and cache options. */
export type SendOptions = TransportOptions & CacheRequestOptions;

const sessionOptionNames: ReadonlySet<string> = new Set(['headers', 'timeout', 'hooks', 'got', 'cookieJar']);
const requestOptionNames = new Set(['params', 'headers', 'json', 'form', 'body', 'timeout', 'followRedirects', 'signal']);
/** Request options a layer in front of `send` carries out, and what the plain transport says of each. */
const layerOptions = new Map<string, string>();

/** Declare request options a layer in front of `send` takes: `request()` accepts them, the plain transport refuses them with `why`. */
export function declareLayerOptions(names: readonly string[], why: string): void {
	for (const name of names) {
		requestOptionNames.add(name);
		layerOptions.set(name, why);
	}
}

const plainGot = defaultGot.extend({retry: {limit: 0}});

/** The `prefixUrl` of a got instance ('' when none; got ends it with a slash). */
function prefixUrlOf(got: Got): string {
	const prefix = got.defaults?.options?.prefixUrl;
	return prefix === undefined ? '' : String(prefix);
}

function validateTimeout(owner: string, value: unknown): number | undefined {
	if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value))) {
		throw optionTypeError(owner, 'timeout', 'a number of milliseconds', value);
	}

	if (typeof value === 'number' && (value <= 0 || !Number.isFinite(value))) {
		throw optionRangeError(owner, 'timeout', 'a positive, finite number of milliseconds', value);
	}

	return value as number | undefined;
}

/**
 * A requests-like HTTP session on got; every request goes through `request()` → `send()`, the one method a caching mixin overrides.
 *
 * @example
 * const session = new Session({headers: {'user-agent': 'my-tool/1.0'}, timeout: 10_000});
 * const response = await session.get('https://api.example.com/items', {params: {page: 1}});
 * console.log(response.status, response.json());
 */
export class Session {
	/** Headers sent with every request (lower-case names). */
	headers: Record<string, string>;
	/** Default request timeout in milliseconds, if any. */
	timeout: number | undefined;
	/** Response hooks. */
	hooks: SessionHooks;
	/** The got instance requests are sent with. */
	got: Got;
	readonly #cookieJar: CookieJar | undefined;

	constructor(options: SessionOptions = {}) {
		if (typeof options !== 'object' || options === null) {
			throw optionTypeError('Session', 'options', 'an object', options);
		}

		assertKnownOptions('Session', options, sessionOptionNames);
		this.headers = mergeHeaders('Session', options.headers);
		this.timeout = validateTimeout('Session', options.timeout);
		const response = options.hooks?.response ?? [];
		if (options.hooks !== undefined) {
			assertKnownOptions('Session hooks', options.hooks, new Set(['response']));
		}

		if (!Array.isArray(response) || response.some(hook => typeof hook !== 'function')) {
			throw optionTypeError('Session', 'hooks.response', 'an array of functions', response);
		}

		this.hooks = {response: [...response]};
		if (options.got !== undefined && (typeof options.got !== 'function' || typeof (options.got as Partial<Got>).extend !== 'function')) {
			throw optionTypeError('Session', 'got', 'a got instance (got or got.extend(...))', options.got);
		}

		this.got = options.got ?? plainGot;
		if (options.cookieJar !== undefined && options.cookieJar !== false && !isCookieJar(options.cookieJar)) {
			throw optionTypeError('Session', 'cookieJar', 'a tough-cookie CookieJar or false', options.cookieJar);
		}

		const gotJar: unknown = this.got.defaults?.options?.cookieJar;
		this.#cookieJar = options.cookieJar === false ? undefined : (options.cookieJar ?? (isCookieJar(gotJar) ? gotJar : createSessionCookieJar()));
	}

	/** The session's cookie jar (requests' `session.cookies`), or undefined with `cookieJar: false`. */
	get cookieJar(): CookieJar | undefined {
		return this.#cookieJar;
	}

	/** Prepare and send a request, then run the response hooks. */
	async request(method: string, url: string | URL, options: RequestOptions = {}): Promise<Response> {
		if (typeof options !== 'object' || options === null) {
			throw optionTypeError('request', 'options', 'an object', options);
		}

		assertKnownOptions('request', options, requestOptionNames);
		let prepared = prepareRequest(method, url, options, this.headers, 'request', prefixUrlOf(this.got));
		const tlsIdentity = tlsIdentityOfGot(this.got);
		if (tlsIdentity !== undefined) {
			prepared = {...prepared, tlsIdentity};
		}

		// In the prepared request, the cache sees the cookies (Vary: Cookie, matchHeaders) and redacts them.
		const jar = this.#cookieJar;
		if (jar !== undefined && prepared.headers.cookie === undefined) {
			const header = cookieHeaderFor(jar, prepared.url);
			const cookie = typeof header === 'string' ? header : await header;
			if (cookie !== '') {
				prepared = {...prepared, headers: {...prepared.headers, cookie}};
			}
		}

		validateTimeout('request', options.timeout);
		if (options.followRedirects !== undefined && typeof options.followRedirects !== 'boolean') {
			throw optionTypeError('request', 'followRedirects', 'a boolean', options.followRedirects);
		}

		if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
			throw optionTypeError('request', 'signal', 'an AbortSignal', options.signal);
		}

		let response = await this.send(prepared, options);
		for (const hook of this.hooks.response) {
			// eslint-disable-next-line no-await-in-loop -- each hook sees the last one's result
			const replaced = await hook(response, this);
			if (replaced !== undefined) {
				response = replaced;
			}
		}

		return response;
	}

	/** Send a prepared request with got (refusing the options of a layer that is not there). */
	async send(request: PreparedRequest, options: SendOptions = {}): Promise<Response> {
		for (const [name, why] of layerOptions) {
			if ((options as Record<string, unknown>)[name] !== undefined) {
				throw new TypeError(`request option \`${name}\` ${why}`);
			}
		}

		const history: RedirectHop[] = [];
		const timeout = options.timeout ?? this.timeout;
		const jar = this.#cookieJar;
		const gotOptions: OptionsInit = {
			method: request.method as NonNullable<OptionsInit['method']>,
			headers: request.headers,
			throwHttpErrors: false,
			followRedirect: options.followRedirects ?? true,
			hooks: {
				beforeRedirect: [
					(nextOptions, hop) => {
						history.push({status: hop.statusCode, url: hop.url, headers: definedHeaders(hop.headers)});
						if (jar !== undefined) {
							// As requests does: the next hop's cookies come from the jar, for its own URL.
							delete nextOptions.headers.cookie;
						}
					},
				],
			},
			...(jar === undefined ? {} : {cookieJar: cookieJarForRequest(jar)}),
			...(request.body === undefined ? {} : {body: request.body}),
			...(timeout === undefined ? {} : {timeout: {request: timeout}}),
		};
		// The URL is already absolute.
		if (prefixUrlOf(this.got) !== '') {
			gotOptions.prefixUrl = '';
		}

		// Unless the got instance brings its own request function or HTTP/2.
		if (this.got.defaults.options.request === undefined && !this.got.defaults.options.http2) {
			gotOptions.request = tolerantRequest as NonNullable<OptionsInit['request']>;
		}

		const {signal} = options;
		if (signal !== undefined) {
			signal.throwIfAborted();
			gotOptions.signal = signal;
		}

		let raw;
		try {
			raw = await this.got(request.url, {...gotOptions, responseType: 'buffer', resolveBodyOnly: false, isStream: false});
		} catch (error) {
			// The fetch contract: an aborted request rejects with the signal's reason.
			if (signal?.aborted === true) {
				throw signal.reason as Error;
			}

			const networkCode = networkCodeOf(error);
			throw new RequestError(`${request.method} ${request.url} failed${networkCode ? ` (${networkCode})` : ''}: ${(error as Error).message}`, request, {cause: error, networkCode});
		}

		return new Response({
			status: raw.statusCode,
			reason: raw.statusMessage,
			headers: responseHeaders(raw.headersDistinct, raw.headers),
			url: raw.url,
			body: Buffer.isBuffer(raw.body) ? raw.body : Buffer.from(raw.body as unknown as string),
			request,
			history,
			// The cache must not store what credentials the first request lacked obtained.
			lastHopHeaders: history.length === 0 ? undefined : sentHeaders(raw.request.options.headers),
		});
	}

	/** Release what the session holds: nothing for a plain session (got uses Node's global agents); cached sessions close their store. */
	async close(): Promise<void> {}

	/** Close the session at the end of an `await using` block (docs/sessions.md, "Closing with await using"). */
	async [Symbol.asyncDispose](): Promise<void> {
		await this.close();
	}

	/** A WHATWG `fetch` through this session and its cache, if any (docs/http-caching.md). */
	async fetch(input: string | URL | globalThis.Request, init?: FetchInit): Promise<globalThis.Response> {
		return fetchWith(this, input, init);
	}

	/** Send a GET request. */
	async get(url: string | URL, options?: RequestOptions): Promise<Response> {
		return this.request('GET', url, options);
	}

	/** Send a POST request. */
	async post(url: string | URL, options?: RequestOptions): Promise<Response> {
		return this.request('POST', url, options);
	}

	/** Send a PUT request. */
	async put(url: string | URL, options?: RequestOptions): Promise<Response> {
		return this.request('PUT', url, options);
	}

	/** Send a PATCH request. */
	async patch(url: string | URL, options?: RequestOptions): Promise<Response> {
		return this.request('PATCH', url, options);
	}

	/** Send a DELETE request. */
	async delete(url: string | URL, options?: RequestOptions): Promise<Response> {
		return this.request('DELETE', url, options);
	}

	/** Send a HEAD request. */
	async head(url: string | URL, options?: RequestOptions): Promise<Response> {
		return this.request('HEAD', url, options);
	}

	/** Send an OPTIONS request. */
	async options(url: string | URL, options?: RequestOptions): Promise<Response> {
		return this.request('OPTIONS', url, options);
	}
}

const gotIdentities = new WeakMap<Got, string | undefined>();

/** The client certificate's fingerprint of a got instance (its `https` options or its https agent's). */
function tlsIdentityOfGot(instance: Got): string | undefined {
	if (gotIdentities.has(instance)) {
		return gotIdentities.get(instance);
	}

	const options = instance.defaults?.options;
	const agent = options?.agent?.https as {options?: TlsMaterial} | undefined;
	const identity = tlsIdentityOf(options?.https as TlsMaterial | undefined) ?? tlsIdentityOf(agent?.options);
	gotIdentities.set(instance, identity);
	return identity;
}

/** got's request headers as sent (lower-case names, repeated values joined). */
function sentHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> {
	const sent = Object.entries(definedHeaders(headers)).map(([name, value]) => [name.toLowerCase(), [value].flat().join(', ')]);
	return Object.fromEntries(sent) as Record<string, string>;
}
