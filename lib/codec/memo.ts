/** `compute` memoized by its argument in a map emptied when full: inputs come from requests, so the map is bounded. */
export function boundedMemo<T>(limit: number, compute: (key: string) => T): (key: string) => T {
	const memo = new Map<string, T>();
	return key => {
		const known = memo.get(key);
		if (known !== undefined || memo.has(key)) {
			return known as T;
		}

		const value = compute(key);
		if (memo.size >= limit) {
			memo.clear();
		}

		memo.set(key, value);
		return value;
	};
}
