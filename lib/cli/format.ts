import {isTimeInRange} from '../codec/entry.js';

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

/** A stored time no Date holds, marked rather than thrown: one entry never fails a whole listing. */
export function invalidTime(ms: number): string {
	return `invalid time (${ms} ms)`;
}

/** A time as UTC ISO 8601 to the second (`2025-06-01T10:20:30Z`), `never` for null, or marked invalid. */
export function formatTime(ms: number | null): string {
	return ms === null ? 'never' : (isTimeInRange(ms) ? `${new Date(ms).toISOString().slice(0, 19)}Z` : invalidTime(ms));
}

/** A time as full ISO 8601 for JSON output, null, or marked invalid. */
export function isoTime(ms: number | null): string | null {
	return ms === null ? null : (isTimeInRange(ms) ? new Date(ms).toISOString() : invalidTime(ms));
}

const controls = /[\u0000-\u001F\u007F-\u009F]/g;
const controlsButLayout = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/** Stored text made safe for a terminal: C0, DEL and C1 controls as `\xNN`; `keepLayout` keeps tabs and line breaks. */
export function escapeControls(text: string, keepLayout = false): string {
	return text.replaceAll(keepLayout ? controlsButLayout : controls, character => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** JSON for a terminal: JSON.stringify escapes C0 controls but writes DEL and C1 (`\x9b`, a CSI) raw. */
export function jsonText(value: unknown): string {
	return `${JSON.stringify(value, null, 2).replaceAll(/[\u007F-\u009F]/g, character => `\\u00${character.charCodeAt(0).toString(16)}`)}\n`;
}
