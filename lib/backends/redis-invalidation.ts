import {debuglog} from 'node:util';
import type {InvalidationLink} from './memory-tier.js';

const debug = debuglog('requests-cache');

type Client = {
	sendCommand(arguments_: readonly string[]): Promise<unknown>;
	duplicate(): Subscriber;
};

type Subscriber = {
	readonly isReady: boolean;
	connect(): Promise<unknown>;
	destroy(): void;
	on(event: string, listener: (...arguments_: unknown[]) => void): unknown;
	subscribe(channel: string, listener: (message: string) => void): Promise<void>;
};

/**
 * The memory tier's news over Redis pub/sub, for a cache named `ns`: the keys a write or delete
 * changed are published on `ns:@changed` (a JSON array, or `*`), and each process hears them on a
 * subscriber connection of its own, opened with the store. The link counts as live only while
 * that connection is ready and subscribed; each time it comes back (a dropped link, a restarted
 * Redis) the tier is reset, since news may have been missed meanwhile.
 */
export function createRedisInvalidation(ready: () => Promise<{client: unknown}>, namespace: string): InvalidationLink {
	const channel = `${namespace}:@changed`;
	let subscriber: Subscriber | undefined;
	let live = false;
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

	async function open(): Promise<void> {
		const {client} = await ready();
		if (closed) {
			return;
		}

		const duplicate = (client as Client).duplicate();
		subscriber = duplicate;
		duplicate.on('error', (error: unknown) => {
			live = false;
			onReset?.();
			debug('redis memory tier: %s', (error as Error | undefined)?.message ?? String(error));
		});
		duplicate.on('end', () => {
			live = false;
		});
		// node-redis subscribes again after a reconnection and then says 'ready': what came meanwhile is unknown.
		duplicate.on('ready', () => {
			if (subscribed) {
				onReset?.();
				live = true;
			}
		});
		let subscribed = false;
		await duplicate.connect();
		await duplicate.subscribe(channel, hear);
		subscribed = true;
		onReset?.();
		live = !closed;
	}

	let opening: Promise<void> | undefined;
	return {
		get live() {
			// Opened on first use; once open, node-redis reconnects it by itself.
			if (subscriber === undefined && opening === undefined && !closed) {
				opening = open().catch((error: unknown) => {
					subscriber?.destroy();
					subscriber = undefined;
					debug('redis memory tier: cannot subscribe (%s)', (error as Error).message);
				}).finally(() => {
					opening = undefined;
				});
			}

			return live && subscriber?.isReady === true;
		},
		listen(changed, reset) {
			onChanged = changed;
			onReset = reset;
		},
		async publish(keys) {
			const {client} = await ready();
			await (client as Client).sendCommand(['PUBLISH', channel, keys === '*' ? '*' : JSON.stringify(keys)]);
		},
		async close() {
			closed = true;
			live = false;
			await opening?.catch(() => undefined);
			subscriber?.destroy();
			subscriber = undefined;
		},
	};
}
