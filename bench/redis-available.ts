import {createConnection} from 'node:net';

/** True when a Redis answers PING on 127.0.0.1:6379 within a second (the benchmark's Redis clients need one). */
export async function redisAvailable(): Promise<boolean> {
	return new Promise(resolve => {
		const socket = createConnection({host: '127.0.0.1', port: 6379});
		const done = (ok: boolean): void => {
			socket.destroy();
			resolve(ok);
		};

		socket.setTimeout(1000, () => {
			done(false);
		});
		socket.once('error', () => {
			done(false);
		});
		socket.once('connect', () => socket.write('PING\r\n'));
		socket.once('data', data => {
			done(data.toString().startsWith('+PONG'));
		});
	});
}
