import {type BaseCache, storageOf} from '../../lib/cache/base-cache.js';

/**
 * Wait for the writes a cache queued behind its requests (lib/cache/write-behind.ts): for specs
 * that look at a store's file or server directly, behind the cache's back.
 */
export async function settled(session: {cache: BaseCache}): Promise<void> {
	await storageOf(session.cache).flush();
}
