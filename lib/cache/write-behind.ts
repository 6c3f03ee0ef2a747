import type {StoreRecord} from '../backends/store.js';

/**
 * Writes behind the request: a response goes to its caller before the store has it; its records
 * wait here by store location, where every cache of this process reads them first, and go out in
 * order after the current turn (docs/architecture.md, "Writes behind the request").
 */

/** One cache's way to write its records (bounded, failures reported, never rejecting). */
export type Writer = {
	write(records: readonly StoreRecord[]): Promise<void>;
	/** True when `write` does its work before returning (SQLite): then it can run in the exit handler. */
	readonly synchronous: boolean;
	/** True when the store lands writes in the order it is handed them: then several may be in flight. */
	readonly ordered: boolean;
	/** Told at exit how many records were never sent, and how many were sent without an answer yet. */
	abandoned(unsent: number, unanswered: number): void;
};

type Batch = {writer: Writer; records: readonly StoreRecord[]; written: Promise<void>; resolve(): void; started: boolean; handed: Promise<void>; hand(): void};

function settled(): {promise: Promise<void>; resolve: () => void} {
	let resolve!: () => void;
	const promise = new Promise<void>(done => {
		resolve = done;
	});
	return {promise, resolve};
}

class Location {
	/** The latest queued record of each key, until it is written. */
	readonly records = new Map<string, StoreRecord>();
	/** Every batch not written yet, in order; the first ones may be handed to their store already. */
	#queue: Batch[] = [];
	#draining = false;
	/** The drain waiting for the end of the current turn, if any. */
	#scheduled: NodeJS.Immediate | undefined;
	readonly #name: string;

	constructor(name: string) {
		this.#name = name;
	}

	add(writer: Writer, records: readonly StoreRecord[]): void {
		for (const record of records) {
			this.records.set(record.key, record);
		}

		const written = settled();
		const handed = settled();
		this.#queue.push({writer, records, written: written.promise, resolve: written.resolve, started: false, handed: handed.promise, hand: handed.resolve});
		if (!this.#draining) {
			this.#draining = true;
			this.#scheduled = setImmediate(() => {
				this.#scheduled = undefined;
				void this.#drain();
			});
		}
	}

	/** Resolves when every batch queued so far is written (or failed, reported by its writer). */
	async flush(): Promise<void> {
		await Promise.all(this.#queue.map(batch => batch.written));
	}

	/** Resolves when every batch queued so far has been handed to its store; a network store's are handed now, not after the turn. */
	async handed(): Promise<void> {
		// Handing a batch to a synchronous store (SQLite) writes it: that stays after the caller's turn.
		if (this.#scheduled !== undefined && this.#queue.every(batch => !batch.writer.synchronous)) {
			clearImmediate(this.#scheduled);
			this.#scheduled = undefined;
			void this.#drain();
		}

		await Promise.all(this.#queue.map(batch => batch.handed));
	}

	async #drain(): Promise<void> {
		for (;;) {
			const start = this.#queue.findIndex(batch => !batch.started);
			if (start === -1) {
				break;
			}

			// The consecutive batches of one cache go as one write.
			const first = this.#queue[start]!;
			let end = start + 1;
			while (end < this.#queue.length && this.#queue[end]!.writer === first.writer) {
				end++;
			}

			// A later write of a key must land last: only an ordered writer overtakes, and only its own writes.
			const before = this.#queue.slice(0, start);
			if (before.length > 0 && (!first.writer.ordered || before.some(batch => batch.writer !== first.writer))) {
				// eslint-disable-next-line no-await-in-loop
				await Promise.all(before.map(batch => batch.written));
				continue;
			}

			const batches = this.#queue.slice(start, end);
			for (const batch of batches) {
				batch.started = true;
			}

			const landing = first.writer.write(batches.length === 1 ? first.records : batches.flatMap(batch => batch.records));
			for (const batch of batches) {
				batch.hand();
			}

			if (first.writer.ordered) {
				void landing.then(() => {
					this.#done(batches);
				});
			} else {
				// eslint-disable-next-line no-await-in-loop
				await landing;
				this.#done(batches);
			}
		}

		this.#draining = false;
		this.#forget();
	}

	#done(batches: readonly Batch[]): void {
		this.#queue = this.#queue.filter(batch => !batches.includes(batch));
		for (const batch of batches) {
			for (const record of batch.records) {
				// A later write of the same key stays visible until it lands too.
				if (this.records.get(record.key) === record) {
					this.records.delete(record.key);
				}
			}

			batch.resolve();
		}

		this.#forget();
	}

	#forget(): void {
		if (!this.#draining && this.#queue.length === 0 && this.records.size === 0 && locations.get(this.#name) === this) {
			locations.delete(this.#name);
		}
	}

	/** At exit: write what a synchronous writer still has queued (the event loop will not run again). */
	writeNow(): void {
		const abandoned = new Map<Writer, {unsent: number; unanswered: number}>();
		for (const batch of this.#queue) {
			if (!batch.started && batch.writer.synchronous) {
				batch.started = true;
				void batch.writer.write(batch.records);
				batch.hand();
			} else if (!batch.writer.synchronous) {
				const counts = abandoned.get(batch.writer) ?? {unsent: 0, unanswered: 0};
				counts[batch.started ? 'unanswered' : 'unsent'] += batch.records.length;
				abandoned.set(batch.writer, counts);
			}
		}

		for (const [writer, {unsent, unanswered}] of abandoned) {
			writer.abandoned(unsent, unanswered);
		}
	}
}

const locations = new Map<string, Location>();
let exitHook = false;

/** Queue records for the store at `location`; they are visible to {@link queued} at once. */
export function writeBehind(location: string, writer: Writer, records: readonly StoreRecord[]): void {
	let queue = locations.get(location);
	if (queue === undefined) {
		queue = new Location(location);
		locations.set(location, queue);
	}

	if (!exitHook) {
		exitHook = true;
		process.once('exit', () => {
			for (const pending of locations.values()) {
				pending.writeNow();
			}
		});
	}

	queue.add(writer, records);
}

/** The record of `key` still waiting to be written at `location`, if any. */
export function queued(location: string, key: string): StoreRecord | undefined {
	return locations.get(location)?.records.get(key);
}

/** Wait until what is queued for `location` now has been written. */
export async function flush(location: string): Promise<void> {
	await locations.get(location)?.flush();
}

/** Wait until what is queued for `location` now has been handed to the store (not answered yet). */
export async function handed(location: string): Promise<void> {
	await locations.get(location)?.handed();
}
