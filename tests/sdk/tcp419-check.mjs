#!/usr/bin/env node
// The XS host's model of the ECMA-419 TCP socket (hosts/xs/guest/tcp419.js, lin profile)
// against the real one: the app tests/sdk/tcp419 runs its scenarios (constructor checks,
// echo and every read/write form, unread bytes, the peer closing with and without unread
// bytes, refused, reset, a flood into the 1536-byte buffer, close inside callbacks) once in
// mcsim (the SDK's modules/io/socket/lin/tcp.c) and once in the XS host, each against the
// same driver server here; PASS when both traces are the same, line by line. Not part of
// `node --test tests/`: it needs a built Moddable SDK.
//
//   node tests/sdk/tcp419-check.mjs [--out DIR]
//
//   --out DIR    mcconfig's output folder, reused between runs (default: a fresh temporary
//                folder, removed afterwards). A first build compiles XS: ~25 s on 2 cores.
//
//   MCSIM_TRACE=1           echo the app's trace lines
//
// Exits 1 when the traces differ, 2 when it could not run at all. See tests/sdk/README.md.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { usage as runnerUsage, requireSimulator, cleanupOnExit, run, simulate } from "./runner.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const APP = join(here, "tcp419");
const TOOL = "tcp419-check";
const usage = (message) => runnerUsage(TOOL, message);

function parse(argv) {
	const options = { out: undefined };
	for (let i = 0; i < argv.length; i++) {
		const value = () => argv[++i] ?? usage(`${argv[i - 1]} needs a value`);
		switch (argv[i]) {
		case "--out": options.out = resolve(value()); break;
		default: usage(`unknown argument ${argv[i]}`);
		}
	}
	return options;
}

/** The driver: each connection's first line names what to do. */
async function startDriver() {
	const server = net.createServer((socket) => {
		let text = "";
		let scenario = "";
		socket.on("error", () => {});
		socket.on("data", (data) => {
			if (scenario === "echo") {
				socket.write(data);
				return;
			}
			if (scenario)
				return;
			text += data.toString("latin1");
			const newline = text.indexOf("\n");
			if (newline < 0)
				return;
			scenario = text.slice(0, newline);
			const rest = text.slice(newline + 1);
			switch (scenario) {
			case "echo": socket.write(`echo\n${rest}`); break;
			case "unread": socket.write("abc"); setTimeout(() => socket.write("def"), 200); break;
			case "bye": socket.end("bye"); break;
			case "reset": setTimeout(() => socket.resetAndDestroy(), 50); break;
			case "flood": socket.write(Buffer.alloc(5000, 0x61)); break;
			}
		});
	});
	await new Promise((resolvePromise) => server.listen(0, "127.0.0.1", resolvePromise));
	const closed = net.createServer();
	await new Promise((resolvePromise) => closed.listen(0, "127.0.0.1", resolvePromise));
	const refused = closed.address().port;
	await new Promise((resolvePromise) => closed.close(resolvePromise));
	return { port: server.address().port, refused, close: () => new Promise((r) => { server.close(r); }) };
}

const main = async () => {
	const options = parse(process.argv.slice(2));
	requireSimulator(TOOL);
	const cleanups = cleanupOnExit();
	const out = options.out ?? mkdtempSync(join(tmpdir(), "tcp419-check-"));
	mkdirSync(out, { recursive: true });
	if (!options.out) cleanups.push(() => rmSync(out, { recursive: true, force: true }));
	const driver = await startDriver();
	cleanups.push(driver.close);
	let failed = false;
	try {
		// mcconfig's key=value gives strings: the XS host run gets the same
		const config = { port: String(driver.port), refused: String(driver.refused) };
		const build = await run("mcconfig", ["-m", "-p", "lin", "-t", "build", "-o", out, ...Object.entries(config).map(([k, v]) => `${k}=${v}`)], { cwd: APP });
		if (build.code !== 0)
			usage(`mcconfig failed (${build.code}): ${build.output.trim().split("\n").slice(-6).join(" | ")}`);
		const simulated = (await simulate(join(out, "bin", "lin", "mc", "release", "tcp419", "mc.so"), 60)).filter((line) => line !== "");

		const { startApp } = await import("../../hosts/xs/host.mjs");
		const app = await startApp(APP, { stdout: false, platform: "lin", config });
		let hosted;
		try {
			await app.waitFor(/^DONE$/, 60000, { perLine: true });
			hosted = app.output.split("\n").filter((line) => line !== "");
		}
		finally {
			await app.stop();
		}
		if (process.env.MCSIM_TRACE)
			for (const line of hosted) console.error(`  host| ${line}`);

		const length = Math.max(simulated.length, hosted.length);
		let differences = 0;
		for (let i = 0; i < length; i++) {
			if (simulated[i] === hosted[i])
				continue;
			if (differences++ < 10)
				console.log(`line ${i + 1}:\n  mcsim: ${simulated[i] ?? "(none)"}\n  host:  ${hosted[i] ?? "(none)"}`);
		}
		if (!simulated.includes("DONE"))
			failed = true, console.log(`FAIL tcp419: mcsim did not finish: ${simulated.slice(-4).join(" | ")}`);
		else if (differences)
			failed = true, console.log(`FAIL tcp419: ${differences} of ${length} lines differ`);
		else
			console.log(`PASS tcp419: ${length} lines, the same in mcsim and the XS host`);
	}
	finally {
		for (const cleanup of cleanups.reverse()) await cleanup();
	}
	process.exit(failed ? 1 : 0);
};

main();
