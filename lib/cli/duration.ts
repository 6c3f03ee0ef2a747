import {CliError} from './cli-error.js';

const units: Readonly<Record<string, number>> = {w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1};

/**
 * Parse an age such as `7d`, `12h`, `30m`, `45s`, `2w` or a sum of them (`1d12h`) into
 * milliseconds. A bare number is refused: its unit would be a guess.
 */
export function parseAge(text: string, option: string): number {
	const trimmed = text.trim();
	const parts = /^(?:\d+(?:\.\d+)?(?:ms|w|d|h|m|s))+$/.test(trimmed) ? trimmed.match(/\d+(?:\.\d+)?(?:ms|w|d|h|m|s)/g) : null;
	if (parts === null) {
		throw new CliError(`${option} must be an age such as 7d, 12h, 30m or 1d12h (units w, d, h, m, s, ms), got ${JSON.stringify(text)}`);
	}

	let total = 0;
	for (const part of parts) {
		const [, amount = '0', unit = 's'] = /^([\d.]+)(\w+)$/.exec(part) ?? [];
		total += Number(amount) * units[unit]!;
	}

	return total;
}
