import {Buffer} from 'node:buffer';
import {CachedSession, type CacheOptions, type Response} from '../../lib/index.js';
import type {Origin} from '../support/origin.js';

const day = 86_400_000;

/** windows-1252 bytes of "café": garbled if decoded as UTF-8. */
export const cafeBytes = Buffer.from([0x63, 0x61, 0x66, 0xE9]);

/** The responses a {@link fillCache} stored, by what they are. */
export type Filled = {
	/** Stored 10 days ago, expired 10 minutes ago: stale, and still kept by stores with native expiry (`deleteAt` is an hour after expiry). */
	oldJson: Response;
	oldNotFound: Response;
	/** Stored now with a 1-day expiry: fresh. */
	json: Response;
	/** /redirect/2 → /redirect/1 → /json: one response and two redirect aliases. */
	redirected: Response;
	/** 300 bytes of application/octet-stream. */
	bytes: Response;
	/** windows-1252 text with two Set-Cookie headers (stored: `storeCookies`), requested with a Cookie (so keyed by that credential). */
	cafe: Response;
	/** A POST with a form body. */
	post: Response;
	/** Every stored response. */
	all: Response[];
};

/** Add the routes the CLI specs need to an origin. */
export function addRoutes(origin: Origin): void {
	origin.route('/cafe', (_request, response) => {
		response.writeHead(200, {'content-type': 'text/plain; charset=windows-1252', 'set-cookie': ['sid=abc; Path=/; HttpOnly', 'theme=dark; Max-Age=3600']});
		response.end(cafeBytes);
	});
}

/**
 * Fill a cache through real sessions against the real origin: two responses stored 10 days ago
 * that expired 10 minutes ago, and five fresh ones (JSON, a redirect chain, binary bytes,
 * windows-1252 text with cookies, a POST with a form body).
 */
export async function fillCache(origin: Origin, options: CacheOptions): Promise<Filled> {
	const old = new CachedSession({...options, expireAfter: (10 * 86_400) - 600, allowableCodes: [200, 404], clock: () => Date.now() - (10 * day)});
	const oldJson = await old.get(`${origin.url}/json?old=1`);
	const oldNotFound = await old.get(`${origin.url}/status/404`);
	await old.close();

	// storeCookies: the Set-Cookie headers are stored (off by default), so that show and the HAR export have cookies to list.
	const session = new CachedSession({...options, expireAfter: {days: 1}, allowableMethods: ['GET', 'POST'], storeCookies: true});
	const json = await session.get(`${origin.url}/json?a=1&api_key=secret`);
	const redirected = await session.get(`${origin.url}/redirect/2`);
	const bytes = await session.get(`${origin.url}/bytes?n=300`);
	const cafe = await session.get(`${origin.url}/cafe`, {headers: {cookie: 'a=1; b=2'}});
	const post = await session.post(`${origin.url}/echo`, {form: {a: '1', b: 'x y'}});
	await session.close();
	return {oldJson, oldNotFound, json, redirected, bytes, cafe, post, all: [oldJson, oldNotFound, json, redirected, bytes, cafe, post]};
}
