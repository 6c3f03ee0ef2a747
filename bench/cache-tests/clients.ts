/**
 * A configuration turned into the fetch the suite's client calls: undici's fetch over its cache
 * interceptor, or `session.fetch` of a requests-cache `CachedSession`. requests-cache is imported
 * only when a configuration needs it, so an undici-only run works whatever state lib/ is in.
 */
import {Agent, fetch as undiciFetch, interceptors} from 'undici';
import {type Configuration, modeOf} from './configurations.js';

/** The fetch a cache offers the suite. */
export type CacheFetch = (url: string, init?: RequestInit) => Promise<Response>;

/** A cache under test. */
export type CacheClient = {
	readonly fetch: CacheFetch;
	close(): Promise<void>;
};

type RequestsCacheModule = {
	CachedSession: new (options: Record<string, unknown>) => {
		fetch(input: string, init?: RequestInit): Promise<Response>;
		close(): Promise<void>;
	};
};

function undiciClient(configuration: Configuration): CacheClient {
	const dispatcher = new Agent().compose(interceptors.cache({type: modeOf(configuration)}));
	return {
		// undici's fetch and Response are the WHATWG ones Node exposes globally, typed apart.
		fetch: async (url, init) => undiciFetch(url, {...init as Parameters<typeof undiciFetch>[1], dispatcher}) as unknown as Promise<Response>,
		close: async () => dispatcher.close(),
	};
}

async function requestsCacheClient(configuration: Configuration, libraryEntry: string): Promise<CacheClient> {
	const {CachedSession} = await import(libraryEntry) as RequestsCacheModule;
	const session = new CachedSession({...configuration.sessionOptions});
	return {
		fetch: async (url, init) => session.fetch(url, init),
		close: async () => session.close(),
	};
}

/**
 * The client for `configuration`; `libraryEntry` is the module requests-cache is loaded from
 * (lib/index.ts, or another copy for an A/B run).
 */
export async function createClient(configuration: Configuration, libraryEntry: string): Promise<CacheClient> {
	return configuration.client === 'undici' ? undiciClient(configuration) : requestsCacheClient(configuration, libraryEntry);
}
