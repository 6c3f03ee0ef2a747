import {conformance, sqliteTarget} from './conformance.js';

conformance(sqliteTarget);
