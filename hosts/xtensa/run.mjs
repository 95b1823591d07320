#!/usr/bin/env node
// @ts-check
/**
 * node hosts/xtensa/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS]
 *                           [--virtual-time] [--heap BYTES] [--stack SLOTS] [--stats]
 *
 * Runs a Moddable app on the XS engine built for an emulated Xtensa lx106 core (QEMU).
 * Exit codes, as hosts/xs/run.mjs: 0 a line of output matched --until (or, without
 * --until, the app has nothing left to do: no sockets, no timers); 1 the app aborted
 * (unhandled exception or rejection, stack overflow, memory full) or ended before
 * matching --until; 124 timeout; 2 usage or build error.
 */
import { startXtensa, parseConfigArg } from "./host.mjs";

const USAGE = `usage: node hosts/xtensa/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS] [--virtual-time] [--heap BYTES] [--stack SLOTS] [--stats]`;

/** @param {string[]} argv */
function parseArgs(argv) {
	/** @type {{appDir?: string, config: Record<string, unknown>, until?: RegExp, timeout?: number, virtualTime: boolean, heap?: number, stack?: number, stats: boolean}} */
	const args = { config: {}, virtualTime: false, stats: false };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const value = () => {
			if (i + 1 >= argv.length)
				throw new Error(`${arg} needs a value`);
			return argv[++i];
		};
		const positive = (/** @type {string} */ what) => {
			const n = Number(value());
			if (!Number.isInteger(n) || n < 1)
				throw new Error(`${arg} needs a positive integer (${what})`);
			return n;
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
		else if (arg === "--heap")
			args.heap = positive("bytes");
		else if (arg === "--stack")
			args.stack = positive("slots");
		else if (arg === "--stats")
			args.stats = true;
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
	process.stderr.write(`xtensa host: ${/** @type {Error} */ (e).message}\n${USAGE}\n`);
	process.exit(2);
}
const until = args.until;
let matched = false;

let app;
try {
	app = await startXtensa(args.appDir, {
		config: args.config,
		virtualTime: args.virtualTime,
		heap: args.heap,
		stack: args.stack,
		stats: args.stats,
		onLine: line => {
			process.stdout.write(line + "\n");
			if (until && !matched && until.test(line)) {
				matched = true;
				void finish(0);
			}
		},
		onDiagnostic: text => process.stderr.write(text),
	});
}
catch (e) {
	process.stderr.write(`xtensa host: ${/** @type {Error} */ (e).message}\n`);
	process.exit(2);
}

let finishing = false;
/** @param {number} code */
async function finish(code) {
	if (finishing)
		return;
	finishing = true;
	await app.stop();
	if (args.stats && app.stats)
		process.stderr.write(`xtensa host: stats ${Object.entries(app.stats).map(([k, v]) => `${k}=${v}`).join(" ")}\n`);
	process.exit(code);
}

for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"]))
	process.on(signal, () => void finish(signal === "SIGINT" ? 130 : 143));

if (args.timeout !== undefined) {
	const seconds = args.timeout;
	setTimeout(() => {
		process.stderr.write(`xtensa host: timeout after ${seconds} s${until ? ` waiting for ${until}` : ""}\n`);
		void finish(124);
	}, seconds * 1000).unref();
}

void app.exited.then(info => {
	if (finishing)
		return;
	if (info.code !== 0) {
		process.stderr.write(`xtensa host: ${info.message}\n`);
		return finish(info.code);
	}
	if (until && !matched) {
		process.stderr.write(`xtensa host: the app has nothing left to do and its output never matched ${until}\n`);
		return finish(1);
	}
	return finish(0);
});
