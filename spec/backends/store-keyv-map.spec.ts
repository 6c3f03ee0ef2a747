import {keyvMapStoreTarget} from '../support/store-targets.js';
import {storeConformance} from './store-conformance.js';

storeConformance(keyvMapStoreTarget());
