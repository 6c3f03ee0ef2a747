import {CacheMixin} from './cache-mixin.js';
import {Session} from './session.js';

/**
 * A {@link Session} with a persistent cache: `CacheMixin(Session)` as a named class.
 *
 * @example
 * const session = new CachedSession({cacheName: 'demo_cache', expireAfter: {hours: 1}});
 * const response = await session.get('https://api.example.com/slow');
 * console.log(response.fromCache); // false the first time, true after
 */
export class CachedSession extends CacheMixin(Session) {}
