/** The options of the SQLite store (lib/backends/sqlite.ts) and their checks, run when the store is built. */
import {assertKnownOptions, optionRangeError, optionTypeError} from '../errors.js';
import {BUDGET_OPTION_NAMES, type BudgetOptions, normalizeBudget} from './budget.js';
import type {StoreBudget} from './store.js';

/** Options of the SQLite backend. */
export type SqliteStoreOptions = BudgetOptions & {
	/** Milliseconds a writer waits for another connection's write lock before failing. @default 10000 */
	busyTimeout?: number;
	/** Bytes of recently read records kept in this process, as current as the file; 0 for none. @default 33554432 (32 MiB) */
	hotCacheBytes?: number;
	/** A file that is not a database or is malformed: `'fail'` leaves it, `'rename'` moves it aside and starts anew. @default 'fail' */
	onCorrupt?: 'fail' | 'rename';
	/** Only read (the CLI's reading commands): the file must exist; nothing is created or written, even beside it. @default false */
	readOnly?: boolean;
};

const knownOptions: ReadonlySet<string> = new Set(['busyTimeout', 'hotCacheBytes', 'onCorrupt', 'readOnly', ...BUDGET_OPTION_NAMES]);
const owner = 'SqliteStore';

/** Validated options, the budget apart (undefined for none). */
export type Settings = Required<Pick<SqliteStoreOptions, 'busyTimeout' | 'hotCacheBytes' | 'onCorrupt' | 'readOnly'>> & {budget: StoreBudget | undefined};

/** Check every option, throwing a TypeError or RangeError that names a wrong one. */
export function normalizeOptions(options: SqliteStoreOptions): Settings {
	if (typeof options !== 'object' || options === null) {
		throw optionTypeError(owner, 'options', 'an object', options);
	}

	assertKnownOptions(owner, options, knownOptions);
	const {busyTimeout = 10_000, hotCacheBytes = 32 * 1024 * 1024, onCorrupt = 'fail', readOnly = false} = options;
	if (typeof busyTimeout !== 'number') {
		throw optionTypeError(owner, 'busyTimeout', 'a number of milliseconds', busyTimeout);
	}

	if (!Number.isInteger(busyTimeout) || busyTimeout < 0 || busyTimeout > 0x7F_FF_FF_FF) {
		throw optionRangeError(owner, 'busyTimeout', 'an integer from 0 to 2147483647', busyTimeout);
	}

	if (typeof hotCacheBytes !== 'number') {
		throw optionTypeError(owner, 'hotCacheBytes', 'a number of bytes', hotCacheBytes);
	}

	if (!Number.isSafeInteger(hotCacheBytes) || hotCacheBytes < 0) {
		throw optionRangeError(owner, 'hotCacheBytes', 'an integer >= 0', hotCacheBytes);
	}

	if (onCorrupt !== 'fail' && onCorrupt !== 'rename') {
		throw optionTypeError(owner, 'onCorrupt', '\'fail\' or \'rename\'', onCorrupt);
	}

	if (typeof readOnly !== 'boolean') {
		throw optionTypeError(owner, 'readOnly', 'true or false', readOnly);
	}

	const budget = normalizeBudget(owner, options);
	// Both would write: moving a bad file aside, and counting uses for eviction.
	if (readOnly && (onCorrupt === 'rename' || budget !== undefined)) {
		throw new TypeError(`${owner} option \`readOnly\` cannot be given with ${onCorrupt === 'rename' ? '`onCorrupt: \'rename\'`' : 'a budget (`maxEntries`, `maxBytes`)'}: a read-only store writes nothing`);
	}

	return {busyTimeout, hotCacheBytes, onCorrupt, readOnly, budget};
}
