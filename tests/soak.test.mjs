// Soak: a steady stream of QoS 1 and QoS 2 messages through mosquitto while the broker is
// killed and restarted three times. Every message must be accounted for (received by the
// subscriber, or reported lost by an event) and no QoS 2 message may arrive twice.
// Bounded: MQTTC_SOAK_MESSAGES (default 20000) messages, at most about a minute.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startBroker } from "./lib/broker.mjs";
import { startDriver } from "./lib/driver.mjs";

const TOTAL = Number(process.env.MQTTC_SOAK_MESSAGES ?? 20000);
let broker;
let driver;
after(async () => {
	await driver?.stop();
	await broker?.stop();
});

test(`soak: ${TOTAL} messages at QoS 1/2, broker restarted three times, every message accounted for`, { timeout: 180000 }, async () => {
	broker = await startBroker({ lines: [] });
	// Sessions and queued messages survive a restart only with persistence: restart the broker
	// with it (mosquitto writes its database when it is stopped).
	const { writeFileSync, readFileSync } = await import("node:fs");
	const conf = join(broker.dir, "mosquitto.conf");
	writeFileSync(conf, readFileSync(conf, "utf8").replace("persistence false", `persistence true\npersistence_location ${broker.dir}/\nmax_queued_messages 0\nmax_inflight_messages 20`));
	await broker.restart();
	driver = await startDriver();
	for (const [name, id] of [["sub", "soak-sub"], ["pub", "soak-pub"]]) {
		assert.equal(await driver.create(name, "127.0.0.1", broker.port, null, { outbox: 65536, inflight: 20, conn_timeout: 5 }), true);
		await driver.call(name, "auth", id, "", "", false);
		await driver.call(name, "autoreconn", true, 300, 2000);
		await driver.call(name, "connect");
		await driver.waitEvent(name, "conack");
	}
	await driver.call("sub", "subscribe", "soak/stream", 2);
	await driver.waitEvent("sub", "suback");
	const started = Date.now();
	assert.equal(await driver.app.call("soakStart", "pub", "sub", "soak/stream", TOTAL, 20, 10), true);
	const progress = async (fraction) => {
		const deadline = Date.now() + 60000;
		while ((await driver.app.call("soakReport")).published < TOTAL * fraction) {
			if (Date.now() > deadline) throw new Error("publishing stalled");
			await new Promise((r) => setTimeout(r, 50));
		}
	};
	let restarts = 0;
	for (const fraction of [0.2, 0.45, 0.7]) {
		await progress(fraction);
		await broker.stopGracefully();
		await new Promise((r) => setTimeout(r, 300));
		await broker.restart();
		restarts++;
	}
	// Wait until everything published has been acknowledged and delivered (or reported).
	const deadline = Date.now() + 90000;
	let report;
	for (;;) {
		report = await driver.app.call("soakReport");
		const settled = report.published === TOTAL && report.awaitingAck === 0 && report.missing === 0;
		if (settled || Date.now() > deadline) break;
		await new Promise((r) => setTimeout(r, 200));
	}
	const seconds = (Date.now() - started) / 1000;
	console.log(`# soak: ${JSON.stringify({ ...report, restarts, seconds })}`);
	assert.equal(restarts, 3);
	assert.equal(report.published, TOTAL, "every message was eventually accepted by publish()");
	assert.equal(report.missing, 0, `messages neither received nor reported lost: ${report.missingSample}`);
	assert.equal(report.duplicatesQos2, 0, "no QoS 2 message delivered twice");
	assert.equal(report.awaitingAck, 0, "nothing left unacknowledged");
	await driver.call("pub", "close");
	await driver.call("sub", "close");
});
