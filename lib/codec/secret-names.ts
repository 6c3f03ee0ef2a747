/**
 * The names that mark a secret in a request (headers, query and form parameters, JSON fields), and
 * what the key, the owner of a `private` response and the redaction do with each (the table in
 * docs/security.md).
 */

/**
 * The built-in credential names: headers, query parameters and body fields that hold secrets.
 * Always redacted before storage; keyed per credential (users never share an entry) unless the
 * user lists the name in `ignoredParameters` or `shareCredentials`; Cookie is never keyed (a
 * session's own state). Names match case-insensitively and ignoring `-` and `_`: `api_key` also
 * covers `API-Key`, `apikey` and `apiKey`.
 */
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

const nameForms = new Map<string, string>();

/**
 * The form names are compared in: lower case, without `-` and `_`. Memoized (names repeat on every
 * request) and bounded, since names can come from request bodies.
 */
export function nameForm(name: string): string {
	let form = nameForms.get(name);
	if (form === undefined) {
		form = name.toLowerCase().replaceAll(/[-_]/g, '');
		if (nameForms.size >= 4096) {
			nameForms.clear();
		}

		nameForms.set(name, form);
	}

	return form;
}

const builtIn: ReadonlySet<string> = new Set(DEFAULT_IGNORED_PARAMETERS.map(name => nameForm(name)));

/** True for a built-in credential name (any case, `-` and `_` ignored): one `shareCredentials` may list. */
export function isCredentialName(name: string): boolean {
	return builtIn.has(nameForm(name));
}

/**
 * The session's own state, never a new user: a cookie is not part of the key (a site that sets or
 * rotates cookies is served from the cache from the second request on), only of the owner of a
 * `private` response and of a `Vary: Cookie` variant.
 */
const stateNames: ReadonlySet<string> = new Set(['cookie']);

/** Names whose values are passwords or like them: stretched (scrypt) before they are hashed into a key. */
const passwordNames: ReadonlySet<string> = new Set(['password', 'passwd', 'passphrase'].map(name => nameForm(name)));

/** True for a parameter or field name whose value is a low-entropy secret (a password). */
export function isPasswordName(name: string): boolean {
	return passwordNames.has(nameForm(name));
}

/** What the cache does with a name found in a request. */
export type NameRole =
	/** Redacted in storage; its value is in the key (hashed) and in the owner of a `private` response. */
	| 'credential'
	/** Redacted in storage; not in the key, but in the owner of a `private` response (cookies, shared credentials). */
	| 'shared'
	/** Redacted in storage and left out of key and owner (a name the user listed in `ignoredParameters`). */
	| 'ignored'
	/** An ordinary name: stored as sent and part of the key. */
	| undefined;

/** The compiled name rules of one `ignoredParameters` list (and `shareCredentials` choice). */
export type NameRules = {
	/** The role of a name. */
	role(name: string): NameRole;
	/** True when the name's value is replaced by {@link REDACTED} in storage. */
	redacted(name: string): boolean;
};

const compiled = new WeakMap<ReadonlySet<string>, WeakMap<object, NameRules>>();
const noSharing = Object.freeze({});
const noNames: ReadonlySet<string> = new Set();

/**
 * Compile the rules for the user's `ignoredParameters` (lower-case names, as settings hold them)
 * and a `shareCredentials` choice:
 * - a built-in credential name is a `credential`, or `shared` when the user listed it in
 *   `ignoredParameters` or `shareCredentials` (and Cookie is always `shared`: the session's state);
 * - any other name the user listed is `ignored`;
 * - every one of them is redacted in storage.
 * Memoized per set and choice: settings are frozen and long-lived.
 */
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

	// Roles by name as sent, memoized: names repeat on every request.
	const roles = new Map<string, NameRole | ''>();
	return Object.freeze({
		role(name: string): NameRole {
			let kind = roles.get(name);
			if (kind === undefined) {
				kind = kinds.get(nameForm(name)) ?? '';
				if (roles.size >= 4096) {
					roles.clear();
				}

				roles.set(name, kind);
			}

			return kind === '' ? undefined : kind;
		},
		redacted(name: string): boolean {
			return kinds.has(nameForm(name));
		},
	});
}
