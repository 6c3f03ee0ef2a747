import {Buffer} from 'node:buffer';

/**
 * How the bytes kept for the cache become the body it stores (a door that answers with the
 * encoded bytes undoes the content coding here), never producing more than `limit` bytes:
 * undefined (or a rejection) gives up storing.
 */
export type FinishBody = (raw: Buffer, limit: number) => Promise<Buffer | undefined>;

/**
 * A response body still arriving from the origin. Its caller reads {@link StreamingBody.stream}
 * as the bytes arrive, at its own pace: nothing is buffered for it. The cache engine may ask to
 * {@link StreamingBody.collect} the bytes as well, up to a limit: the stream is then read as fast
 * as the origin sends (so a caller that never reads still gets the response stored) until the
 * limit is passed, when collecting stops (storing is given up, not the response) and the
 * caller's pace rules again.
 */
export class StreamingBody {
	/** What the caller reads: the origin's bytes as they arrive. */
	stream: ReadableStream<Uint8Array>;
	readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
	readonly #finish: FinishBody | undefined;
	#controller!: ReadableStreamDefaultController<Uint8Array>;
	#reading: Promise<boolean> | undefined;
	#done = false;
	#collector: {chunks: Buffer[]; bytes: number; limit: number; settle: (raw: Buffer | undefined) => void} | undefined;

	constructor(source: ReadableStream<Uint8Array>, finish?: FinishBody) {
		this.#reader = source.getReader();
		this.#finish = finish;
		this.stream = new ReadableStream<Uint8Array>({
			start: controller => {
				this.#controller = controller;
			},
			pull: async () => {
				await this.#step();
			},
			cancel: async reason => {
				this.#stopCollecting(undefined);
				this.#done = true;
				await this.#reader.cancel(reason).catch(() => undefined);
			},
		}, {highWaterMark: 0});
	}

	/**
	 * Keep the bytes as well, up to `limit`: resolves with the whole body (through `finish`) once
	 * it has arrived, or undefined when it went past `limit`, failed, or the caller cancelled it.
	 */
	async collect(limit: number): Promise<Buffer | undefined> {
		if (this.#done || this.#collector !== undefined) {
			return undefined;
		}

		const raw = await new Promise<Buffer | undefined>(resolve => {
			this.#collector = {chunks: [], bytes: 0, limit, settle: resolve};
			void this.#pump();
		});
		if (raw === undefined) {
			return undefined;
		}

		return this.#finish === undefined ? raw : this.#finish(raw, limit).catch(() => undefined);
	}

	/** A second reader of the same bytes (the caller's stream is split in two); not collected. */
	branch(): StreamingBody {
		const [mine, theirs] = this.stream.tee();
		this.stream = mine;
		return new StreamingBody(theirs);
	}

	/** Stop keeping the bytes (storing is given up); the caller reads on at its own pace. */
	stopCollecting(): void {
		this.#stopCollecting(undefined);
	}

	/** Stop reading from the origin: the caller's stream errors with `reason`. */
	abort(reason: unknown): void {
		if (this.#done) {
			return;
		}

		this.#done = true;
		this.#stopCollecting(undefined);
		this.#controller.error(reason);
		void this.#reader.cancel(reason).catch(() => undefined);
	}

	async #pump(): Promise<void> {
		// Read ahead of the caller only while the bytes are being kept for the cache.
		while (this.#collector !== undefined && !this.#done) {
			// eslint-disable-next-line no-await-in-loop -- one chunk after the other
			await this.#step();
		}
	}

	/** Read one chunk for whoever asks first (the caller's pull or the collector); false at the end. */
	async #step(): Promise<boolean> {
		this.#reading ??= this.#readOne().finally(() => {
			this.#reading = undefined;
		});
		return this.#reading;
	}

	async #readOne(): Promise<boolean> {
		if (this.#done) {
			return false;
		}

		let result: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
		try {
			result = await this.#reader.read();
		} catch (error) {
			this.abort(error);
			return false;
		}

		if (this.#done) {
			return false;
		}

		if (result.done) {
			this.#done = true;
			const collector = this.#collector;
			this.#collector = undefined;
			collector?.settle(Buffer.concat(collector.chunks, collector.bytes));
			this.#controller.close();
			return false;
		}

		const chunk = result.value;
		const collector = this.#collector;
		if (collector !== undefined) {
			collector.bytes += chunk.byteLength;
			if (collector.bytes > collector.limit) {
				this.#stopCollecting(undefined);
			} else {
				// A copy: the caller may transfer or change the chunk it reads.
				collector.chunks.push(Buffer.from(chunk));
			}
		}

		this.#controller.enqueue(chunk);
		return true;
	}

	#stopCollecting(result: Buffer | undefined): void {
		const collector = this.#collector;
		this.#collector = undefined;
		collector?.settle(result);
	}
}
