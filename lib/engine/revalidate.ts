import type {Found} from '../cache/entry-storage.js';
import {variantNames} from '../codec/keys.js';
import {renewedEntryOf} from '../codec/redact.js';
import type {PreparedRequest} from '../models/request.js';
import type {Response} from '../models/response.js';
import {type Lookup, deleteAtOf} from '../policy/actions.js';
import {decideRefreshed, decideRenewal, revalidationRequest} from '../policy/revalidation.js';
import {type EngineContext, type EngineOptions, type Send, flightKey, transportOptions, withSignal} from './context.js';
import type {SingleFlight} from './flights.js';
import type {ResponseWriter} from './store-response.js';

/** Revalidation carried out: lib/policy/revalidation.ts says how to ask the origin and what its answer means. */
export class Revalidator {
	readonly #context: EngineContext;
	readonly #writer: ResponseWriter;
	readonly #flights: SingleFlight;

	constructor(context: EngineContext, writer: ResponseWriter, flights: SingleFlight) {
		this.#context = context;
		this.#writer = writer;
		this.#flights = flights;
	}

	/** Refresh a stored entry (conditionally when it has a validator); a failure serves it stale within `staleIfError`. */
	async refresh(plan: Lookup, found: Found, key: string, request: PreparedRequest, options: EngineOptions, send: Send, started = performance.now()): Promise<Response> {
		const {settings} = this.#context;
		const conditional = revalidationRequest(request, found.entry);
		let response: Response | undefined;
		let failure: unknown;
		try {
			response = await send(conditional, transportOptions(options));
		} catch (error) {
			failure = error;
		}

		const now = settings.clock();
		switch (decideRefreshed(found.entry, conditional !== request, response?.status, settings, now).kind) {
			case 'fail': {
				throw failure;
			}

			case 'renew': {
				this.#context.observe('revalidated', request, key, started, {status: 304});
				return this.#renew(plan, found, request, response!, now);
			}

			case 'serveStale': {
				response?.streaming?.abort(new Error('not needed: a stale response is served'));
				const reason = response === undefined ? `stale-if-error: ${(failure as Error).message}` : 'stale-if-error';
				this.#context.observe('stale', request, key, started, response === undefined ? {reason} : {status: response.status, reason});
				return this.#context.serve(found, request, now, plan.range);
			}

			case 'replace': {
				this.#context.observe('miss', request, key, started, {status: response!.status});
				return this.#writer.store(plan, key, request, response!);
			}
		}
	}

	/** A 304 confirmed the entry: merge its headers in, renew the expiry, rewrite only what changed. */
	async #renew(plan: Lookup, found: Found, request: PreparedRequest, notModified: Response, now: number): Promise<Response> {
		const {settings, storage} = this.#context;
		const {key: foundKey, primaryKey} = found;
		const renewal = decideRenewal(plan, found.entry, notModified.headers, settings, now);
		const renewed = renewedEntryOf(found.entry, renewal, settings);
		if (renewal.kind === 'forget') {
			await storage.forget([foundKey]);
		} else if (renewal.kind === 'rewrite') {
			const names = renewal.vary === '*' ? [] : variantNames(renewal.vary, renewed.facts.owner);
			const variant = foundKey === primaryKey || names.length === 0 ? undefined : {key: foundKey, names};
			if (await storage.save(primaryKey, renewed, deleteAtOf(renewed.expires, settings), [], variant)) {
				this.#context.observe('stored', request, foundKey, performance.now(), {status: renewed.status, bytes: renewed.body.length, reason: 'renewed by a 304'});
			}
		}

		return this.#context.serve({...found, entry: renewed}, request, now, plan.range, {revalidated: true});
	}

	/** Refresh in the background after serving stale; a failure is reported, never thrown. */
	inBackground(plan: Lookup, found: Found, key: string, request: PreparedRequest, options: EngineOptions, send: Send): void {
		// Nobody waits for a background refresh: it is not the caller's to abort.
		const unsignalled = withSignal(options, undefined);
		const flight = flightKey('revalidate', key, request, options, plan);
		const refresh = async (signal: AbortSignal | undefined): Promise<Response> => this.refresh(plan, found, key, request, withSignal(unsignalled, signal), send);
		const task = this.#flights.run(flight, async signal => this.#context.acrossProcesses(flight, refresh, signal, plan, key, request, unsignalled, performance.now()))
			.then(() => undefined, (error: unknown) => {
				this.#context.reportBackground(request, key, error);
			});
		this.#context.track(task);
	}
}
