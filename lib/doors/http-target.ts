function isOptions(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !(value instanceof URL);
}

function text(value: unknown): string | undefined {
	return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** The method and URL the arguments of `http.request`/`http.get` name, as Node resolves them; undefined when not http(s). */
export function httpTarget(args: readonly unknown[], defaultProtocol: 'http:' | 'https:'): {method: string; url: string} | undefined {
	const [first, second] = args;
	let base: URL | undefined;
	let options: Record<string, unknown> | undefined;
	try {
		if (typeof first === 'string' || first instanceof URL) {
			base = new URL(String(first));
			options = isOptions(second) ? second : undefined;
		} else if (isOptions(first)) {
			options = first;
		} else {
			return undefined;
		}

		const method = (text(options?.['method']) ?? 'GET').toUpperCase();
		if (options === undefined) {
			return base!.protocol === 'http:' || base!.protocol === 'https:' ? {method, url: base!.href} : undefined;
		}

		const protocol = text(options['protocol']) ?? base?.protocol ?? defaultProtocol;
		let hostname = text(options['hostname']) ?? text(options['host']) ?? base?.hostname ?? 'localhost';
		if (hostname.includes(':') && !hostname.startsWith('[')) {
			hostname = `[${hostname}]`;
		}

		const port = text(options['port']) ?? (options['hostname'] === undefined && options['host'] === undefined ? base?.port : undefined) ?? text(options['defaultPort']) ?? '';
		const path = text(options['path']) ?? (base ? `${base.pathname}${base.search}` : '/');
		const url = new URL(`${protocol}//${hostname}${port === '' ? '' : `:${port}`}${path.startsWith('/') ? path : `/${path}`}`);
		return url.protocol === 'http:' || url.protocol === 'https:' ? {method, url: url.href} : undefined;
	} catch {
		return undefined;
	}
}
