import {conformance, mongoTarget} from './conformance.js';

conformance(mongoTarget);
