import {debuglog} from 'node:util';
import type {InvalidationLink} from './memory-tier.js';
import type {RedisConnection} from './redis-connection.js';

const debug = debuglog('requests-cache');

/** The memory tier's news for the cache `ns`: the keys a change touched, published on `ns:@changed` (a JSON array, or `*`). */
export function createRedisInvalidation(connection: RedisConnection, namespace: string): InvalidationLink {
	const channel = `${namespace}:@changed`;
	let listening = false;
	let closed = false;
	let onChanged: ((keys: readonly string[] | '*') => void) | undefined;
	let onReset: (() => void) | undefined;

	function hear(message: string): void {
		if (message === '*') {
			onChanged?.('*');
			return;
		}

		try {
			const keys = JSON.parse(message) as unknown;
			if (Array.isArray(keys)) {
				onChanged?.(keys.filter((key): key is string => typeof key === 'string'));
			}
		} catch {
			// Not ours: whoever published it, the safe reading is "anything may have changed".
			onChanged?.('*');
		}
	}

	return {
		get live() {
			if (!listening && !closed) {
				listening = true;
				connection.listen(channel, hear, () => onReset?.()).catch((error: unknown) => {
					// Tried again by the next read.
					listening = false;
					debug('redis memory tier: cannot subscribe (%s)', (error as Error).message);
				});
			}

			return !closed && connection.hears(channel);
		},
		listen(changed, reset) {
			onChanged = changed;
			onReset = reset;
		},
		async publish(keys) {
			const {client} = await connection.ready();
			await client.sendCommand(['PUBLISH', channel, keys === '*' ? '*' : JSON.stringify(keys)]);
		},
		async close() {
			closed = true;
		},
	};
}
