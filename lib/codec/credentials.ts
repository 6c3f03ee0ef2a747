import {Buffer} from 'node:buffer';
import {type ScryptOptions, createHmac, hash, scrypt, scryptSync} from 'node:crypto';
import {promisify} from 'node:util';
import {boundedMemo} from './memo.js';

// What a key or an owner holds in place of credentials: docs/security.md ("How credentials are derived").

/** A credential found in a request: where it was (a tag or a JSON path) and its value as sent. */
export type FoundCredential = readonly [where: string, value: string];

/** scrypt's interactive-login cost (N = 2^14, r = 8, p = 1): 16 MiB and tens of ms per derivation. */
const cost = Object.freeze({N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024});
// Typed by hand: promisify() infers from scrypt's first overload, the one without options.
const scryptOnPool = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>;
const derivedLength = 16;
/** How many stretched secrets stay memoized per process. */
export const SLOW_MEMO_SIZE = 1024;
/** Derivations running at once on the thread pool: libuv's other 3 threads stay free for fs, dns and crypto. */
const slowLanes = 1;
/** Derivations waiting for a lane: a flood of new passwords passes by the cache rather than queue. */
const slowQueue = 64;

/** A least-recently-used map of exactly `size` entries: a hit moves the entry to the young end. */
export class Lru<V> {
	readonly #map = new Map<string, V>();
	readonly size: number;

	constructor(size: number) {
		this.size = size;
	}

	get count(): number {
		return this.#map.size;
	}

	get(key: string): V | undefined {
		const value = this.#map.get(key);
		if (value !== undefined) {
			this.#map.delete(key);
			this.#map.set(key, value);
		}

		return value;
	}

	set(key: string, value: V): V {
		this.#map.delete(key);
		this.#map.set(key, value);
		if (this.#map.size > this.size) {
			this.#map.delete(this.#map.keys().next().value!);
		}

		return value;
	}
}

const memo = new Lru<string>(SLOW_MEMO_SIZE);
/** Hashed identities by their material: a request with known credentials skips the HMAC. */
const identities = new Lru<string>(4096);
const pending = new Map<string, Promise<string>>();
const waiting: Array<() => void> = [];
let running = 0;

/** Counters for specs: passwords stretched (`onLoop`: on the calling thread), refused, and the most at once on the pool. */
export const derivationCounts = {slow: 0, onLoop: 0, refused: 0, peakOnPool: 0};

/** The cache's hashing key, from its name so that every process on the cache shares it. */
const keyOf = boundedMemo(64, cacheName => Buffer.from(hash('sha256', `requests-cache credential salt v1\0${cacheName}`, 'hex'), 'hex'));

function memoKey(cacheName: string, secret: string): string {
	// Long values are memoized under their SHA-256, not kept whole in memory.
	return secret.length > 256 ? `${cacheName}\0#${hash('sha256', secret, 'hex')}` : `${cacheName}\0${secret}`;
}

/** The stretched value of a low-entropy secret if it is memoized, else undefined. */
export function memoizedStretch(secret: string, cacheName: string): string | undefined {
	return memo.get(memoKey(cacheName, secret));
}

/** The stretched value of a low-entropy secret, on this thread (scrypt, tens of ms): for maintenance calls only. */
export function stretchSync(secret: string, cacheName: string): string {
	const key = memoKey(cacheName, secret);
	const known = memo.get(key);
	if (known !== undefined) {
		return known;
	}

	derivationCounts.slow++;
	derivationCounts.onLoop++;
	return memo.set(key, scryptSync(secret, keyOf(cacheName), derivedLength, cost).toString('hex'));
}

/** The stretched value of a low-entropy secret, derived once on the thread pool, or undefined when the queue is full. */
export async function stretchAsync(secret: string, cacheName: string): Promise<string | undefined> {
	const key = memoKey(cacheName, secret);
	const known = memo.get(key);
	if (known !== undefined) {
		return known;
	}

	let flight = pending.get(key);
	if (flight === undefined) {
		if (running >= slowLanes && waiting.length >= slowQueue) {
			derivationCounts.refused++;
			return undefined;
		}

		flight = (async () => {
			if (running >= slowLanes) {
				await new Promise<void>(resolve => {
					waiting.push(resolve);
				});
			}

			running++;
			derivationCounts.peakOnPool = Math.max(derivationCounts.peakOnPool, running);
			try {
				const derived = await scryptOnPool(secret, keyOf(cacheName), derivedLength, cost);
				derivationCounts.slow++;
				return memo.set(key, derived.toString('hex'));
			} finally {
				pending.delete(key);
				running--;
				waiting.shift()?.();
			}
		})();
		pending.set(key, flight);
	}

	return flight;
}

function byWhere(a: FoundCredential, b: FoundCredential): number {
	return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0);
}

/** The identity of credentials in one cache: HMAC-SHA-256 over them, high-entropy or stretched, whatever their order. */
export function identityOf(found: readonly FoundCredential[], cacheName: string): string {
	// Length-prefixed, so that no two lists give one string; the sort is stable for a repeated query parameter.
	let material = '';
	for (const [where, value] of found.length > 1 ? [...found].sort(byWhere) : found) {
		material += `${where.length}:${where}${value.length}:${value}`;
	}

	// A known identity is a map lookup (a third of the HMAC's cost); long materials are not kept.
	const memoized = material.length <= 1024 ? `${cacheName}\0${material}` : undefined;
	const known = memoized === undefined ? undefined : identities.get(memoized);
	if (known !== undefined) {
		return known;
	}

	const id = createHmac('sha256', keyOf(cacheName)).update(material).digest('hex').slice(0, 32);
	return memoized === undefined ? id : identities.set(memoized, id);
}
