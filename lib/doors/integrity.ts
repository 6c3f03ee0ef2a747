import {createHash} from 'node:crypto';

// The hash algorithms Subresource Integrity names, weakest first (W3C SRI §3.3.3).
const algorithms = ['sha256', 'sha384', 'sha512'] as const;

/** Whether `body` matches a fetch `integrity` value: one hash of the strongest known algorithm (W3C SRI §3.3.5). */
function matchesIntegrity(body: Uint8Array, integrity: string): boolean {
	const wanted = new Map<string, string[]>();
	for (const token of integrity.split(/\s+/)) {
		const match = /^(sha256|sha384|sha512)-([A-Za-z\d+/=_-]+)(\?.*)?$/.exec(token);
		if (match !== null) {
			wanted.set(match[1]!, [...wanted.get(match[1]!) ?? [], match[2]!]);
		}
	}

	const strongest = algorithms.findLast(algorithm => wanted.has(algorithm));
	if (strongest === undefined) {
		return true;
	}

	const digest = createHash(strongest).update(body).digest();
	// Either base64 alphabet, padded or not (undici accepts the URL-safe one as well).
	const canonical = (value: string): string => value.replaceAll('-', '+').replaceAll('_', '/').replace(/=+$/, '');
	const actual = canonical(digest.toString('base64'));
	return wanted.get(strongest)!.some(expected => canonical(expected) === actual);
}

/** The answer once its body has been read whole and checked, as fetch does before it resolves. */
export async function checkedAnswer(answer: Response, integrity: string): Promise<Response> {
	// The copy is read now; the answer keeps the same bytes for its caller.
	const body = new Uint8Array(await answer.clone().arrayBuffer());
	if (!matchesIntegrity(body, integrity)) {
		await answer.body?.cancel().catch(() => undefined);
		throw new TypeError('fetch failed', {cause: new Error('integrity mismatch')});
	}

	return answer;
}
