import assert from 'node:assert/strict';
import {readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const lib = fileURLToPath(new URL('../lib', import.meta.url));

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
	return readdirSync(dir, {withFileTypes: true}).flatMap(entry => {
		const full = path.join(dir, entry.name);
		return entry.isDirectory() ? sources(full) : (entry.name.endsWith('.ts') ? [full] : []);
	});
}

/** The folder of lib/ a file is in (`policy`, `cache`, …); undefined for a file at the top. */
function folderOf(file: string): string | undefined {
	const parts = path.relative(lib, file).split(path.sep);
	return parts.length > 1 ? parts[0] : undefined;
}

/** Which folders each folder imports from (type imports too: a type names the layer it comes from), with the files that do. */
function folderImports(): Map<string, Map<string, string[]>> {
	const edges = new Map<string, Map<string, string[]>>();
	for (const file of sources(lib)) {
		const from = folderOf(file);
		for (const match of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom '(\.[^']+)'/gms)) {
			const target = path.resolve(path.dirname(file), match[1]!.replace(/\.js$/, '.ts'));
			const to = folderOf(target);
			if (from === undefined || to === undefined || from === to) {
				continue;
			}

			const byTarget = edges.get(from) ?? new Map<string, string[]>();
			edges.set(from, byTarget);
			byTarget.set(to, [...(byTarget.get(to) ?? []), `${path.relative(lib, file)} -> ${path.relative(lib, target)}`]);
		}
	}

	return edges;
}

/**
 * The floors of lib/, top first: a folder imports only the folders below it. Configuration and
 * assembly (lib/config/) sit above the engine: only the CLI and the front doors at the top of
 * lib/ (cache-mixin.ts, install.ts, index.ts) import them.
 */
const floors = ['cli', 'doors', 'config', 'engine', 'cache', 'policy', 'codec', 'backends', 'models'];

// Issue 17: policy/settings.ts imported BaseCache (for instanceof) and backends/index.ts typed the
// store factory by the session's settings: policy <-> cache and policy <-> backends.
describe('layers', () => {
	it('no two folders of lib/ import each other', () => {
		const edges = folderImports();
		const cycles: string[] = [];
		for (const [from, targets] of edges) {
			for (const [to, files] of targets) {
				const back = edges.get(to)?.get(from);
				if (from < to && back !== undefined) {
					cycles.push(`${from} <-> ${to}: ${[...files, ...back].join(', ')}`);
				}
			}
		}

		assert.deepEqual(cycles, []);
	});

	it('the policy imports no cache and no store', () => {
		const imports = folderImports().get('policy');
		assert.deepEqual([...imports?.get('cache') ?? [], ...(imports?.get('backends') ?? [])], []);
	});

	it('each folder imports only the floors below it, and every folder has its floor', () => {
		const upward: string[] = [];
		for (const [from, targets] of folderImports()) {
			assert.ok(floors.includes(from), `${from} has no floor in spec/layers.spec.ts`);
			for (const [to, files] of targets) {
				if (floors.indexOf(to) <= floors.indexOf(from)) {
					upward.push(...files);
				}
			}
		}

		assert.deepEqual(upward, []);
	});
});
