/**
 * Cache keys and redaction, by the names requests-cache users know (`cache_keys.py`): the key in
 * lib/codec/keys.ts, URL normalization in lib/codec/normalize-url.ts, redaction in
 * lib/codec/redact.ts, the secret names in lib/codec/secret-names.ts.
 */
export {DEFAULT_IGNORED_PARAMETERS, REDACTED, isCredentialName} from './codec/secret-names.js';
export {type KeySettings, OWNER_VARY, createKey, createKeyIfKnown, createKeyNonBlocking, createVariantKey, hopAddsIdentity, ownerOf, prepareIdentity} from './codec/keys.js';
export {normalizeUrl} from './codec/normalize-url.js';
export {type ResponseHeaderSettings, redactRequest, redactUrl, storableResponseHeaders} from './codec/redact.js';
export type {StoredRequest} from './codec/entry.js';
