/** Buckets of a cache on a Redis Cluster, each one hash tag (docs/backends.md, "Redis Cluster"). */
const clusterBuckets = 1024;

/** Characters of a key that choose its bucket: a Vary variant's key starts as its primary key does (lib/codec/keys.ts). */
const familyLength = 8;

/** Where a cache's keys are: one bucket on one server, {@link clusterBuckets} on a cluster. */
type RedisLayout = {
	readonly buckets: number;
	/** The bucket of a record or lease name: the same for an entry and its Vary variants. */
	bucketOf(key: string): number;
	/** The prefix of a bucket's keys: `<ns>` on one server, `<ns>:{<3 hex digits>}` on a cluster. */
	base(bucket: number): string;
	/** A SCAN pattern matching every record value of the cache, and nothing of another cache. */
	readonly valuePattern: string;
	/** The bucket and key of a record value's name that {@link valuePattern} matched. */
	parse(name: string): {bucket: number; key: string};
};

/** `text` with Redis glob characters escaped, so that a `MATCH` pattern matches it literally. */
function escapeGlob(text: string): string {
	return text.replaceAll(/[*?[\]\\^]/g, String.raw`\$&`);
}

/** The layout of the cache `namespace`, on a cluster or on one server. */
export function redisLayout(namespace: string, cluster: boolean): RedisLayout {
	if (!cluster) {
		return {
			buckets: 1,
			bucketOf: () => 0,
			base: () => namespace,
			valuePattern: `${escapeGlob(namespace)}::*`,
			parse: name => ({bucket: 0, key: name.slice(namespace.length + 2)}),
		};
	}

	const hex = '[0-9a-f]';
	return {
		buckets: clusterBuckets,
		bucketOf(key) {
			// FNV-1a: cheap, and even over the hex digits of the keys.
			let hash = 0x81_1C_9D_C5;
			for (let index = 0; index < Math.min(familyLength, key.length); index++) {
				hash = Math.imul(hash ^ key.charCodeAt(index), 0x01_00_01_93);
			}

			return (hash >>> 0) % clusterBuckets;
		},
		base: bucket => `${namespace}:{${bucket.toString(16).padStart(3, '0')}}`,
		// Exactly three hex digits: another cache's name can never make its keys match (as no name ends with ':').
		valuePattern: `${escapeGlob(namespace)}:{${hex}${hex}${hex}}::*`,
		parse: name => ({bucket: Number.parseInt(name.slice(namespace.length + 2, namespace.length + 5), 16), key: name.slice(namespace.length + 8)}),
	};
}
