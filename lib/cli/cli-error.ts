/** An error the inspector reports as one line on stderr, without a stack, with exit code 2. */
export class CliError extends Error {
	override name = 'CliError';
}

/** The message of an error and of its causes, joined, for one line on stderr. */
export function reasonOf(error: unknown): string {
	const parts: string[] = [];
	let current: unknown = error;
	for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
		const message = current instanceof Error ? current.message : String(current);
		const code = (current as {code?: unknown}).code;
		const part = typeof code === 'string' && /^E[A-Z]+$/.test(code) && !message.includes(code) ? `${code}: ${message}` : message;
		if (part !== '' && !parts.some(seen => seen.includes(part))) {
			parts.push(part);
		}

		// AggregateError (a refused connection on IPv4 and IPv6) carries its reasons in `errors`.
		const nested = (current as {errors?: unknown}).errors;
		current = current instanceof Error && current.cause !== undefined ? current.cause : (Array.isArray(nested) ? nested[0] : undefined);
	}

	return parts.join(': ');
}
