import type {PreparedRequest} from '../models/request.js';
import type {RedirectHop, Response, ResponseHeaders} from '../models/response.js';
import type {CachedEntry, ResponseFacts, StoredRequest} from './entry.js';
import {redactedJson, parseJson} from './json-body.js';
import {bodyType, isJsonType} from './keys.js';
import {parameterName} from './normalize-url.js';
import {type NameRules, REDACTED, nameRules} from './secret-names.js';

// `scheme://` (or a scheme-relative `//`, or the backslashes WHATWG reads as slashes) then userinfo up to the last `@` of the authority.
const userinfoRegex = /^((?:[A-Za-z][A-Za-z\d+.-]*:)?[\\/]{2})([^\\/?#]*)@/;

/** `name=value&…` with every redacted name's value replaced; undefined when nothing is secret. */
function redactPairs(text: string, redacted: (name: string) => boolean): string | undefined {
	let changed = false;
	const segments = text.split('&');
	for (let index = 0; index < segments.length; index++) {
		const segment = segments[index]!;
		if (segment !== '' && redacted(parameterName(segment))) {
			segments[index] = `${segment.split('=', 1)[0]!}=${REDACTED}`;
			changed = true;
		}
	}

	return changed ? segments.join('&') : undefined;
}

/** A URL or reference with its secrets redacted: userinfo, and redacted names' values in the query and the fragment. */
export function redactUrl(url: string, ignored: ReadonlySet<string>): string {
	return redactUrlBy(url, nameRules(ignored));
}

function redactUrlBy(url: string, {redacted}: NameRules): string {
	const hashAt = url.indexOf('#');
	const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt);
	const queryAt = beforeHash.indexOf('?');
	let head = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt);
	const query = queryAt === -1 ? undefined : beforeHash.slice(queryAt + 1);
	const fragment = hashAt === -1 ? undefined : url.slice(hashAt + 1);
	let changed = false;
	const userinfo = userinfoRegex.exec(head);
	if (userinfo !== null) {
		const hidden = userinfo[2]!.includes(':') ? `${REDACTED}:${REDACTED}` : REDACTED;
		head = `${userinfo[1]!}${hidden}@${head.slice(userinfo[0].length)}`;
		changed = true;
	}

	const newQuery = query === undefined ? undefined : redactPairs(query, redacted);
	const newFragment = fragment === undefined ? undefined : redactPairs(fragment, redacted);
	if (!changed && newQuery === undefined && newFragment === undefined) {
		return url;
	}

	return `${head}${query === undefined ? '' : `?${newQuery ?? query}`}${fragment === undefined ? '' : `#${newFragment ?? fragment}`}`;
}

function redactBody(request: PreparedRequest, redacted: (name: string) => boolean): string | null {
	const {body} = request;
	if (body === undefined || body.length === 0) {
		return null;
	}

	const type = bodyType(request);
	if (isJsonType(type)) {
		const tree = parseJson(body.toString('utf8'));
		try {
			return tree === undefined ? null : redactedJson(tree, redacted, REDACTED);
		} catch {
			// Nested too deep to walk.
			return null;
		}
	}

	if (type === 'application/x-www-form-urlencoded') {
		const text = body.toString('utf8');
		return redactPairs(text, redacted) ?? text;
	}

	// Opaque bodies may hold anything.
	return null;
}

/** The request as it is stored: secrets redacted in the URL, the headers and the body (opaque bodies dropped). */
export function redactRequest(request: PreparedRequest, ignored: ReadonlySet<string>): StoredRequest {
	return redactRequestBy(request, nameRules(ignored));
}

function redactRequestBy(request: PreparedRequest, rules: NameRules): StoredRequest {
	const {redacted} = rules;
	const headers: Record<string, string> = {};
	for (const name in request.headers) {
		headers[name] = redacted(name) ? REDACTED : request.headers[name]!;
	}

	return {method: request.method, url: redactUrlBy(request.url, rules), headers, body: redactBody(request, redacted)};
}

/** What {@link storableResponseHeaders} needs of the settings. */
export type ResponseHeaderSettings = {
	readonly ignoredParameters: ReadonlySet<string>;
	/** Keep `Set-Cookie` in stored responses (and so replay it to every caller). @default false */
	readonly storeCookies?: boolean;
};

const cookieHeaders = new Set(['set-cookie', 'set-cookie2']);
const urlHeaders = new Set(['location', 'content-location']);

/** Response headers as they may be stored: `Set-Cookie` dropped unless `storeCookies`, secrets redacted, in a new object. */
export function storableResponseHeaders(headers: Readonly<ResponseHeaders>, settings: ResponseHeaderSettings): ResponseHeaders {
	return redactHeadersBy(headers, nameRules(settings.ignoredParameters), settings.storeCookies === true);
}

function redactHeadersBy(headers: Readonly<ResponseHeaders>, rules: NameRules, keepCookies: boolean): ResponseHeaders {
	const stored: ResponseHeaders = {};
	for (const name in headers) {
		const value = headers[name]!;
		if (cookieHeaders.has(name)) {
			if (keepCookies) {
				stored[name] = Array.isArray(value) ? [...value] : value;
			}
		} else if (rules.redacted(name)) {
			stored[name] = Array.isArray(value) ? value.map(() => REDACTED) : REDACTED;
		} else if (urlHeaders.has(name)) {
			stored[name] = Array.isArray(value) ? value.map(item => redactUrlBy(item, rules)) : redactUrlBy(value, rules);
		} else {
			stored[name] = Array.isArray(value) ? [...value] : value;
		}
	}

	return stored;
}

/** What storing a response was decided with (`decideStore`, or a 304's renewal). */
type EntryDecision = {
	/** The headers worth storing, before redaction. */
	readonly headers: ResponseHeaders;
	readonly createdAt: number;
	readonly expires: number | null;
	readonly facts: ResponseFacts;
};

/** The entry to save for a response, every URL, header and body redacted in one pass over one set of name rules. */
export function storedEntryOf(
	request: PreparedRequest,
	response: Pick<Response, 'status' | 'reason' | 'url' | 'history' | 'body'>,
	decision: EntryDecision,
	settings: ResponseHeaderSettings,
): CachedEntry {
	const rules = nameRules(settings.ignoredParameters);
	const keepCookies = settings.storeCookies === true;
	const history = response.history.map((hop): RedirectHop => {
		const {location} = hop.headers;
		const headers = typeof location === 'string' ? {...hop.headers, location: new URL(location, hop.url).href} : hop.headers;
		return {status: hop.status, url: redactUrlBy(hop.url, rules), headers: redactHeadersBy(headers, rules, keepCookies)};
	});
	return {
		kind: 'response',
		status: response.status,
		reason: response.reason,
		headers: redactHeadersBy(decision.headers, rules, keepCookies),
		url: redactUrlBy(response.url, rules),
		history,
		request: redactRequestBy(request, rules),
		createdAt: decision.createdAt,
		expires: decision.expires,
		facts: decision.facts,
		body: response.body,
	};
}

/** A stored entry with a renewal applied (a 304's merged headers, redacted as stored headers are). */
export function renewedEntryOf(entry: CachedEntry, renewal: EntryDecision, settings: ResponseHeaderSettings): CachedEntry {
	const {headers, createdAt, expires, facts} = renewal;
	return {...entry, headers: storableResponseHeaders(headers, settings), createdAt, expires, facts};
}
