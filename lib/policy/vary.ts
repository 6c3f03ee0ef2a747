/** Fields whose members carry a weight (`;q=`) and whose tokens are case-insensitive: their order beyond the weights says nothing. */
const weightedLists: ReadonlySet<string> = new Set(['accept-language', 'accept-encoding', 'accept-charset']);

/** The members of a comma-separated list, split outside quoted strings, trimmed, empty ones dropped (RFC 9110 §5.6.1). */
function listMembers(value: string): string[] {
	return (value.match(/(?:[^,"]+|"(?:[^"\\]|\\.)*")+/g) ?? []).map(member => member.trim()).filter(member => member !== '');
}

type Weighted = {readonly value: string; readonly q: number};

/** One `token;q=x` member: the token lower-cased (parameters other than q kept), its weight (default 1). */
function weighted(member: string): Weighted {
	const parts = member.split(';').map(part => part.trim()).filter(part => part !== '');
	let q = 1;
	const kept: string[] = [];
	for (const part of parts.slice(1)) {
		const match = /^q\s*=\s*([\d.]+)$/i.exec(part);
		if (match) {
			const parsed = Number(match[1]);
			q = Number.isFinite(parsed) ? Math.min(1, Math.max(0, parsed)) : 1;
		} else {
			kept.push(part.replaceAll(/\s*=\s*/g, '='));
		}
	}

	return {value: [(parts[0] ?? '').toLowerCase(), ...kept].join(';'), q};
}

/** A request header's value as `Vary` compares it (RFC 9111 §4.1): whitespace, field lines and weighted lists normalized. */
export function normalizeVaryValue(name: string, value: string | readonly string[] | undefined): string | undefined {
	if (value === undefined) {
		return undefined;
	}

	const members = listMembers(typeof value === 'string' ? value : value.join(','));
	if (!weightedLists.has(name.toLowerCase())) {
		return members.join(', ');
	}

	return members
		.map(member => weighted(member))
		.sort((a, b) => b.q - a.q || (a.value < b.value ? -1 : (a.value > b.value ? 1 : 0)))
		.map(member => (member.q === 1 ? member.value : `${member.value};q=${member.q}`))
		.join(', ');
}

/** Whether a language range matches a language tag (RFC 4647 §3.3.1 basic filtering: equal, a prefix ending at `-`, or `*`). */
function rangeMatches(range: string, tag: string): boolean {
	return range === '*' || range === tag || tag.startsWith(`${range}-`);
}

/** Whether a response in `contentLanguage` is what a request with `acceptLanguage` would be given: its most preferred range matches. */
export function languageSelected(acceptLanguage: string | undefined, contentLanguage: string | readonly string[] | undefined): boolean {
	if (acceptLanguage === undefined || contentLanguage === undefined) {
		return false;
	}

	const ranges = listMembers(acceptLanguage).map(member => weighted(member));
	const best = Math.max(0, ...ranges.map(range => range.q));
	if (best === 0) {
		return false;
	}

	const tags = listMembers(typeof contentLanguage === 'string' ? contentLanguage : contentLanguage.join(',')).map(tag => tag.toLowerCase());
	return ranges.some(range => range.q === best && tags.some(tag => rangeMatches(range.value, tag)));
}

/** A copy of request headers with the values of `names` normalised ({@link normalizeVaryValue}), for a variant's key. */
export function normalizeVaryHeaders(headers: Readonly<Record<string, string>>, names: readonly string[]): Record<string, string> {
	const normalized = {...headers};
	for (const name of names) {
		const value = normalizeVaryValue(name, headers[name]);
		if (value !== undefined) {
			normalized[name] = value;
		}
	}

	return normalized;
}
