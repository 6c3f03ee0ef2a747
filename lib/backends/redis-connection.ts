import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {debuglog} from 'node:util';

const require = createRequire(import.meta.url);
const debug = debuglog('requests-cache');

type Arguments = Array<string | Buffer>;

/** What the store sends a command to: a server, or (in a cluster) one master. */
export type RedisNode = {sendCommand(arguments_: Arguments, options?: object): Promise<unknown>};

/** The part of a node-redis v5 client that subscribes. */
type SubscriberClient = {
	readonly isOpen: boolean;
	readonly isReady: boolean;
	connect(): Promise<unknown>;
	destroy(): void;
	on(event: string, listener: (...arguments_: unknown[]) => void): unknown;
	subscribe(channel: string, listener: (message: string) => void): Promise<void>;
};

/** The part of a node-redis v5 client the Redis store uses; a cluster is shown in the same shape. */
type RedisClient = RedisNode & Omit<SubscriberClient, 'subscribe'> & {
	close(): Promise<unknown>;
	ref(): void;
	unref(): void;
	off(event: string, listener: (...arguments_: unknown[]) => void): unknown;
	multi(): {addCommand(arguments_: Arguments): unknown; exec(): Promise<unknown[]>};
	/** A connection of its own, for subscribing (in a cluster: to one node, as classic PUBLISH reaches every node). */
	duplicate(): SubscriberClient;
};

/** A connected client, the option that makes it reply with bytes, and the servers to SCAN (each master of a cluster). */
type Connected = {client: RedisClient; bufferReplies: object; nodes(): Promise<RedisNode[]>};

/** A Redis connection opened on first use, with one subscriber connection beside it for every channel. */
export type RedisConnection = {
	ready(): Promise<Connected>;
	/** Hear `channel` on the subscriber connection (opened on first use); `reset` is told whenever messages may have been missed. */
	listen(channel: string, hear: (message: string) => void, reset?: () => void): Promise<void>;
	/** True while `channel` is subscribed and the subscriber connection is up. */
	hears(channel: string): boolean;
	close(): Promise<void>;
};

type RedisModule = typeof import('@redis/client');

function loadRedis(): RedisModule {
	try {
		return require('@redis/client') as RedisModule;
	} catch (error) {
		throw new Error('the Redis backend needs the package @redis/client (npm install @redis/client)', {cause: error});
	}
}

const logError = (what: string) => (error: unknown): void => {
	debug('%s: %s', what, (error as Error | undefined)?.message ?? String(error));
};

function clientOptions(timeout: number): object {
	return {
		// Commands fail at once while disconnected instead of waiting for a reconnection.
		disableOfflineQueue: true,
		socket: {
			connectTimeout: timeout,
			reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
		},
	};
}

function singleClient(redis: RedisModule, url: string, timeout: number): RedisClient & SubscriberClient {
	const client = redis.createClient({url, ...clientOptions(timeout)});
	// node-redis emits 'error' for every failed reconnection; without a listener that would crash the process.
	client.on('error', logError('redis'));
	return client;
}

/** A cluster in the shape of one client: a command (a MULTI, a script) goes to the master of its first key's slot. */
function clusterClient(redis: RedisModule, urls: readonly string[], timeout: number): RedisClient & Pick<Connected, 'nodes'> {
	// The nodes' addresses come from the cluster, so the first URL's credentials go to every node.
	const {username, password} = new URL(urls[0]!);
	const cluster = redis.createCluster({
		rootNodes: urls.map(url => ({url})),
		defaults: {...clientOptions(timeout), ...(username ? {username: decodeURIComponent(username)} : {}), ...(password ? {password: decodeURIComponent(password)} : {})},
	});
	cluster.on('error', logError('redis cluster'));
	let held = true;
	const apply = (): void => {
		for (const node of cluster.nodeByAddress.values()) {
			node.client?.[held ? 'ref' : 'unref']();
		}
	};

	// Each master's connection holds the event loop only while the store has work (as one server's does).
	cluster.on('node-connect', apply);
	const firstKey = (arguments_: Arguments): string | undefined => arguments_[arguments_[0] === 'EVAL' ? 3 : 1]?.toString();
	// Open from the start of the first discovery, but knowing no slot until it ends.
	let discovered = false;
	return {
		get isOpen() {
			return cluster.isOpen;
		},
		get isReady() {
			return discovered && cluster.isOpen;
		},
		async connect() {
			await cluster.connect();
			discovered = true;
		},
		close: async () => cluster.close(),
		destroy() {
			cluster.destroy();
		},
		ref() {
			held = true;
			apply();
		},
		unref() {
			held = false;
			apply();
		},
		// A node's failure; the cluster's own 'error' (a root node that did not answer) is only logged.
		on: (event, listener) => cluster.on(event === 'error' ? 'node-error' : event, listener),
		off: (event, listener) => cluster.off(event === 'error' ? 'node-error' : event, listener),
		sendCommand: async (arguments_, options) => cluster.sendCommand(firstKey(arguments_), false, arguments_, options),
		multi() {
			const multi = cluster.multi();
			return {
				addCommand: (arguments_: Arguments) => multi.addCommand(firstKey(arguments_), false, arguments_),
				exec: async () => multi.exec(),
			};
		},
		duplicate: () => singleClient(redis, urls[Math.floor(Math.random() * urls.length)]!, timeout),
		nodes: async () => Promise.all(cluster.masters.map(async node => cluster.nodeClient(node))),
	};
}

/**
 * Hold the event loop only while a command is pending (as Node's keep-alive sockets), so that a
 * script ends by itself yet never exits mid-write; returns the hold for other work (a SCAN).
 */
function holdWhileBusy(client: RedisClient): <T>(work: () => Promise<T>) => Promise<T> {
	let pending = 0;
	const hold = async <T>(work: () => Promise<T>): Promise<T> => {
		if (pending++ === 0) {
			client.ref();
		}

		try {
			return await work();
		} finally {
			if (--pending === 0) {
				client.unref();
			}
		}
	};

	client.unref();
	const {connect, sendCommand, multi} = client;
	Object.assign(client, {
		connect: async () => hold(async () => Reflect.apply(connect, client, []) as Promise<unknown>),
		sendCommand: async (...arguments_: Parameters<RedisClient['sendCommand']>) => hold(async () => Reflect.apply(sendCommand, client, arguments_) as Promise<unknown>),
		multi() {
			const transaction = Reflect.apply(multi, client, []) as ReturnType<RedisClient['multi']>;
			const {exec} = transaction;
			transaction.exec = async () => hold(async () => Reflect.apply(exec, transaction, []) as Promise<unknown[]>);
			return transaction;
		},
	});
	return hold;
}

function openClient(url: string | readonly string[], timeout: number): Connected {
	const redis = loadRedis();
	const cluster = typeof url === 'string' ? undefined : clusterClient(redis, url, timeout);
	const client = cluster ?? singleClient(redis, url as string, timeout);
	const hold = holdWhileBusy(client);
	const nodes = cluster?.nodes ?? (async () => [client]);
	return {
		client,
		bufferReplies: {typeMapping: {[redis.RESP_TYPES.BLOB_STRING]: Buffer}},
		nodes: async () => (await hold(nodes)).map((node): RedisNode => ({sendCommand: async (...arguments_) => hold(async () => node.sendCommand(...arguments_))})),
	};
}

/**
 * A connection that never waits for a server that is down: the first attempt fails when refused
 * (or after `timeout`), then commands fail at once while node-redis reconnects in the background.
 * A cluster whose first discovery failed (node-redis does not retry that) is tried again at most once a second.
 */
export function lazyConnection(url: string | readonly string[], timeout: number): RedisConnection {
	let connected: Connected | undefined;
	let first: Promise<void> | undefined;
	let settled = false;
	let failedAt = 0;
	let closed = false;
	let subscriber: Promise<SubscriberClient> | undefined;
	let current: SubscriberClient | undefined;
	const channels = new Map<string, Promise<void>>();
	const heard = new Set<string>();
	const connect = async ({client}: Connected): Promise<void> => new Promise<void>((resolve, reject) => {
		const finish = (error?: unknown): void => {
			clearTimeout(timer);
			client.off('error', finish);
			settled = true;
			if (error === undefined) {
				resolve();
			} else {
				failedAt = Date.now();
				reject(error instanceof Error ? error : new Error(String(error)));
			}
		};

		const timer = setTimeout(() => {
			finish(new Error(`Redis did not answer within ${timeout} ms`));
		}, timeout);
		timer.unref();
		// The first failure ends the wait; node-redis goes on reconnecting in the background.
		client.on('error', finish);
		client.connect().then(() => {
			finish();
		}, finish);
	});

	async function ready(): Promise<Connected> {
		if (connected?.client.isReady) {
			return connected;
		}

		if (closed) {
			throw new Error('the Redis connection is closed');
		}

		if (settled && connected?.client.isOpen === false && Date.now() - failedAt > 1000) {
			try {
				// A cluster's nodes may still be reconnecting; one server's client has nothing left to end.
				connected.client.destroy();
			} catch {}

			connected = undefined;
			first = undefined;
			settled = false;
		}

		connected ??= openClient(url, timeout);
		first ??= connect(connected);
		if (!settled) {
			await first;
			return connected;
		}

		throw new Error('Redis is not connected (reconnecting in the background)');
	}

	async function openSubscriber(): Promise<SubscriberClient> {
		try {
			const {client} = await ready();
			if (closed) {
				throw new Error('the Redis connection is closed');
			}

			current = client.duplicate();
			current.on('error', logError('redis subscriber'));
			await current.connect();
			return current;
		} catch (error) {
			if (current?.isOpen) {
				current.destroy();
			}

			current = undefined;
			subscriber = undefined;
			throw error;
		}
	}

	return {
		ready,
		async listen(channel, hear, reset) {
			if (closed) {
				throw new Error('the Redis connection is closed');
			}

			let subscribed = channels.get(channel);
			if (subscribed === undefined) {
				subscribed = (async () => {
					const client = await (subscriber ??= openSubscriber());
					await client.subscribe(channel, hear);
					if (reset !== undefined) {
						// node-redis subscribes again after a reconnection, then says 'ready': what came meanwhile is unknown.
						client.on('error', reset);
						client.on('ready', reset);
						reset();
					}

					heard.add(channel);
				})();
				channels.set(channel, subscribed);
				// Tried again by the next call.
				subscribed.catch(() => channels.delete(channel));
			}

			await subscribed;
		},
		hears: channel => heard.has(channel) && current?.isReady === true,
		async close() {
			closed = true;
			first?.catch(() => undefined);
			subscriber?.catch(() => undefined);
			// The subscriber only listens: nothing of ours is lost by cutting it off.
			if (current?.isOpen) {
				current.destroy();
			}

			const client = connected?.client;
			if (client?.isReady) {
				await client.close();
			} else if (client?.isOpen) {
				// Reconnecting: nothing to flush, and QUIT would wait for a server that is gone.
				client.destroy();
			}
		},
	};
}
