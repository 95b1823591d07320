// Benchmark of the durable session (mqttc/store), not a test: `node tests/store.bench.mjs`.
// Needs mosquitto. Prints, with and without the store:
//  - messages per second of a QoS 1 / QoS 2 stream on the XS host against mosquitto (the
//    host's file model is Node behind a synchronous call: a device's flash is slower);
//  - bytes written to storage per message (the host's file model counts them);
//  - guest instructions per message on the Xtensa tier (XS for lx106 under QEMU, the file
//    module in C over a channel to Node), and the instructions to read (restore) a full store.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startApp } from "../hosts/xs/host.mjs";
import { startBroker, freePort } from "./lib/broker.mjs";
import { buildGuest } from "../hosts/xtensa/build.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const APP = path.join(ROOT, "tests/apps/store");
const XTENSA = path.join(ROOT, "hosts/xtensa/run.mjs");

const broker = await startBroker();
const temp = () => fs.mkdtempSync(path.join(os.tmpdir(), "mqttc-store-bench-"));

/** One stream on the XS host: {perSecond, bytesPerMessage, commitsPerMessage}; on the esp32
 * profile the file model is LittleFS's, whose `changes` are the commits (closes that wrote). */
async function stream({ qos, pad, count, nostore = false, id, platform = "lin" }) {
	const storage = temp();
	const app = await startApp(APP, { config: { port: broker.port, id, qos, pad, count, nostore, inflight: 10, size: 1 << 20 }, storage, platform, stdout: false });
	await app.waitFor(/^restored/m, 10000);
	const start = Date.now();
	await app.waitFor(/^stream done$/m, 120000);
	const ms = Date.now() - start;
	await new Promise((resolve) => setTimeout(resolve, 1500));     // the last DONE records: written within 1 s
	const bytes = app.files.stored, changes = app.files.changes;
	await app.stop();
	fs.rmSync(storage, { recursive: true, force: true });
	return { perSecond: Math.round(count / ms * 1000), bytesPerMessage: nostore ? 0 : Math.round(bytes / count), commitsPerMessage: changes / count };
}

/** A run on the Xtensa host; returns its output. */
function xtensa(args) {
	const result = spawnSync(process.execPath, [XTENSA, APP, ...args, "--timeout", "120"], { encoding: "utf8" });
	if (result.status !== 0) throw new Error(`xtensa run ended ${result.status}: ${result.stdout.slice(-500)} ${result.stderr.slice(-500)}`);
	return result.stdout;
}
const figure = (output, name) => Number(new RegExp(`^${name} instructions (\\d+)$`, "m").exec(output)?.[1]);

console.log("## Stream on the XS host against mosquitto (300 messages, inflight 10, topic "stream/1": 8 bytes)\n");
console.log("| QoS | payload | msgs/s without store | msgs/s with store | bytes written per message | message on the wire |");
console.log("|---|---|---|---|---|---|");
let n = 0;
for (const qos of [1, 2]) {
	for (const pad of [16, 100, 1000]) {
		const without = await stream({ qos, pad, count: 300, nostore: true, id: `bench-${n++}` });
		const withStore = await stream({ qos, pad, count: 300, id: `bench-${n++}` });
		const payload = 6 + pad;        // "1:<seq>:" + pad, seq mostly of 3 digits
		console.log(`| ${qos} | ${payload} B | ${without.perSecond} | ${withStore.perSecond} | ${withStore.bytesPerMessage} | ${2 + 2 + 8 + 2 + payload} B |`);
	}
}

console.log("\n## LittleFS: commits per message, and the erases they cost\n");
console.log("Each commit (a close() that wrote) of a file whose last block is partial copies that block to a");
console.log("freshly erased one (littlefs's lfs_ctz_extend): one erase per commit, spread by LittleFS over the");
console.log("partition's free blocks. Steady stream of 300 messages, 100-byte payload; an isolated message adds");
console.log("the DONE record's own commit 1 s after its acknowledgement.\n");
console.log("| QoS | commits per message, stream | isolated message |");
console.log("|---|---|---|");
for (const qos of [1, 2]) {
	const littlefs = await stream({ qos, pad: 100, count: 300, id: `bench-lfs-${qos}`, platform: "esp32" });
	console.log(`| ${qos} | ${littlefs.commitsPerMessage.toFixed(2)} | ${qos + 1} |`);
}

await buildGuest();
console.log("\n## Xtensa (lx106 under QEMU, fixed ESP32 heap): guest instructions per publish() call\n");
console.log("(50 messages published while the broker is unreachable, so they are queued: the call alone, its garbage collections included; deterministic)\n");
console.log("| QoS | payload | without store | with store | the store's part |");
console.log("|---|---|---|---|---|");
const unreachable = await freePort();
for (const qos of [1, 2]) {
	for (const pad of [16, 100, 1000]) {
		const args = [`port=${unreachable}`, "count=50", `qos=${qos}`, `pad=${pad}`, "size=262144", "--heap", "262144", "--until", "^publish instructions"];
		const per = (output) => Number(/^publish instructions (\d+)/m.exec(output)[1]);
		const without = per(xtensa([...args, "nostore=true", "--storage", temp()]));
		const withStore = per(xtensa([...args, "--storage", temp()]));
		console.log(`| ${qos} | ${pad + 4} B | ${Math.round(without / 1000)} k | ${Math.round(withStore / 1000)} k | +${Math.round((withStore - without) / 1000)} k |`);
	}
}

console.log("\n## Restore (reading the store when the app makes its Store), Xtensa instructions\n");
console.log("| store size | messages restored | instructions | heap |");
console.log("|---|---|---|---|");
const closed = unreachable;
for (const [size, heap] of [[4096, 65536], [16384, 65536], [32768, 262144]]) {
	const storage = temp();
	// Fill it: no broker, 100-byte payloads until the store (or the outbox, 16384 B) refuses.
	xtensa([`port=${closed}`, `size=${size}`, "count=1000", "qos=1", "pad=84", "--heap", String(heap), "--storage", storage, "--until", "^error tx (store|outbox) full"]);
	const output = xtensa([`port=${closed}`, `size=${size}`, "mode=drain", "--heap", String(heap), "--storage", storage, "--until", "^restored "]);
	const restored = /^restored (\d+)/m.exec(output)[1];
	console.log(`| ${size} B | ${restored} | ${Math.round(figure(output, "restore") / 1000)} k | ${heap} B |`);
	fs.rmSync(storage, { recursive: true, force: true });
}
const empty = xtensa([`port=${closed}`, "mode=drain", "--storage", temp(), "--until", "^restored "]);
console.log(`| (none) | 0 | ${Math.round(figure(empty, "restore") / 1000)} k | 65536 B |`);

await broker.stop();
