/**
 * The names that mark a secret in a request (headers, query and form parameters, JSON fields), and
 * what the key and the redaction do with each: a credential is redacted and keyed on a slow
 * derivation (isolated), any other listed name is redacted and left out of the key (shared).
 */

/**
 * Headers, query parameters and body fields that hold secrets: redacted before storage, and (as
 * built-in credential names) keyed per credential so that users never share an entry. Names match
 * case-insensitively and ignoring `-` and `_`: `api_key` also covers `API-Key`, `apikey` and `apiKey`.
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

/** Headers that always carry credentials, whatever `ignoredParameters` says. */
const alwaysCredentials = ['authorization', 'proxy-authorization', 'cookie'] as const;

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

/** What the cache does with a name found in a request. */
export type NameRole =
	/** Redacted in storage; its value goes into the key through the slow credential derivation. */
	| 'credential'
	/** Redacted in storage and left out of the key (requests-cache's `ignored_parameters`). */
	| 'ignored'
	/** An ordinary name: stored as sent and part of the key. */
	| undefined;

/** The compiled name rules of one `ignoredParameters` list (and `shareCredentials` choice). */
export type NameRules = {
	/** The role of a name when the request's credentials are isolated (`shareCredentials` off for it). */
	role(name: string): NameRole;
	/** True when the name's value is replaced by {@link REDACTED} in storage. */
	redacted(name: string): boolean;
};

const compiled = new WeakMap<ReadonlySet<string>, WeakMap<object, NameRules>>();
const noSharing = Object.freeze({});

/**
 * Compile the rules for an `ignoredParameters` set (lower-case names, as settings hold them) and a
 * `shareCredentials` choice. The built-in credential names in the set, and Authorization,
 * Proxy-Authorization and Cookie always, are credentials unless shared; every other listed name
 * is ignored. Memoized per set and choice: settings are frozen and long-lived.
 */
export function nameRules(ignored: ReadonlySet<string>, share: boolean | ReadonlySet<string> = false): NameRules {
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
	const redacted = new Set([...ignored].map(name => nameForm(name)));
	for (const name of alwaysCredentials) {
		redacted.add(nameForm(name));
	}

	const shared = share === true ? undefined : new Set(share === false ? [] : [...share].map(name => nameForm(name)));
	const credentials = new Set<string>();
	for (const form of redacted) {
		if (builtIn.has(form) && shared !== undefined && !shared.has(form)) {
			credentials.add(form);
		}
	}

	// Roles by name as sent, memoized: names repeat on every request.
	const roles = new Map<string, NameRole | ''>();
	return Object.freeze({
		role(name: string): NameRole {
			let kind = roles.get(name);
			if (kind === undefined) {
				const form = nameForm(name);
				kind = credentials.has(form) ? 'credential' : (redacted.has(form) ? 'ignored' : '');
				if (roles.size >= 4096) {
					roles.clear();
				}

				roles.set(name, kind);
			}

			return kind === '' ? undefined : kind;
		},
		redacted(name: string): boolean {
			return redacted.has(nameForm(name));
		},
	});
}
