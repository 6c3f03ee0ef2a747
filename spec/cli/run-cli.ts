import {Buffer} from 'node:buffer';
import {spawn} from 'node:child_process';
import {fileURLToPath} from 'node:url';

/** The inspector's executable, run from source through tsx as `npx requests-cache` runs the compiled one. */
export const binPath = fileURLToPath(new URL('../../lib/cli/bin.ts', import.meta.url));

/** What a run of the CLI left: its exit code and output. */
export type CliRun = {code: number | null; stdout: string; stderr: string; bytes: Buffer};

/** Run `requests-cache <args>` as a child process, in `cwd`, and collect what it printed. */
export async function runCli(args: readonly string[], options: {cwd?: string; env?: NodeJS.ProcessEnv} = {}): Promise<CliRun> {
	const child = spawn(process.execPath, ['--import', 'tsx', binPath, ...args], {
		cwd: options.cwd ?? process.cwd(),
		env: {...process.env, NODE_DEBUG: '', ...options.env},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const stdout: Buffer[] = [];
	const stderr: Buffer[] = [];
	child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
	child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
	const code = await new Promise<number | null>((resolve, reject) => {
		child.on('error', reject);
		child.on('close', resolve);
	});
	const bytes = Buffer.concat(stdout);
	return {code, stdout: bytes.toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), bytes};
}
