import {CliError} from './cli-error.js';

const units: Readonly<Record<string, number>> = {w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1};

/** Parse an age such as `7d`, `1.5h` or `1d12h` into ms; a bare number is refused, its unit would be a guess. */
export function parseAge(text: string, option: string): number {
	const trimmed = text.trim();
	if (!/^(?:\d+(?:\.\d+)?(?:ms|w|d|h|m|s))+$/.test(trimmed)) {
		throw new CliError(`${option} must be an age such as 7d, 12h, 30m or 1d12h (units w, d, h, m, s, ms), got ${JSON.stringify(text)}`);
	}

	return [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/g)].reduce((total, [, amount, unit]) => total + (Number(amount) * units[unit!]!), 0);
}
