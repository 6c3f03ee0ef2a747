import {type Command, flag, stringOption, stringsOption} from '../command.js';
import {CliError} from '../cli-error.js';
import {parseAge} from '../duration.js';
import {parseFilter, urlMatches, walkMatching} from '../filters.js';

/** `requests-cache delete`: entries by URL glob, age or key. */
export const deleteCommand: Command = {
	name: 'delete',
	writes: true,
	summary: 'delete entries by URL glob, age or key; prints how many went',
	usage: '<cache>',
	description: 'Delete the entries that match any of the criteria, with the redirect aliases that point at them '
		+ '(and the Vary indexes of URLs that match --url). The count printed includes those aliases and indexes. '
		+ 'Run `list` with the same --url first to see what would go.',
	options: {
		url: {type: 'string', placeholder: '<glob>', description: 'responses whose requested or final URL matches the glob (see `list --help`)'},
		'older-than': {type: 'string', placeholder: '<age>', description: 'entries stored longer ago than an age: 7d, 12h, 30m, 45s, 2w, 1d12h'},
		key: {type: 'string', multiple: true, placeholder: '<key>', description: 'the entry stored under a cache key'},
		json: {type: 'boolean', description: 'print {"deleted": n}'},
	},
	arguments: {min: 0, max: 0},
	examples: [
		'requests-cache delete ./http_cache.sqlite --older-than 7d',
		'requests-cache delete ./http_cache.sqlite --url \'api.example.com/v1/users*\'',
		'requests-cache delete \'redis://127.0.0.1:6379/0?cacheName=api_cache\' --key 8b0f0ea8a1c4fd3c0c5b8ba2e3f5a1d7',
	],
	async run({values, opened, now, output}) {
		const glob = stringOption(values, 'url');
		const olderThan = stringOption(values, 'older-than');
		const keys = new Set(stringsOption(values, 'key'));
		if (glob === undefined && olderThan === undefined && keys.size === 0) {
			throw new CliError('delete needs --url <glob>, --older-than <age> or --key <key> (to remove expired entries: clear-expired)');
		}

		const {url} = parseFilter({url: glob});
		const ageMs = olderThan === undefined ? undefined : parseAge(olderThan, '--older-than');
		if (url !== undefined) {
			const tally = await walkMatching(opened.store, {url}, now, row => keys.add(row.key));
			if (tally.variantIndexes > 0) {
				// A Vary index whose variants all go would only lead to misses: it goes with them.
				for await (const batch of opened.store.scan()) {
					for (const {key} of batch.filter(meta => meta.kind === 'variants' && urlMatches(url.regex, meta.url))) {
						keys.add(key);
					}
				}
			}
		}

		const deleted = await opened.cache.delete({
			...(keys.size > 0 ? {keys: [...keys]} : {}),
			...(ageMs === undefined ? {} : {olderThan: new Date(now - ageMs)}),
		});
		output.write(flag(values, 'json') ? `${JSON.stringify({deleted})}\n` : `deleted ${deleted} ${deleted === 1 ? 'entry' : 'entries'} from ${opened.description}\n`);
		return 0;
	},
};
