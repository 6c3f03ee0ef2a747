/** Small statistics helpers for the benchmark. */

/** The `q`-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
	if (sorted.length === 0) {
		return Number.NaN;
	}

	const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
	return sorted[rank]!;
}

/** The median of some numbers (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
	if (values.length === 0) {
		return Number.NaN;
	}

	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A growable list of latencies in milliseconds, kept in a typed array so recording costs no allocation. */
export class Latencies {
	private values = new Float64Array(1 << 16);
	length = 0;

	push(ms: number): void {
		if (this.length === this.values.length) {
			const grown = new Float64Array(this.values.length * 2);
			grown.set(this.values);
			this.values = grown;
		}

		this.values[this.length++] = ms;
	}

	/** p50 and p99 in milliseconds. */
	summary(): {p50: number; p99: number} {
		const sorted = this.values.slice(0, this.length).sort();
		return {p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99)};
	}
}

/** Format a number for the table: at most `digits` significant digits, no exponent. */
export function format(value: number | undefined, digits = 3): string {
	if (value === undefined || Number.isNaN(value)) {
		return '–';
	}

	if (Math.abs(value) >= 10 ** digits) {
		return Math.round(value).toLocaleString('en-US');
	}

	return Number(value.toPrecision(digits)).toString();
}
