import {createMemoryStore} from '../../lib/backends/memory.js';
import {storeConformance} from './store-conformance.js';

storeConformance({name: 'memory', shared: false, open: () => createMemoryStore()});
