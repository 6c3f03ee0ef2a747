import {conformance, mysqlTarget} from './conformance.js';

conformance(mysqlTarget);
