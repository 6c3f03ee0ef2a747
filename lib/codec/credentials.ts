import {Buffer} from 'node:buffer';
import {hash, scrypt, scryptSync} from 'node:crypto';

/**
 * The credential derivation: what a cache key holds in place of a request's credentials. Keys are
 * stored in the clear, so a key built on a fast hash of a password would let anyone who reads the
 * store test guesses at the speed of SHA-256. The derivation is scrypt (memory-hard, so GPUs gain
 * little), salted per cache so that one table of guesses does not serve two caches, and
 * deterministic, so that another process on the same cache derives the same key. Each derivation
 * costs tens of milliseconds once; a bounded LRU memo makes every later request with the same
 * credentials cost a map lookup.
 */

/** A credential found in a request: where it was (a tag or a JSON path) and its value as sent. */
export type FoundCredential = readonly [where: string, value: string];

/** scrypt's interactive-login cost (N = 2^14, r = 8, p = 1): 16 MiB and tens of ms per derivation. */
const cost = Object.freeze({N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024});
const derivedLength = 16;
/** How many derived credentials stay memoized per process. */
const memoSize = 1024;
/** Materials longer than this are memoized under their SHA-256, not kept whole in memory. */
const longMaterial = 1024;

/**
 * The memo: two generations, an approximate LRU whose hit is one map lookup. New and recalled
 * entries go to `young`; when it is full it becomes `old` and the previous `old` is dropped.
 */
let young = new Map<string, string>();
let old = new Map<string, string>();
const pending = new Map<string, Promise<string>>();
const salts = new Map<string, Buffer>();

/** The cache's salt: derived from its name, so that every process on the same cache shares it. */
function saltOf(cacheName: string): Buffer {
	let salt = salts.get(cacheName);
	if (salt === undefined) {
		salt = Buffer.from(hash('sha256', `requests-cache credential salt v1\0${cacheName}`, 'hex'), 'hex');
		if (salts.size >= 64) {
			salts.clear();
		}

		salts.set(cacheName, salt);
	}

	return salt;
}

function memoKey(cacheName: string, material: string): string {
	return material.length > longMaterial
		? `${cacheName}\0#${hash('sha256', material, 'hex')}`
		: `${cacheName}\0${material}`;
}

function remember(key: string, derived: string): string {
	if (young.size >= memoSize / 2) {
		old = young;
		young = new Map();
	}

	young.set(key, derived);
	return derived;
}

function recall(key: string): string | undefined {
	const derived = young.get(key);
	if (derived !== undefined) {
		return derived;
	}

	const aging = old.get(key);
	return aging === undefined ? undefined : remember(key, aging);
}

function byWhere(a: FoundCredential, b: FoundCredential): number {
	return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0);
}

/**
 * The credentials as one string, ordered by where they were found (stable: a repeated query
 * parameter keeps its order), so that header order does not make a new identity.
 */
function materialOf(found: readonly FoundCredential[]): string {
	let material = '';
	// Length-prefixed, so that no two lists give one string.
	for (const [where, value] of found.length > 1 ? [...found].sort(byWhere) : found) {
		material += `${where.length}:${where}${value.length}:${value}`;
	}

	return material;
}

/**
 * The derived identity of a set of credentials in one cache: 32 hex digits from scrypt, memoized.
 * On a memo miss this blocks the event loop for the derivation; {@link deriveCredentialIdAsync}
 * does the same work on the thread pool.
 */
export function credentialId(found: readonly FoundCredential[], cacheName: string): string {
	const material = materialOf(found);
	const key = memoKey(cacheName, material);
	return recall(key) ?? remember(key, scryptSync(material, saltOf(cacheName), derivedLength, cost).toString('hex'));
}

/**
 * {@link credentialId} without blocking: the memoized value at once, or undefined when it must be
 * derived (then `derive()` derives it on the thread pool, once for concurrent callers).
 */
export function memoizedCredentialId(found: readonly FoundCredential[], cacheName: string): string | undefined {
	return recall(memoKey(cacheName, materialOf(found)));
}

/** Derive on the thread pool and memoize; concurrent calls for the same credentials share one derivation. */
export async function deriveCredentialIdAsync(found: readonly FoundCredential[], cacheName: string): Promise<string> {
	const material = materialOf(found);
	const key = memoKey(cacheName, material);
	const known = recall(key);
	if (known !== undefined) {
		return known;
	}

	let flight = pending.get(key);
	if (flight === undefined) {
		flight = new Promise<string>((resolve, reject) => {
			scrypt(material, saltOf(cacheName), derivedLength, cost, (error, derived) => {
				pending.delete(key);
				if (error) {
					reject(error);
				} else {
					resolve(remember(key, derived.toString('hex')));
				}
			});
		});
		pending.set(key, flight);
	}

	return flight;
}
