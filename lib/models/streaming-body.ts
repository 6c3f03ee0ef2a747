import {Buffer} from 'node:buffer';

/** Turn the bytes kept for the cache into the stored body (undoing a content coding), at most `limit` bytes; undefined gives up. */
export type FinishBody = (raw: Buffer, limit: number) => Promise<Buffer | undefined>;

/**
 * A response body still arriving: the caller reads `stream` at its own pace; `collect` also keeps
 * the bytes for the cache, up to a limit (docs/architecture.md, "Store").
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
				this.stopCollecting();
				this.#done = true;
				await this.#reader.cancel(reason).catch(() => undefined);
			},
		}, {highWaterMark: 0});
	}

	/** Keep the bytes too: the whole body once arrived, or undefined past `limit`, on failure or cancel. */
	async collect(limit: number): Promise<Buffer | undefined> {
		if (this.#done || this.#collector !== undefined) {
			return undefined;
		}

		const raw = await new Promise<Buffer | undefined>(resolve => {
			this.#collector = {chunks: [], bytes: 0, limit, settle: resolve};
			void this.#pump();
		});
		return raw === undefined || this.#finish === undefined ? raw : this.#finish(raw, limit).catch(() => undefined);
	}

	/** A second reader of the same bytes (the caller's stream is split in two); not collected. */
	branch(): StreamingBody {
		const [mine, theirs] = this.stream.tee();
		this.stream = mine;
		return new StreamingBody(theirs);
	}

	/** Stop keeping the bytes (storing is given up); the caller reads on at its own pace. */
	stopCollecting(): void {
		const collector = this.#collector;
		this.#collector = undefined;
		collector?.settle(undefined);
	}

	/** Stop reading from the origin: the caller's stream errors with `reason`. */
	abort(reason: unknown): void {
		if (this.#done) {
			return;
		}

		this.#done = true;
		this.stopCollecting();
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

		const collector = this.#collector;
		if (result.done) {
			this.#done = true;
			this.#collector = undefined;
			collector?.settle(Buffer.concat(collector.chunks, collector.bytes));
			this.#controller.close();
			return false;
		}

		if (collector !== undefined) {
			collector.bytes += result.value.byteLength;
			if (collector.bytes > collector.limit) {
				this.stopCollecting();
			} else {
				// A copy: the caller may transfer or change the chunk it reads.
				collector.chunks.push(Buffer.from(result.value));
			}
		}

		this.#controller.enqueue(result.value);
		return true;
	}
}
