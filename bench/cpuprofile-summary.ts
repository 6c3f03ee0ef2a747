/**
 * Sum a V8 CPU profile (`node --cpu-prof`) by where the time was spent: self time per file
 * (requests-cache's files by their path under lib/, dependencies by package, Node's internals
 * by module) and the top functions, in µs per operation when given the operation count.
 *
 *   node --cpu-prof --cpu-prof-dir=.tmp/prof --import tsx bench/profile-miss.ts loop memory 20000
 *   node --import tsx bench/cpuprofile-summary.ts .tmp/prof/<file>.cpuprofile [operations] [top]
 */
import {readFileSync} from 'node:fs';

type ProfileNode = {
	id: number;
	callFrame: {functionName: string; url: string; lineNumber: number};
	hitCount?: number;
	children?: number[];
};
type Profile = {nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[]};

const [file, operationsText, topText] = process.argv.slice(2);
if (file === undefined) {
	throw new TypeError('usage: cpuprofile-summary.ts <file.cpuprofile> [operations] [top]');
}

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const operations = Number(operationsText ?? 1);
const top = Number(topText ?? 25);

/** Where a frame's code lives, grouped so that the table reads by component. */
function placeOf(url: string, functionName: string): string {
	if (url === '') {
		// (garbage collector), (program), (idle), or a native function.
		return functionName.startsWith('(') ? functionName : '(native)';
	}

	const lib = /\/lib\/(.+?)\.[jt]s$/.exec(url);
	if (lib !== null && !url.includes('node_modules')) {
		return `lib/${lib[1]}`;
	}

	const module = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
	if (module !== null) {
		return module[1]!;
	}

	if (url.startsWith('node:')) {
		return url;
	}

	return url.replace(/^file:\/\/.*\/(bench|\.tmp)\//, '$1/');
}

// Self time per node: each sample is attributed to the node it hit, weighted by its time delta.
const selfUs = new Map<number, number>();
for (const [index, id] of profile.samples.entries()) {
	selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
}

const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
	const us = selfUs.get(node.id) ?? 0;
	if (us === 0 || node.callFrame.functionName === '(idle)') {
		continue;
	}

	total += us;
	const place = placeOf(node.callFrame.url, node.callFrame.functionName);
	byPlace.set(place, (byPlace.get(place) ?? 0) + us);
	const name = `${node.callFrame.functionName || '(anonymous)'} ${place}:${node.callFrame.lineNumber + 1}`;
	byFunction.set(name, (byFunction.get(name) ?? 0) + us);
}

const per = (us: number): string => (us / operations).toFixed(2);
const share = (us: number): string => `${(us / total * 100).toFixed(1)}%`;
console.log(`${file}: ${(total / 1000).toFixed(0)} ms of samples (idle excluded) over ${operations} operation(s): ${per(total)} µs each\n`);
console.log('| where (self time) | µs per operation | share |');
console.log('| --- | ---: | ---: |');
for (const [place, us] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, top)) {
	console.log(`| ${place} | ${per(us)} | ${share(us)} |`);
}

console.log('\n| function (self time) | µs per operation | share |');
console.log('| --- | ---: | ---: |');
for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
	console.log(`| ${name} | ${per(us)} | ${share(us)} |`);
}
