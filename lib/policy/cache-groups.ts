import type {ResponseHeaders} from '../models/response.js';

/**
 * HTTP Cache Groups (RFC 9875): a response names the groups it belongs to in `Cache-Groups`; a
 * response to an unsafe request names groups in `Cache-Group-Invalidation`, and every stored
 * response of those groups on the same origin is invalidated. Groups are scoped to an origin and
 * compared as exact strings. Pure: lib/cache/cache-groups.ts finds the members in a store,
 * lib/policy/invalidation.ts decides, lib/engine/invalidate.ts acts on responses.
 */

/**
 * The strings of a Structured Field list of strings (RFC 8941 §3.1, §3.3.3), as `Cache-Groups`
 * and `Cache-Group-Invalidation` carry them; members that are not strings (tokens, numbers) are
 * skipped, as RFC 9875 says to ignore them, and parameters are dropped. Lines sent apart are one list.
 */
export function parseGroupList(value: string | string[] | undefined): string[] {
	const text = Array.isArray(value) ? value.join(', ') : value;
	if (text === undefined) {
		return [];
	}

	const groups: string[] = [];
	let index = 0;
	while (index < text.length) {
		while (text[index] === ' ' || text[index] === '\t' || text[index] === ',') {
			index++;
		}

		if (index >= text.length) {
			break;
		}

		if (text[index] === '"') {
			let group = '';
			let closed = false;
			index++;
			while (index < text.length) {
				const char = text[index]!;
				if (char === '\\' && (text[index + 1] === '"' || text[index + 1] === '\\')) {
					group += text[index + 1];
					index += 2;
				} else if (char === '"') {
					closed = true;
					index++;
					break;
				} else {
					group += char;
					index++;
				}
			}

			if (closed && !groups.includes(group)) {
				groups.push(group);
			}
		}

		// Skip parameters, or a member that is not a string, up to the next member.
		while (index < text.length && text[index] !== ',') {
			index++;
		}
	}

	return groups;
}

/** The groups a stored response belongs to (its `Cache-Groups`). */
export function groupsOf(headers: ResponseHeaders): string[] {
	return parseGroupList(headers['cache-groups']);
}

/**
 * The groups a response invalidates (RFC 9875 §3): its `Cache-Group-Invalidation`, only in
 * answer to an unsafe method (a safe one changes nothing, so its header is ignored) and, as RFC
 * 9111 §4.4 invalidates, only with a non-error status.
 */
export function invalidatedGroups(method: string, status: number, headers: ResponseHeaders): string[] {
	if (safeMethods.has(method) || status >= 400) {
		return [];
	}

	return parseGroupList(headers['cache-group-invalidation']);
}

const safeMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** True when a response with `headers` belongs to any of `groups`. */
export function inAnyGroup(headers: ResponseHeaders, groups: ReadonlySet<string>): boolean {
	return groupsOf(headers).some(group => groups.has(group));
}
