import {randomUUID} from 'node:crypto';
import {mkdirSync, rmSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

/** The repository's git-ignored scratch directory, as an absolute path (tests may change the cwd). */
export const tmpRoot = fileURLToPath(new URL('../../.tmp', import.meta.url));

/** A new, empty directory under `.tmp/` named `<label>-<random>`; remove it with {@link removeDir}. */
export function tempDir(label: string): string {
	const dir = path.join(tmpRoot, `${label}-${randomUUID().slice(0, 8)}`);
	mkdirSync(dir, {recursive: true});
	return dir;
}

/** Remove a directory made by {@link tempDir}, with everything in it. */
export function removeDir(dir: string): void {
	rmSync(dir, {recursive: true, force: true});
}
