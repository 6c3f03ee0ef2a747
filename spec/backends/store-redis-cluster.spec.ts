import {redisClusterStoreTarget} from '../support/store-targets.js';
import {storeConformance} from './store-conformance.js';

storeConformance(redisClusterStoreTarget());
