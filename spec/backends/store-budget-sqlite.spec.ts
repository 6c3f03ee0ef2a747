import path from 'node:path';
import {SqliteStore} from '../../lib/backends/sqlite.js';
import {removeDir, tempDir} from '../support/temp-dir.js';
import {storeBudgetConformance} from './store-budget.js';

const dir = tempDir('store-budget-sqlite');
storeBudgetConformance({
	name: 'sqlite',
	shared: true,
	open: (name, budget) => new SqliteStore(path.join(dir, name), budget),
	async teardown() {
		removeDir(dir);
	},
});
