import {isUtf8} from 'node:buffer';
import {hash} from 'node:crypto';
import type {PreparedRequest} from '../models/request.js';
import {type FoundCredential, identityOf, memoizedStretch, stretchAsync, stretchSync} from './credentials.js';
import {canonicalJson, parseJson} from './json-body.js';
import {canonicalQuery, canonicalUrl, parameterName} from './normalize-url.js';
import {type NameRole, type NameRules, isPasswordName, nameRules} from './secret-names.js';

/** What cache keys are built from, after validation (names lower-case). */
export type KeySettings = {
	readonly ignoredParameters: ReadonlySet<string>;
	/** Request headers that are part of the key: false (none), true (all but redacted ones), or names. */
	readonly matchHeaders: boolean | readonly string[];
	/** Credential names whose requests share entries: true for all. @default false */
	readonly shareCredentials?: boolean | ReadonlySet<string>;
	/** The cache's name: salts the credential derivation. @default 'http_cache' */
	readonly cacheName?: string;
};

const defaultCacheName = 'http_cache';

/** True for `application/json` and `+json` types. */
export function isJsonType(type: string): boolean {
	return type === 'application/json' || type.endsWith('+json');
}

/** The media type of a request's body, lower-case, without parameters ('' when none). */
export function bodyType(request: PreparedRequest): string {
	return request.headers['content-type']?.split(';')[0]!.trim().toLowerCase() ?? '';
}

function keyBody(request: PreparedRequest, role: (name: string) => NameRole, found: FoundCredential[], shared: FoundCredential[]): unknown {
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
				const sharedInBody: FoundCredential[] = [];
				const json = canonicalJson(tree, role, inBody, '', sharedInBody);
				found.push(...inBody);
				shared.push(...sharedInBody);
				return {json};
			} catch {
				// Nested too deep to walk: keyed on its bytes below.
			}
		}
	} else if (type === 'application/x-www-form-urlencoded') {
		return {form: canonicalQuery(body.toString('utf8'), role, found, 'form', shared)};
	}

	return {sha256: hash('sha256', body, 'hex')};
}

function keyHeaders(request: PreparedRequest, settings: KeySettings, rules: NameRules, found: FoundCredential[], shared: FoundCredential[]): Array<[string, string | null]> {
	const {headers} = request;
	for (const name in headers) {
		const role = rules.role(name);
		if (role === 'credential') {
			found.push([`header ${name}`, headers[name]!]);
		} else if (role === 'shared') {
			shared.push([`header ${name}`, headers[name]!]);
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
			// Listed by name, so keyed on (a Cookie set by hand, say): a secret reaches the key only derived.
			found.push([`matched ${name}`, value ?? '\0absent']);
		}
	}

	return pairs;
}

/** A request's canonical structure, the credentials in its key (`found`) and those only in its owner (`shared`). */
type Collected = {readonly canonical: unknown[]; readonly found: FoundCredential[]; readonly shared: FoundCredential[]};

function collect(request: PreparedRequest, settings: KeySettings): Collected {
	const rules = nameRules(settings.ignoredParameters, settings.shareCredentials ?? false);
	const role = rules.role;
	const found: FoundCredential[] = [];
	const shared: FoundCredential[] = [];
	const url = canonicalUrl(request.url, role, found, settings.shareCredentials === true, shared);
	const body = keyBody(request, role, found, shared);
	const headers = keyHeaders(request, settings, rules, found, shared);
	const {tlsIdentity} = request;
	if (tlsIdentity !== undefined) {
		(settings.shareCredentials === true ? shared : found).push(['tls', tlsIdentity]);
	}

	return {canonical: [request.method, url, body, headers], found, shared};
}

/** True for a password or the like, stretched before it is hashed; every other credential is high-entropy. */
function isLowEntropy([where, value]: FoundCredential): boolean {
	if (where === 'userinfo') {
		return true;
	}

	if (where.endsWith('authorization')) {
		return /^\s*(?:basic|digest)\b/i.test(value);
	}

	if (where === 'query' || where === 'form') {
		return isPasswordName(parameterName(value));
	}

	// A JSON field: the path's last name.
	const last = /\."((?:[^"\\]|\\.)*)"$/.exec(where);
	return last !== null && isPasswordName(JSON.parse(`"${last[1]!}"`) as string);
}

/** How a password is stretched: from the memo only (the request path, after {@link prepareIdentity}), or on this thread. */
type Stretch = (secret: string, cacheName: string) => string | undefined;

/** The credentials with each password replaced by its stretched value; undefined when one is not stretched yet. */
function hashable(found: readonly FoundCredential[], cacheName: string, stretch: Stretch): FoundCredential[] | undefined {
	let safe: FoundCredential[] | undefined;
	for (let index = 0; index < found.length; index++) {
		const credential = found[index]!;
		if (isLowEntropy(credential)) {
			const stretched = stretch(credential[1], cacheName);
			if (stretched === undefined) {
				return undefined;
			}

			safe ??= [...found];
			safe[index] = [credential[0], `stretched:${stretched}`];
		}
	}

	return safe ?? [...found];
}

function finish(canonical: unknown[], id: string | undefined): string {
	if (id !== undefined) {
		canonical.push(id);
	}

	// One-shot hash(): a third of createHash()'s cost for an input this small.
	return hash('sha256', JSON.stringify(canonical), 'hex').slice(0, 32);
}

function keyFrom({canonical, found}: Pick<Collected, 'canonical' | 'found'>, cacheName: string, stretch: Stretch): string | undefined {
	if (found.length === 0) {
		return finish(canonical, undefined);
	}

	const safe = hashable(found, cacheName, stretch);
	return safe === undefined ? undefined : finish(canonical, identityOf(safe, cacheName));
}

/** The cache key of a request (docs/matching.md), a new password stretched on this thread: for maintenance and scripts. */
export function createKey(request: PreparedRequest, settings: KeySettings): string {
	return keyFrom(collect(request, settings), settings.cacheName ?? defaultCacheName, stretchSync)!;
}

/** Stretch every password the request carries off the event loop: undefined when none is left, false when the queue is full. */
export function prepareIdentity(request: PreparedRequest, settings: KeySettings): Promise<boolean> | undefined {
	const {found, shared} = collect(request, settings);
	return prepareCollected(found, shared, settings.cacheName ?? defaultCacheName);
}

function prepareCollected(found: readonly FoundCredential[], shared: readonly FoundCredential[], cacheName: string): Promise<boolean> | undefined {
	let waits: Array<Promise<string | undefined>> | undefined;
	for (const list of [found, shared]) {
		for (const credential of list) {
			if (isLowEntropy(credential) && memoizedStretch(credential[1], cacheName) === undefined) {
				(waits ??= []).push(stretchAsync(credential[1], cacheName));
			}
		}
	}

	return waits === undefined ? undefined : Promise.all(waits).then(values => values.every(value => value !== undefined));
}

/** {@link createKey} without blocking: a promise while a password is stretched, undefined when the queue is full. */
export function createKeyNonBlocking(request: PreparedRequest, settings: KeySettings): string | undefined | Promise<string | undefined> {
	const collected = collect(request, settings);
	const cacheName = settings.cacheName ?? defaultCacheName;
	const waiting = prepareCollected(collected.found, collected.shared, cacheName);
	return waiting === undefined
		? keyFrom(collected, cacheName, memoizedStretch)
		: waiting.then(ready => (ready ? keyFrom(collected, cacheName, memoizedStretch) : undefined));
}

/** The key of a request after {@link prepareIdentity}: undefined when the memo lost a password under a flood. */
export function createKeyIfKnown(request: PreparedRequest, settings: KeySettings): string | undefined {
	return keyFrom(collect(request, settings), settings.cacheName ?? defaultCacheName, memoizedStretch);
}

type RequestKeySettings = KeySettings & {readonly keyFn?: ((request: PreparedRequest) => string) | undefined};

/** The key of a request on the engine's path: the user's `keyFn`, or {@link createKeyIfKnown} or {@link createKeyNonBlocking}. */
export function requestKey(request: PreparedRequest, settings: RequestKeySettings, followRedirects: boolean | undefined, mode: 'known'): string | undefined;
export function requestKey(request: PreparedRequest, settings: RequestKeySettings, followRedirects: boolean | undefined, mode: 'nonBlocking'): string | undefined | Promise<string | undefined>;
export function requestKey(request: PreparedRequest, settings: RequestKeySettings, followRedirects: boolean | undefined, mode: 'known' | 'nonBlocking'): string | undefined | Promise<string | undefined> {
	// A request that does not follow redirects is answered with the redirect itself: a key of its own.
	const suffix = followRedirects === false ? '-manual' : '';
	const {keyFn} = settings;
	if (keyFn === undefined) {
		const key = mode === 'nonBlocking' ? createKeyNonBlocking(request, settings) : createKeyIfKnown(request, settings);
		const suffixed = (derived: string | undefined): string | undefined => (derived === undefined ? undefined : derived + suffix);
		return key instanceof Promise ? key.then(suffixed) : suffixed(key);
	}

	const key = keyFn(request);
	if (typeof key !== 'string' || key === '') {
		throw new TypeError(`keyFn must return a non-empty string, got ${typeof key}`);
	}

	return key + suffix;
}

function authenticating(request: PreparedRequest, settings: KeySettings): FoundCredential[] {
	const {found, shared} = collect(request, {...settings, matchHeaders: false});
	return found.concat(shared);
}

/** The owner of a `private` response to this request: the identity of all that authenticates it, none included. */
export function ownerOf(request: PreparedRequest, settings: KeySettings): string | undefined {
	const cacheName = settings.cacheName ?? defaultCacheName;
	const safe = hashable(authenticating(request, settings), cacheName, memoizedStretch);
	return safe === undefined ? undefined : identityOf(safe, cacheName);
}

/** True when the last redirect hop (`finalHeaders`) sent a credential the request did not (docs/security.md). */
export function hopAddsIdentity(request: PreparedRequest, finalHeaders: Readonly<Record<string, string>>, settings: KeySettings, isPrivate: boolean): boolean {
	const first = collect(request, {...settings, matchHeaders: false});
	const last = collect({...request, headers: finalHeaders}, {...settings, matchHeaders: false});
	const known = new Set([...first.found, ...(isPrivate ? first.shared : [])].map(([where, value]) => `${where}\0${value}`));
	return [...last.found, ...(isPrivate ? last.shared : [])].some(([where, value]) => !known.has(`${where}\0${value}`));
}

/** The name a `private` response is varied on besides its `Vary` names: no header name can start with `:`. */
export const OWNER_VARY = ':owner';

/** The names that select a stored response's variant: its Vary names, and its owner for a `private` one. */
export function variantNames(vary: readonly string[], owner: string | undefined): readonly string[] {
	return owner === undefined ? vary : [...vary, OWNER_VARY];
}

/** The key of one variant of a response with `Vary`, or of a `private` one; a redacted header reaches it only derived. */
export function createVariantKey(primaryKey: string, names: readonly string[], request: PreparedRequest, settings: KeySettings): string | undefined {
	const rules = nameRules(settings.ignoredParameters, settings.shareCredentials ?? false);
	const pairs: Array<[string, string | null]> = [];
	const found: FoundCredential[] = [];
	for (const name of names) {
		if (name === OWNER_VARY) {
			const owner = ownerOf(request, settings);
			if (owner === undefined) {
				return undefined;
			}

			pairs.push([name, owner]);
			continue;
		}

		const value = request.headers[name] ?? null;
		if (rules.redacted(name)) {
			found.push([`vary ${name}`, value ?? '\0absent']);
		} else {
			pairs.push([name, value]);
		}
	}

	const key = keyFrom({canonical: ['vary', primaryKey, pairs], found}, settings.cacheName ?? defaultCacheName, memoizedStretch);
	// The primary key's first 8 characters keep the variants with their index in a store that groups keys (lib/backends/redis-layout.ts).
	return key === undefined ? undefined : primaryKey.slice(0, 8) + key.slice(8);
}
