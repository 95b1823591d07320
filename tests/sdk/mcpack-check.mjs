#!/usr/bin/env node
// The npm package in the real simulator: `npm pack` of a copy of the mqttc checkout, then
// six apps (tests/sdk/pack-plain, pack-tls, pack-at, pack-store, pack-ws, pack-io), each copied to a temporary folder,
// `npm install <tarball>`, built with the SDK's mcpack (`mcpack mcconfig -m -p lin -t build`)
// and run in mcsim under xvfb-run against mosquitto on 127.0.0.1 until it traces DONE.
// See docs/npm-package.md. Not part of `node --test tests/`: it needs a built Moddable SDK.
//
//   node tests/sdk/mcpack-check.mjs [--mqttc DIR] [--out DIR] [--only plain,tls,at,store,ws,io]
//
//   --mqttc DIR  the mqttc checkout to pack (default: the one holding this script)
//   --out DIR    mcconfig's output folder, reused between runs (default: a temporary one)
//   --only LIST  run only these apps
//
// Prints `PASS name` or `FAIL name: why` per app and `N passed, N failed`; exits 1 when one
// failed, 2 when it could not run. MCSIM_TRACE=1 echoes the apps' trace lines. mcpack writes
// its generated manifest to $MODDABLE/build/tmp/<app name> whatever --out says.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker, startTlsBroker, freePort } from "../lib/broker.mjs";
import { makeCerts } from "../lib/certs.mjs";
import { usage as runnerUsage, parseArguments, run, simulate as simulateApp, find } from "./runner.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

const usage = (message) => runnerUsage("mcpack-check", message);

/** `npm pack` in a copy of the checkout (node_modules shared), so dist/ is not written there. */
function pack(mqttc, tmp) {
	const source = path.join(tmp, "mqttc");
	const skip = new Set(["node_modules", ".git", "dist", "build"].map((name) => path.join(mqttc, name)));
	fs.cpSync(mqttc, source, { recursive: true, filter: (from) => !skip.has(from) });
	fs.symlinkSync(fs.realpathSync(path.join(mqttc, "node_modules")), path.join(source, "node_modules"), "dir");
	const out = execFileSync("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: source, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
	return path.join(tmp, JSON.parse(out)[0].filename);
}

/** Copies tests/sdk/<app> to tmp, installs the tarball, builds it with mcpack; returns mc.so. */
async function build(app, { tmp, out, tarball, config, files = {} }) {
	const dir = path.join(tmp, app);
	fs.cpSync(path.join(here, app), dir, { recursive: true });
	fs.copyFileSync(path.join(here, "pack-roundtrip.js"), path.join(dir, "roundtrip.js"));   // what plain, tls, ws and io share
	for (const [name, text] of Object.entries(files))
		fs.writeFileSync(path.join(dir, name), text);
	execFileSync("npm", ["install", tarball, "--offline", "--no-audit", "--no-fund", "--no-package-lock"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
	const args = ["mcconfig", "-m", "-p", "lin", "-t", "build", "-o", out, ...Object.entries(config).map(([k, v]) => `${k}=${v}`)];
	const { code, output } = await run("mcpack", args, { cwd: dir });
	if (code !== 0) throw new Error(`mcpack of ${app} failed (${code}): ${output.trim().split("\n").slice(-6).join(" | ")}`);
	const name = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).name;
	return path.join(out, "bin", "lin", "mc", "release", name, "mc.so");
}

/** Runs mc.so in mcsim until it traces DONE (and 300 ms more, for the lines after it). */
const simulate = (so, seconds) => simulateApp(so, seconds, 300);

const tail = (lines) => lines.slice(-6).join(" | ") || "(no trace)";

/** The client apps: the line of what the build carries (the TLS line unless given), 5 recv at QoS 1, DONE. */
function checkClient(lines, { tls, topic, carried = `TLS carried: ${tls} securesocket: ${tls}` }) {
	if (!lines.includes(carried)) return `no "${carried}" line: ${tail(lines)}`;
	const recv = lines.filter((line) => new RegExp(`^recv ${topic} "message \\d" qos=1 id=\\d+$`).test(line));
	if (recv.length !== 5) return `${recv.length} recv lines, not 5: ${tail(lines)}`;
	if (!lines.includes("DONE received 5 sent 5")) return `no DONE: ${tail(lines)}`;
}

function checkAt(lines) {
	for (const expected of ["< mqttc-at 0.1.0", "< +ECMTOPEN: 0,0", "< +ECMTCONN: 0,0,0", "< +ECMTSUB: 0,1,0,1",
		`< +ECMTRECV: 0,1,"mcpack/at","hello"`, "< +ECMTPUB: 0,2,0", "DONE"])
		if (!lines.includes(expected)) return `no "${expected}" line: ${tail(lines)}`;
}

async function main() {
	const options = parseArguments("mcpack-check", process.argv.slice(2), path.resolve(here, "../.."));
	if (!process.env.MODDABLE) usage("MODDABLE is not set (see tests/sdk/README.md)");
	const which = await run("mcpack", [], { cwd: os.tmpdir() });   // "no action!", or ENOENT (-1)
	if (which.code === -1) usage("mcpack is not on PATH ($MODDABLE/build/bin/lin/release)");
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mcpack-check-"));
	const out = options.out ?? path.join(tmp, "out");
	fs.mkdirSync(out, { recursive: true });
	const cleanups = [() => fs.rmSync(tmp, { recursive: true, force: true })];
	const results = [];
	const wanted = (name) => !options.only || options.only.has(name);
	const scenario = async (name, body) => {
		if (!wanted(name)) return;
		try {
			const why = await body();
			results.push(!why);
			console.log(why ? `FAIL ${name}: ${why}` : `PASS ${name}`);
		}
		catch (error) {
			results.push(false);
			console.log(`FAIL ${name}: ${error.message}`);
		}
	};
	try {
		const tarball = pack(options.mqttc, tmp);
		console.log(`packed ${path.basename(tarball)}`);
		const broker = await startBroker();
		cleanups.push(() => broker.stop());
		const config = { host: "127.0.0.1", port: broker.port };

		await scenario("plain", async () => {
			const so = await build("pack-plain", { tmp, out, tarball, config });
			return checkClient(await simulate(so, 30), { tls: false, topic: "mcpack/plain" });
		});
		await scenario("tls", async () => {
			const certs = makeCerts();
			cleanups.push(() => certs.cleanup());
			process.env.OPENSSL_CONF = certs.tls12Config;   // Moddable's TLS is 1.2: so is the broker
			const tlsBroker = await startTlsBroker(certs, { listeners: [{ requireCertificate: true }] });
			const port = tlsBroker.port;
			cleanups.push(() => tlsBroker.stop());
			const files = { "certs.js": `export default ${JSON.stringify({ ca: certs.ca.pem, cert: certs.client.pem, key: certs.client.key })};\n` };
			const so = await build("pack-tls", { tmp, out, tarball, config: { host: "127.0.0.1", port }, files });
			const lines = await simulate(so, 30);
			return checkClient(lines, { tls: true, topic: "mcpack/tls" })
				?? (/CN=mqttc-device|as auto-/.test(tlsBroker.log()) ? undefined : "the broker logged no client");
		});
		await scenario("at", async () => {
			const so = await build("pack-at", { tmp, out, tarball, config });
			return checkAt(await simulate(so, 30));
		});
		await scenario("ws", async () => {
			const { startAedesWs } = await import("../lib/ws-broker.mjs");
			const wsBroker = await startAedesWs();
			cleanups.push(() => wsBroker.stop());
			const so = await build("pack-ws", { tmp, out, tarball, config: { host: "127.0.0.1", port: wsBroker.port } });
			const lines = await simulate(so, 30);
			if (find(lines, /^DONE received 5 sent 5$/) < 0) return `no DONE: ${tail(lines)}`;
			if (wsBroker.upgrades[0]?.["sec-websocket-protocol"] !== "mqtt") return "no WebSocket upgrade with subprotocol mqtt";
		});
		await scenario("io", async () => {
			// opts.io: the SDK's ECMA-419 TCP socket, which takes an IP address (config.host).
			const so = await build("pack-io", { tmp, out, tarball, config });
			return checkClient(await simulate(so, 30), { topic: "mcpack/io", carried: "IO carried: true tcp: true TLS carried: false" });
		});
		await scenario("store", async () => {
			// Two boots on one store file (/tmp/<store>.mq in the simulator): the first, with no
			// broker, stores 5 messages; the second restores and delivers them.
			const store = `pack${process.pid}`;
			const file = path.join("/tmp", `${store}.mq`);
			cleanups.push(() => fs.rmSync(file, { force: true }));
			const closed = await freePort();
			const first = await simulate(await build("pack-store", { tmp, out, tarball, config: { host: "127.0.0.1", port: closed, phase: 1, store } }), 30);
			if (find(first, /^DONE accepted 5$/) < 0) return `first boot: ${tail(first)}`;
			if (!fs.existsSync(file)) return `no ${file} after the first boot`;
			const second = await simulate(await build("pack-store", { tmp, out, tarball, config: { ...config, phase: 2, store } }), 30);
			if (find(second, /^restored 5 unreadable 0$/) < 0 || find(second, /^DONE restored 5 sent 5$/) < 0) return `second boot: ${tail(second)}`;
		});
	}
	finally {
		for (const cleanup of cleanups.reverse()) await cleanup();
	}
	const passed = results.filter(Boolean).length;
	console.log(`${passed} passed, ${results.length - passed} failed`);
	process.exit(passed === results.length ? 0 : 1);
}

main().catch((error) => {
	console.error(`mcpack-check: ${error.stack ?? error.message}`);
	process.exit(2);
});
