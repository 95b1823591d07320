// Memory bench (not part of `npm test`): the XS heap one mqttc client takes with the ESP32
// app's settings (hosts/esp32/manifest.json config), measured in the XS host after a full
// garbage collection, from the host's meter (xsnap meterUsage.currentHeapCount: live
// slots). Prints a table.
//
//   node tests/memory.bench.mjs [subscriptions=10]
//
// A slot is 16 bytes on a 32-bit MCU such as the ESP32 (32 bytes in this 64-bit host). Slots
// are objects, closures, properties, small numbers... Chunks (the bytes of strings,
// ArrayBuffers, arrays' and Maps' storage) are not in currentHeapCount, and the meter's
// `allocate` only moves in the host's 4 MB chunk-heap steps, so the bench adds the one big
// chunk the client allocates on purpose, the receive buffer (rxSize bytes).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApp } from "../hosts/xs/host.mjs";
import { startBroker } from "./lib/broker.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SUBSCRIPTIONS = Number(process.argv[2] ?? 10);
const SLOT_ESP32 = 16;

const esp32 = JSON.parse(readFileSync(join(ROOT, "hosts/esp32/manifest.json"), "utf8"));
const settings = esp32.config;
const opts = { rxSize: settings.rxSize, outbox: settings.outbox, queue: settings.queue, inflight: settings.inflight, conn_timeout: 15 };

const broker = await startBroker();
const app = await startApp(join(ROOT, "tests/apps/memory"), { stdout: false });
try {
	/** Live slots after a full collection. */
	const slots = async () => {
		await app.call("collect");
		await app.call("collect");
		return { slots: app.meter.currentHeapCount, allocate: app.meter.allocate };
	};
	const until = async (pattern, ms = 5000) => app.waitFor(pattern, ms);

	const rows = [];
	const base = await slots();
	const row = (step, now, previous, note = "") => {
		rows.push({ step, slots: now.slots - base.slots, delta: now.slots - previous.slots, allocate: now.allocate - base.allocate, note });
		return now;
	};
	let last = row("mqttc loaded, no client", base, base);

	if (!await app.call("create", "127.0.0.1", broker.port, opts)) throw new Error("create failed");
	last = row("create()", await slots(), last, `+ rxSize ${opts.rxSize} B receive buffer (chunk)`);
	await app.call("call", "auth", "mqttc-esp32-bench");
	await app.call("call", "keepalive", settings.keepalive);
	await app.call("call", "autoreconn", true, 2000, 60000);
	await app.call("call", "connect");
	await until(/EVT conack/);
	const connected = await slots();
	last = row("after connect (CONNACK)", connected, last, "socket, writer, keepalive timer");
	const afterConnect = connected;

	const perSub = [];
	for (let i = 1; i <= SUBSCRIPTIONS; i++) {
		await app.call("call", "subscribe", `bench/device/${i}/cmd`, 1);
		await until(new RegExp(`EVT suback(?:[\\s\\S]*EVT suback){${i - 1}}`));
		await app.call("clearEvents");
		const now = await slots();
		perSub.push(now.slots - last.slots);
		last = row(`subscription ${i}`, now, last, i === 1 ? "topic \"bench/device/N/cmd\", qos 1" : "");
	}

	const publishes = 10;
	for (let i = 0; i < publishes; i++) await app.call("call", "publish", "bench/out", "x".repeat(100), 1);
	await until(new RegExp(`(?:[\\s\\S]*EVT sent){${publishes}}`));
	last = row(`${publishes} QoS 1 publishes acknowledged`, await slots(), last, "outbox empty again");

	await app.call("call", "close");
	await app.call("drop");
	last = row("close() and drop the client", await slots(), last);

	const average = perSub.length ? perSub.reduce((a, b) => a + b, 0) / perSub.length : 0;
	const clientSlots = afterConnect.slots - base.slots;
	console.log(`mqttc memory, ESP32 app settings: rxSize ${opts.rxSize}, outbox ${opts.outbox}, queue ${opts.queue}, inflight ${opts.inflight}`);
	console.log(`XS host (xsnap ${process.arch}); slots counted after gc; ESP32 bytes = slots x ${SLOT_ESP32}\n`);
	const header = ["step", "live slots vs. no client", "delta", "ESP32 bytes (slots)", "note"];
	const table = rows.map((r) => [r.step, String(r.slots), (r.delta >= 0 ? "+" : "") + r.delta, String(r.slots * SLOT_ESP32), r.note]);
	const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
	const line = (cells) => "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
	console.log(line(header));
	console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
	for (const t of table) console.log(line(t));
	console.log(`\nclient after connect: ${clientSlots} slots = ${clientSlots * SLOT_ESP32} B on ESP32, + ${opts.rxSize} B receive buffer = ${clientSlots * SLOT_ESP32 + opts.rxSize} B`);
	console.log(`per subscription: ${average.toFixed(1)} slots on average = ${Math.round(average * SLOT_ESP32)} B on ESP32 (+ the topic string's bytes in chunks)`);
	console.log(`meter allocate moved by ${last.allocate - base.allocate} bytes over the run (the host's chunk heap grows in 4 MB steps)`);
}
finally {
	await app.stop();
	await broker.stop();
}
