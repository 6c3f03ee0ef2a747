import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {gzipSync} from 'node:zlib';

export type Handler = (request: IncomingMessage, response: ServerResponse, body: Buffer) => void | Promise<void>;

/** What the origin saw of one request. */
export type Seen = {method: string; path: string; headers: IncomingMessage['headers']; body: Buffer};

/**
 * A real HTTP origin on 127.0.0.1:0 that counts what reaches it. "Served from cache" in the specs
 * means `fromCache === true` and these counters did not move.
 */
export class Origin {
	readonly server: Server;
	readonly seen: Seen[] = [];
	private readonly routes = new Map<string, Handler>();
	private readonly counts = new Map<string, number>();
	url = '';

	constructor() {
		this.server = createServer((request, response) => {
			const chunks: Buffer[] = [];
			request.on('data', (chunk: Buffer) => chunks.push(chunk));
			request.on('end', () => {
				void this.handle(request, response, Buffer.concat(chunks));
			});
		});
		this.defaultRoutes();
	}

	static async start(): Promise<Origin> {
		const origin = new Origin();
		await new Promise<void>(resolve => {
			origin.server.listen(0, '127.0.0.1', resolve);
		});
		const {port} = origin.server.address() as AddressInfo;
		origin.url = `http://127.0.0.1:${port}`;
		return origin;
	}

	/** Requests that reached the origin, for one path (pathname only), or in all. */
	hits(path?: string): number {
		if (path === undefined) {
			return this.seen.length;
		}

		return this.counts.get(path) ?? 0;
	}

	/** Add or replace a route by pathname. */
	route(path: string, handler: Handler): void {
		this.routes.set(path, handler);
	}

	async close(): Promise<void> {
		this.server.closeAllConnections();
		await new Promise<void>(resolve => {
			this.server.close(() => {
				resolve();
			});
		});
	}

	private async handle(request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<void> {
		const url = new URL(request.url ?? '/', this.url);
		this.seen.push({method: request.method ?? 'GET', path: url.pathname + url.search, headers: request.headers, body});
		this.counts.set(url.pathname, (this.counts.get(url.pathname) ?? 0) + 1);
		const handler = this.routes.get(url.pathname) ?? this.routes.get(`/${url.pathname.split('/')[1] ?? ''}/*`);
		try {
			if (handler === undefined) {
				response.writeHead(404, {'content-type': 'text/plain'}).end('not found');
				return;
			}

			await handler(request, response, body);
		} catch (error) {
			response.writeHead(500).end(String(error));
		}
	}

	private defaultRoutes(): void {
		// A JSON document that says which request produced it, and the how-manieth hit it was.
		this.route('/json', (request, response, body) => {
			const url = new URL(request.url!, this.url);
			response.writeHead(200, {'content-type': 'application/json'});
			response.end(JSON.stringify({
				path: url.pathname, query: Object.fromEntries(url.searchParams), method: request.method,
				hit: this.hits('/json'), body: body.toString('utf8'),
			}));
		});
		this.route('/slow', async (request, response) => {
			const url = new URL(request.url!, this.url);
			const ms = Number(url.searchParams.get('ms') ?? 200);
			await new Promise(resolve => {
				setTimeout(resolve, ms);
			});
			response.writeHead(200, {'content-type': 'application/json'});
			response.end(JSON.stringify({slept: ms, hit: this.hits('/slow')}));
		});
		this.route('/status/*', (request, response) => {
			const code = Number(new URL(request.url!, this.url).pathname.split('/')[2]);
			response.writeHead(code, {'content-type': 'text/plain'}).end(`status ${code}`);
		});
		// /redirect/*?to=/json: 302 to `to`, or /redirect/N counting down to /json.
		this.route('/redirect/*', (request, response) => {
			const url = new URL(request.url!, this.url);
			const n = Number(url.pathname.split('/')[2]);
			const to = n > 1 ? `/redirect/${n - 1}` : (url.searchParams.get('to') ?? '/json');
			response.writeHead(302, {location: to}).end();
		});
		this.route('/bytes', (request, response) => {
			const n = Number(new URL(request.url!, this.url).searchParams.get('n') ?? 256);
			const bytes = Buffer.alloc(n);
			for (let index = 0; index < n; index++) {
				bytes[index] = (index * 7 + 3) % 256;
			}

			response.writeHead(200, {'content-type': 'application/octet-stream'}).end(bytes);
		});
		this.route('/gzip', (_request, response) => {
			response.writeHead(200, {'content-type': 'text/plain', 'content-encoding': 'gzip'}).end(gzipSync('hello gzip'));
		});
		// Cookies, as httpbin has them. /cookies (and any /cookies/<path> not below): the cookies the
		// request carried, as JSON. /cookies/set?name=value…: sets each as `name=value; Path=/`.
		// /cookies/raw?set=<Set-Cookie line>…: sends those lines as they are. Both answer with the
		// cookies received, or redirect to `next` when it is given (a cookie set on a redirect hop).
		const cookies = (request: IncomingMessage, response: ServerResponse, setCookie: string[], next: string | null): void => {
			if (next !== null) {
				response.writeHead(302, {location: next, 'set-cookie': setCookie}).end();
				return;
			}

			const received = Object.fromEntries((request.headers.cookie ?? '').split(';').map(pair => pair.trim()).filter(Boolean)
				.map(pair => [pair.slice(0, Math.max(0, pair.indexOf('='))), pair.slice(pair.indexOf('=') + 1)]));
			response.writeHead(200, {'content-type': 'application/json', 'set-cookie': setCookie});
			response.end(JSON.stringify({cookies: received, header: request.headers.cookie ?? null, hit: this.hits(new URL(request.url!, this.url).pathname)}));
		};

		this.route('/cookies', (request, response) => {
			cookies(request, response, [], null);
		});
		this.route('/cookies/*', (request, response) => {
			const url = new URL(request.url!, this.url);
			const next = url.searchParams.get('next');
			if (url.pathname === '/cookies/set') {
				const pairs = [...url.searchParams].filter(([name]) => name !== 'next');
				cookies(request, response, pairs.map(([name, value]) => `${name}=${value}; Path=/`), next);
			} else if (url.pathname === '/cookies/raw') {
				cookies(request, response, url.searchParams.getAll('set'), next);
			} else {
				cookies(request, response, [], null);
			}
		});
		this.route('/echo', (request, response, body) => {
			response.writeHead(200, {'content-type': 'application/json'});
			response.end(JSON.stringify({method: request.method, headers: request.headers, body: body.toString('utf8'), hit: this.hits('/echo')}));
		});
	}
}
