#!/usr/bin/env node
// @ts-check
/**
 * node hosts/xs/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS]
 *                       [--virtual-time] [--platform lin|esp32] [--send-buffer N] [--storage DIR]
 *
 * --storage DIR: the `file` module's directory (config.file.root), kept; default a temporary one.
 * --until is tried on each line of output alone. Exit codes: 0 a line matched --until (or, without --until, the app has nothing left
 * to do: no sockets, no timers); 1 the app threw an unhandled exception or rejection,
 * or ended before matching --until; 124 timeout; 2 usage or build error.
 */
import { startApp } from "./host.mjs";
import { parseRunArgs } from "./cli.mjs";

const USAGE = `usage: node hosts/xs/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS] [--virtual-time] [--platform lin|esp32] [--send-buffer N] [--storage DIR]`;

const OPTIONS = {
	"--virtual-time": { key: "virtualTime", kind: /** @type {const} */ ("flag") },
	"--platform": { key: "platform", kind: /** @type {const} */ ("choice"), choices: ["lin", "esp32"] },
	"--send-buffer": { key: "sendBufferSize", kind: /** @type {const} */ ("positive"), what: "bytes" },
	"--storage": { key: "storage", kind: /** @type {const} */ ("path") },
};

let args;
try {
	args = parseRunArgs(process.argv.slice(2), { usage: USAGE, options: OPTIONS });
}
catch (e) {
	process.stderr.write(`xs host: ${/** @type {Error} */ (e).message}\n${USAGE}\n`);
	process.exit(2);
}

let app;
try {
	app = await startApp(args.appDir, {
		config: args.config,
		virtualTime: args.virtualTime,
		autoAdvance: args.virtualTime,
		platform: args.platform,
		sendBufferSize: args.sendBufferSize,
		storage: args.storage,
		stdout: true,
		exitWhenIdle: true,
	});
}
catch (e) {
	process.stderr.write(`xs host: ${/** @type {Error} */ (e).message}\n`);
	process.exit(2);
}

/** @param {number} code */
async function exit(code) {
	await app.stop();
	process.exit(code);
}

for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"]))
	process.on(signal, () => void exit(signal === "SIGINT" ? 130 : 143));

if (args.timeout !== undefined) {
	const seconds = args.timeout;
	setTimeout(() => {
		process.stderr.write(`xs host: timeout after ${seconds} s${args.until ? ` waiting for ${args.until}` : ""}\n`);
		void exit(124);
	}, seconds * 1000).unref();
}

if (args.until) {
	const until = args.until;
	app.waitFor(until, 2 ** 31 - 1, { perLine: true }).then(() => exit(0), () => {});
}

void app.exited.then(async info => {
	if (info.code !== 0)
		return exit(info.code);
	if (args.until && !until_matched())
		process.stderr.write(`xs host: the app has nothing left to do and its output never matched ${args.until}\n`);
	return exit(args.until && !until_matched() ? 1 : 0);
});

function until_matched() {
	const until = args.until;
	return !!until && app.output.split("\n").some(line => until.test(line));
}
