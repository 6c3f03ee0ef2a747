import {optionRangeError, optionTypeError} from '../errors.js';

/** Never expire: the default. */
export const NEVER_EXPIRE = -1;
/** Expire at once: stored only when the response has a validator, and revalidated on every use. */
export const EXPIRE_IMMEDIATELY = 0;
/** Neither read from nor write to the cache. */
export const DO_NOT_CACHE: unique symbol = Symbol.for('requests-cache.DO_NOT_CACHE') as never;

/** A duration in any combination of units; the parts are added. */
export type Duration = {
	days?: number;
	hours?: number;
	minutes?: number;
	seconds?: number;
	milliseconds?: number;
};

/**
 * How long a response stays fresh:
 * - a number of **seconds** (`NEVER_EXPIRE` = -1, `EXPIRE_IMMEDIATELY` = 0),
 * - a `Date` (an absolute expiry time),
 * - a {@link Duration} object such as `{hours: 1, minutes: 30}`,
 * - `DO_NOT_CACHE` (skip the cache for reading and writing),
 * - `null`: never expire (as requests-cache's `None`; same as `NEVER_EXPIRE`).
 */
export type ExpireAfter = number | Date | Duration | typeof DO_NOT_CACHE | null;

/** Per request, also `'default'`: the session's (or the installed cache's) expiration, skipping `urlsExpireAfter`. */
export type RequestExpireAfter = ExpireAfter | 'default';

/** An `ExpireAfter` after validation: the kind of rule and, for `ttl`/`at`, its milliseconds. */
export type Expiration =
	| {readonly kind: 'never'}
	| {readonly kind: 'immediately'}
	| {readonly kind: 'doNotCache'}
	| {readonly kind: 'ttl'; readonly ms: number}
	| {readonly kind: 'at'; readonly time: number};

const durationUnits = {days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1000, milliseconds: 1} as const;
const durationUnitNames = new Set(Object.keys(durationUnits));

export const NEVER: Expiration = Object.freeze({kind: 'never'});
const IMMEDIATELY: Expiration = Object.freeze({kind: 'immediately'});
const SKIP: Expiration = Object.freeze({kind: 'doNotCache'});

/** Turn a duration object into milliseconds, validating every part. */
export function durationToMs(value: Duration, owner: string, name: string): number {
	let total = 0;
	let units = 0;
	for (const [unit, amount] of Object.entries(value)) {
		if (!durationUnitNames.has(unit)) {
			throw optionTypeError(owner, name, `a duration with only ${[...durationUnitNames].join(', ')} (unknown unit \`${unit}\`)`, value);
		}

		if (amount === undefined) {
			continue;
		}

		if (typeof amount !== 'number' || !Number.isFinite(amount)) {
			throw optionTypeError(owner, `${name}.${unit}`, 'a finite number', amount);
		}

		if (amount < 0) {
			throw optionRangeError(owner, `${name}.${unit}`, '>= 0', amount);
		}

		units++;
		total += amount * durationUnits[unit as keyof typeof durationUnits];
	}

	if (units === 0) {
		throw optionTypeError(owner, name, `a duration with at least one of ${[...durationUnitNames].join(', ')}`, value);
	}

	if (!Number.isFinite(total)) {
		throw optionRangeError(owner, name, 'a finite duration', value);
	}

	return total;
}

/**
 * The longest expiry time a cache takes, in ms (about 137,000 years): with it, `now + ms` stays
 * a valid Date, so an expiry can never overflow into "never" or into an invalid time.
 */
export const MAX_EXPIRE_AFTER_MS = 4.32e15;

function ttl(ms: number, owner: string, name: string, value: unknown): Expiration {
	if (!(ms <= MAX_EXPIRE_AFTER_MS)) {
		throw optionRangeError(owner, name, `at most ${MAX_EXPIRE_AFTER_MS / 1000} seconds (use NEVER_EXPIRE to never expire)`, value);
	}

	return {kind: 'ttl', ms};
}

/**
 * Validate an `ExpireAfter` once, at the edge, into an {@link Expiration}.
 * Throws a `TypeError`/`RangeError` naming `owner` and `name` for anything else.
 */
export function parseExpireAfter(value: unknown, owner: string, name: string): Expiration {
	if (value === DO_NOT_CACHE) {
		return SKIP;
	}

	if (value === null) {
		return NEVER;
	}

	if (typeof value === 'number') {
		if (!Number.isFinite(value)) {
			throw optionRangeError(owner, name, 'a finite number of seconds', value);
		}

		if (value === NEVER_EXPIRE) {
			return NEVER;
		}

		if (value === EXPIRE_IMMEDIATELY) {
			return IMMEDIATELY;
		}

		if (value < 0) {
			throw optionRangeError(owner, name, 'a number of seconds >= 0, NEVER_EXPIRE (-1), a Date, a duration or DO_NOT_CACHE', value);
		}

		return ttl(value * 1000, owner, name, value);
	}

	if (value instanceof Date) {
		const time = value.getTime();
		if (Number.isNaN(time)) {
			throw optionRangeError(owner, name, 'a valid Date', value);
		}

		return {kind: 'at', time};
	}

	if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype) {
		const ms = durationToMs(value as Duration, owner, name);
		return ms === 0 ? IMMEDIATELY : ttl(ms, owner, name, value);
	}

	throw optionTypeError(owner, name, 'seconds (number), a Date, a duration object, null, NEVER_EXPIRE, EXPIRE_IMMEDIATELY or DO_NOT_CACHE', value);
}

/** The absolute expiry time (ms since the epoch) for a response created at `now`, or null for never. */
export function expiresAt(expiration: Expiration, now: number): number | null {
	switch (expiration.kind) {
		case 'ttl': {
			return now + expiration.ms;
		}

		case 'at': {
			return expiration.time;
		}

		case 'immediately':
		case 'doNotCache': {
			return now;
		}

		case 'never': {
			return null;
		}
	}
}

/** A compiled `urlsExpireAfter` table: the first matching pattern wins. */
export type UrlExpirationRules = ReadonlyArray<{readonly pattern: string; readonly regex: RegExp; readonly expiration: Expiration}>;

const schemeRegex = /^[a-z][a-z\d+.-]*:\/\//i;

/**
 * Compile a glob pattern matched against a URL without its scheme, from its start. `*` matches any
 * run of characters, `/` included, and a pattern also matches everything below it:
 * `api.example.com/v1` matches `api.example.com/v1/users?page=2` but not `api.example.com/v10`.
 */
export function compileUrlPattern(pattern: string): RegExp {
	const bare = pattern.replace(schemeRegex, '');
	const source = bare.split('*').map(part => part.replaceAll(/[\\^$.+?()[\]{}|]/g, String.raw`\$&`)).join('.*');
	// A pattern that ends mid-segment must end at a boundary (`/v1` is not `/v10`, `?a=1` is not `?a=10` but
	// is `?a=1&b=2`); one that ends in a separator or `*` is a prefix.
	const open = /[*/?&=#]$/.test(bare) || bare.length === 0;
	return new RegExp(`^${source}${open ? '' : '(?:[/?#:&]|$)'}`, 'i');
}

/** True when `url` matches a pattern made by {@link compileUrlPattern} (schemes are not compared). */
export function matchesUrlPattern(pattern: RegExp, url: string): boolean {
	return pattern.test(url.replace(schemeRegex, ''));
}

/** Validate and compile a `urlsExpireAfter` mapping, keeping its order. */
export function parseUrlsExpireAfter(value: unknown, owner: string, name: string): UrlExpirationRules {
	if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Map) {
		throw optionTypeError(owner, name, 'an object mapping URL patterns to expireAfter values', value);
	}

	return Object.entries(value).map(([pattern, expireAfter]) => {
		if (pattern.trim() === '') {
			throw optionRangeError(owner, name, 'an object whose patterns are not empty', pattern);
		}

		return {pattern, regex: compileUrlPattern(pattern), expiration: parseExpireAfter(expireAfter, owner, `${name}['${pattern}']`)};
	});
}

/** The expiration the first matching URL pattern gives, if any. */
export function matchUrlExpiration(rules: UrlExpirationRules, url: string): Expiration | undefined {
	const bare = url.replace(schemeRegex, '');
	for (const rule of rules) {
		if (rule.regex.test(bare)) {
			return rule.expiration;
		}
	}

	return undefined;
}

/**
 * The creation time before which `delete({olderThan})` removes entries: a valid Date as given, or
 * `now` minus an age (seconds >= 0, or a duration). Negative, non-finite and overflowing ages,
 * invalid Dates and other types throw a `RangeError`/`TypeError` naming the option.
 */
export function olderThanCutoff(value: unknown, now: number, owner: string, name: string): number {
	if (value instanceof Date) {
		const time = value.getTime();
		if (Number.isNaN(time)) {
			throw optionRangeError(owner, name, 'a valid Date', value);
		}

		return time;
	}

	let ms: number;
	if (typeof value === 'number') {
		if (!Number.isFinite(value) || value < 0) {
			throw optionRangeError(owner, name, 'a Date, a finite number of seconds >= 0 or a duration', value);
		}

		ms = value * 1000;
	} else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype) {
		ms = durationToMs(value as Duration, owner, name);
	} else {
		throw optionTypeError(owner, name, 'a Date, a number of seconds or a duration', value);
	}

	if (!(ms <= MAX_EXPIRE_AFTER_MS)) {
		throw optionRangeError(owner, name, `an age of at most ${MAX_EXPIRE_AFTER_MS / 1000} seconds`, value);
	}

	return now - ms;
}
