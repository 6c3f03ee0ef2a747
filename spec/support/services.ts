import {type ChildProcess, spawn} from 'node:child_process';
import {createRequire} from 'node:module';
import {createConnection, createServer} from 'node:net';
import {fileURLToPath} from 'node:url';

/**
 * The database servers the backend specs use: found (Redis, PostgreSQL, MariaDB/MySQL) or
 * started (the jongodb MongoDB emulator, private redis-servers). A spec whose server is absent
 * is skipped with a loud `SKIPPED:` line, unless REQUESTS_CACHE_REQUIRE_SERVICES=1 (CI), where
 * absence fails the run.
 */

const require = createRequire(import.meta.url);

/** True when absent services must fail the run instead of skipping (CI sets it). */
export const requireServices = process.env['REQUESTS_CACHE_REQUIRE_SERVICES'] === '1';

export const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const postgresUrl = process.env['POSTGRES_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const mysqlUrl = process.env['MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';

/** Skip the current suite loudly, or fail it when services are required. */
export function skipOrFail(context: Mocha.Context, what: string, reason: string): never {
	if (requireServices) {
		throw new Error(`${what} cannot run: ${reason} (REQUESTS_CACHE_REQUIRE_SERVICES=1)`);
	}

	console.warn(`      SKIPPED: ${what} because ${reason}`);
	context.skip();
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const {port} = server.address() as {port: number};
			server.close(() => {
				resolve(port);
			});
		});
	});
}

/** Send `request` to host:port and resolve with what came back first (or '' on any failure). */
export async function ask(host: string, port: number, request: string, timeout = 1000): Promise<string> {
	return new Promise(resolve => {
		const socket = createConnection({host, port});
		const done = (answer: string): void => {
			socket.destroy();
			resolve(answer);
		};

		socket.setTimeout(timeout, () => {
			done('');
		});
		socket.on('error', () => {
			done('');
		});
		socket.on('connect', () => {
			if (request === '') {
				done('connected');
			} else {
				socket.write(request);
			}
		});
		socket.on('data', data => {
			done(data.toString('latin1'));
		});
	});
}

/** Why Redis at `url` cannot be used, or undefined when it answers PING. */
export async function redisProblem(url = redisUrl): Promise<string | undefined> {
	const {hostname, port} = new URL(url);
	const answer = await ask(hostname, Number(port || 6379), 'PING\r\n');
	return answer.startsWith('+PONG') ? undefined : `Redis does not answer PING at ${url}`;
}

/** Why the server at `url` (PostgreSQL or MySQL) cannot be used, or undefined when its port is open. */
export async function tcpProblem(url: string, defaultPort: number): Promise<string | undefined> {
	const {hostname, port} = new URL(url);
	const answer = await ask(hostname, Number(port || defaultPort), '');
	return answer === 'connected' ? undefined : `nothing listens at ${hostname}:${port || defaultPort}`;
}

/** A MySQL/MariaDB connection through @keyv/mysql's own mysql2, for setting up test tables. */
export async function mysqlExecute(url: string, sql: string): Promise<void> {
	const mysql2 = createRequire(require.resolve('@keyv/mysql'))('mysql2/promise') as {
		createConnection(uri: string): Promise<{query(sql: string): Promise<unknown>; end(): Promise<void>}>;
	};
	const connection = await mysql2.createConnection(url);
	try {
		await connection.query(sql);
	} finally {
		await connection.end();
	}
}

/** A PostgreSQL statement through @keyv/postgres' own pg, for setting up test tables. */
export async function postgresExecute(url: string, sql: string): Promise<void> {
	const pg = createRequire(require.resolve('@keyv/postgres'))('pg') as {Client: new (options: {connectionString: string}) => {connect(): Promise<void>; query(sql: string): Promise<unknown>; end(): Promise<void>}};
	const client = new pg.Client({connectionString: url});
	await client.connect();
	try {
		await client.query(sql);
	} finally {
		await client.end();
	}
}

let jongodb: {url: string; child: ChildProcess} | undefined;

/** The jongodb MongoDB emulator binary shipped by the devDependency. */
export const jongodbBinary = fileURLToPath(new URL('../../node_modules/@jongodb/memory-server-bin-linux-x64-gnu/bin/jongodb', import.meta.url));

/**
 * The MongoDB URL to test against: `MONGODB_URL` when set (a real server), else a jongodb
 * emulator started on a free port, once per process, killed when the process exits (it holds
 * no handle of the event loop, so mocha still exits by itself).
 */
export async function mongoUrl(): Promise<{url: string; emulator: boolean}> {
	const fromEnvironment = process.env['MONGODB_URL'];
	if (fromEnvironment) {
		return {url: fromEnvironment, emulator: false};
	}

	if (jongodb === undefined) {
		const port = await freePort();
		jongodb = {url: `mongodb://127.0.0.1:${port}`, child: await spawnJongodb(port)};
	}

	return {url: jongodb.url, emulator: true};
}

/**
 * Start a jongodb emulator on `port`, resolving once it listens. Neither the process nor its
 * pipes keep the event loop alive, and it is killed when this process exits.
 */
export async function spawnJongodb(port: number): Promise<ChildProcess> {
	const child = spawn(jongodbBinary, ['--host=127.0.0.1', `--port=${port}`], {stdio: ['ignore', 'pipe', 'pipe']});
	await new Promise<void>((resolve, reject) => {
		let output = '';
		const timer = setTimeout(() => {
			reject(new Error(`jongodb did not start within 15 s: ${output}`));
		}, 15_000);
		const onData = (data: Buffer): void => {
			output += data.toString();
			if (/JONGODB_URI=\S+/.test(output)) {
				clearTimeout(timer);
				resolve();
			}
		};

		child.stdout!.on('data', onData);
		child.stderr!.on('data', onData);
		child.on('error', error => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('exit', code => {
			clearTimeout(timer);
			reject(new Error(`jongodb exited with ${code}: ${output}`));
		});
	});
	child.stdout!.removeAllListeners('data').destroy();
	child.stderr!.removeAllListeners('data').destroy();
	child.removeAllListeners('exit');
	child.unref();
	process.once('exit', () => {
		child.kill('SIGKILL');
	});
	return child;
}

/** Stop the emulator started by {@link mongoUrl}, if any. */
export function stopJongodb(): void {
	jongodb?.child.kill('SIGKILL');
	jongodb = undefined;
}

const privateServers = new Set<ChildProcess>();
let privateExitHook = false;

/**
 * A private redis-server on its own free port, for specs that stop and restart a server in the
 * middle of a run. `stop()` kills it (SIGKILL, like a crash); `start()` starts it again on the
 * same port.
 */
export class PrivateRedis {
	readonly url: string;
	private child: ChildProcess | undefined;

	private constructor(readonly port: number) {
		this.url = `redis://127.0.0.1:${port}`;
	}

	static async start(): Promise<PrivateRedis> {
		const server = new PrivateRedis(await freePort());
		await server.start();
		return server;
	}

	async start(): Promise<void> {
		const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {stdio: 'ignore'});
		child.unref();
		privateServers.add(child);
		child.once('exit', () => privateServers.delete(child));
		if (!privateExitHook) {
			privateExitHook = true;
			// One listener for every server started in this run, not one each (a run starts more than ten).
			process.once('exit', () => {
				for (const server of privateServers) {
					server.kill('SIGKILL');
				}
			});
		}

		this.child = child;
		const deadline = Date.now() + 10_000;
		while (await redisProblem(this.url) !== undefined) {
			if (Date.now() > deadline || child.exitCode !== null) {
				throw new Error(`redis-server did not start on port ${this.port}`);
			}

			await new Promise(resolve => {
				setTimeout(resolve, 50);
			});
		}
	}

	async stop(): Promise<void> {
		const {child} = this;
		this.child = undefined;
		if (child === undefined || child.exitCode !== null) {
			return;
		}

		await new Promise(resolve => {
			child.once('exit', resolve);
			child.kill('SIGKILL');
		});
	}
}
