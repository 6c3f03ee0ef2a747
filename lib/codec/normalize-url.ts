import type {FoundCredential} from './credentials.js';
import {DEFAULT_IGNORED_PARAMETERS, type NameRole, nameRules} from './secret-names.js';

/** RFC 3986 §6.2.2.1-2: `%7e` → `~`, `%2f` → `%2F`; malformed `%` sequences stay as they are. */
function normalizePercentEncoding(text: string): string {
	if (!text.includes('%')) {
		return text;
	}

	return text.replaceAll(/%([\dA-Fa-f]{2})/g, (_match, hex: string) => {
		const char = String.fromCharCode(Number.parseInt(hex, 16));
		// The unreserved characters (RFC 3986 §2.3).
		return /[\w.~-]/.test(char) ? char : `%${hex.toUpperCase()}`;
	});
}

const dotSegment = /\/\.\.?(?:\/|$)/;

/** RFC 3986 §5.2.4, again: Node 20's WHATWG parser (ada 2.9) keeps `.` after a segment that starts with a dot (`/x/.a/.`). */
function removeDotSegments(path: string): string {
	if (!dotSegment.test(path)) {
		return path;
	}

	const output: string[] = [];
	const segments = path.split('/').slice(1);
	for (const [index, segment] of segments.entries()) {
		if (segment === '..') {
			output.pop();
		}

		if (segment !== '.' && segment !== '..') {
			output.push(segment);
		} else if (index === segments.length - 1) {
			output.push('');
		}
	}

	return `/${output.join('/')}`;
}

/** A query or form parameter's name as a server reads it (form-decoded), for matching secret names. */
export function parameterName(segment: string): string {
	const equals = segment.indexOf('=');
	const raw = equals === -1 ? segment : segment.slice(0, equals);
	if (!raw.includes('%') && !raw.includes('+')) {
		return raw;
	}

	try {
		return decodeURIComponent(raw.replaceAll('+', ' '));
	} catch {
		return raw;
	}
}

/** The canonical form of a query string or form body (docs/matching.md), secret names' segments moved to `found` or `shared`. */
export function canonicalQuery(query: string, role: (name: string) => NameRole, found: FoundCredential[], tag: string, shared?: FoundCredential[]): string {
	const kept: string[] = [];
	let previous = '';
	let sorted = true;
	// Unchanged until a segment is dropped or rewritten: then the query is joined again.
	let same = !query.includes('%');
	for (const piece of query.split('&')) {
		if (piece === '') {
			same = false;
			continue;
		}

		const segment = normalizePercentEncoding(piece);
		const name = segment.split('=', 1)[0]!;
		const kind = role(name.includes('%') || name.includes('+') ? parameterName(name) : name);
		if (kind === 'credential') {
			found.push([tag, segment]);
			same = false;
		} else if (kind === 'shared') {
			shared?.push([tag, segment]);
			same = false;
		} else if (kind === 'ignored') {
			same = false;
		} else {
			if (name < previous) {
				sorted = false;
			}

			previous = name;
			kept.push(segment);
		}
	}

	if (sorted) {
		return same ? query : kept.join('&');
	}

	// By name only, stable: `a=2&a=1` keeps its order, and differs from `a=1&a=2`.
	const named = kept.map(segment => [segment.split('=', 1)[0]!, segment] as const);
	named.sort(([a], [b]) => (a < b ? -1 : (a > b ? 1 : 0)));
	return named.map(([, segment]) => segment).join('&');
}

/** The URL the key is built on (docs/matching.md), its userinfo and credential parameters moved to `found` or `shared`. */
export function canonicalUrl(url: string, role: (name: string) => NameRole, found: FoundCredential[], shareUserinfo = false, shared?: FoundCredential[]): string {
	const parsed = new URL(url);
	if (parsed.username !== '' || parsed.password !== '') {
		(shareUserinfo ? shared : found)?.push(['userinfo', `${parsed.username}:${parsed.password}`]);
	}

	const {search} = parsed;
	const query = search.length > 1 ? canonicalQuery(search.slice(1), role, found, 'query', shared) : '';
	return `${parsed.protocol}//${parsed.host}${removeDotSegments(normalizePercentEncoding(parsed.pathname))}${query === '' ? '' : `?${query}`}`;
}

// One set, so that its compiled rules are memoized.
let defaultIgnored: ReadonlySet<string> | undefined;

/**
 * Normalize a URL as the cache key compares it, leaving out userinfo and every name in `ignoredParameters`.
 * @param ignoredParameters - a session's list; a `Set` is compiled once and reused. @default DEFAULT_IGNORED_PARAMETERS
 * @example normalizeUrl('https://Example.com/a?b=2&a=1') // 'https://example.com/a?a=1&b=2'
 */
export function normalizeUrl(url: string, ignoredParameters?: Iterable<string>): string {
	let ignored: ReadonlySet<string>;
	if (ignoredParameters === undefined) {
		ignored = defaultIgnored ??= new Set(DEFAULT_IGNORED_PARAMETERS.map(name => name.toLowerCase()));
	} else if (ignoredParameters instanceof Set) {
		ignored = ignoredParameters;
	} else if (typeof ignoredParameters === 'object' && ignoredParameters !== null && typeof ignoredParameters[Symbol.iterator] === 'function') {
		ignored = new Set(ignoredParameters);
	} else {
		throw new TypeError(`normalizeUrl(): \`ignoredParameters\` must be an array or a Set of names, got ${typeof ignoredParameters}`);
	}

	return canonicalUrl(url, nameRules(ignored, true).role, [], true);
}
