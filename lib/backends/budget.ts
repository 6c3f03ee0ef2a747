import {optionRangeError, optionTypeError} from '../errors.js';
import type {StoreBudget} from './store.js';

/** The options that make a store's budget (see {@link StoreBudget}). */
export type BudgetOptions = {
	/** Most records kept (a response, a redirect alias and a Vary index count one each), least recently used evicted first. @default undefined (no limit) */
	maxEntries?: number | undefined;
	/** Most bytes of stored values kept (each a body plus a head of some hundred bytes), least recently used evicted first. @default undefined (no limit) */
	maxBytes?: number | undefined;
};

/** The names of {@link BudgetOptions}, for the option checks of stores and sessions. */
export const BUDGET_OPTION_NAMES: readonly ['maxEntries', 'maxBytes'] = Object.freeze(['maxEntries', 'maxBytes'] as const);

/** One limit: undefined (no limit) or a safe integer >= 1; throws an error naming the option. */
export function budgetLimit(owner: string, name: string, value: unknown): number | undefined {
	if (value === undefined) {
		return undefined;
	}

	if (typeof value !== 'number' || Number.isNaN(value)) {
		throw optionTypeError(owner, name, name.endsWith('maxEntries') ? 'a number of records' : 'a number of bytes', value);
	}

	if (!Number.isSafeInteger(value) || value < 1) {
		throw optionRangeError(owner, name, 'an integer >= 1 (leave it out for no limit)', value);
	}

	return value;
}

/** The budget these options ask for, frozen, or undefined when they set no limit. */
export function normalizeBudget(owner: string, options: BudgetOptions): StoreBudget | undefined {
	const maxEntries = budgetLimit(owner, 'maxEntries', options.maxEntries);
	const maxBytes = budgetLimit(owner, 'maxBytes', options.maxBytes);
	if (maxEntries === undefined && maxBytes === undefined) {
		return undefined;
	}

	return Object.freeze({maxEntries, maxBytes});
}

/** True when `entries` records of `bytes` value bytes in all are over `budget`. */
export function overBudget(budget: StoreBudget, entries: number, bytes: number): boolean {
	return (budget.maxEntries !== undefined && entries > budget.maxEntries)
		|| (budget.maxBytes !== undefined && bytes > budget.maxBytes);
}
