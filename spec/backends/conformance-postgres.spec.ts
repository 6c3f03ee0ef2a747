import {conformance, postgresTarget} from './conformance.js';

conformance(postgresTarget);
