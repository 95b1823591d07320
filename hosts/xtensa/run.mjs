#!/usr/bin/env node
// @ts-check
/**
 * node hosts/xtensa/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS]
 *                           [--virtual-time] [--heap BYTES] [--stack SLOTS] [--stats]
 *                           [--storage DIR]
 *
 * Runs a Moddable app on the XS engine built for an emulated Xtensa lx106 core (QEMU).
 * Exit codes, as hosts/xs/run.mjs: 0 a line of output matched --until (or, without
 * --until, the app has nothing left to do: no sockets, no timers); 1 the app aborted
 * (unhandled exception or rejection, stack overflow, memory full) or ended before
 * matching --until; 124 timeout; 2 usage or build error.
 * --storage DIR: the directory the `file` module's files are in (mc/config file.root; created
 * if missing, kept); by default a fresh temporary directory, removed at the end.
 */
import { startXtensa } from "./host.mjs";
import { parseRunArgs } from "../xs/cli.mjs";

const USAGE = `usage: node hosts/xtensa/run.mjs <app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS] [--virtual-time] [--heap BYTES] [--stack SLOTS] [--stats] [--storage DIR]`;

const OPTIONS = {
	"--virtual-time": { key: "virtualTime", kind: /** @type {const} */ ("flag") },
	"--stats": { key: "stats", kind: /** @type {const} */ ("flag") },
	"--heap": { key: "heap", kind: /** @type {const} */ ("positive"), what: "bytes" },
	"--stack": { key: "stack", kind: /** @type {const} */ ("positive"), what: "slots" },
};

let args;
/** @type {string | undefined} */
let storage;
try {
	// --storage takes a path, a kind the shared parser (hosts/xs/cli.mjs) has not: taken out first
	const argv = process.argv.slice(2);
	const at = argv.indexOf("--storage");
	if (at >= 0) {
		if (at + 1 >= argv.length || argv[at + 1] === "")
			throw new Error("--storage needs a directory");
		storage = argv[at + 1];
		argv.splice(at, 2);
		if (argv.includes("--storage"))
			throw new Error("--storage given twice");
	}
	args = parseRunArgs(argv, { usage: USAGE, options: OPTIONS });
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
		storage,
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
