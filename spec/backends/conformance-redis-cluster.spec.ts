import {conformance, redisClusterTarget} from './conformance.js';

conformance(redisClusterTarget);
