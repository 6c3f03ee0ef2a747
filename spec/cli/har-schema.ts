/**
 * A structural check of a HAR 1.2 document (http://www.softwareishard.com/blog/har-12-spec/):
 * every required field present with its type, optional fields typed when present, dates in
 * ISO 8601, absolute URLs without fragments, `time` the sum of the timings, and no field outside
 * the spec except custom ones (which start with `_`). Returns the problems, as `path: what`.
 */

type Check = (value: unknown, path: string, problems: string[]) => void;
type Shape = Record<string, {check: Check; optional?: true}>;

const iso8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const string: Check = (value, path, problems) => {
	if (typeof value !== 'string') {
		problems.push(`${path}: must be a string, is ${JSON.stringify(value)}`);
	}
};

const number: Check = (value, path, problems) => {
	if (typeof value !== 'number' || !Number.isFinite(value)) {
		problems.push(`${path}: must be a number, is ${JSON.stringify(value)}`);
	}
};

/** A size or an optional timing: a number >= 0, or -1 for "unknown / does not apply". */
const sizeOrUnknown: Check = (value, path, problems) => {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < -1) {
		problems.push(`${path}: must be an integer >= -1, is ${JSON.stringify(value)}`);
	}
};

const nonNegative: Check = (value, path, problems) => {
	if (typeof value !== 'number' || !(value >= 0)) {
		problems.push(`${path}: must be a number >= 0, is ${JSON.stringify(value)}`);
	}
};

const boolean: Check = (value, path, problems) => {
	if (typeof value !== 'boolean') {
		problems.push(`${path}: must be a boolean, is ${JSON.stringify(value)}`);
	}
};

const date: Check = (value, path, problems) => {
	if (typeof value !== 'string' || !iso8601.test(value) || Number.isNaN(Date.parse(value))) {
		problems.push(`${path}: must be an ISO 8601 date with a time zone, is ${JSON.stringify(value)}`);
	}
};

const absoluteUrl: Check = (value, path, problems) => {
	if (typeof value !== 'string') {
		problems.push(`${path}: must be a string URL`);
		return;
	}

	try {
		const url = new URL(value);
		if (url.hash !== '') {
			problems.push(`${path}: must not have a fragment`);
		}
	} catch {
		problems.push(`${path}: must be an absolute URL, is ${JSON.stringify(value)}`);
	}
};

function object(shape: Shape): Check {
	return (value, path, problems) => {
		if (!isObject(value)) {
			problems.push(`${path}: must be an object`);
			return;
		}

		for (const [name, {check, optional}] of Object.entries(shape)) {
			if (value[name] === undefined) {
				if (optional !== true) {
					problems.push(`${path}.${name}: is required`);
				}
			} else {
				check(value[name], `${path}.${name}`, problems);
			}
		}

		for (const name of Object.keys(value)) {
			if (!(name in shape) && !name.startsWith('_')) {
				problems.push(`${path}.${name}: is not a HAR 1.2 field (custom fields start with _)`);
			}
		}
	};
}

function array(item: Check): Check {
	return (value, path, problems) => {
		if (!Array.isArray(value)) {
			problems.push(`${path}: must be an array`);
			return;
		}

		for (const [index, element] of value.entries()) {
			item(element, `${path}[${index}]`, problems);
		}
	};
}

const required = (check: Check): {check: Check} => ({check});
const optional = (check: Check): {check: Check; optional: true} => ({check, optional: true});
const comment = optional(string);

const nameValue = object({name: required(string), value: required(string), comment});
const cookie = object({
	name: required(string), value: required(string), path: optional(string), domain: optional(string),
	expires: optional(date), httpOnly: optional(boolean), secure: optional(boolean), comment,
});
const postData = object({
	mimeType: required(string),
	params: required(array(object({name: required(string), value: optional(string), fileName: optional(string), contentType: optional(string), comment}))),
	text: required(string),
	comment,
});
const request = object({
	method: required(string), url: required(absoluteUrl), httpVersion: required(string), cookies: required(array(cookie)),
	headers: required(array(nameValue)), queryString: required(array(nameValue)), postData: optional(postData),
	headersSize: required(sizeOrUnknown), bodySize: required(sizeOrUnknown), comment,
});
const content = object({
	size: required(nonNegative), compression: optional(number), mimeType: required(string), text: optional(string), encoding: optional(string), comment,
});
const response = object({
	status: required(number), statusText: required(string), httpVersion: required(string), cookies: required(array(cookie)),
	headers: required(array(nameValue)), content: required(content), redirectURL: required(string),
	headersSize: required(sizeOrUnknown), bodySize: required(sizeOrUnknown), comment,
});
const cacheState = object({expires: optional(date), lastAccess: required(date), eTag: required(string), hitCount: required(number), comment});
const cache = object({beforeRequest: optional(cacheState), afterRequest: optional(cacheState), comment});
const timings = object({
	blocked: optional(sizeOrUnknown), dns: optional(sizeOrUnknown), connect: optional(sizeOrUnknown),
	send: required(nonNegative), wait: required(nonNegative), receive: required(nonNegative), ssl: optional(sizeOrUnknown), comment,
});
const entryShape = object({
	pageref: optional(string), startedDateTime: required(date), time: required(nonNegative), request: required(request),
	response: required(response), cache: required(cache), timings: required(timings), serverIPAddress: optional(string),
	connection: optional(string), comment,
});

const entry: Check = (value, path, problems) => {
	entryShape(value, path, problems);
	if (!isObject(value) || !isObject(value['timings']) || typeof value['time'] !== 'number') {
		return;
	}

	// `time` is the sum of the timings that apply (those that are not -1).
	const sum = Object.entries(value['timings']).filter(([name, ms]) => name !== 'comment' && typeof ms === 'number' && ms !== -1).reduce((total, [, ms]) => total + (ms as number), 0);
	if (Math.abs(sum - value['time']) > 1e-6) {
		problems.push(`${path}.time: is ${value['time']}, the timings add up to ${sum}`);
	}

	const body = isObject(value['response']) && isObject(value['response']['content']) ? value['response']['content'] : undefined;
	if (body?.['encoding'] === 'base64' && typeof body['text'] === 'string' && !/^[A-Za-z\d+/]*={0,2}$/.test(body['text'])) {
		problems.push(`${path}.response.content.text: says base64 but is not`);
	}
};

const creator = object({name: required(string), version: required(string), comment});
const page = object({
	startedDateTime: required(date), id: required(string), title: required(string),
	pageTimings: required(object({onContentLoad: optional(number), onLoad: optional(number), comment})), comment,
});
const document = object({
	log: required(object({
		version: required(string), creator: required(creator), browser: optional(creator), pages: optional(array(page)),
		entries: required(array(entry)), comment,
	})),
});

/** The problems of a parsed HAR document; an empty list means it has the HAR 1.2 structure. */
export function harProblems(har: unknown): string[] {
	const problems: string[] = [];
	document(har, 'har', problems);
	if (isObject(har) && isObject(har['log']) && har['log']['version'] !== '1.2') {
		problems.push(`har.log.version: must be "1.2", is ${JSON.stringify(har['log']['version'])}`);
	}

	return problems;
}
