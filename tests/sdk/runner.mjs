// What the real-SDK checks (mcsim-check.mjs, mcpack-check.mjs, store-kill-check.mjs) share: their command line,
// running a command, and running an app in mcsim under xvfb-run until it traces DONE.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** A usage error: the message, exit code 2. */
export function usage(tool, message) {
	console.error(`${tool}: ${message}`);
	process.exit(2);
}

/** The built SDK's tools (mcconfig, mcsim) on PATH, or a usage error saying what is missing. */
export function requireSimulator(tool) {
	if (!process.env.MODDABLE)
		usage(tool, "$MODDABLE is not set: build the Moddable SDK (see tests/sdk/README.md) and set MODDABLE and PATH first");
	const bin = join(process.env.MODDABLE, "build", "bin", "lin", "release");
	if (!existsSync(join(bin, "mcconfig")) || !existsSync(join(bin, "mcsim")))
		usage(tool, `no mcconfig/mcsim in ${bin}: build the SDK's tools and simulator first`);
	if (!process.env.PATH.split(":").includes(bin)) process.env.PATH = `${bin}:${process.env.PATH}`;
}

/** The cleanups (brokers, subscribers) a check registers run when it is interrupted, and a
 * cut output (`| head`: EPIPE) does not end it early: nothing outlives the driver. */
export function cleanupOnExit() {
	const cleanups = [];
	process.stdout.on("error", () => {});
	for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
		process.once(signal, async () => {
			for (const cleanup of cleanups.reverse()) await cleanup();
			process.exit(130);
		});
	}
	return cleanups;
}

/** `--mqttc DIR` (default: `mqttc`), `--out DIR`, `--only A,B`. */
export function parseArguments(tool, argv, mqttc) {
	const options = { mqttc, out: undefined, only: undefined };
	for (let i = 0; i < argv.length; i++) {
		const value = () => argv[++i] ?? usage(tool, `${argv[i - 1]} needs a value`);
		switch (argv[i]) {
		case "--mqttc": options.mqttc = resolve(value()); break;
		case "--out": options.out = resolve(value()); break;
		case "--only": options.only = new Set(value().split(",")); break;
		default: usage(tool, `unknown argument ${argv[i]}`);
		}
	}
	return options;
}

/** Runs a command; resolves {code, output} (stdout and stderr together). */
export function run(command, args, options = {}) {
	return new Promise((resolvePromise) => {
		const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		child.stdout.on("data", (d) => { output += d; });
		child.stderr.on("data", (d) => { output += d; });
		child.on("error", (error) => resolvePromise({ code: -1, output: `${output}${error.message}` }));
		child.on("close", (code) => resolvePromise({ code, output }));
	});
}

/** The index of the first line matching `pattern`, or -1. */
export const find = (lines, pattern) => lines.findIndex((line) => pattern.test(line));

/**
 * Starts an app in mcsim (which never exits by itself); it is ended `afterDoneMs` after it
 * traces a line starting with DONE, at once when XS aborts (`XS abort: ...`: a stack
 * overflow, an exception no one caught), when `seconds` pass, or on stop(). Returns {lines,
 * waitFor(re, ms), stop(), done, unexpected}: `done` resolves the trace lines once mcsim is
 * gone, `unexpected` then says how it ended when neither DONE, an abort nor stop() ended it;
 * waitFor resolves the index of the first line matching `re` (or -1 after `ms` or when mcsim
 * ended). MCSIM_TRACE=1 echoes the lines.
 */
export function launch(so, seconds, afterDoneMs = 0) {
	const child = spawn("xvfb-run", ["-a", "timeout", String(seconds), "stdbuf", "-oL", "mcsim", so],
		{ stdio: ["ignore", "pipe", "pipe"], detached: true });
	const lines = [];
	const waiters = new Set();
	let buffer = "";
	let stderr = "";
	let ended = false;
	let stopped = false;
	const stop = () => { stopped = true; try { process.kill(-child.pid, "SIGTERM"); } catch { /* already gone */ } };
	const wake = () => { for (const w of [...waiters]) w(); };
	child.stdout.on("data", (d) => {
		buffer += d;
		let i;
		while ((i = buffer.indexOf("\n")) >= 0) {
			const line = buffer.slice(0, i);
			buffer = buffer.slice(i + 1);
			lines.push(line);
			if (process.env.MCSIM_TRACE) console.error(`  | ${line}`);
			if (line.startsWith("DONE")) {
				if (afterDoneMs) setTimeout(stop, afterDoneMs);
				else stop();
			}
			else if (line.startsWith("XS abort")) stop();      // the VM is gone: nothing more will come
		}
		wake();
	});
	child.stderr.on("data", (d) => { stderr += d; });
	const done = new Promise((resolvePromise) => child.on("close", (code, signal) => {
		ended = true;
		if (buffer) lines.push(buffer);
		if (!lines.length && stderr) lines.push(`(no trace; stderr: ${stderr.trim().slice(-300)})`);
		// not ended by DONE, an abort or stop(): timeout's 124, or how mcsim itself ended (139: SIGSEGV)
		else if (!stopped) {
			app.unexpected = `(mcsim ended: exit ${code}${signal ? ` ${signal}` : ""}${code === 124 ? ", the time was up" : ""}${stderr.trim() ? `; stderr: ${stderr.trim().slice(-200)}` : ""})`;
			if (process.env.MCSIM_TRACE) console.error(`  | ${app.unexpected}`);
		}
		wake();
		resolvePromise(lines);
	}));
	const waitFor = (re, ms) => new Promise((resolvePromise) => {
		const check = () => {
			const index = find(lines, re);
			if (index < 0 && !ended) return;
			waiters.delete(check);
			clearTimeout(timer);
			resolvePromise(index);
		};
		const timer = setTimeout(() => { waiters.delete(check); resolvePromise(-1); }, ms);
		waiters.add(check);
		check();
	});
	const app = { lines, waitFor, stop, done, unexpected: undefined };
	return app;
}

/** Runs an app in mcsim until it traces DONE (and `afterDoneMs` more) or `seconds` pass; resolves its trace lines,
 * and a last line "(mcsim ended: exit N...)" when mcsim ended otherwise (the time up, or it crashed). */
export async function simulate(so, seconds, afterDoneMs = 0) {
	const app = launch(so, seconds, afterDoneMs);
	const lines = await app.done;
	if (app.unexpected) lines.push(app.unexpected);
	return lines;
}
