#!/usr/bin/env node
import process from 'node:process';
import {main} from './main.js';

// `requests-cache … | head` closes the pipe early: that is not an error.
process.stdout.on('error', error => {
	if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
		process.exit(0);
	}
});

const code = await main(process.argv.slice(2), {
	write: text => process.stdout.write(text),
	note: text => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
});
process.exitCode = code;
// A driver that still holds a socket after close() must not keep the shell waiting.
setTimeout(() => process.exit(code), 2000).unref();
