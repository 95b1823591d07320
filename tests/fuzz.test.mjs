// Fuzzing on XS: a million mutated packets (mutations of mqtt-packet output) and random
// bytes, fed to the bare decoder and to a whole client. Nothing may escape, the receive
// buffer stays the one allocated at start, and the heap stays flat between batches.
// MQTTC_FUZZ_CASES (default 1000000) and MQTTC_FUZZ_SEED set the size and the seed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import mqttPacket from "mqtt-packet";
import { startApp } from "../hosts/xs/host.mjs";

const CASES = Number(process.env.MQTTC_FUZZ_CASES ?? 1000000);
const SEED = Number(process.env.MQTTC_FUZZ_SEED ?? (Date.now() % 2147483647));
const BATCH = 50000;

const CORPUS = [
	{ cmd: "connack", returnCode: 0, sessionPresent: true },
	{ cmd: "connack", returnCode: 5, sessionPresent: false },
	{ cmd: "publish", topic: "a/b", payload: Buffer.from("hello"), qos: 0, dup: false, retain: false },
	{ cmd: "publish", topic: "t", payload: Buffer.alloc(300, 7), qos: 1, dup: false, retain: true, messageId: 1 },
	{ cmd: "publish", topic: "ü/τ", payload: Buffer.from([0, 255, 13, 10]), qos: 2, dup: true, retain: false, messageId: 65535 },
	{ cmd: "publish", topic: "big", payload: Buffer.alloc(600, 1), qos: 2, dup: false, retain: false, messageId: 9 },
	{ cmd: "puback", messageId: 1 },
	{ cmd: "pubrec", messageId: 2 },
	{ cmd: "pubrel", messageId: 3 },
	{ cmd: "pubcomp", messageId: 4 },
	{ cmd: "suback", messageId: 5, granted: [0, 1, 2, 0x80] },
	{ cmd: "unsuback", messageId: 6 },
	{ cmd: "pingresp" },
	{ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "x/#", qos: 1 }] },
	{ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "c", keepalive: 60, username: "u", password: Buffer.from("p") },
].map((packet) => mqttPacket.generate(packet));

let app;
after(async () => { await app?.stop(); });

test(`fuzz: ${CASES} mutated packets into the decoder and the client on XS`, { timeout: 600000 }, async () => {
	app = await startApp(new URL("./apps/fuzz/", import.meta.url).pathname, { stdout: false });
	assert.equal(await app.call("setup", SEED, CORPUS.map((b) => b.toString("hex")), 512), true);
	const heap = [];
	let report;
	const started = Date.now();
	for (let done = 0; done < CASES; done += BATCH) {
		report = await app.call("run", Math.min(BATCH, CASES - done));
		await app.call("collect");
		heap.push(app.meter.currentHeapCount);
		assert.equal(report.escapes, 0, `an exception escaped after ${report.cases} cases (seed ${SEED}): ${report.firstEscape}`);
	}
	const seconds = (Date.now() - started) / 1000;
	console.log(`# fuzz: seed ${SEED}, ${report.cases} cases, ${report.bytes} bytes, ${seconds.toFixed(1)} s; decoder: ${report.packets} packets, ${report.parts} parts, ${report.faults} faults; client: ${report.events} events, ${report.errors} errors, ${report.closes} peer closes, ${report.reconnects} reconnects; heap slots per batch: ${heap.join(" ")}`);
	assert.equal(report.cases, CASES);
	assert.ok(report.faults > CASES / 10, "mutations do reach the fault paths");
	assert.ok(report.packets > CASES / 10, "and the valid paths");
	assert.ok(report.reconnects > 100, "the client went through fault, disconnect and reconnect many times");
	// Flat memory: after warm-up, the heap does not grow with the number of cases.
	const settled = heap.slice(2);
	if (settled.length >= 2) {
		const first = settled[0];
		const last = settled[settled.length - 1];
		assert.ok(last <= first * 1.1 + 2000, `heap grew from ${first} to ${last} slots`);
	}
});
