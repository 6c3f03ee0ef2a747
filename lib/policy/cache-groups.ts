import type {ResponseHeaders} from '../models/response.js';

// A member: a string (escapes `\"` and `\\`) and its parameters, an unclosed string, or anything else up to a comma.
const member = /[ \t,]*(?:"((?:[^"\\]|\\["\\]|\\(?!["\\]))*)"[^,]*|"[\s\S]*|[^,]*)/g;

/** The strings of a Structured Field list (RFC 8941 §3.1), as Cache Groups (RFC 9875) carry them: other members ignored. */
export function parseGroupList(value: string | string[] | undefined): string[] {
	const text = Array.isArray(value) ? value.join(', ') : value;
	const groups = new Set<string>();
	for (const [, group] of text?.matchAll(member) ?? []) {
		if (group !== undefined) {
			groups.add(group.replaceAll(/\\(["\\])/g, '$1'));
		}
	}

	return [...groups];
}

/** The groups a response invalidates (RFC 9875 §3): only an unsafe method's, with a non-error status as RFC 9111 §4.4. */
export function invalidatedGroups(method: string, status: number, headers: ResponseHeaders): string[] {
	if (safeMethods.has(method) || status >= 400) {
		return [];
	}

	return parseGroupList(headers['cache-group-invalidation']);
}

const safeMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** True when a response with `headers` belongs to any of `groups` (its `Cache-Groups`). */
export function inAnyGroup(headers: ResponseHeaders, groups: ReadonlySet<string>): boolean {
	return parseGroupList(headers['cache-groups']).some(group => groups.has(group));
}
