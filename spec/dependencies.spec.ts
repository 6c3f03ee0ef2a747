import assert from 'node:assert/strict';
import {builtinModules} from 'node:module';
import {readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
	return readdirSync(dir, {withFileTypes: true}).flatMap(entry => {
		const full = path.join(dir, entry.name);
		return entry.isDirectory() ? sources(full) : (entry.name.endsWith('.ts') ? [full] : []);
	});
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageOf(specifier: string): string {
	const parts = specifier.split('/');
	return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

// Issue 17: the Redis and MongoDB drivers were reached through another package's resolution
// (`createRequire(require.resolve('@keyv/redis'))('@redis/client')`), so a version of them was
// whatever that package brought, and the manifest did not say the package needs them.
describe('dependencies', () => {
	it('every package lib/ loads at run time is declared in package.json dependencies', () => {
		const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {name: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>};
		const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})]);
		const builtins = new Set(builtinModules);
		const missing: string[] = [];
		for (const file of sources(path.join(root, 'lib'))) {
			const code = readFileSync(file, 'utf8').split('\n').filter(line => !/^\s*(\*|\/\/|\/\*)/.test(line) && !/^import type /.test(line)).join('\n');
			// import … from 'x', import('x'), require('x'), and createRequire(…)('x').
			for (const match of code.matchAll(/(?:\bfrom |\bimport\(|\brequire\(|\)\()'([^'.][^']*)'/g)) {
				const name = packageOf(match[1]!);
				if (name.startsWith('node:') || builtins.has(name) || name === manifest.name || declared.has(name)) {
					continue;
				}

				missing.push(`${path.relative(root, file)}: ${match[1]!}`);
			}
		}

		assert.deepEqual(missing, []);
	});

	it('lib/ reaches no package through another package\'s resolution', () => {
		const offenders = sources(path.join(root, 'lib')).filter(file => /createRequire\(require\.resolve\(/.test(readFileSync(file, 'utf8')));
		assert.deepEqual(offenders.map(file => path.relative(root, file)), []);
	});
});
