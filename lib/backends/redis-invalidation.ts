import {debuglog} from 'node:util';
import type {OpenLink} from './memory-tier.js';
import type {RedisConnection} from './redis-connection.js';

const debug = debuglog('requests-cache');

/** The memory tier's news for the cache `ns`: the keys a change touched, published on `ns:@changed` (a JSON array, or `*`). */
export const createRedisInvalidation = (connection: RedisConnection, namespace: string): OpenLink => (changed, reset) => {
	const channel = `${namespace}:@changed`;
	let listening = false;
	let closed = false;

	function hear(message: string): void {
		if (message === '*') {
			changed('*');
			return;
		}

		try {
			const keys = JSON.parse(message) as unknown;
			if (Array.isArray(keys)) {
				changed(keys.filter((key): key is string => typeof key === 'string'));
			}
		} catch {
			// Not ours: whoever published it, the safe reading is "anything may have changed".
			changed('*');
		}
	}

	return {
		get live() {
			if (!listening && !closed) {
				listening = true;
				connection.listen(channel, hear, reset).catch((error: unknown) => {
					// Tried again by the next read.
					listening = false;
					debug('redis memory tier: cannot subscribe (%s)', (error as Error).message);
				});
			}

			return !closed && connection.hears(channel);
		},
		async publish(keys) {
			const {client} = await connection.ready();
			await client.sendCommand(['PUBLISH', channel, keys === '*' ? '*' : JSON.stringify(keys)]);
		},
		async close() {
			closed = true;
		},
	};
};
