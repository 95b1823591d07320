#!/usr/bin/env node
// @ts-check
/**
 * node hosts/xs/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS]
 *                       [--virtual-time] [--platform lin|esp32] [--send-buffer N]
 *
 * --until is tried on each line of output alone. Exit codes: 0 a line matched --until (or, without --until, the app has nothing left
 * to do: no sockets, no timers); 1 the app threw an unhandled exception or rejection,
 * or ended before matching --until; 124 timeout; 2 usage or build error.
 */
import { startApp, parseConfigArg } from "./host.mjs";

const USAGE = `usage: node hosts/xs/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS] [--virtual-time] [--platform lin|esp32] [--send-buffer N]`;

/** @param {string[]} argv */
function parseArgs(argv) {
	/** @type {{appDir?: string, config: Record<string, unknown>, until?: RegExp, timeout?: number, virtualTime: boolean, platform?: "lin"|"esp32", sendBufferSize?: number}} */
	const args = { config: {}, virtualTime: false };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const value = () => {
			if (i + 1 >= argv.length)
				throw new Error(`${arg} needs a value`);
			return argv[++i];
		};
		if (arg === "--until")
			args.until = new RegExp(value());
		else if (arg === "--timeout") {
			const seconds = Number(value());
			if (!(seconds > 0))
				throw new Error("--timeout needs a positive number of seconds");
			args.timeout = seconds;
		}
		else if (arg === "--virtual-time")
			args.virtualTime = true;
		else if (arg === "--platform") {
			const name = value();
			if (name !== "lin" && name !== "esp32")
				throw new Error("--platform is lin (the Linux simulator) or esp32 (lwIP)");
			args.platform = name;
		}
		else if (arg === "--send-buffer") {
			const n = Number(value());
			if (!Number.isInteger(n) || n < 1)
				throw new Error("--send-buffer needs a positive integer");
			args.sendBufferSize = n;
		}
		else if (arg === "-h" || arg === "--help") {
			process.stdout.write(USAGE + "\n");
			process.exit(0);
		}
		else if (arg.startsWith("--"))
			throw new Error(`unknown option ${arg}`);
		else if (args.appDir === undefined && !arg.includes("="))
			args.appDir = arg;
		else {
			const [k, v] = parseConfigArg(arg);
			args.config[k] = v;
		}
	}
	if (args.appDir === undefined)
		throw new Error("missing <app-dir>");
	return args;
}

let args;
try {
	args = parseArgs(process.argv.slice(2));
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
