import type {ChildProcessWithoutNullStreams} from 'node:child_process';

/** What a spec's writer process reports: when it has opened its store, and how it ended. */
export type WatchedWriter = {
	/** Resolves when the child prints `ready`; rejects if it exits first. */
	readonly ready: Promise<void>;
	/** Resolves with its exit code and output when it exits. */
	readonly done: Promise<{code: number | null; stdout: string; stderr: string}>;
};

/**
 * Watch a writer child process of the multi-process specs: they print `ready` once their store is
 * open, wait for `go` on stdin so that all start together, and report on stdout.
 */
export function watchWriter(child: ChildProcessWithoutNullStreams): WatchedWriter {
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (chunk: Buffer) => {
		stdout += chunk.toString();
	});
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	const ready = new Promise<void>((resolve, reject) => {
		child.stdout.on('data', () => {
			if (stdout.includes('ready\n')) {
				resolve();
			}
		});
		child.once('exit', () => {
			reject(new Error(`a writer exited before it was ready: ${stderr}`));
		});
	});
	const done = new Promise<{code: number | null; stdout: string; stderr: string}>(resolve => {
		child.once('exit', code => {
			resolve({code, stdout, stderr});
		});
	});
	return {ready, done};
}
