import {debuglog} from 'node:util';
import type {FlightLease, FlightOutcome, FlightState} from './store.js';

const debug = debuglog('requests-cache');

/** The part of a node-redis v5 client the leases use. */
type LeaseClient = {
	sendCommand(arguments_: readonly string[]): Promise<unknown>;
	duplicate(): SubscriberClient;
};

type SubscriberClient = {
	readonly isOpen: boolean;
	connect(): Promise<unknown>;
	destroy(): void;
	on(event: string, listener: (...arguments_: unknown[]) => void): unknown;
	subscribe(channel: string, listener: (message: string) => void): Promise<void>;
};

/** How long an ended flight's outcome stays readable, ms: for a waiter that looks after the news went by. */
const linger = 10_000;

/**
 * An ended flight is kept as '=' and its outcome, so that a lease value (a token) is never read as
 * one. The lease is free when the key is missing or holds an outcome.
 */
const acquireScript = `local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) ~= '=' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const renewScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

// The news goes out even when the lease was taken over: an answer stored late is still an answer.
const releaseScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], '=' .. ARGV[2], 'PX', ARGV[3]) end
redis.call('PUBLISH', ARGV[4], ARGV[2] .. ' ' .. ARGV[5])
return 1`;

function isOutcome(text: string): text is FlightOutcome {
	return text === 'done' || text === 'failed';
}

/**
 * Flight leases in Redis, for a cache named `ns`: the lease on a name is the key `ns:@flight:<name>`
 * (`keyOf`; on a cluster, in the name's bucket), taken by `SET NX PX` in effect, in a script that
 * also takes over an ended flight, and the end of every flight is published on the channel
 * `ns:@flights` (classic PUBLISH, which a cluster sends to every node), which each process hears on
 * one subscriber connection of its own, opened on the first wait. `writesSent` resolves once the
 * store's writes begun so far are queued on the connection (on a cluster, once they have landed).
 */
export function createRedisLease(ready: () => Promise<{client: unknown}>, namespace: string, keyOf = (name: string): string => `${namespace}:@flight:${name}`, writesSent = async (): Promise<void> => undefined): FlightLease {
	const channel = `${namespace}:@flights`;
	const listeners = new Map<string, Set<(outcome: FlightOutcome) => void>>();
	let subscriber: Promise<SubscriberClient> | undefined;
	let closed = false;

	async function command(arguments_: string[]): Promise<unknown> {
		const {client} = await ready();
		return (client as LeaseClient).sendCommand(arguments_);
	}

	function hear(message: string): void {
		const space = message.indexOf(' ');
		const outcome = message.slice(0, space);
		const heard = listeners.get(message.slice(space + 1));
		if (heard !== undefined && isOutcome(outcome)) {
			for (const listener of heard) {
				listener(outcome);
			}
		}
	}

	async function subscribe(): Promise<SubscriberClient> {
		const {client} = await ready();
		const duplicate = (client as LeaseClient).duplicate();
		// A failed reconnection is reported on 'error'; without a listener it would crash the process.
		duplicate.on('error', (error: unknown) => {
			debug('redis flights: %s', (error as Error | undefined)?.message ?? String(error));
		});
		await duplicate.connect();
		// node-redis subscribes again by itself after a reconnection.
		await duplicate.subscribe(channel, hear);
		return duplicate;
	}

	return {
		async acquire(name, token, ttl) {
			return Number(await command(['EVAL', acquireScript, '1', keyOf(name), token, String(Math.ceil(ttl))])) === 1;
		},
		async renew(name, token, ttl) {
			return Number(await command(['EVAL', renewScript, '1', keyOf(name), token, String(Math.ceil(ttl))])) === 1;
		},
		async release(name, token, outcome) {
			// Sent behind the store's writes on the same connection, Redis runs it after them.
			await writesSent();
			await command(['EVAL', releaseScript, '1', keyOf(name), token, outcome, String(linger), channel, name]);
		},
		async state(name): Promise<FlightState> {
			const value = await command(['GET', keyOf(name)]);
			if (typeof value !== 'string') {
				return 'free';
			}

			const ended = value.slice(1);
			return value.startsWith('=') && isOutcome(ended) ? ended : 'held';
		},
		async watch(name, listener) {
			if (closed) {
				throw new Error('the Redis connection is closed');
			}

			let heard = listeners.get(name);
			if (heard === undefined) {
				heard = new Set();
				listeners.set(name, heard);
			}

			heard.add(listener);
			const stop = (): void => {
				heard.delete(listener);
				if (heard.size === 0 && listeners.get(name) === heard) {
					listeners.delete(name);
				}
			};

			try {
				subscriber ??= subscribe();
				await subscriber;
			} catch (error) {
				// Tried again by the next wait.
				subscriber = undefined;
				stop();
				throw error;
			}

			return stop;
		},
		async close() {
			closed = true;
			listeners.clear();
			const pending = subscriber;
			subscriber = undefined;
			// The subscriber only listens: nothing of ours is lost by cutting it off.
			(await pending?.catch(() => undefined))?.destroy();
		},
	};
}
