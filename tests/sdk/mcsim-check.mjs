#!/usr/bin/env node
// Checks mqttc's behaviour in the real Moddable simulator (mcsim), against a real mosquitto
// on 127.0.0.1: the apps under tests/sdk/ are built with the SDK's mcconfig and run under
// xvfb-run; their trace lines (and the broker's side) decide each scenario. Not part of
// `node --test tests/`: it needs a built Moddable SDK, which the project never installs.
//
//   node tests/sdk/mcsim-check.mjs [--mqttc DIR] [--out DIR] [--only 1,4,6a]
//
//   --mqttc DIR  the mqttc checkout to test (default: the one holding this script)
//   --out DIR    mcconfig's output folder, reused between runs (default: a fresh temporary
//                folder, removed afterwards). A first build compiles XS: ~2 min on 2 cores.
//   --only LIST  run only these scenarios
//
// Prints `PASS name` or `FAIL name: why` per scenario and `N passed, N failed`; exits 1
// when one failed, 2 when it could not run at all. See tests/sdk/README.md.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker, mosquittoSub, freePort } from "../lib/broker.mjs";
import { makeCerts } from "../lib/certs.mjs";

const here = dirname(fileURLToPath(import.meta.url));

function usage(message) {
	console.error(`mcsim-check: ${message}`);
	process.exit(2);
}

function parseArguments(argv) {
	const options = { mqttc: resolve(here, "../.."), out: undefined, only: undefined };
	for (let i = 0; i < argv.length; i++) {
		const value = () => argv[++i] ?? usage(`${argv[i - 1]} needs a value`);
		switch (argv[i]) {
		case "--mqttc": options.mqttc = resolve(value()); break;
		case "--out": options.out = resolve(value()); break;
		case "--only": options.only = new Set(value().split(",")); break;
		default: usage(`unknown argument ${argv[i]}`);
		}
	}
	return options;
}

/** Runs a command; resolves {code, output} (stdout and stderr together). */
function run(command, args, options = {}) {
	return new Promise((resolvePromise) => {
		const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		child.stdout.on("data", (d) => { output += d; });
		child.stderr.on("data", (d) => { output += d; });
		child.on("error", (error) => resolvePromise({ code: -1, output: `${output}${error.message}` }));
		child.on("close", (code) => resolvePromise({ code, output }));
	});
}

/** Builds the app in tests/sdk/<name> with mcconfig; throws with the build's tail on failure. */
async function build(name, config, { mqttc, out }) {
	const args = ["-m", "-p", "lin", "-t", "build", "-o", out, ...Object.entries(config).map(([k, v]) => `${k}=${v}`)];
	const { code, output } = await run("mcconfig", args, { cwd: join(here, name), env: { ...process.env, MQTTC: mqttc } });
	if (code !== 0) throw new Error(`mcconfig of ${name} failed (${code}): ${output.trim().split("\n").slice(-6).join(" | ")}`);
	return join(out, "bin", "lin", "mc", "release", name, "mc.so");
}

/**
 * Runs an app in mcsim (which never exits by itself) until it traces a line starting with
 * DONE or `seconds` pass; resolves its trace lines.
 */
function simulate(so, seconds) {
	return new Promise((resolvePromise) => {
		const child = spawn("xvfb-run", ["-a", "timeout", String(seconds), "stdbuf", "-oL", "mcsim", so],
			{ stdio: ["ignore", "pipe", "pipe"], detached: true });
		const lines = [];
		let buffer = "";
		let stderr = "";
		const stop = () => { try { process.kill(-child.pid, "SIGTERM"); } catch { /* already gone */ } };
		child.stdout.on("data", (d) => {
			buffer += d;
			let i;
			while ((i = buffer.indexOf("\n")) >= 0) {
				const line = buffer.slice(0, i);
				buffer = buffer.slice(i + 1);
				lines.push(line);
				if (process.env.MCSIM_TRACE) console.error(`  | ${line}`);
				if (line.startsWith("DONE")) stop();
			}
		});
		child.stderr.on("data", (d) => { stderr += d; });
		child.on("close", () => {
			if (buffer) lines.push(buffer);
			if (!lines.length && stderr) lines.push(`(no trace; stderr: ${stderr.trim().slice(-300)})`);
			resolvePromise(lines);
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const find = (lines, pattern) => lines.findIndex((line) => pattern.test(line));
const tail = (lines) => lines.slice(-6).join(" | ") || "(no trace)";

// Each check returns undefined (pass) or the reason it failed.

function checkSentAfterReturn(lines) {
	const returned = find(lines, /^publish returned \d+ \(qos 0\)/);
	if (returned < 0) return `no "publish returned <id> (qos 0)" line: ${tail(lines)}`;
	const id = /^publish returned (\d+)/.exec(lines[returned])[1];
	const sent = find(lines, new RegExp(`^sent ${id}$`));
	if (sent < 0) return `no "sent ${id}" line: ${tail(lines)}`;
	if (sent < returned) return `"sent ${id}" was traced before publish() returned ${id}`;
}

function checkDisconnectAfterReturn(lines) {
	const returned = find(lines, /^disconnect returned/);
	const event = find(lines, /^disconnect event/);
	if (event < 0) return `no disconnect event: ${tail(lines)}`;
	if (returned < 0) return `no "disconnect returned" line: ${tail(lines)}`;
	if (event < returned) return `the disconnect event (${lines[event]}) came before disconnect() returned`;
}

function checkNoNestedEvent(lines) {
	const nested = lines.filter((line) => line.startsWith("NESTED"));
	if (nested.length) return `${nested.length} nested event(s): ${nested.slice(0, 3).join("; ")}`;
	if (find(lines, /^disconnect event/) < 0) return `the flow did not complete: ${tail(lines)}`;
}

async function checkGracefulDisconnect(so, broker, { topic, will, id }) {
	const onTopic = await mosquittoSub(broker.port, ["-t", topic]);
	const onWill = await mosquittoSub(broker.port, ["-t", will]);
	let lines;
	try {
		lines = await simulate(so, 40);
		await sleep(1500); // a will would be published once mcsim is gone
	} finally {
		onTopic.stop();
		onWill.stop();
	}
	const why = [];
	const big = `${topic} ${"A".repeat(20480)}`;
	if (!onTopic.lines.includes(big)) why.push(`the 20 KB message never reached a subscriber (${onTopic.lines.length} message(s) did)`);
	if (!onTopic.lines.includes(`${topic} qos1`)) why.push("the QoS 1 message never reached a subscriber");
	const log = broker.log();
	if (!log.includes(`Received DISCONNECT from ${id}`)) {
		const ended = log.split("\n").filter((line) => line.includes(id) && /disconnect|closed|error/i.test(line));
		why.push(`the broker logged no DISCONNECT from ${id} (${ended.map((l) => l.replace(/^\d+: /, "")).join("; ") || "nothing"})`);
	}
	if (onWill.lines.length) why.push(`the will was published (${onWill.lines.join("; ")})`);
	const errors = lines.filter((line) => line.startsWith("error"));
	if (errors.length) why.push(`the app got ${errors.join("; ")}`);
	return { lines, why: why.length ? why.join("; ") : undefined };
}

/** The broker's PUBACK, sent before it saw DISCONNECT, settles the QoS 1 message. */
function checkQos1Settled(lines) {
	const published = lines.find((line) => line.startsWith("published "));
	if (!published) return `the app never published: ${tail(lines)}`;
	const id = / and (\d+) \(qos 1\)/.exec(published)?.[1];
	const sent = find(lines, new RegExp(`^sent ${id}$`));
	const event = find(lines, /^disconnect event/);
	if (sent < 0) return `no "sent ${id}" for the QoS 1 message: ${tail(lines)}`;
	if (event >= 0 && event < sent) return `"sent ${id}" came after the disconnect event`;
}

function checkRefused(lines) {
	const error = lines.find((line) => line.startsWith("error "));
	const event = lines.find((line) => line.startsWith("disconnect event"));
	if (!error?.startsWith("error connect") || event !== "disconnect event connect")
		return `got [${error ?? "no error"}] and [${event ?? "no disconnect"}], want error connect and disconnect connect`;
}

function checkTls(lines, expected) {
	const why = [];
	for (const [step, want] of Object.entries(expected)) {
		const line = lines.find((l) => l.startsWith(`tls ${step} `));
		if (!line) why.push(`${step}: no outcome traced`);
		else if (!line.slice(`tls ${step} `.length).startsWith(want)) why.push(`${step} ${line.slice(4 + step.length + 1)} (want ${want})`);
	}
	if (why.length) return `${why.join("; ")}; trace: ${lines.filter((l) => l.startsWith("tls ")).join(" | ") || tail(lines)}`;
}

async function main() {
	const options = parseArguments(process.argv.slice(2));
	if (!process.env.MODDABLE)
		usage("$MODDABLE is not set: build the Moddable SDK (see tests/sdk/README.md) and set MODDABLE and PATH first");
	const bin = join(process.env.MODDABLE, "build", "bin", "lin", "release");
	if (!existsSync(join(bin, "mcconfig")) || !existsSync(join(bin, "mcsim")))
		usage(`no mcconfig/mcsim in ${bin}: build the SDK's tools and simulator first`);
	if (!process.env.PATH.split(":").includes(bin)) process.env.PATH = `${bin}:${process.env.PATH}`;
	if (!existsSync(join(options.mqttc, "manifest.json"))) usage(`${options.mqttc} holds no mqttc manifest.json`);

	const out = options.out ?? mkdtempSync(join(tmpdir(), "mqttc-mcsim-"));
	mkdirSync(out, { recursive: true });
	// "--only 6" selects 6a and 6b; "--only 4b" selects the graceful app (4 and 4b)
	const group = (name) => name.replace(/[a-z]$/, "");
	const wanted = (name) => !options.only || [...options.only].some((o) => o === name || group(o) === group(name));
	const results = [];
	const report = (name, why) => {
		results.push(!why);
		console.log(why ? `FAIL ${name}: ${why}` : `PASS ${name}`);
	};
	const cleanups = [];
	const buildOrFail = async (app, config, names) => {
		try {
			return await build(app, config, { mqttc: options.mqttc, out });
		} catch (error) {
			for (const name of names) report(name, error.message);
		}
	};
	console.log(`mcsim-check: mqttc ${options.mqttc}, SDK ${process.env.MODDABLE}, out ${out}`);
	try {
		const broker = await startBroker();
		cleanups.push(() => broker.stop());
		const host = "127.0.0.1";

		const eventNames = ["1 sent of a QoS 0 publish after publish() returned its id",
			"2 disconnect event after disconnect() returned",
			"3 no nested event in a handler that calls the API"];
		if (["1", "2", "3"].some(wanted)) {
			const so = await buildOrFail("events", { host, port: broker.port, topic: "mqttc/sdkcheck/events" }, eventNames);
			if (so) {
				const lines = await simulate(so, 40);
				report(eventNames[0], checkSentAfterReturn(lines));
				report(eventNames[1], checkDisconnectAfterReturn(lines));
				report(eventNames[2], checkNoNestedEvent(lines));
			}
		}

		if (wanted("4")) {
			const name = "4 graceful disconnect with 20 KB queued: delivered, DISCONNECT logged, no will";
			const config = { host, port: broker.port, topic: "mqttc/sdkcheck/graceful", will: "mqttc/sdkcheck/will", id: "sdkcheck-graceful" };
			const settled = "4b graceful disconnect: the QoS 1 message is settled (sent) before the disconnect event";
			const so = await buildOrFail("graceful", config, [name, settled]);
			if (so) {
				const { lines, why } = await checkGracefulDisconnect(so, broker, config);
				report(name, why);
				report(settled, checkQos1Settled(lines));
			}
		}

		if (wanted("5")) {
			const name = "5 refused connect gives error connect and disconnect connect";
			const so = await buildOrFail("refused", { host, port: await freePort() }, [name]);
			if (so) report(name, checkRefused(await simulate(so, 30)));
		}

		const tlsNames = ["6a TLS: wrong CA refused before and after a verified session",
			"6b TLS: wrong CA refused after a verify:0 session"];
		if (wanted("6a") || wanted("6b")) {
			const certs = makeCerts();
			cleanups.push(() => certs.cleanup());
			const port = await freePort();
			const tlsBroker = await startBroker({
				listener: false,
				port,
				lines: [
					// started as root, mosquitto drops to its own user and could not write its log
					...(process.getuid?.() === 0 ? ["user root"] : []),
					`listener ${port} 127.0.0.1`,
					`cafile ${certs.ca.path}`,
					`certfile ${certs.server.chain}`,
					`keyfile ${certs.server.key}`,
					"tls_version tlsv1.2",
				],
			});
			cleanups.push(() => tlsBroker.stop());
			const config = { host, port, otherHost: "localhost", ca: certs.ca.der.toString("base64"), wrong: certs.other.der.toString("base64") };
			const so = await buildOrFail("tls", config, tlsNames);
			if (so) {
				// a full RSA handshake in the simulator takes about a second
				const lines = await simulate(so, 90);
				if (wanted("6a")) report(tlsNames[0], checkTls(lines, { "wrong-ca-first": "failed", "right-ca": "connected", "wrong-ca-after-right": "failed" }));
				if (wanted("6b")) report(tlsNames[1], checkTls(lines, { "verify0": "connected", "wrong-ca-after-verify0": "failed" }));
			}
		}
	} finally {
		for (const cleanup of cleanups.reverse()) await cleanup();
		if (!options.out) rmSync(out, { recursive: true, force: true });
	}
	const passed = results.filter(Boolean).length;
	console.log(`${passed} passed, ${results.length - passed} failed`);
	process.exitCode = passed === results.length ? 0 : 1;
}

main().catch((error) => {
	console.error(`mcsim-check: ${error.stack ?? error}`);
	process.exit(2);
});
