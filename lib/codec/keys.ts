import {isUtf8} from 'node:buffer';
import {hash} from 'node:crypto';
import type {PreparedRequest} from '../models/request.js';
import {type FoundCredential, credentialId, deriveCredentialIdAsync, memoizedCredentialId} from './credentials.js';
import {canonicalJson, parseJson} from './json-body.js';
import {canonicalQuery, canonicalUrl} from './normalize-url.js';
import {type NameRole, type NameRules, nameRules} from './secret-names.js';

/**
 * Cache keys: a SHA-256 over a canonical structure of the request (method, normalized URL,
 * canonical body, matched headers) and, when the request carries credentials, their derived
 * identity (lib/codec/credentials.ts), so that two users never share an entry while no credential
 * reaches the store, not even as a fast hash.
 */

/** What cache keys are built from, after validation (names lower-case). */
export type KeySettings = {
	/** Names redacted in storage; those that are not built-in credential names are also left out of the key. */
	readonly ignoredParameters: ReadonlySet<string>;
	/** Request headers that are part of the key: false (none), true (all but redacted ones), or names. */
	readonly matchHeaders: boolean | readonly string[];
	/**
	 * Let requests with different credentials share entries: true for every built-in credential
	 * name, or the set of names to share (lower-case). @default false
	 */
	readonly shareCredentials?: boolean | ReadonlySet<string>;
	/** The cache's name: salts the credential derivation. @default 'http_cache' */
	readonly cacheName?: string;
};

const defaultCacheName = 'http_cache';

function contentType(headers: Readonly<Record<string, string>>): string {
	const value = headers['content-type'];
	return value === undefined ? '' : value.split(';')[0]!.trim().toLowerCase();
}

/** True for `application/json` and `+json` types. */
export function isJsonType(type: string): boolean {
	return type === 'application/json' || type.endsWith('+json');
}

/** The media type of a request's body, lower-case, without parameters ('' when none). */
export function bodyType(request: PreparedRequest): string {
	return contentType(request.headers);
}

function keyBody(request: PreparedRequest, role: (name: string) => NameRole, found: FoundCredential[]): unknown {
	const {body} = request;
	if (body === undefined || body.length === 0) {
		return null;
	}

	const type = bodyType(request);
	// Bytes that are not UTF-8 would decode to U+FFFD whatever they were: keyed as bytes.
	if (!isUtf8(body)) {
		return {sha256: hash('sha256', body, 'hex')};
	}

	if (isJsonType(type)) {
		const tree = parseJson(body.toString('utf8'));
		if (tree !== undefined) {
			const inBody: FoundCredential[] = [];
			try {
				const json = canonicalJson(tree, role, inBody);
				found.push(...inBody);
				return {json};
			} catch {
				// Nested too deep to walk: keyed on its bytes below.
			}
		}
	} else if (type === 'application/x-www-form-urlencoded') {
		return {form: canonicalQuery(body.toString('utf8'), role, found, 'form')};
	}

	return {sha256: hash('sha256', body, 'hex')};
}

/** Collect the credential headers, and the matched headers' pairs (redacted ones go to `found`). */
function keyHeaders(request: PreparedRequest, settings: KeySettings, rules: NameRules, found: FoundCredential[]): Array<[string, string | null]> {
	const {headers} = request;
	for (const name in headers) {
		if (rules.role(name) === 'credential') {
			found.push([`header ${name}`, headers[name]!]);
		}
	}

	const {matchHeaders} = settings;
	if (matchHeaders === false) {
		return [];
	}

	if (matchHeaders === true) {
		// Every header but the redacted ones, which credentials reach through `found` only.
		return Object.keys(headers).filter(name => !rules.redacted(name)).sort().map(name => [name, headers[name]!]);
	}

	const pairs: Array<[string, string | null]> = [];
	for (const name of matchHeaders) {
		const value = headers[name];
		if (!rules.redacted(name)) {
			pairs.push([name, value ?? null]);
		} else if (rules.role(name) !== 'credential') {
			// Listed by name, so keyed on: a shared or ignored secret still reaches the key only derived.
			found.push([`matched ${name}`, value ?? '\0absent']);
		}
	}

	return pairs;
}

type Collected = {readonly canonical: unknown[]; readonly found: FoundCredential[]};

function collect(request: PreparedRequest, settings: KeySettings): Collected {
	const rules = nameRules(settings.ignoredParameters, settings.shareCredentials ?? false);
	const role = rules.role;
	const found: FoundCredential[] = [];
	const url = canonicalUrl(request.url, role, found, settings.shareCredentials === true);
	const body = keyBody(request, role, found);
	const headers = keyHeaders(request, settings, rules, found);
	return {canonical: [request.method, url, body, headers], found};
}

function finish(canonical: unknown[], id: string | undefined): string {
	if (id !== undefined) {
		canonical.push(id);
	}

	// One-shot hash(): a third of createHash()'s cost for an input this small.
	return hash('sha256', JSON.stringify(canonical), 'hex').slice(0, 32);
}

/**
 * The cache key of a request: 32 hex digits. Equivalent requests (URL forms, query order, JSON key
 * order) share a key; requests with different credentials never do, unless `shareCredentials`
 * says so. The first request with new credentials derives their identity (scrypt, tens of ms, on
 * this thread); later ones find it memoized. The engine uses {@link createKeyNonBlocking}.
 */
export function createKey(request: PreparedRequest, settings: KeySettings): string {
	const {canonical, found} = collect(request, settings);
	return finish(canonical, found.length === 0 ? undefined : credentialId(found, settings.cacheName ?? defaultCacheName));
}

/**
 * {@link createKey}, with a credential derivation that is not memoized yet done on the thread pool:
 * the key at once when no derivation is needed (every hit with known credentials), else a promise.
 */
export function createKeyNonBlocking(request: PreparedRequest, settings: KeySettings): string | Promise<string> {
	const {canonical, found} = collect(request, settings);
	if (found.length === 0) {
		return finish(canonical, undefined);
	}

	const cacheName = settings.cacheName ?? defaultCacheName;
	const id = memoizedCredentialId(found, cacheName);
	return id === undefined
		? deriveCredentialIdAsync(found, cacheName).then(derived => finish(canonical, derived))
		: finish(canonical, id);
}

/**
 * The derived identity of every credential a request carries (shared ones included), or undefined
 * when it carries none. The engine stores it with a `Cache-Control: private` response and serves
 * that response only to a request with the same identity, whatever `shareCredentials` says.
 */
export function credentialFingerprint(request: PreparedRequest, settings: KeySettings): string | undefined {
	const {found} = collect(request, {...settings, shareCredentials: false, matchHeaders: false});
	return found.length === 0 ? undefined : credentialId(found, settings.cacheName ?? defaultCacheName);
}

/**
 * The key of one variant of a response with `Vary`: the primary key and the request's values of
 * the Vary headers. A redacted header (Authorization, Cookie…) reaches the key only derived.
 */
export function createVariantKey(primaryKey: string, names: readonly string[], request: PreparedRequest, settings: KeySettings): string {
	const rules = nameRules(settings.ignoredParameters, settings.shareCredentials ?? false);
	const pairs: Array<[string, string | null]> = [];
	const found: FoundCredential[] = [];
	for (const name of names) {
		const value = request.headers[name] ?? null;
		if (rules.redacted(name)) {
			found.push([`vary ${name}`, value ?? '\0absent']);
		} else {
			pairs.push([name, value]);
		}
	}

	return finish(['vary', primaryKey, pairs], found.length === 0 ? undefined : credentialId(found, settings.cacheName ?? defaultCacheName));
}
