import type {ServerResponse} from 'node:http';

/**
 * Answer with a `no-store` download of `megabytes` MiB, written as fast as the client takes it
 * (the origin of bench/doors-streaming.ts and spec/doors/streaming.spec.ts).
 */
export function noStoreDownload(response: ServerResponse, megabytes: number): void {
	response.writeHead(200, {'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'content-length': String(megabytes * 1024 * 1024)});
	const piece = Buffer.alloc(64 * 1024, 97);
	let left = megabytes * 16;
	const write = (): void => {
		while (left > 0) {
			left--;
			if (!response.write(piece)) {
				response.once('drain', write);
				return;
			}
		}

		response.end();
	};

	write();
}
