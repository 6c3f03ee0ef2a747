import {conformance, redisTarget} from './conformance.js';

conformance(redisTarget);
