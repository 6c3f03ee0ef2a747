/**
 * Which of our lib/ files a cache hit through `CachedSession` runs, measured: a real node:http
 * origin, a session on the memory backend, one miss, then one hit recorded with V8's precise
 * coverage (node:inspector's Profiler): a file counts when any of its functions ran during the hit.
 *
 *   node --import tsx scripts/hit-path.mjs [--functions]
 *
 * Prints the files and their count; exits 1 when the hit was not a hit (served from the cache
 * with the origin's counter unmoved). docs/architecture.md gives the budget (≤ 18 files).
 */
import {createServer} from 'node:http';
import {Session} from 'node:inspector/promises';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const lib = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../lib');
const libUrl = pathToFileURL(lib).href + '/';
const inspector = new Session();
inspector.connect();
await inspector.post('Profiler.enable');
// Precise call counts, reset by each takePreciseCoverage: the second take is the hit alone.
await inspector.post('Profiler.startPreciseCoverage', {callCount: true, detailed: false});

const {CachedSession} = await import(pathToFileURL(path.join(lib, 'index.ts')).href);
let originHits = 0;
const server = createServer((_request, response) => {
	originHits++;
	response.writeHead(200, {'content-type': 'application/json', 'cache-control': 'max-age=3600'}).end('{"a":1}');
});
await new Promise(resolve => {
	server.listen(0, '127.0.0.1', resolve);
});
const url = `http://127.0.0.1:${server.address().port}/hit-path`;
const session = new CachedSession({backend: 'memory', cacheName: `hit-path-${process.pid}`});
try {
	const miss = await session.get(url);
	if (miss.fromCache) {
		throw new Error('the first GET was served from the cache');
	}

	// Settle whatever the miss left running (a background write), then start counting.
	await new Promise(resolve => {
		setTimeout(resolve, 50);
	});
	await inspector.post('Profiler.takePreciseCoverage');
	const before = originHits;
	const hit = await session.get(url);
	const {result} = await inspector.post('Profiler.takePreciseCoverage');
	if (!hit.fromCache || originHits !== before) {
		throw new Error(`the second GET was not a hit (fromCache ${hit.fromCache}, origin hits ${before} → ${originHits})`);
	}

	const files = result
		.filter(script => script.url.startsWith(libUrl) && script.functions.some(fn => fn.ranges[0].count > 0))
		.map(script => path.relative(path.dirname(lib), fileURLToPath(script.url)))
		.sort();
	for (const file of files) {
		console.log(file);
		if (process.argv.includes('--functions')) {
			const script = result.find(item => item.url === pathToFileURL(path.resolve(path.dirname(lib), file)).href);
			console.log(`  ${script.functions.filter(fn => fn.ranges[0].count > 0).map(fn => fn.functionName || '(anonymous)').join(', ')}`);
		}
	}

	console.log(`${files.length} files of lib/ ran during one hit through CachedSession`);
} finally {
	await session.close();
	server.close();
	await inspector.post('Profiler.stopPreciseCoverage');
	inspector.disconnect();
}
