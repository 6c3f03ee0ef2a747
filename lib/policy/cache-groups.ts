import type {ResponseHeaders} from '../models/response.js';

/** The strings of a Structured Field list (RFC 8941 §3.1), as Cache Groups (RFC 9875) carry them: other members ignored. */
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

		// Parameters, or a member that is not a string.
		while (index < text.length && text[index] !== ',') {
			index++;
		}
	}

	return groups;
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
