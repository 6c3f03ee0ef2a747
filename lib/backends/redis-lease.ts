import type {RedisConnection} from './redis-connection.js';
import type {FlightLease, FlightOutcome, FlightState} from './store.js';

/** How long an ended flight's outcome stays readable, ms: for a waiter that looks after the news went by. */
const linger = 10_000;

// An ended flight is kept as '=' and its outcome, never read as a lease's token: the lease is then free.
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
 * Flight leases of the cache `ns` as keys `keyOf(name)`, each flight's end published on `ns:@flights`;
 * `writesSent` resolves once the store's writes begun so far are queued on the connection (on a cluster: landed).
 */
export function createRedisLease(connection: RedisConnection, namespace: string, keyOf: (name: string) => string, writesSent: () => Promise<void>): FlightLease {
	const channel = `${namespace}:@flights`;
	const listeners = new Map<string, Set<(outcome: FlightOutcome) => void>>();

	async function command(arguments_: string[]): Promise<unknown> {
		return (await connection.ready()).client.sendCommand(arguments_);
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
				await connection.listen(channel, hear);
			} catch (error) {
				stop();
				throw error;
			}

			return stop;
		},
		async close() {
			listeners.clear();
		},
	};
}
