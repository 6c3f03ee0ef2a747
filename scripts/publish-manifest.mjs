// The package.json that `npm pack` and `npm publish` ship, and how it is put in place.
//
// This repository's scripts are for this repository: `prepare` builds dist/ from lib/ with the
// TypeScript of the devDependencies, `test`, `bench`, `demo` and `pack-check` run files under
// spec/, bench/, examples/ and scripts/, none of which is published. In an installed package not
// one of them can run, so the published manifest carries none. npm has no field for "scripts
// that are not published", so `prepack` (after `prepare` has built dist/) puts the published
// manifest in place and keeps the repository's beside it, and `postpack` puts it back; a pack
// that failed in between is repaired by the next `prepack` or `postpack`.
//
// node scripts/publish-manifest.mjs strip|restore
import {existsSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

const manifestFile = fileURLToPath(new URL('../package.json', import.meta.url));
// Not under `files`, so never published; ignored by git.
const keptFile = `${manifestFile}.repository`;

/** The manifest as published: the repository's, without its scripts. */
export function publishedManifest(manifest) {
	const {scripts, ...published} = manifest;
	return published;
}

function restore() {
	if (existsSync(keptFile)) {
		renameSync(keptFile, manifestFile);
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const [mode] = process.argv.slice(2);
	if (mode === 'strip') {
		restore();
		const text = readFileSync(manifestFile, 'utf8');
		writeFileSync(keptFile, text);
		writeFileSync(manifestFile, `${JSON.stringify(publishedManifest(JSON.parse(text)), null, 2)}\n`);
	} else if (mode === 'restore') {
		restore();
	} else {
		console.error('usage: node scripts/publish-manifest.mjs strip|restore');
		process.exit(2);
	}
}
