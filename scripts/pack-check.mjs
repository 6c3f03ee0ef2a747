// `npm run pack-check`: what `npm pack` would publish, checked before it is. Builds (what `npm pack`
// does through `prepare`), runs `npm pack --dry-run --json` and fails, listing every problem, if
// the tarball lacks what a user needs or carries what only this repository needs.
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {publishedManifest} from './publish-manifest.mjs';

// The npm that runs this script: `npm` on the PATH of an npm script can be a copy some dependency
// brought into node_modules/.bin.
const npm = process.env.npm_execpath?.endsWith('npm-cli.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
const runNpm = (args, options) => execFileSync(npm[0], [...npm.slice(1), ...args], options);

const required = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'index.d.cts'];
// Repository-only content; .map files because the build ships no source maps (see docs/packaging.md).
const forbidden = [/^spec\//, /^bench\//, /^examples\//, /^scripts\//, /^\.ci\//, /^\.tmp\//, /^lib\//, /\.map$/, /\.sqlite(-wal|-shm)?$/, /^node_modules\//];

runNpm(['run', 'build'], {stdio: ['ignore', 'ignore', 'inherit']});
const output = runNpm(['pack', '--dry-run', '--json', '--ignore-scripts'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']});
// Anything printed before the JSON array (an npm notice) is skipped.
const [report] = JSON.parse(output.slice(output.search(/^\[/m)));
const files = new Set(report.files.map(file => file.path));
const problems = [];
for (const path of required) {
	if (!files.has(path)) {
		problems.push(`missing: ${path}`);
	}
}

for (const path of files) {
	if (forbidden.some(pattern => pattern.test(path))) {
		problems.push(`must not be published: ${path}`);
	}
}

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const field of ['license', 'repository', 'homepage', 'bugs', 'engines', 'exports']) {
	if (manifest[field] === undefined) {
		problems.push(`package.json has no "${field}"`);
	}
}

// `npm pack --ignore-scripts` above ships the repository's manifest: what `prepack` ships instead is checked here.
if (manifest.scripts?.prepack !== 'node scripts/publish-manifest.mjs strip') {
	problems.push('package.json "prepack" must put the published manifest in place: node scripts/publish-manifest.mjs strip');
}

for (const [name, command] of Object.entries(publishedManifest(manifest).scripts ?? {})) {
	problems.push(`the published package.json has the script "${name}" (${command}), which cannot run where the package is installed`);
}

if (problems.length > 0) {
	console.error(`pack-check: ${problems.length} problem(s) in ${report.filename}:\n  ${problems.join('\n  ')}`);
	process.exit(1);
}

console.log(`pack-check: ${report.filename}, ${report.entryCount} files, ${(report.size / 1024).toFixed(1)} KiB packed (${(report.unpackedSize / 1024).toFixed(1)} KiB unpacked): ok`);
