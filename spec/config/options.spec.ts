import assert from 'node:assert/strict';
import {CACHE_OPTION_NAMES, type CacheConfig, DEFAULT_CACHE_OPTIONS, normalizeCacheOptions} from '../../lib/config/options.js';
import {NEVER} from '../../lib/policy/expiration.js';

// Issue 17: each option declared once, in one table, and everything else derived from it.
describe('config/options: the option table', () => {
	// What each option is when not given: one row per option, so that an option added to the table needs a row here.
	const defaults: {[Name in keyof CacheConfig]: unknown} = {
		cacheName: 'http_cache', backend: 'sqlite', url: undefined, useCacheDir: false, useTemp: false, expireAfter: NEVER, urlsExpireAfter: [],
		allowableCodes: new Set([200]), allowableMethods: new Set(['GET', 'HEAD']), ignoredParameters: new Set(), shareCredentials: false,
		matchHeaders: false, filterFn: undefined, keyFn: undefined, readOnly: false, cacheControl: false, shared: false, storeCookies: false,
		cacheStatus: undefined, alwaysRevalidate: false, staleIfError: 0, staleWhileRevalidate: 0, ttlOffset: 3600, backendTimeout: 1000,
		strictBackend: false, onError: undefined, clock: Date.now, maxEntries: undefined, maxBytes: undefined, maxEntrySize: 50 * 1024 * 1024,
		coalesce: {lease: 2000, wait: 30_000}, memoryTier: undefined,
	};

	it('gives each option its default, and names each option once', () => {
		assert.deepEqual(new Set(Object.keys(defaults)), CACHE_OPTION_NAMES);
		assert.deepEqual(new Set(Object.keys(DEFAULT_CACHE_OPTIONS)), CACHE_OPTION_NAMES);
		assert.ok(Object.isFrozen(DEFAULT_CACHE_OPTIONS));
		const config = normalizeCacheOptions();
		assert.ok(Object.isFrozen(config));
		for (const name of CACHE_OPTION_NAMES) {
			assert.deepEqual(config[name as keyof CacheConfig], defaults[name as keyof CacheConfig], name);
		}
	});

	it('derives the defaults that depend on other options', () => {
		assert.equal(normalizeCacheOptions({cacheControl: 'rfc9111'}).storeCookies, true, 'a private RFC 9111 cache stores cookies');
		assert.equal(normalizeCacheOptions({cacheControl: 'rfc9111', shared: true}).storeCookies, false);
		assert.equal(normalizeCacheOptions({backend: 'memory', maxBytes: 1000}).maxEntrySize, 1000);
		assert.deepEqual(normalizeCacheOptions({backend: 'redis', memoryTier: {}}).memoryTier, {maxEntries: undefined, maxBytes: 64 * 1024 * 1024});
		assert.equal(normalizeCacheOptions({coalesce: false}).coalesce, false);
	});

	it('refuses a value of the wrong type for every option, naming the option and the owner', () => {
		for (const name of CACHE_OPTION_NAMES) {
			assert.throws(() => normalizeCacheOptions({[name]: Symbol('wrong')}, 'MySession'), (error: Error) => {
				assert.equal(error.name, 'TypeError', name);
				assert.match(error.message, new RegExp(`^MySession option \`${name}(\\.[a-zA-Z]+)?\` must be`), name);
				return true;
			});
		}
	});

	it('refuses unknown names, with a hint for a near miss, and options that are not an object', () => {
		assert.throws(() => normalizeCacheOptions({expire_after: 60} as never), {name: 'TypeError', message: /^CachedSession: unknown option `expire_after` \(did you mean `expireAfter`\?\)/});
		assert.throws(() => normalizeCacheOptions({colour: 'red'} as never), {name: 'TypeError', message: /unknown option `colour`/});
		assert.throws(() => normalizeCacheOptions({coalesce: {leese: 5}} as never), {name: 'TypeError', message: /option `coalesce`: unknown option `leese`/});
		assert.throws(() => normalizeCacheOptions('memory' as never), {name: 'TypeError', message: /option `options` must be an object/});
	});

	it('takes undefined as "not given"', () => {
		assert.equal(normalizeCacheOptions({cacheName: undefined, url: undefined}).cacheName, 'http_cache');
	});
});
