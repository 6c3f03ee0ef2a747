/**
 * The caches the conformance runner measures, in the order the table shows them. Each runs in a
 * child process of its own with one fresh cache for the whole run (the suite gives every test its
 * own URLs, so tests cannot see each other's entries), as a browser runs the suite.
 */

/** Which library a configuration exercises. */
export type ClientKind = 'undici' | 'requests-cache';

/** One cache to run the suite against. */
export type Configuration = {
	/** Short name, used by `--config=` and as the key in results.json. */
	readonly name: string;
	readonly client: ClientKind;
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
];

/** How a configuration is shown in tables. */
export function describeConfiguration(configuration: Configuration): string {
	if (configuration.client === 'undici') {
		return 'undici `interceptors.cache({type: \'private\'})`';
	}

	const options = Object.entries(configuration.sessionOptions ?? {}).map(([name, value]) => `${name}: ${typeof value === 'string' ? `'${value}'` : JSON.stringify(value)}`);
	return `requests-cache \`{${options.join(', ')}}\``;
}
