/**
 * Compile lib/ to plain JavaScript ES modules for the benchmark (see bench/library.ts for why),
 * and the benchmark's own child processes too, so that they run on plain Node without tsx's
 * loader thread. Kept apart from library.ts so that client processes never load the TypeScript
 * compiler, whose hundred-odd megabytes would show in every client's peak RSS.
 */
import {mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function* typescriptFiles(directory: string): Generator<string> {
	for (const entry of readdirSync(directory, {withFileTypes: true})) {
		const full = path.join(directory, entry.name);
		if (entry.isDirectory()) {
			yield * typescriptFiles(full);
		} else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
			yield full;
		}
	}
}

function compileFile(file: string, target: string): void {
	const output = ts.transpileModule(readFileSync(file, 'utf8'), {
		fileName: file,
		compilerOptions: {target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true, sourceMap: false},
	});
	mkdirSync(path.dirname(target), {recursive: true});
	writeFileSync(target, output.outputText);
}

/**
 * Compile lib/ to ES modules under `outDir` (file by file, no type check: the benchmark must run
 * while the types are being worked on elsewhere). Returns `outDir`.
 */
export function compileLibrary(outDir: string): string {
	const source = path.join(root, 'lib');
	for (const file of typescriptFiles(source)) {
		compileFile(file, path.join(outDir, path.relative(source, file)).replace(/\.ts$/, '.js'));
	}

	return outDir;
}

/** The benchmark's own processes (origin, client worker) compiled to `outDir`, so that they start without tsx. */
export function compileBenchProcesses(outDir: string): string {
	for (const name of ['origin', 'worker', 'clients', 'stats', 'library']) {
		compileFile(path.join(root, 'bench', `${name}.ts`), path.join(outDir, `${name}.js`));
	}

	return outDir;
}
