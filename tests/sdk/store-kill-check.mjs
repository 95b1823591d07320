#!/usr/bin/env node
// The durable session (mqttc/store) in the real Moddable simulator (mcsim, the SDK's File on
// lin: a plain file under /tmp/), killed and started again: the app tests/apps/store
// publishes a numbered QoS 1/2 stream through a Store to a real mosquitto on 127.0.0.1; the
// driver SIGKILLs the mcsim process a random 300-1500 ms after its first "accepted" line,
// several times (each run a new process on the same store file), then runs a drain build of
// the same app until "drained". A mosquitto_sub with its own persistent session counts what
// arrived. Not part of `node --test tests/`: it needs a built Moddable SDK.
//
//   node tests/sdk/store-kill-check.mjs [--mqttc DIR] [--out DIR] [--kills N]
//
//   --mqttc DIR  the mqttc checkout to test (default: the one holding this script); its
//                tests/apps/store is built
//   --out DIR    mcconfig's output folder, reused between runs (default: a fresh temporary
//                folder, removed afterwards). A first build compiles XS: ~2 min on 2 cores.
//   --kills N    runs killed with SIGKILL (default 10, at least 8 for a PASS)
//
//   MCSIM_TRACE=1           echo the app's trace lines
//
// Prints one line per run, the counts, and `PASS ...` or `FAIL ...: why`; exits 1 when it
// failed, 2 when it could not run at all. See tests/sdk/README.md.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker, mosquittoSub } from "../lib/broker.mjs";
import { usage as runnerUsage, requireSimulator, cleanupOnExit, run, launch } from "./runner.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const TOOL = "store-kill-check";
const usage = (message) => runnerUsage(TOOL, message);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const MIN_KILLS = 8;
const COUNT = 400;           // messages per stream run: more than a run lives to accept
const PAD = 100;             // payload padding, bytes
const KILL_AFTER = [300, 1500];   // ms after the first "accepted" line
const ROOT = "/tmp/";        // config.file.root of the SDK's File on lin

function parse(argv) {
	const options = { mqttc: resolve(here, "../.."), out: undefined, kills: 10 };
	for (let i = 0; i < argv.length; i++) {
		const value = () => argv[++i] ?? usage(`${argv[i - 1]} needs a value`);
		switch (argv[i]) {
		case "--mqttc": options.mqttc = resolve(value()); break;
		case "--out": options.out = resolve(value()); break;
		case "--kills": options.kills = Number(value()); break;
		default: usage(`unknown argument ${argv[i]}`);
		}
	}
	if (!(options.kills >= 1)) usage("--kills needs a positive number");
	return options;
}

/**
 * Builds the store app with mcconfig as `<out>/apps/<name>`: a manifest there includes the
 * app's and sets `config` as numbers (mcconfig's key=value gives strings, and the app, made
 * for the XS host, takes its port and count as numbers). Throws with the build's tail on
 * failure; returns the mc.so.
 */
async function build(app, name, config, { mqttc, out }) {
	const dir = join(out, "apps", name);
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, "manifest.json"), JSON.stringify({ include: [join(app, "manifest.json")], config }, null, "\t") + "\n");
	const args = ["-m", "-p", "lin", "-t", "build", "-o", out, join(dir, "manifest.json")];
	const { code, output } = await run("mcconfig", args, { cwd: dir, env: { ...process.env, MQTTC: mqttc } });
	if (code !== 0) throw new Error(`mcconfig of ${app} (${name}) failed (${code}): ${output.trim().split("\n").slice(-6).join(" | ")}`);
	return join(out, "bin", "lin", "mc", "release", name, "mc.so");
}

/**
 * The pids of the mcsim processes running `so` (runner.mjs's launch() does not hand out its
 * child: xvfb-run -> timeout (its own process group) -> stdbuf, which execs mcsim).
 */
function mcsimPids(so) {
	const pids = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const argv = readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0");
			if (basename(argv[0]) === "mcsim" && argv[1] === so) pids.push(Number(entry));
		} catch { /* gone meanwhile */ }
	}
	return pids;
}

const fileSize = (path) => { try { return statSync(path).size; } catch { return undefined; } };

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

const removeStore = (store) => {
	for (const ext of [".mq", ".tmp"]) rmSync(`${ROOT}${store}${ext}`, { force: true });
};

const RESTORED = /^restored (\d+) received (\d+) unreadable (\d+)$/;
const ACCEPTED = /^accepted (\d+:\d+) \d+$/;
const FULL = /^error tx (outbox|store) full /;

/** One run's trace summarised. */
function summarise(lines) {
	const restored = lines.map((l) => RESTORED.exec(l)).find(Boolean);
	const accepted = lines.map((l) => ACCEPTED.exec(l)).filter(Boolean).map((m) => m[1]);
	return {
		restored: restored ? Number(restored[1]) : undefined,
		receivedIds: restored ? Number(restored[2]) : undefined,
		unreadable: restored ? Number(restored[3]) : undefined,
		accepted,
		sent: lines.filter((l) => /^sent \d+$/.test(l)).length,
		conacks: lines.filter((l) => l === "conack").length,
		// publish() refused while the outbox or store is full is the app's flow control (it
		// publishes again at `sent`), not an error
		full: lines.filter((l) => FULL.test(l)),
		errors: lines.filter((l) => (l.startsWith("error ") && !FULL.test(l)) || l.startsWith("store error") || l.startsWith("XS abort")),
		streamDone: lines.includes("stream done"),
		drained: lines.includes("drained"),
	};
}

/** Runs the stream build and SIGKILLs its mcsim `delay` ms after the first "accepted" line. */
async function killedRun(so, delay) {
	if (mcsimPids(so).length) throw new Error(`an mcsim of ${so} is still running before the run`);
	const sim = launch(so, 120);
	const first = await sim.waitFor(/^accepted |^XS abort|^store error/, 30000);
	if (first < 0 || !sim.lines[first].startsWith("accepted ")) {
		sim.stop();
		const lines = await sim.done;
		return { lines, killed: false, why: `no "accepted" line${first < 0 ? " within 30 s" : ""}: ${lines.slice(-6).join(" | ") || "(no trace)"}` };
	}
	await sleep(delay);
	const pids = mcsimPids(so);
	if (pids.length !== 1) {
		sim.stop();
		return { lines: await sim.done, killed: false, why: `found ${pids.length} mcsim processes of ${so}, want 1` };
	}
	const linesAtKill = sim.lines.length;
	process.kill(pids[0], "SIGKILL");
	// timeout sees its child die and exits, xvfb-run ends its Xvfb: launch()'s `done`
	const lines = await Promise.race([sim.done, sleep(15000).then(() => { sim.stop(); return sim.done; })]);
	for (let i = 0; alive(pids[0]) && i < 50; i++) await sleep(100);
	if (alive(pids[0])) throw new Error(`mcsim ${pids[0]} survived SIGKILL`);
	return { lines, killed: true, pid: pids[0], late: lines.length - linesAtKill };
}

async function main() {
	const options = parse(process.argv.slice(2));
	requireSimulator(TOOL);
	const app = join(options.mqttc, "tests", "apps", "store");
	if (!existsSync(join(options.mqttc, "manifest_store.json")) || !existsSync(join(app, "manifest.json")))
		usage(`${options.mqttc} holds no manifest_store.json or tests/apps/store`);
	if (!existsSync("/proc/self/cmdline")) usage("needs /proc to find the mcsim process");

	const out = options.out ?? mkdtempSync(join(tmpdir(), "mqttc-store-kill-"));
	mkdirSync(out, { recursive: true });
	const tag = `kill${process.pid}`;
	const store = tag;                    // /tmp/<store>.mq in the simulator
	const id = `${tag}-device`;
	const cleanups = cleanupOnExit();
	console.log(`${TOOL}: mqttc ${options.mqttc}, SDK ${process.env.MODDABLE}, out ${out}, store ${ROOT}${store}.mq`);
	let why;
	try {
		const broker = await startBroker();
		cleanups.push(() => broker.stop());
		const sub = await mosquittoSub(broker.port, ["-c", "-i", `${tag}-sub`, "-q", "2", "-t", "stream/#"]);
		cleanups.push(() => sub.stop());
		removeStore(store);
		cleanups.push(() => removeStore(store));

		const config = { port: broker.port, id, store, count: COUNT, qos: "mix", pad: PAD, life: 0 };
		let streamSo, drainSo;
		try {
			streamSo = await build(app, "store-stream", { ...config, mode: "stream" }, { mqttc: options.mqttc, out });
			drainSo = await build(app, "store-drain", { ...config, mode: "drain" }, { mqttc: options.mqttc, out });
		} catch (error) {
			console.log(`FAIL build: ${error.message}`);
			process.exitCode = 1;
			return;
		}

		const logs = join(out, "logs");      // each run's trace, and the subscriber's lines
		rmSync(logs, { recursive: true, force: true });
		mkdirSync(logs, { recursive: true });
		const accepted = new Map();          // "life:seq" -> qos
		const runs = [];
		let tmpLeftBehind = 0;
		for (let n = 1; n <= options.kills; n++) {
			const delay = KILL_AFTER[0] + Math.floor(Math.random() * (KILL_AFTER[1] - KILL_AFTER[0]));
			const started = Date.now();
			const result = await killedRun(streamSo, delay);
			// what the kill left on storage: the log's size, and a rewrite's copy if it fell in one
			const left = fileSize(`${ROOT}${store}.mq`);
			const tmpLeft = fileSize(`${ROOT}${store}.tmp`);
			if (tmpLeft !== undefined) tmpLeftBehind++;
			writeFileSync(join(logs, `run-${n}.log`), result.lines.join("\n") + "\n");
			const s = summarise(result.lines);
			for (const name of s.accepted) accepted.set(name, Number(name.split(":")[1]) & 1 ? 2 : 1);
			runs.push({ ...s, killed: result.killed });
			console.log(`run ${n}: ${result.killed ? `SIGKILL mcsim ${result.pid} ${delay} ms after the first accepted` : `not killed (${result.why})`}; ` +
				`restored ${s.restored} received ${s.receivedIds} unreadable ${s.unreadable}; accepted ${s.accepted.length}, sent ${s.sent}, conack ${s.conacks}` +
				`${s.streamDone ? ", stream done before the kill" : ""}${s.full.length ? `, ${s.full.length} publish() refused (${[...new Set(s.full.map((l) => l.slice("error tx ".length)))].join(", ")})` : ""}` +
				`${s.errors.length ? `; ${s.errors.slice(0, 3).join("; ")}` : ""}; left ${left ?? "no"} bytes of log${tmpLeft !== undefined ? ` and a ${tmpLeft}-byte rewrite (.tmp)` : ""}` +
				`; ${((Date.now() - started) / 1000).toFixed(1)} s`);
			if (result.late) console.log(`  ${result.late} line(s) arrived after the kill was sent`);
			if (!result.killed) break;          // it will not get better: count what there is
		}

		// The same device, powered on for good: what is stored goes out.
		const last = launch(drainSo, 60);
		const drainedAt = await last.waitFor(/^drained$|^XS abort|^store error/, 30000).then((i) => (i >= 0 && last.lines[i] === "drained" ? i : -1));
		last.stop();
		const drainLines = await last.done;
		writeFileSync(join(logs, "drain.log"), drainLines.join("\n") + "\n");
		const d = summarise(drainLines);
		console.log(`drain run: restored ${d.restored} received ${d.receivedIds} unreadable ${d.unreadable}; sent ${d.sent}, conack ${d.conacks}; ` +
			`${drainedAt >= 0 ? "drained" : `no "drained" within 30 s: ${drainLines.slice(-6).join(" | ") || "(no trace)"}`}` +
			`${d.errors.length ? `; ${d.errors.slice(0, 3).join("; ")}` : ""}`);

		const received = new Map();
		const deadline = Date.now() + 15000;
		for (;;) {
			received.clear();
			for (const line of sub.lines) {
				const payload = line.split(" ")[1] ?? "";
				const name = payload.split(":").slice(0, 2).join(":");
				received.set(name, (received.get(name) ?? 0) + 1);
			}
			if ([...accepted.keys()].every((name) => received.has(name)) || Date.now() > deadline) break;
			await sleep(200);
		}
		writeFileSync(join(logs, "subscriber.log"), sub.lines.join("\n") + "\n");
		const lost = [...accepted.keys()].filter((name) => !received.has(name));
		// killed after a message was on storage and before its "accepted" line left the process
		const unannounced = [...received.keys()].filter((name) => !accepted.has(name));
		const qos2Duplicates = [...received].filter(([name, times]) => times > 1 && Number(name.split(":")[1]) & 1);
		const qos1Duplicates = [...received].filter(([name, times]) => times > 1 && !(Number(name.split(":")[1]) & 1));
		const kills = runs.filter((r) => r.killed).length;
		const restoringRuns = runs.filter((r) => r.restored > 0).length + (d.restored > 0 ? 1 : 0);
		const torn = runs.filter((r) => r.unreadable > 0).length + (d.unreadable > 0 ? 1 : 0);

		console.log(`restored per run: ${runs.map((r) => r.restored).join(", ")}; drain ${d.restored}`);
		console.log(`unreadable bytes per run: ${runs.map((r) => r.unreadable).join(", ")}; drain ${d.unreadable}`);
		console.log(`accepted per run: ${runs.map((r) => r.accepted.length).join(", ")}`);
		console.log(`${kills} kills, ${accepted.size} accepted, ${received.size} received (distinct; ${sub.lines.length} deliveries), ` +
			`${unannounced.length} received but never announced as accepted, ${lost.length} lost, ` +
			`${qos2Duplicates.length} QoS 2 duplicates, ${qos1Duplicates.length} QoS 1 duplicates, ` +
			`${restoringRuns} runs restored > 0, ${torn} runs found torn records, ${tmpLeftBehind} kills left a rewrite (.tmp) behind`);

		const problems = [];
		if (lost.length) problems.push(`${lost.length} accepted messages lost (${lost.slice(0, 5).join(", ")}${lost.length > 5 ? ", ..." : ""})`);
		if (qos2Duplicates.length) problems.push(`${qos2Duplicates.length} QoS 2 messages delivered twice (${qos2Duplicates.slice(0, 5).map(([n, t]) => `${n} x${t}`).join(", ")})`);
		if (kills < MIN_KILLS) problems.push(`only ${kills} kills (want ${MIN_KILLS})`);
		if (restoringRuns === 0) problems.push("no run restored a message");
		if (drainedAt < 0) problems.push("the drain run did not drain");
		if (accepted.size === 0) problems.push("nothing was accepted");
		why = problems.join("; ") || undefined;
	} finally {
		for (const cleanup of cleanups.reverse()) await cleanup();
		if (!options.out) rmSync(out, { recursive: true, force: true });
	}
	if (why === undefined && process.exitCode) return;
	const name = `store in mcsim: ${options.kills} SIGKILLs in a QoS 1/2 stream, nothing accepted is lost, no QoS 2 duplicate`;
	console.log(why ? `FAIL ${name}: ${why}` : `PASS ${name}`);
	process.exitCode = why ? 1 : 0;
}

main().catch((error) => {
	console.error(`${TOOL}: ${error.stack ?? error}`);
	process.exit(2);
});
