import {mysqlStoreTarget} from '../support/store-targets.js';
import {storeConformance} from './store-conformance.js';

storeConformance(mysqlStoreTarget());
