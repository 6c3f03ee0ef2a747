import {escapeControls} from './format.js';

/** A column of {@link formatTable}: its title, and `align: 'right'` for numbers. */
export type Column = {readonly title: string; readonly align?: 'right'};

/** Rows as a plain-text table, columns two spaces apart and padded to their widest cell; '' for no rows. */
export function formatTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
	if (rows.length === 0) {
		return '';
	}

	// Cells come from the store: control characters are shown escaped, never sent to the terminal.
	const safe = rows.map(row => row.map(cell => escapeControls(cell)));
	const widths = columns.map((column, index) => Math.max(column.title.length, ...safe.map(row => (row[index] ?? '').length)));
	// The padding after the last column is trimmed, so that a long URL there pushes nothing.
	const line = (cells: readonly string[]): string => columns.map((column, index) => {
		const cell = cells[index] ?? '';
		return column.align === 'right' ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!);
	}).join('  ').trimEnd();
	return [line(columns.map(column => column.title)), ...safe.map(row => line(row))].join('\n') + '\n';
}
