import {escapeControls} from './format.js';

/** A column of {@link formatTable}: its title and how its cells line up. */
export type Column = {
	readonly title: string;
	/** Numbers line up on the right. @default 'left' */
	readonly align?: 'left' | 'right';
};

/**
 * Rows as an aligned plain-text table: a header line, then one line per row, columns separated by
 * two spaces and padded to their widest cell; the last column is not padded, so a long URL there
 * does not push anything. Returns '' for no rows.
 */
export function formatTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
	if (rows.length === 0) {
		return '';
	}

	// Cells come from the store: control characters are shown escaped, never sent to the terminal.
	const safe = rows.map(row => row.map(cell => escapeControls(cell)));
	const widths = columns.map((column, index) => Math.max(column.title.length, ...safe.map(row => (row[index] ?? '').length)));
	const line = (cells: readonly string[]): string => columns.map((column, index) => {
		const cell = cells[index] ?? '';
		if (index === columns.length - 1 && column.align !== 'right') {
			return cell;
		}

		return column.align === 'right' ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!);
	}).join('  ').trimEnd();
	return [line(columns.map(column => column.title)), ...safe.map(row => line(row))].join('\n') + '\n';
}
