import {MemoryStore} from '../../lib/backends/memory.js';
import {storeBudgetConformance} from './store-budget.js';

storeBudgetConformance({name: 'memory', shared: false, open: (_name, budget) => new MemoryStore(budget)});
