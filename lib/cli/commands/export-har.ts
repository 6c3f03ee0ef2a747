import {open, rename, rm} from 'node:fs/promises';
import path from 'node:path';
import {type Command} from '../command.js';
import {CliError, reasonOf} from '../cli-error.js';
import {type EntryRow, responseOf, rowOf} from '../entries.js';
import {FILTER_OPTIONS, parseFilter, walkMatching} from '../filters.js';
import {harEntries, harLogHead} from '../har.js';

/** `requests-cache export-har`: the stored responses as a HAR 1.2 file. */
export const exportHarCommand: Command = {
	name: 'export-har',
	summary: 'export stored responses as a HAR 1.2 file (browser devtools, HAR viewers)',
	usage: '<cache> <file.har>',
	description: 'Write the stored responses (those the filters keep) as a HAR 1.2 log, ordered by the time they were stored, '
		+ 'for browser devtools (Network panel: import HAR) and HAR viewers. A redirected response adds one entry per redirect hop. '
		+ 'Bodies that decode as their declared charset are text, others base64 (content.encoding). '
		+ 'A cache keeps no timings: each entry starts when it was stored and takes 0 ms. '
		+ 'Request headers and bodies are the stored ones, with secrets redacted. '
		+ 'The file is written whole or not at all; `-` writes to stdout.',
	options: FILTER_OPTIONS,
	arguments: {min: 1, max: 1},
	examples: [
		'requests-cache export-har ./http_cache.sqlite cache.har',
		'requests-cache export-har ./http_cache.sqlite api.har --url \'api.example.com/*\' --fresh',
		'requests-cache export-har \'redis://127.0.0.1:6379/0?cacheName=api_cache\' - | jq \'.log.entries | length\'',
	],
	async run({values, args, opened, now, output}) {
		const [file = ''] = args;
		// The matching keys in time order first (facts only), then each entry read again as it is written.
		const selected: Array<Pick<EntryRow, 'key' | 'createdAt'>> = [];
		await walkMatching(opened.store, parseFilter(values), now, ({key, createdAt}) => selected.push({key, createdAt}));
		selected.sort((a, b) => a.createdAt - b.createdAt || a.key.localeCompare(b.key));

		const toStdout = file === '-';
		const target = path.resolve(file);
		const temporary = `${target}.${process.pid}.tmp`;
		let handle = toStdout ? undefined : await open(temporary, 'w').catch((error: unknown) => {
			throw new CliError(`cannot write ${target}: ${reasonOf(error)}`);
		});

		const write = async (text: string): Promise<unknown> => (handle === undefined ? output.write(text) : handle.write(text));
		let count = 0;
		try {
			const head = JSON.stringify({log: harLogHead(opened.description)}, null, 2);
			// The head without its two closing braces, then the entries array, written one entry at a time.
			await write(`${head.slice(0, head.lastIndexOf('}', head.length - 2)).trimEnd()},\n    "entries": [`);
			for (const {key} of selected) {
				// eslint-disable-next-line no-await-in-loop -- one entry in memory at a time, in order
				const record = await opened.store.get(key);
				const entry = record === undefined ? undefined : responseOf(record.value);
				if (entry === undefined) {
					continue; // Deleted or replaced since the listing.
				}

				for (const har of harEntries(rowOf(key, entry, record!.value.byteLength, now), entry)) {
					await write(`${count === 0 ? '' : ','}\n      ${JSON.stringify(har, null, 2).replaceAll('\n', '\n      ')}`);
					count++;
				}
			}

			await write(`${count === 0 ? '' : '\n    '}]\n  }\n}\n`);
			if (handle !== undefined) {
				await handle.close();
				handle = undefined;
				await rename(temporary, target);
			}
		} catch (error) {
			await handle?.close();
			if (!toStdout) {
				await rm(temporary, {force: true});
			}

			throw new CliError(`cannot export to ${toStdout ? 'stdout' : target}: ${reasonOf(error)}`);
		}

		if (!toStdout) {
			output.write(`wrote ${count} HAR ${count === 1 ? 'entry' : 'entries'} (${selected.length} stored ${selected.length === 1 ? 'response' : 'responses'}) to ${target}\n`);
		}

		return 0;
	},
};
