/** The method and absolute URL a `node:http` request call names. */
export type HttpTarget = {readonly method: string; readonly url: string};

function isOptions(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !(value instanceof URL);
}

function text(value: unknown): string | undefined {
	return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/**
 * Read the method and URL from the arguments of `http.request`/`http.get` (`(url, options?,
 * callback?)` or `(options, callback?)`) as Node resolves them, without making the request;
 * undefined when they do not name an http(s) URL.
 */
export function httpTarget(args: readonly unknown[], defaultProtocol: 'http:' | 'https:'): HttpTarget | undefined {
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
