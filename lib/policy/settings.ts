import type {KeySettings} from '../cache-keys.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response} from '../models/response.js';
import type {Expiration, UrlExpirationRules} from './expiration.js';

/** How miss coalescing across processes is tuned (the `coalesce` option, validated; lib/engine/coalesce.ts). */
export type CoalesceSettings = {
	/** How long a leader's lease lasts without renewal, ms. */
	readonly lease: number;
	/** The longest a request waits for another process's flight, ms. */
	readonly wait: number;
};

/** The validated, frozen settings the policy and the engine read, made by lib/config/options.ts, which documents each. */
export type CacheSettings = KeySettings & {
	readonly cacheName: string;
	readonly shareCredentials: boolean | ReadonlySet<string>;
	readonly storeCookies: boolean;
	readonly expireAfter: Expiration;
	readonly urlsExpireAfter: UrlExpirationRules;
	readonly allowableCodes: ReadonlySet<number>;
	readonly allowableMethods: ReadonlySet<string>;
	readonly filterFn: ((response: Response) => boolean) | undefined;
	readonly keyFn: ((request: PreparedRequest) => string) | undefined;
	readonly readOnly: boolean;
	readonly cacheControl: boolean | 'rfc9111';
	readonly shared: boolean;
	/** The cache's name in `Cache-Status`, or undefined when the field is off. */
	readonly cacheStatus: string | undefined;
	readonly alwaysRevalidate: boolean;
	/** Longest staleness in ms (Infinity for `true`), or 0 when off. */
	readonly staleIfError: number;
	readonly staleWhileRevalidate: number;
	readonly ttlOffset: number;
	readonly backendTimeout: number;
	readonly clock: () => number;
	readonly maxEntrySize: number;
	readonly coalesce: CoalesceSettings | false;
};
