/**
 * Another process on a Redis Cluster cache, for spec/backends/redis-cluster.spec.ts: opens a
 * session with a memory tier on the cluster and cache named in its JSON argument, sends one
 * request (a GET that refreshes, or a POST that invalidates), closes, and prints the JSON body.
 */
import {CachedSession} from '../../lib/index.js';

type Config = {urls: string[]; cacheName: string; url: string; method: 'refresh' | 'POST'};

const config = JSON.parse(process.argv[2]!) as Config;
const session = new CachedSession({backend: 'redis', url: config.urls, cacheName: config.cacheName, expireAfter: 3600, cacheControl: true, memoryTier: {maxEntries: 100}});
const response = config.method === 'POST' ? await session.post(config.url) : await session.get(config.url, {forceRefresh: true});
process.stdout.write(`${JSON.stringify(response.json())}\n`);
await session.close();
