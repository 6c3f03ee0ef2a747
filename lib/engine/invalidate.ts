import {prepareIdentity, requestKey} from '../codec/keys.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response} from '../models/response.js';
import {planRequest} from '../policy/actions.js';
import {decideInvalidation} from '../policy/invalidation.js';
import {type EngineContext, type EngineOptions, type Send, transportOptions} from './context.js';
import type {ResponseWriter} from './store-response.js';

/** Send an unsafe request and delete what its answer invalidates (lib/policy/invalidation.ts); maybe store it as its URL's GET. */
export async function sendAndInvalidate(context: EngineContext, writer: ResponseWriter, request: PreparedRequest, options: EngineOptions, send: Send): Promise<Response> {
	const {settings, storage} = context;
	const response = await send(request, transportOptions(options));
	const invalidation = decideInvalidation(request, response, settings);
	if (invalidation.urls.length > 0) {
		// The keys of a request with a password need it stretched: off this thread, as for lookups.
		await prepareIdentity(request, settings);
		const keys = invalidation.urls.flatMap(url => ['GET', 'HEAD'].flatMap(method => {
			const key = requestKey({method, url, headers: request.headers, body: undefined, tlsIdentity: request.tlsIdentity}, settings, true, 'known');
			return key === undefined ? [] : [key, `${key}-manual`];
		}));
		await storage.forget(keys);
	}

	if (invalidation.groups.length > 0) {
		await storage.invalidateGroups(new URL(request.url).origin, invalidation.groups);
	}

	if (invalidation.storeAsGet) {
		const get: PreparedRequest = {method: 'GET', url: request.url, headers: request.headers, body: undefined, tlsIdentity: request.tlsIdentity};
		const plan = planRequest(get, {}, settings);
		if (plan.kind === 'lookup') {
			const key = requestKey(get, settings, options.followRedirects, 'known');
			return key === undefined ? response : writer.store(plan, key, get, response);
		}
	}

	return response;
}
