import {type Command, flag} from '../command.js';

/** `requests-cache clear-expired`: what `removeExpiredResponses()` does, from the shell. */
export const clearExpiredCommand: Command = {
	name: 'clear-expired',
	writes: true,
	summary: 'delete every expired entry (and unreadable ones); prints how many went',
	usage: '<cache>',
	description: 'Delete the entries whose expiry has passed, as session.cache.removeExpiredResponses() does: '
		+ 'expired responses, the redirect aliases and Vary indexes that expired with them, and entries that do not decode. '
		+ 'Note that a session can still revalidate an expired entry that has a validator (ETag, Last-Modified); clearing it gives that up.',
	options: {
		json: {type: 'boolean', description: 'print {"deleted": n}'},
	},
	arguments: {min: 0, max: 0},
	examples: [
		'requests-cache clear-expired ./http_cache.sqlite',
		'requests-cache clear-expired \'mongodb://127.0.0.1:27017/?cacheName=api_cache\'',
	],
	async run({values, opened, output}) {
		const deleted = await opened.cache.removeExpiredResponses();
		output.write(flag(values, 'json') ? `${JSON.stringify({deleted})}\n` : `deleted ${deleted} expired ${deleted === 1 ? 'entry' : 'entries'} from ${opened.description}\n`);
		return 0;
	},
};
