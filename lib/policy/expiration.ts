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

/** How long a response stays fresh: seconds, a `Date`, a {@link Duration}, a constant, or `null` for never (docs/expiration.md). */
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
const unitList = Object.keys(durationUnits).join(', ');

/** The `Expiration` of `NEVER_EXPIRE`. */
export const NEVER: Expiration = Object.freeze({kind: 'never'});
const IMMEDIATELY: Expiration = Object.freeze({kind: 'immediately'});
const SKIP: Expiration = Object.freeze({kind: 'doNotCache'});

const isDuration = (value: unknown): value is Duration => typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** Turn a duration object into milliseconds, validating every part. */
export function durationToMs(value: Duration, owner: string, name: string): number {
	let total = 0;
	let units = 0;
	for (const [unit, amount] of Object.entries(value)) {
		if (!Object.hasOwn(durationUnits, unit)) {
			throw optionTypeError(owner, name, `a duration with only ${unitList} (unknown unit \`${unit}\`)`, value);
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
		throw optionTypeError(owner, name, `a duration with at least one of ${unitList}`, value);
	}

	if (!Number.isFinite(total)) {
		throw optionRangeError(owner, name, 'a finite duration', value);
	}

	return total;
}

/** The longest expiry time a cache takes, in ms (about 137,000 years): `now + ms` stays a valid Date. */
export const MAX_EXPIRE_AFTER_MS = 4.32e15;

function ttl(ms: number, owner: string, name: string, value: unknown): Expiration {
	if (!(ms <= MAX_EXPIRE_AFTER_MS)) {
		throw optionRangeError(owner, name, `at most ${MAX_EXPIRE_AFTER_MS / 1000} seconds (use NEVER_EXPIRE to never expire)`, value);
	}

	return {kind: 'ttl', ms};
}

function validTime(value: Date, owner: string, name: string): number {
	const time = value.getTime();
	if (Number.isNaN(time)) {
		throw optionRangeError(owner, name, 'a valid Date', value);
	}

	return time;
}

/** Validate an `ExpireAfter` once, at the edge; throws a `TypeError`/`RangeError` naming `owner` and `name`. */
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
		return {kind: 'at', time: validTime(value, owner, name)};
	}

	if (isDuration(value)) {
		const ms = durationToMs(value, owner, name);
		return ms === 0 ? IMMEDIATELY : ttl(ms, owner, name, value);
	}

	throw optionTypeError(owner, name, 'seconds (number), a Date, a duration object, null, NEVER_EXPIRE, EXPIRE_IMMEDIATELY or DO_NOT_CACHE', value);
}

/** The absolute expiry time (ms since the epoch) for a response created at `now`, or null for never. */
export function expiresAt(expiration: Expiration, now: number): number | null {
	if (expiration.kind === 'never') {
		return null;
	}

	return expiration.kind === 'ttl' ? now + expiration.ms : (expiration.kind === 'at' ? expiration.time : now);
}

/** A compiled `urlsExpireAfter` table: the first matching pattern wins. */
export type UrlExpirationRules = ReadonlyArray<{readonly pattern: string; readonly regex: RegExp; readonly expiration: Expiration}>;

const schemeRegex = /^[a-z][a-z\d+.-]*:\/\//i;

/** Compile a URL glob, matched from the start of a URL without its scheme (docs/expiration.md). */
export function compileUrlPattern(pattern: string): RegExp {
	const bare = pattern.replace(schemeRegex, '');
	const source = bare.split('*').map(part => part.replaceAll(/[\\^$.+?()[\]{}|]/g, String.raw`\$&`)).join('.*');
	// `/v1` must not match `/v10`, nor `?a=1` match `?a=10`; a pattern ending in a separator or `*` is a prefix.
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
	return rules.find(rule => rule.regex.test(bare))?.expiration;
}

/** The creation time before which `delete({olderThan})` removes entries: a Date, or `now` less seconds or a duration. */
export function olderThanCutoff(value: unknown, now: number, owner: string, name: string): number {
	if (value instanceof Date) {
		return validTime(value, owner, name);
	}

	let ms: number;
	if (typeof value === 'number') {
		if (!Number.isFinite(value) || value < 0) {
			throw optionRangeError(owner, name, 'a Date, a finite number of seconds >= 0 or a duration', value);
		}

		ms = value * 1000;
	} else if (isDuration(value)) {
		ms = durationToMs(value, owner, name);
	} else {
		throw optionTypeError(owner, name, 'a Date, a number of seconds or a duration', value);
	}

	if (!(ms <= MAX_EXPIRE_AFTER_MS)) {
		throw optionRangeError(owner, name, `an age of at most ${MAX_EXPIRE_AFTER_MS / 1000} seconds`, value);
	}

	return now - ms;
}
