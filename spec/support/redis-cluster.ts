import {type ChildProcess, execFile, spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {ask} from './services.js';

/**
 * A Redis Cluster of three masters for the cluster specs: REDIS_CLUSTER_URLS (comma-separated
 * node URLs, as .ci/run exports) when set, else one started here, once per process: three
 * `redis-server --cluster-enabled yes` on free ports (and free bus ports, +10000), their files in
 * a temporary directory (never in the checkout, which may be root's), joined by
 * `redis-cli --cluster create`, killed and removed when the process exits.
 */

const sleep = async (ms: number): Promise<void> => new Promise(resolve => {
	setTimeout(resolve, ms);
});

async function portIsFree(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const server = createServer();
		server.unref();
		server.once('error', () => {
			resolve(false);
		});
		server.listen(port, '127.0.0.1', () => {
			server.close(() => {
				resolve(true);
			});
		});
	});
}

/** Three ports whose cluster bus ports (+10000) are free too. */
async function freePorts(): Promise<number[]> {
	const ports: number[] = [];
	while (ports.length < 3) {
		const port = 20_000 + Math.floor(Math.random() * 30_000);
		// eslint-disable-next-line no-await-in-loop -- a few tries
		if (!ports.includes(port) && await portIsFree(port) && await portIsFree(port + 10_000)) {
			ports.push(port);
		}
	}

	return ports;
}

/** The first reply of the node at `url` to CLUSTER INFO, or ''. */
async function clusterInfo(url: string): Promise<string> {
	const {hostname, port} = new URL(url);
	return ask(hostname, Number(port), 'CLUSTER INFO\r\n');
}

/** Why the cluster of `urls` cannot be used, or undefined when every node says cluster_state:ok. */
export async function clusterProblem(urls: readonly string[]): Promise<string | undefined> {
	for (const url of urls) {
		// eslint-disable-next-line no-await-in-loop -- three nodes
		if (!(await clusterInfo(url)).includes('cluster_state:ok')) {
			return `the Redis Cluster node ${url} does not say cluster_state:ok`;
		}
	}

	return undefined;
}

type Started = {urls: string[]; children: ChildProcess[]; dir: string};

async function startCluster(): Promise<Started> {
	const dir = mkdtempSync(path.join(tmpdir(), 'requests-cache-cluster-'));
	const children: ChildProcess[] = [];
	const stop = (): void => {
		for (const child of children) {
			child.kill('SIGKILL');
		}

		rmSync(dir, {recursive: true, force: true});
	};

	process.once('exit', stop);
	try {
		for (let attempt = 1; ; attempt++) {
			// eslint-disable-next-line no-await-in-loop -- another try only when a port was taken meanwhile
			const ports = await freePorts();
			const started = ports.map(port => spawn('redis-server', [
				'--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
				'--cluster-node-timeout', '5000', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no',
			], {stdio: 'ignore'}));
			children.push(...started);
			for (const child of started) {
				child.unref();
			}

			const urls = ports.map(port => `redis://127.0.0.1:${port}`);
			const deadline = Date.now() + 10_000;
			// eslint-disable-next-line no-await-in-loop
			while (!(await Promise.all(urls.map(async url => clusterInfo(url)))).every(info => info.includes('cluster_state:')) && started.every(child => child.exitCode === null) && Date.now() < deadline) {
				// eslint-disable-next-line no-await-in-loop
				await sleep(50);
			}

			if (started.some(child => child.exitCode !== null) || Date.now() >= deadline) {
				for (const child of started) {
					child.kill('SIGKILL');
				}

				if (attempt < 3) {
					continue;
				}

				throw new Error(`redis-server --cluster-enabled did not start on ports ${ports.join(', ')}`);
			}

			// eslint-disable-next-line no-await-in-loop
			await promisify(execFile)('redis-cli', ['--cluster', 'create', ...ports.map(port => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], {timeout: 30_000});
			// eslint-disable-next-line no-await-in-loop
			while (await clusterProblem(urls) !== undefined) {
				if (Date.now() > deadline + 20_000) {
					throw new Error(`the cluster of ${urls.join(', ')} did not reach cluster_state:ok`);
				}

				// eslint-disable-next-line no-await-in-loop
				await sleep(100);
			}

			return {urls, children: started, dir};
		}
	} catch (error) {
		stop();
		process.off('exit', stop);
		throw error;
	}
}

let cluster: Promise<Started> | undefined;

/**
 * The cluster's node URLs, or why there is none: REDIS_CLUSTER_URLS, or three masters started
 * here the first time (about a second), or a problem when redis-server is not installed.
 */
export async function redisCluster(): Promise<{urls: string[]; problem?: undefined} | {problem: string}> {
	const given = process.env['REDIS_CLUSTER_URLS'];
	if (given) {
		const urls = given.split(',').map(url => url.trim()).filter(Boolean);
		const problem = await clusterProblem(urls);
		return problem === undefined ? {urls} : {problem: `REDIS_CLUSTER_URLS=${given}: ${problem}`};
	}

	if (spawnSync('redis-server', ['--version']).error !== undefined || spawnSync('redis-cli', ['--version']).error !== undefined) {
		return {problem: 'redis-server and redis-cli are not installed (or set REDIS_CLUSTER_URLS to a running cluster\'s nodes)'};
	}

	cluster ??= startCluster();
	try {
		return {urls: (await cluster).urls};
	} catch (error) {
		cluster = undefined;
		return {problem: `a local Redis Cluster could not be started: ${(error as Error).message}`};
	}
}
