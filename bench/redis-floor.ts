/**
 * The transport's floor for a Redis hit: node-redis (the client the Redis store uses) alone,
 * `GET` of one value in a loop, no cache around it. A cached 100 KB hit from Redis cannot be
 * faster than this; docs/performance.md compares it with got fetching the same size.
 *
 *   node --import tsx bench/redis-floor.ts [bytes] [gets]
 */
import {Buffer} from 'node:buffer';
import {createRequire} from 'node:module';
import {performance} from 'node:perf_hooks';
import {redisAvailable} from './redis-available.js';

type Client = {
	connect(): Promise<unknown>;
	close(): Promise<unknown>;
	sendCommand(arguments_: Array<string | Buffer>, options?: object): Promise<unknown>;
};
type RedisModule = {createClient(options: object): Client; RESP_TYPES: {BLOB_STRING: number}};

const bytes = Number(process.argv[2] ?? 100 * 1024);
const gets = Number(process.argv[3] ?? 5000);
if (!(await redisAvailable())) {
	throw new Error('redis-floor: no Redis answers on 127.0.0.1:6379');
}

// The store's own client: @redis/client, from @keyv/redis' dependencies.
const require = createRequire(import.meta.url);
const redis = createRequire(require.resolve('@keyv/redis'))('@redis/client') as RedisModule;
const client = redis.createClient({url: 'redis://127.0.0.1:6379'});
await client.connect();
const key = `rc-redis-floor-${process.pid}`;
const value = Buffer.alloc(bytes, 7);
const asBytes = {typeMapping: {[redis.RESP_TYPES.BLOB_STRING]: Buffer}};
try {
	await client.sendCommand(['SET', key, value]);
	for (let index = 0; index < 1000; index++) {
		// eslint-disable-next-line no-await-in-loop -- warm-up, sequential
		await client.sendCommand(['GET', key], asBytes);
	}

	const latencies: number[] = [];
	const cpu = process.cpuUsage();
	const start = performance.now();
	for (let index = 0; index < gets; index++) {
		const begun = performance.now();
		// eslint-disable-next-line no-await-in-loop -- sequential, as the bench's hits are
		const reply = await client.sendCommand(['GET', key], asBytes) as Buffer;
		latencies.push(performance.now() - begun);
		if (reply.length !== bytes) {
			throw new Error(`redis-floor: got ${reply.length} bytes back, expected ${bytes}`);
		}
	}

	const elapsed = performance.now() - start;
	const used = process.cpuUsage(cpu);
	latencies.sort((a, b) => a - b);
	console.log(`node-redis GET of ${bytes} bytes, ${gets} sequential: ${Math.round(gets / elapsed * 1000)} req/s, p50 ${(latencies[gets >> 1]! * 1000).toFixed(0)} µs, mean ${(elapsed / gets * 1000).toFixed(0)} µs, CPU ${((used.user + used.system) / gets).toFixed(0)} µs per GET`);
} finally {
	await client.sendCommand(['DEL', key]);
	await client.close();
}
