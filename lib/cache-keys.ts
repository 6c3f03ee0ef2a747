// Cache keys and redaction (lib/codec/), by the name requests-cache users know (`cache_keys.py`).
export {DEFAULT_IGNORED_PARAMETERS, REDACTED, isCredentialName} from './codec/secret-names.js';
export {type KeySettings, OWNER_VARY, createKey, createKeyIfKnown, createKeyNonBlocking, createVariantKey, hopAddsIdentity, ownerOf, prepareIdentity} from './codec/keys.js';
export {normalizeUrl} from './codec/normalize-url.js';
export {type ResponseHeaderSettings, redactRequest, redactUrl, storableResponseHeaders} from './codec/redact.js';
export type {StoredRequest} from './codec/entry.js';
