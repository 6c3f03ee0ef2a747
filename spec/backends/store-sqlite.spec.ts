import {sqliteStoreTarget} from '../support/sqlite-files.js';
import {storeConformance} from './store-conformance.js';

storeConformance(sqliteStoreTarget());
