import {conformance, memoryTarget} from './conformance.js';

conformance(memoryTarget);
