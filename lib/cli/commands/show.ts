import type {ResponseHeaders} from '../../models/response.js';
import {type Command, flag} from '../command.js';
import {CliError} from '../cli-error.js';
import {decodeBody, hexDump, mediaTypeOf} from '../body.js';
import {escapeControls, formatBytes, formatTime, jsonText} from '../format.js';
import {type Found, lookup} from '../lookup.js';
import {jsonRow} from './list.js';

function headerLines(headers: ResponseHeaders): string[] {
	const lines = Object.entries(headers).flatMap(([name, value]) => [value].flat().map(item => `  ${name}: ${item}`));
	return lines.length === 0 ? ['  (none)'] : lines;
}

/** One entry as text: its facts, request, response headers, and with `--body` the body. */
function describe({row, entry, via}: Found, withBody: boolean): string {
	const type = mediaTypeOf(entry.headers);
	const view = decodeBody(entry.body, type);
	const bodyKind = view.kind === 'text' ? `text, ${view.charset}` : `binary: ${view.reason}`;
	const lines = [
		`key       ${row.key}${via === 'key' ? '' : `  (found by ${via})`}`,
		`request   ${entry.request.method} ${entry.request.url}`,
		...(entry.history.length === 0 ? [] : [`redirects ${entry.history.map(hop => `${hop.status} ${hop.url}`).join(' -> ')} -> ${entry.url}`]),
		`status    ${entry.status} ${entry.reason}`.trimEnd(),
		`url       ${entry.url}`,
		`created   ${formatTime(entry.createdAt)}`,
		`expires   ${formatTime(entry.expires)} (${row.stale ? 'stale' : 'fresh'})`,
		`size      ${formatBytes(row.size)} body, ${formatBytes(row.storedBytes)} stored`,
		'',
		'request headers (as stored, secrets redacted)',
		...headerLines(entry.request.headers),
		...(entry.request.body === null ? [] : ['request body', `  ${entry.request.body}`]),
		'',
		'response headers',
		...headerLines(entry.headers),
		'',
	].map(line => escapeControls(line));
	if (!withBody) {
		lines.push(`body: ${formatBytes(row.size)}, ${type.raw || 'no content type'} (${bodyKind}); show it with --body`);
	} else if (view.kind === 'text') {
		lines.push(`body (${formatBytes(row.size)}, ${bodyKind})`, escapeControls(view.text, true));
	} else {
		lines.push(`body (${formatBytes(row.size)}, ${bodyKind}; first bytes in hex, all of them with --raw)`, hexDump(entry.body));
	}

	return `${lines.join('\n')}\n`;
}

function toJson({row, entry, via}: Found, withBody: boolean): Record<string, unknown> {
	const view = decodeBody(entry.body, mediaTypeOf(entry.headers));
	return {
		...jsonRow(row),
		foundBy: via,
		reason: entry.reason,
		history: entry.history,
		request: entry.request,
		headers: entry.headers,
		...(withBody ? {body: view.kind === 'text' ? {text: view.text, charset: view.charset} : {base64: entry.body.toString('base64'), binary: view.reason}} : {}),
	};
}

/** `requests-cache show`: one entry's facts and headers, and its body on request. */
export const showCommand: Command = {
	name: 'show',
	summary: 'show a stored response (by key or URL): facts, request and response headers, the body with --body',
	usage: '<cache> <key|url>',
	description: 'Show the responses stored under a cache key, or for a URL (looked up by the key a session with the default key settings builds, '
		+ 'and among the final URLs of stored responses, so that every Vary variant and redirect is found). '
		+ 'With --body, a body that decodes as its declared charset (UTF-8 when none is declared and the type is textual) is printed as text; '
		+ 'another body is shown as a hex dump of its first 256 bytes. Exits with 1 when nothing is stored for the key or URL.',
	options: {
		body: {type: 'boolean', short: 'b', description: 'show the body too'},
		raw: {type: 'boolean', description: 'write only the body\'s bytes, as stored (one entry)'},
		json: {type: 'boolean', description: 'JSON (with --body, the body as text or base64)'},
	},
	arguments: {min: 1, max: 1},
	examples: [
		'requests-cache show ./http_cache.sqlite 8b0f0ea8a1c4fd3c0c5b8ba2e3f5a1d7',
		'requests-cache show ./http_cache.sqlite \'https://api.example.com/items?page=2\' --body',
		'requests-cache show ./http_cache.sqlite https://example.com/logo.png --raw > logo.png',
	],
	async run({values, args, opened, now, output}) {
		const [argument = ''] = args;
		const found = await lookup(opened.store, argument, now);
		if (found.length === 0) {
			output.note(`nothing stored for ${JSON.stringify(argument)} in ${opened.description}`);
			return 1;
		}

		const withBody = flag(values, 'body');
		if (flag(values, 'raw')) {
			if (found.length > 1) {
				throw new CliError(`--raw writes one body, and ${found.length} entries match: give one of their keys (${found.map(item => item.row.key).join(', ')})`);
			}

			output.write(found[0]!.entry.body);
			return 0;
		}

		output.write(flag(values, 'json') ? jsonText(found.map(item => toJson(item, withBody))) : found.map(item => describe(item, withBody)).join('\n'));
		return 0;
	},
};
