// Benchmark (not a test): guest instructions per MQTT message on the Xtensa host (XS for
// an emulated lx106, QEMU -icount shift=0, so the counts are exact to 25 instructions and
// repeat run to run), against mosquitto. Prints a table; asserts nothing.
//   node tests/xtensa.bench.mjs [messages]        (make bench-xtensa)
// publish(): the instructions inside the publish() call, the mean (with any garbage
// collection that fell in one of the calls) and the median (a call without); publish, all in: everything from
// the first publish() until the last `sent` (acks and socket callbacks included), per
// message; receive: from the first received message to the last, per message (decoding,
// the recv handler, PUBACK/PUBREC/PUBCOMP for QoS 1 and 2). 16-byte payloads.
// Two heaps: the ESP32 manifest's creation (garbage collections happen, and here they also
// mark the loaded modules a device keeps in flash) and 1 MB (no collection in the run).
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker } from "./lib/broker.mjs";
import { buildGuest } from "../hosts/xtensa/build.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUN = path.join(ROOT, "hosts", "xtensa", "run.mjs");
const APP = path.join(ROOT, "tests", "apps", "xtensa-scenario");
const N = Number(process.argv[2] ?? 20);

/** Run the scenario app until a line matches; resolve with the line. */
function runUntil(args, re, onLine) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [RUN, APP, ...args, "--until", re.source, "--timeout", "120"], { stdio: ["ignore", "pipe", "inherit"] });
		let out = "";
		let found;
		child.stdout.setEncoding("utf8");
		child.stdout.on("data", (text) => {
			out += text;
			for (const line of out.split("\n")) {
				if (!found && re.test(line)) found = line;
				onLine?.(line);
			}
		});
		child.on("exit", (code) => (found ? resolve(found) : reject(new Error(`exit ${code} without ${re}:\n${out}`))));
	});
}

await buildGuest({ log: (line) => process.stderr.write(line + "\n") });
const broker = await startBroker();
const rows = [];
try {
	for (const [heapName, heapArgs] of [["ESP32 creation", []], ["1 MB", ["--heap", String(1 << 20)]]])
	for (const qos of [0, 1, 2]) {
		const line = await runUntil([...heapArgs, `port=${broker.port}`, "scenario=bench", `qos=${qos}`, `count=${N}`, "topic=bench/nobody"], /^bench qos=/);
		const publish = Number(/publish=(\d+)/.exec(line)[1]);
		const median = Number(/median=(\d+)/.exec(line)[1]);
		const total = Number(/total=(\d+)/.exec(line)[1]);
		let subscribed;
		const ready = new Promise((resolve) => { subscribed = resolve; });
		const receiving = runUntil([...heapArgs, `port=${broker.port}`, "scenario=listen", `count=${N}`, "topic=bench/in"], /^bench-recv /,
			(l) => { if (l.startsWith("subscribed")) subscribed(); });
		await ready;
		const lines = Array.from({ length: N }, (_, i) => `m${String(i).padStart(15, "0")}`).join("\n");
		await new Promise((resolve, reject) => {
			const pub = spawn("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(broker.port), "-t", "bench/in", "-q", String(qos), "-l"], { stdio: ["pipe", "ignore", "inherit"] });
			pub.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`mosquitto_pub ${code}`))));
			pub.stdin.end(lines + "\n");
		});
		const recvLine = await receiving;
		const receive = Number(/perMessage=(\d+)/.exec(recvLine)[1]);
		rows.push({ heap: heapName, qos, "publish() call": publish, "publish() median": median, "publish, all in": total, "receive": receive });
	}
}
finally {
	await broker.stop();
}
console.log(`Xtensa host (lx106, QEMU -icount shift=0): guest instructions per message, ${N} messages of 16 bytes`);
console.table(rows);
