import {boundedMemo} from './memo.js';

/** The built-in credential names, always redacted and keyed apart (docs/security.md); `api_key` also covers `API-Key` and `apiKey`. */
export const DEFAULT_IGNORED_PARAMETERS: readonly string[] = Object.freeze([
	// Headers.
	'Authorization',
	'Proxy-Authorization',
	'Cookie',
	'X-API-Key',
	'X-Auth-Token',
	'X-API-Token',
	'X-Access-Token',
	'X-CSRF-Token',
	'X-XSRF-Token',
	'X-Goog-Api-Key',
	'X-Amz-Security-Token',
	'Ocp-Apim-Subscription-Key',
	'X-Vault-Token',
	// Query, form and JSON names.
	'access_token',
	'refresh_token',
	'id_token',
	'auth_token',
	'session_token',
	'token',
	'api_key',
	'api_secret',
	'client_secret',
	'secret',
	'password',
	'passwd',
	'passphrase',
	'signature',
	'sig',
	'X-Amz-Signature',
	'X-Amz-Credential',
	'X-Goog-Signature',
	'X-Goog-Credential',
]);

/** The value stored in place of a redacted secret. */
export const REDACTED = 'REDACTED';

/** The form names are compared in: lower case, without `-` and `_`. */
const nameForm = boundedMemo(4096, name => name.toLowerCase().replaceAll(/[-_]/g, ''));

const builtIn: ReadonlySet<string> = new Set(DEFAULT_IGNORED_PARAMETERS.map(name => nameForm(name)));

/** True for a built-in credential name (any case, `-` and `_` ignored): one `shareCredentials` may list. */
export function isCredentialName(name: string): boolean {
	return builtIn.has(nameForm(name));
}

/** The session's own state, not a new user: not in the key (a site that rotates cookies is still served from the cache). */
const stateNames: ReadonlySet<string> = new Set(['cookie']);

const passwordNames: ReadonlySet<string> = new Set(['password', 'passwd', 'passphrase'].map(name => nameForm(name)));

/** True for a parameter or field name whose value is a low-entropy secret (a password). */
export function isPasswordName(name: string): boolean {
	return passwordNames.has(nameForm(name));
}

/** What the cache does with a name found in a request. */
export type NameRole =
	/** Redacted in storage; derived into the key and the owner of a `private` response. */
	| 'credential'
	/** Redacted in storage; derived into the owner only (cookies, shared credentials). */
	| 'shared'
	/** Redacted in storage and left out of key and owner (a name the user listed in `ignoredParameters`). */
	| 'ignored'
	| undefined;

/** The compiled name rules of one `ignoredParameters` list (and `shareCredentials` choice). */
export type NameRules = {
	readonly role: (name: string) => NameRole;
	readonly redacted: (name: string) => boolean;
};

const compiled = new WeakMap<ReadonlySet<string>, WeakMap<object, NameRules>>();
const noSharing = Object.freeze({});
const noNames: ReadonlySet<string> = new Set();

/** The name rules of `ignoredParameters` and a `shareCredentials` choice; memoized, since settings are frozen and long-lived. */
export function nameRules(ignored: ReadonlySet<string> = noNames, share: boolean | ReadonlySet<string> = false): NameRules {
	const shareKey: object = share === false ? noSharing : (share === true ? builtIn : share);
	let byShare = compiled.get(ignored);
	if (byShare === undefined) {
		byShare = new WeakMap();
		compiled.set(ignored, byShare);
	}

	let rules = byShare.get(shareKey);
	if (rules === undefined) {
		rules = buildRules(ignored, share);
		byShare.set(shareKey, rules);
	}

	return rules;
}

function buildRules(ignored: ReadonlySet<string>, share: boolean | ReadonlySet<string>): NameRules {
	const listed = new Set([...ignored].map(name => nameForm(name)));
	const shared = new Set(share === true ? builtIn : (share === false ? [] : [...share].map(name => nameForm(name))));
	const kinds = new Map<string, Exclude<NameRole, undefined>>();
	for (const form of builtIn) {
		kinds.set(form, stateNames.has(form) || listed.has(form) || shared.has(form) ? 'shared' : 'credential');
	}

	for (const form of listed) {
		if (!builtIn.has(form)) {
			kinds.set(form, 'ignored');
		}
	}

	return Object.freeze({
		// Memoized by name as sent: names repeat on every request.
		role: boundedMemo(4096, (name): NameRole => kinds.get(nameForm(name))),
		redacted: name => kinds.has(nameForm(name)),
	});
}
