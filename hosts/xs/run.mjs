#!/usr/bin/env node
// @ts-check
/**
 * node hosts/xs/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS]
 *                       [--virtual-time] [--send-buffer N]
 *
 * Exit codes: 0 output matched --until (or, without --until, the app has nothing left
 * to do: no sockets, no timers); 1 the app threw an unhandled exception or rejection,
 * or ended before matching --until; 124 timeout; 2 usage or build error.
 */
import { startApp, parseConfigArg } from "./host.mjs";

const USAGE = `usage: node hosts/xs/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS] [--virtual-time] [--send-buffer N]`;

/** @param {string[]} argv */
function parseArgs(argv) {
	/** @type {{appDir?: string, config: Record<string, unknown>, until?: RegExp, timeout?: number, virtualTime: boolean, sendBufferSize?: number}} */
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
	app.waitFor(until, 2 ** 31 - 1).then(() => exit(0), () => {});
}

void app.exited.then(async info => {
	if (info.code !== 0)
		return exit(info.code);
	if (args.until && !until_matched())
		process.stderr.write(`xs host: the app has nothing left to do and its output never matched ${args.until}\n`);
	return exit(args.until && !until_matched() ? 1 : 0);
});

function until_matched() {
	return !!args.until && args.until.test(app.output);
}

// Virtual time: when the host has been quiet for a moment, jump the clock to the next timer.
if (args.virtualTime) {
	let quietSince = Date.now();
	let advancing = false;
	const tick = setInterval(() => {
		if (app.finished) {
			clearInterval(tick);
			return;
		}
		if (advancing)
			return;
		if (!app.idle) {
			quietSince = Date.now();
			return;
		}
		const next = app.nextTimer();
		if (next === undefined || Date.now() - quietSince < 10)
			return;
		advancing = true;
		app.advance(Math.max(0, next - app.now())).finally(() => {
			advancing = false;
			quietSince = Date.now();
		});
	}, 5);
}
