/** `1536` → `1.5 KiB`: sizes for people (JSON output keeps bytes). */
export function formatBytes(bytes: number): string {
	if (bytes < 1024) {
		return `${bytes} B`;
	}

	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}

	return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]!}`;
}

/** A time as UTC ISO 8601 to the second (`2025-06-01T10:20:30Z`), or `never` for null. */
export function formatTime(ms: number | null): string {
	return ms === null ? 'never' : `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** A time as full ISO 8601 for JSON output, or null. */
export function isoTime(ms: number | null): string | null {
	return ms === null ? null : new Date(ms).toISOString();
}
