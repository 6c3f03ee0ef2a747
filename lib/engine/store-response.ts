import {hopAddsIdentity, ownerOf, requestKey, variantNames} from '../codec/keys.js';
import {redactUrl, storedEntryOf} from '../codec/redact.js';
import {publish, wanted} from '../diagnostics.js';
import type {PreparedRequest} from '../models/request.js';
import {Response, withCacheFacts} from '../models/response.js';
import type {StreamingBody} from '../models/streaming-body.js';
import {type Lookup, type Requester, decideStore, decideStoreHead} from '../policy/actions.js';
import type {EngineContext} from './context.js';

/** Storing a response from the origin: the policy decides, the codec builds the redacted entry, the storage saves it. */
export class ResponseWriter {
	/** Keys whose body is arriving or being saved: a lookup of one waits for it (read by the request path). */
	readonly saving = new Map<string, Promise<void>>();
	readonly #context: EngineContext;
	/** Bodies still arriving that will be stored once whole: `close()` gives up on them. */
	readonly #collecting = new Set<StreamingBody>();
	/** Whether the store took each response `store` handled (`false`: the write failed), for `Cache-Status`. */
	readonly #stored = new WeakMap<Response, boolean>();

	constructor(context: EngineContext) {
		this.#context = context;
	}

	/** Whether the store took `response` (undefined: it was not offered). */
	storedOf(response: Response): boolean | undefined {
		return this.#stored.get(response);
	}

	/** Give up on the bodies still arriving: they are not stored. */
	stopCollecting(): void {
		for (const body of this.#collecting) {
			body.stopCollecting();
		}
	}

	/** Store a response from the origin if the policy allows it; returns it with its cache facts. */
	async store(plan: Lookup, key: string, request: PreparedRequest, response: Response): Promise<Response> {
		if (response.streaming !== undefined) {
			return this.#storeWhenWhole(plan, key, request, response, response.streaming);
		}

		const {settings, storage} = this.#context;
		const now = settings.clock();
		const decision = decideStore(plan, response, settings, now, this.#requester(request, response));
		if (decision.kind === 'skip' || (settings.filterFn !== undefined && !settings.filterFn(response))) {
			return this.#skipped(request, key, response, now, decision.kind === 'skip' ? decision.reason : undefined);
		}

		const names = variantNames(decision.vary, decision.facts.owner);
		const variantKey = names.length === 0 ? undefined : this.#context.variantKey(request)(key, names);
		if (names.length > 0 && variantKey === undefined) {
			return this.#skipped(request, key, response, now, 'the variant\'s identity cannot be derived now');
		}

		const entry = storedEntryOf(request, response, decision, settings);
		const variant = variantKey === undefined ? undefined : {key: variantKey, names};
		const saved = await storage.save(key, entry, decision.deleteAt, this.#aliases(request, response), variant);
		if (saved) {
			this.#context.observe('stored', request, key, performance.now(), {status: response.status, bytes: response.body.length});
		}

		const answer = withCacheFacts(response, this.#facts(key, now, decision.expires));
		this.#stored.set(answer, saved);
		return answer;
	}

	/** A body still arriving: decided from the head, handed back at once, kept up to `maxEntrySize` and stored once whole. */
	#storeWhenWhole(plan: Lookup, key: string, request: PreparedRequest, response: Response, streaming: StreamingBody): Response {
		const {settings} = this.#context;
		const now = settings.clock();
		const decision = decideStoreHead(plan, response, settings, now, this.#requester(request, response));
		if (decision.kind === 'skip') {
			return this.#skipped(request, key, response, now, decision.reason);
		}

		this.#collecting.add(streaming);
		const task: Promise<void> = streaming.collect(settings.maxEntrySize).then(async body => {
			this.#collecting.delete(streaming);
			if (body !== undefined) {
				const {status, reason, headers, url, history, lastHopHeaders} = response;
				await this.store(plan, key, request, new Response({status, reason, headers, url, body, request, history, lastHopHeaders}));
			}
		}).catch(() => undefined).finally(() => {
			if (this.saving.get(key) === task) {
				this.saving.delete(key);
			}
		});
		// A repeat of this request waits for this body (whole, too large or cancelled) rather than asking the origin again.
		this.saving.set(key, task);
		this.#context.track(task);
		const answer = withCacheFacts(response, this.#facts(key, now, decision.expires));
		// Cache-Status goes out with the head: it says what the cache is doing (a failed write is an 'error' event).
		this.#stored.set(answer, true);
		return answer;
	}

	#facts(key: string, now: number, expires: number | null) {
		return {fromCache: false, createdAt: new Date(now), isExpired: false, revalidated: false, cacheKey: key, expires: expires === null ? null : new Date(expires)};
	}

	/** `response` not stored, after publishing why (not when `filterFn` said no: the user's own choice). */
	#skipped(request: PreparedRequest, key: string, response: Response, now: number, reason: string | undefined): Response {
		if (reason !== undefined && wanted('bypass')) {
			publish({event: 'bypass', cacheName: this.#context.settings.cacheName, method: request.method, url: request.url, key, ms: 0, status: response.status, reason: `not stored: ${reason}`});
		}

		return withCacheFacts(response, this.#facts(key, now, null));
	}

	/** The requester's identity, as the policy asks for it to store a `private` response. */
	#requester(request: PreparedRequest, response: Response): Requester {
		const {settings} = this.#context;
		const last = response.lastHopHeaders;
		return {
			owner: () => ownerOf(request, settings),
			hopAddsIdentity: isPrivate => last !== undefined && hopAddsIdentity(request, last, settings, isPrivate),
		};
	}

	/** Keys for each URL the redirect chain passed through, and the final one, all pointing at the response. */
	#aliases(request: PreparedRequest, response: Response): Array<{key: string; url: string}> {
		if (response.history.length === 0) {
			return [];
		}

		const {settings} = this.#context;
		const urls = new Set([...response.history.slice(1).map(hop => hop.url), response.url]);
		urls.delete(request.url);
		// The same method: a HEAD that followed a redirect must not answer a later GET of the final URL.
		return [...urls].flatMap(url => {
			const key = requestKey({method: request.method, url, headers: request.headers, body: undefined, tlsIdentity: request.tlsIdentity}, settings, true, 'known');
			return key === undefined ? [] : [{key, url: redactUrl(url, settings.ignoredParameters)}];
		});
	}
}
