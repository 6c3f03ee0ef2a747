import diagnosticsChannel from 'node:diagnostics_channel';
import {debuglog} from 'node:util';

/** The decisions the cache publishes, each on its own `diagnostics_channel`: `requests-cache:<event>`. */
export type CacheEvent = 'hit' | 'stale' | 'miss' | 'stored' | 'revalidated' | 'bypass' | 'evicted' | 'error' | FleetEvent;

/** A miss's part in a flight across processes (`coalesce`, docs/scaling.md). */
export type FleetEvent = 'leader' | 'waiter' | 'takeover';

/** What is published for each decision (and logged with `NODE_DEBUG=requests-cache`). */
export type CacheEventMessage = {
	readonly event: CacheEvent;
	/** The cache's name (`cacheName`). */
	readonly cacheName: string;
	readonly method: string;
	/** The request URL as given (it may hold secrets); for `evicted`, the evicted record's stored URL (redacted). */
	readonly url: string;
	/** The cache key ('' for a request that bypasses the cache); for `evicted`, the evicted record's. */
	readonly key: string;
	/** Milliseconds from the request reaching the cache to this decision being carried out. */
	readonly ms: number;
	/** The response status, when there is one. */
	readonly status?: number | undefined;
	/** Body bytes stored (for `stored`). */
	readonly bytes?: number | undefined;
	/** Why (for `bypass` and `error`); for `evicted`, which kind of record went. */
	readonly reason?: string | undefined;
};

const cacheEvents: readonly CacheEvent[] = ['hit', 'stale', 'miss', 'stored', 'revalidated', 'bypass', 'evicted', 'error', 'leader', 'waiter', 'takeover'];

/** The channels, by event: `diagnostics_channel.subscribe('requests-cache:hit', fn)`. */
export const CACHE_CHANNELS = Object.freeze(Object.fromEntries(cacheEvents.map(event => [event, diagnosticsChannel.channel(`requests-cache:${event}`)]))) as Readonly<Record<CacheEvent, diagnosticsChannel.Channel>>;

const debug = debuglog('requests-cache');
// NODE_DEBUG is read once, at start: decided here, so a hit pays one comparison.
const logging = debug.enabled ? debug : undefined;

/** True when someone listens to `event` or the debug log is on: only then is a message built. */
export function wanted(event: CacheEvent): boolean {
	return logging !== undefined || CACHE_CHANNELS[event].hasSubscribers;
}

/** Publish one decision, and log it in one line with `NODE_DEBUG=requests-cache`. */
export function publish(message: CacheEventMessage): void {
	const channel = CACHE_CHANNELS[message.event];
	if (channel.hasSubscribers) {
		channel.publish(message);
	}

	if (logging !== undefined && message.method === '') {
		// A store's failure, not a request's decision.
		logging('%s %s [%s]', message.event, message.reason ?? '', message.cacheName);
	} else if (logging !== undefined) {
		const extra = [
			message.status === undefined ? '' : ` ${message.status}`,
			message.bytes === undefined ? '' : ` ${message.bytes} bytes`,
			message.reason === undefined ? '' : ` (${message.reason})`,
		].join('');
		logging('%s %s %s%s key=%s %sms [%s]', message.event, message.method, message.url, extra, message.key || '-', message.ms.toFixed(2), message.cacheName);
	}
}

/** Counters of one cache, for metrics: what `session.cache.stats()` returns. */
export type CacheStats = {
	/** Served fresh from the cache. */
	hits: number;
	/** Served from the cache past its expiry (max-stale, stale-if-error, stale-while-revalidate). */
	staleServed: number;
	/** Looked up and not usable: sent to the origin. */
	misses: number;
	/** Confirmed by the origin with a 304. */
	revalidations: number;
	/** Responses written to the store. */
	stores: number;
	/** Body bytes written to the store. */
	bytesStored: number;
	/** Requests that did not use the cache (method, directives, DO_NOT_CACHE, disabled). */
	bypassed: number;
	/** Records (responses, redirect aliases, Vary indexes) evicted by this cache's writes to stay within `maxEntries`/`maxBytes`. */
	evicted: number;
	/** Store failures and unreadable entries reported. */
	errors: number;
	/** Misses that waited for another process's flight (`coalesce`) and were served what it stored. */
	coalesced: number;
	/** Misses that waited for another process's flight and then asked the origin themselves (it failed, was not stored, or took too long). */
	coalesceFallbacks: number;
	/** Flights taken over after their leader's lease expired (it died or stalled). */
	takeovers: number;
	/** Reads served by the memory tier in front of Redis (`memoryTier`); present only with a tier. */
	tierHits?: number;
};

/** Fresh counters, all zero. */
export function emptyStats(): CacheStats {
	return {hits: 0, staleServed: 0, misses: 0, revalidations: 0, stores: 0, bytesStored: 0, bypassed: 0, evicted: 0, errors: 0, coalesced: 0, coalesceFallbacks: 0, takeovers: 0};
}

/** The counter each request decision adds to (`waiter`'s depends on whether it went to the origin). */
const counters: Partial<Record<CacheEvent, 'hits' | 'staleServed' | 'misses' | 'revalidations' | 'stores' | 'bypassed' | 'takeovers'>> = {
	hit: 'hits', stale: 'staleServed', miss: 'misses', revalidated: 'revalidations', stored: 'stores', bypass: 'bypassed', takeover: 'takeovers',
};

/** Count a request's decision in `stats`; true when someone wants its message (then build it and {@link publish} it). */
export function count(stats: CacheStats, event: CacheEvent, extra: {readonly bytes?: number | undefined; readonly reason?: string | undefined}): boolean {
	const counter = event === 'waiter' ? (extra.reason === undefined ? 'coalesced' : 'coalesceFallbacks') : counters[event];
	if (counter !== undefined) {
		stats[counter]++;
	}

	if (event === 'stored') {
		stats.bytesStored += extra.bytes ?? 0;
	}

	return wanted(event);
}
