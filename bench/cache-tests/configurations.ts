/**
 * The caches the conformance runner measures, in the order the table shows them. Each runs in a
 * child process of its own with one fresh cache for the whole run (the suite gives every test its
 * own URLs, so tests cannot see each other's entries), as a browser runs the suite.
 */

/** Which library a configuration exercises. */
export type ClientKind = 'undici' | 'requests-cache';

/**
 * Which of the suite's selections a configuration runs: `private` is its browser mode
 * (`runTests(tests, fetch, true, base)`: every test but `browser_skip`), `shared` its mode for
 * proxies and CDNs (`runTests(tests, fetch, false, base)`: every test but `browser_only`).
 */
export type SuiteMode = 'private' | 'shared';

/** One cache to run the suite against. */
export type Configuration = {
	/** Short name, used by `--config=` and as the key in results.json. */
	readonly name: string;
	readonly client: ClientKind;
	/** The suite's selection, and for undici its interceptor's `type`. @default 'private' */
	readonly mode?: SuiteMode;
	/**
	 * requests-cache only: the `new CachedSession()` options, as JSON (so a configuration the
	 * library does not accept yet is reported as not run instead of stopping the build).
	 */
	readonly sessionOptions?: Readonly<Record<string, unknown>>;
};

/** The configurations of a default run (`npm run cache-tests`). */
export const defaultConfigurations: readonly Configuration[] = [
	{name: 'undici', client: 'undici'},
	{name: 'requests-cache', client: 'requests-cache', sessionOptions: {backend: 'memory', cacheControl: true}},
	{name: 'requests-cache-expire-0', client: 'requests-cache', sessionOptions: {backend: 'memory', cacheControl: true, expireAfter: 0}},
	{name: 'requests-cache-rfc9111', client: 'requests-cache', sessionOptions: {backend: 'memory', cacheControl: 'rfc9111'}},
	// RFC 9111 stores Set-Cookie and a cookie does not select a response; the security defaults
	// (docs/security.md) say otherwise, so the RFC's behaviour is an opt-in, measured here.
	{name: 'requests-cache-rfc9111-cookies', client: 'requests-cache', sessionOptions: {backend: 'memory', cacheControl: 'rfc9111', storeCookies: true, shareCredentials: ['cookie']}},
	// The suite's shared-cache selection: a cache in front of many users, as a proxy is. A proxy
	// keeps no cookie jar of its own (each user's request brings its cookies), so neither does the
	// session here: with one, the suite's Set-Cookie responses would come back on other tests'
	// requests, as no proxy sends them.
	{name: 'undici-shared', client: 'undici', mode: 'shared'},
	{name: 'requests-cache-rfc9111-shared', client: 'requests-cache', mode: 'shared', sessionOptions: {backend: 'memory', cacheControl: 'rfc9111', shared: true, cookieJar: false}},
	// RFC 9111 §3.1 stores Set-Cookie; the security default does not (one user's cookie replayed to
	// all). The RFC's behaviour is an opt-in, measured here.
	{name: 'requests-cache-rfc9111-shared-cookies', client: 'requests-cache', mode: 'shared', sessionOptions: {backend: 'memory', cacheControl: 'rfc9111', shared: true, cookieJar: false, storeCookies: true}},
];

/** The suite selection a configuration runs. */
export function modeOf(configuration: Configuration): SuiteMode {
	return configuration.mode ?? 'private';
}

/** How a configuration is shown in tables. */
export function describeConfiguration(configuration: Configuration): string {
	if (configuration.client === 'undici') {
		return `undici \`interceptors.cache({type: '${modeOf(configuration)}'})\``;
	}

	const options = Object.entries(configuration.sessionOptions ?? {}).map(([name, value]) => `${name}: ${typeof value === 'string' ? `'${value}'` : JSON.stringify(value)}`);
	return `requests-cache \`{${options.join(', ')}}\``;
}
