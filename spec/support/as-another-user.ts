import {chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {buildSync} from 'esbuild';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** better-sqlite3 at run time: its JavaScript, its compiled addon, and what finds the addon. */
const sqliteRuntime = ['better-sqlite3/package.json', 'better-sqlite3/lib', 'better-sqlite3/build/Release/better_sqlite3.node', 'bindings', 'file-uri-to-path'];

/**
 * A sandbox another user can use, for specs whose child process runs as `nobody` (root writes
 * anything, so a read-only case needs another user): a fresh directory under the system's temp
 * directory, readable by all, holding `lib.mjs` (the given exports of lib/, bundled from the
 * sources as they are now) and the native SQLite driver. A checkout in a directory only root can
 * read (as CI's may be) is never read by the child. Remove it with `remove()`.
 */
export function sandboxFor(exports: Record<string, string>): {dir: string; lib: string; remove: () => void} {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'requests-cache-spec-'));
	chmodSync(dir, 0o755);
	const entry = path.join(dir, 'entry.ts');
	writeFileSync(entry, Object.entries(exports).map(([names, file]) => `export {${names}} from ${JSON.stringify(path.join(repoRoot, file))};`).join('\n'));
	const lib = path.join(dir, 'lib.mjs');
	buildSync({entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: lib, external: ['better-sqlite3'], logLevel: 'error'});
	for (const part of sqliteRuntime) {
		cpSync(path.join(repoRoot, 'node_modules', part), path.join(dir, 'node_modules', part), {recursive: true});
	}

	rmSync(entry);
	return {dir, lib, remove: () => rmSync(dir, {recursive: true, force: true})};
}
