import type {EntryStorage, Found, VariantKey} from '../cache/entry-storage.js';
import type {CacheEvent} from '../diagnostics.js';
import type {PreparedRequest, TransportOptions} from '../models/request.js';
import type {Response} from '../models/response.js';
import type {ByteRange} from '../policy/ranges.js';
import type {Lookup, PlanOptions} from '../policy/actions.js';
import type {CacheSettings} from '../policy/settings.js';

/** How a front door reaches the origin: send the request as it is, return the response. */
export type Send = (request: PreparedRequest, options: TransportOptions) => Promise<Response>;

/** What the engine takes per request besides the request: the transport's options and the cache's. */
export type EngineOptions = TransportOptions & PlanOptions;

/** Details of an observed decision. */
export type Observed = {status?: number; bytes?: number; reason?: string};

/** One engine, as its parts (the request path, storing, revalidation, invalidation) reach it. */
export type EngineContext = {
	readonly settings: CacheSettings;
	readonly storage: EntryStorage;
	/** Count a decision for `stats()`, and publish it where someone listens. */
	observe(event: CacheEvent, request: PreparedRequest, key: string, started: number, extra?: Observed): void;
	/** Keep a task running in the background until it ends: `close()` waits for it. */
	track(task: Promise<void>): void;
	/** How `request` reaches a variant of a stored response. */
	variantKey(request: PreparedRequest): VariantKey;
	/** The stored entry as the response served for `request` (the part `range` asks for, when given). */
	serve(found: Found, request: PreparedRequest, now: number, range: ByteRange | undefined, how?: {owned?: boolean; revalidated?: boolean}): Response;
	/** Report a failure nobody waits for (a background refresh): never thrown. */
	reportBackground(request: PreparedRequest, key: string, error: unknown): void;
	/** A miss's or a revalidation's flight across processes (lib/engine/coalesce.ts): lead it (`fetch`), or be served what another stored. */
	acrossProcesses(flight: string, fetch: (signal: AbortSignal | undefined) => Promise<Response>, signal: AbortSignal | undefined, plan: Lookup, key: string, request: PreparedRequest, options: EngineOptions, started: number): Promise<Response>;
};

/** Requests share a flight only when nothing about them could change the answer. */
export function flightKey(mode: string, key: string, request: PreparedRequest, options: EngineOptions, plan: Lookup): string {
	return JSON.stringify([mode, key, options.followRedirects ?? true, options.timeout ?? null, plan.expiration, plan.refresh, request.headers]);
}

/** The options a door's `send` takes: the transport's, without the cache's. */
export function transportOptions(options: EngineOptions): TransportOptions {
	const {timeout, followRedirects, signal} = options;
	return {
		...(timeout === undefined ? {} : {timeout}),
		...(followRedirects === undefined ? {} : {followRedirects}),
		...(signal === undefined ? {} : {signal}),
	};
}

/** The options with the flight's signal in place of the caller's (none when the flight has none). */
export function withSignal(options: EngineOptions, signal: AbortSignal | undefined): EngineOptions {
	const {signal: _callers, ...rest} = options;
	return signal === undefined ? rest : {...rest, signal};
}
