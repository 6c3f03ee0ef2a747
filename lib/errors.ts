import type {Response} from './models/response.js';

/** Stable machine-readable codes carried by every error this package throws. */
export type ErrorCode = 'ERR_HTTP_STATUS' | 'ERR_REQUEST' | 'ERR_BACKEND' | 'ERR_CACHE_DISABLED_OPTION';

/** Base class of the errors thrown by requests-cache: a `code` stable across versions, the underlying error on `cause`. */
export class RequestsCacheError extends Error {
	readonly code: ErrorCode;

	constructor(message: string, code: ErrorCode, options?: {cause?: unknown}) {
		super(message, options);
		this.name = 'RequestsCacheError';
		this.code = code;
	}
}

/** Thrown by `Response.raiseForStatus()` for a 4xx or 5xx response; carries the response. */
export class HTTPError extends RequestsCacheError {
	readonly response: Response;

	constructor(response: Response) {
		const kind = response.status >= 500 ? 'Server Error' : 'Client Error';
		super(`${response.status} ${kind}: ${response.reason || 'HTTP error'} for url: ${response.url}`, 'ERR_HTTP_STATUS');
		this.name = 'HTTPError';
		this.response = response;
	}
}

/** Why the network failed, as Node and got name it (`ETIMEDOUT` for any timeout; any other code kept as it is). */
export type NetworkErrorCode = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'ENOTFOUND' | 'EAI_AGAIN' | 'EHOSTUNREACH' | 'ENETUNREACH' | 'EPIPE' | (string & Record<never, never>);

// got's generic wrapper code says nothing about the cause.
const uninformativeCodes: ReadonlySet<string> = new Set(['ERR_GOT_REQUEST_ERROR']);

/** The network code of a transport error: the first string `code` along its `cause` chain, `ETIMEDOUT` for any timeout. */
export function networkCodeOf(error: unknown): NetworkErrorCode | undefined {
	let current = error;
	for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
		const {code, name} = current as {code?: unknown; name?: unknown};
		if (name === 'TimeoutError') {
			return 'ETIMEDOUT';
		}

		if (typeof code === 'string' && code !== '' && !uninformativeCodes.has(code)) {
			return code;
		}

		current = (current as {cause?: unknown}).cause;
	}

	return undefined;
}

/** The request could not be sent or no response arrived (DNS, connection, timeout); `networkCode` says what happened (docs/sessions.md). */
export class RequestError extends RequestsCacheError {
	readonly url: string;
	readonly method: string;
	/** What the network reported (`ECONNREFUSED`, `ETIMEDOUT`, `ENOTFOUND`…), or undefined when it said nothing. */
	readonly networkCode: NetworkErrorCode | undefined;

	constructor(message: string, request: {method: string; url: string}, options?: {cause?: unknown; networkCode?: NetworkErrorCode | undefined}) {
		super(message, 'ERR_REQUEST', options?.cause === undefined ? undefined : {cause: options.cause});
		this.name = 'RequestError';
		this.method = request.method;
		this.url = request.url;
		this.networkCode = options?.networkCode ?? networkCodeOf(options?.cause);
	}
}

/** A cache store failed (only thrown with `strictBackend: true`; otherwise reported on `'error'`). */
export class BackendError extends RequestsCacheError {
	readonly operation: string;
	/** Records written behind requests that this failure kept out of the store for good; 0 when none were lost. */
	readonly lost: number;

	constructor(operation: string, options?: {cause?: unknown; lost?: number}) {
		const reason = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? 'unknown error');
		const lost = options?.lost ?? 0;
		const tail = lost === 0 ? '' : ` (${lost} record${lost === 1 ? '' : 's'} written behind requests lost)`;
		super(`Cache backend failed during ${operation}: ${reason}${tail}`, 'ERR_BACKEND', options?.cause === undefined ? undefined : {cause: options.cause});
		this.name = 'BackendError';
		this.operation = operation;
		this.lost = lost;
	}
}

/** Build the `TypeError` thrown for a bad option, naming it. */
export function optionTypeError(owner: string, name: string, expected: string, value: unknown): TypeError {
	return new TypeError(`${owner} option \`${name}\` must be ${expected}, got ${describe(value)}`);
}

/** Build the `RangeError` thrown for an option whose type is right but whose value is impossible. */
export function optionRangeError(owner: string, name: string, expected: string, value: unknown): RangeError {
	return new RangeError(`${owner} option \`${name}\` must be ${expected}, got ${describe(value)}`);
}

/** Reject option names the owner does not know, naming the first one (with a hint for near misses). */
export function assertKnownOptions(owner: string, options: object, known: ReadonlySet<string>): void {
	for (const name of Object.keys(options)) {
		if (!known.has(name)) {
			const hint = [...known].find(k => k.toLowerCase() === name.toLowerCase().replaceAll('_', ''));
			throw new TypeError(`${owner}: unknown option \`${name}\`${hint ? ` (did you mean \`${hint}\`?)` : ''}`);
		}
	}
}

function describe(value: unknown): string {
	if (value instanceof Date) {
		return Number.isNaN(value.getTime()) ? 'an invalid Date' : `Date ${value.toISOString()}`;
	}

	if (typeof value === 'string') {
		return `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
	}

	if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
		return `${typeof value} ${String(value)}`;
	}

	if (typeof value === 'symbol') {
		return `symbol ${value.description ?? ''}`;
	}

	if (value === null || value === undefined) {
		return String(value);
	}

	return Array.isArray(value) ? 'an array' : (typeof value === 'function' ? 'a function' : 'an object');
}
