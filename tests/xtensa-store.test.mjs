// The durable session on the Xtensa tier: tests/apps/store on the fixed ESP32 heap and stack
// (hosts/esp32/manifest.json's creation values), its store in a --storage directory. A
// device that cannot reach its broker fills its store; a second boot, with the broker up,
// restores every message from the file and delivers it (counted at mosquitto_sub).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startBroker, mosquittoSub, freePort } from "./lib/broker.mjs";
import { buildGuest } from "../hosts/xtensa/build.mjs";
import { ROOT, runXtensa } from "./lib/xtensa-run.mjs";

const APP = path.join(ROOT, "tests", "apps", "store");

before(async () => {
	await buildGuest();
});

/** The app's output, once it ended well. */
async function run(args) {
	// run.mjs fixes the heap and stack at hosts/esp32/manifest.json's creation values.
	const app = runXtensa(APP, [...args, "--timeout", "60"]);
	const code = await app.exited;
	const stdout = app.lines.join("\n");
	assert.equal(code, 0, `run.mjs ended ${code}:\n${stdout.slice(-1500)}\n${app.stderr.slice(-1500)}`);
	return stdout;
}

test("a full store survives a reboot on the fixed heap and is delivered by the next boot", async (t) => {
	const storage = fs.mkdtempSync(path.join(os.tmpdir(), "mqttc-xtensa-store-"));
	t.after(() => fs.rmSync(storage, { recursive: true, force: true }));
	const closed = await freePort();
	const first = await run([`port=${closed}`, "count=40", "qos=mix", "pad=100", "size=16384", "--storage", storage, "--until", "^accepted 1:39 "]);
	assert.match(first, /^restored 0 received 0 unreadable 0$/m);
	const accepted = first.split("\n").filter((line) => line.startsWith("accepted ")).length;
	assert.equal(accepted, 40);

	const broker = await startBroker();
	t.after(() => broker.stop());
	const sub = await mosquittoSub(broker.port, ["-q", "2", "-t", "stream/#"]);
	t.after(() => sub.stop());
	const second = await run([`port=${broker.port}`, "mode=drain", "size=16384", "--storage", storage, "--until", "^drained$"]);
	assert.match(second, /^restored 40 received 0 unreadable 0$/m);
	await sub.waitFor(40);
	// Each once (QoS 1 and 2 flows finish in their own time: the order across them is the broker's).
	assert.deepEqual(sub.lines.map((line) => Number(line.split(" ")[1].split(":")[1])).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
});
