// The durable session on the Xtensa tier: tests/apps/store on the fixed ESP32 heap and stack
// (hosts/esp32/manifest.json's creation values), its store in a --storage directory. A
// device that cannot reach its broker fills its store; a second boot, with the broker up,
// restores every message from the file and delivers it (counted at mosquitto_sub).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker, mosquittoSub, freePort } from "./lib/broker.mjs";
import { buildGuest } from "../hosts/xtensa/build.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUN = path.join(ROOT, "hosts", "xtensa", "run.mjs");
const APP = path.join(ROOT, "tests", "apps", "store");

before(async () => {
	await buildGuest();
});

function run(args) {
	// run.mjs fixes the heap and stack at hosts/esp32/manifest.json's creation values.
	const result = spawnSync(process.execPath, [RUN, APP, ...args, "--timeout", "60"], { encoding: "utf8" });
	assert.equal(result.status, 0, `run.mjs ended ${result.status}:\n${result.stdout.slice(-1500)}\n${result.stderr.slice(-1500)}`);
	return result.stdout;
}

test("a full store survives a reboot on the fixed heap and is delivered by the next boot", async (t) => {
	const storage = fs.mkdtempSync(path.join(os.tmpdir(), "mqttc-xtensa-store-"));
	t.after(() => fs.rmSync(storage, { recursive: true, force: true }));
	const closed = await freePort();
	const first = run([`port=${closed}`, "count=40", "qos=mix", "pad=100", "size=16384", "--storage", storage, "--until", "^accepted 1:39 "]);
	assert.match(first, /^restored 0 received 0 unreadable 0$/m);
	const accepted = first.split("\n").filter((line) => line.startsWith("accepted ")).length;
	assert.equal(accepted, 40);

	const broker = await startBroker();
	t.after(() => broker.stop());
	const sub = await mosquittoSub(broker.port, ["-q", "2", "-t", "stream/#"]);
	t.after(() => sub.stop());
	const second = run([`port=${broker.port}`, "mode=drain", "size=16384", "--storage", storage, "--until", "^drained$"]);
	assert.match(second, /^restored 40 received 0 unreadable 0$/m);
	await sub.waitFor(40);
	// Each once (QoS 1 and 2 flows finish in their own time: the order across them is the broker's).
	assert.deepEqual(sub.lines.map((line) => Number(line.split(" ")[1].split(":")[1])).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
});
