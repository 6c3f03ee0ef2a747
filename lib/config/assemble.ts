import type {CacheStore} from '../backends/store.js';
import {BaseCache, CACHE_PARTS} from '../cache/base-cache.js';
import {createKey} from '../cache-keys.js';
import {CacheEngine} from '../engine/engine.js';
import type {SingleFlight} from '../engine/flights.js';
import type {PreparedRequest} from '../models/request.js';
import {type CacheConfig, type CacheOptions, normalizeCacheOptions} from './options.js';
import {storeFor} from './stores.js';

/**
 * The composition root: store → cache → engine (docs/architecture.md); a `BaseCache` given as `backend` is used as it is.
 *
 * @example
 * const engine = createEngine(normalizeCacheOptions({backend: 'memory'}));
 */
export function createEngine(config: CacheConfig, flights?: SingleFlight): CacheEngine {
	const keyFn = config.keyFn ?? ((request: PreparedRequest) => createKey(request, config));
	const {backend, clock, backendTimeout, strictBackend, ttlOffset, cacheName} = config;
	const given = backend instanceof BaseCache ? backend : undefined;
	const cache = given ?? new BaseCache(storeFor(config), {clock, backendTimeout, strictBackend, keyFn, ttlOffset, name: cacheName});
	if (config.onError) {
		cache.on('error', config.onError);
	}

	return new CacheEngine(config, {cache, storage: cache[CACHE_PARTS](keyFn).storage, owned: given === undefined}, flights);
}

/** Build the store that cache options name (validated as a session's are); a missing driver fails its operations naming it. */
export function createStore(options: CacheOptions): CacheStore {
	const config = normalizeCacheOptions(options, 'createStore()');
	if (config.backend instanceof BaseCache) {
		throw new TypeError('createStore() option `backend` must be a store, a Keyv or a backend name: a BaseCache is a cache over a store');
	}

	return storeFor(config);
}
