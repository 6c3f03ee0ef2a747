import type {OptionSpec, OptionValues} from '../command.js';
import {stringOption, stringsOption, flag} from '../command.js';
import {type EntryFilter, parseFilter} from '../filters.js';

/** The entry filters shared by `list` and `export-har`. */
export const FILTER_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
	url: {type: 'string', placeholder: '<glob>', description: 'URLs matching a glob (as urlsExpireAfter patterns: no scheme, * matches anything, a pattern matches what is below it); the requested or the final URL'},
	status: {type: 'string', multiple: true, placeholder: '<codes>', description: 'status codes or classes: 200, 404, 2xx, comma-separated'},
	fresh: {type: 'boolean', description: 'only entries that have not expired'},
	stale: {type: 'boolean', description: 'only expired entries'},
});

/** The filter the shared options describe. */
export function filterOf(values: OptionValues): EntryFilter {
	return parseFilter({url: stringOption(values, 'url'), status: stringsOption(values, 'status'), fresh: flag(values, 'fresh'), stale: flag(values, 'stale')});
}
