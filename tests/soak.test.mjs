// Soak: a steady stream of QoS 1 and QoS 2 messages through mosquitto while the broker is
// stopped and restarted three times. Every message must be accounted for (received by the
// subscriber, or reported lost by an event) and no QoS 2 message may arrive twice, except
// where the broker itself broke QoS 2 (below).
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

/**
 * Two ways mosquitto 2.0.11 (Debian's) breaks QoS 2 when it restores its database, both seen
 * in this soak (about one run in ten); what either causes is the broker's, not the client's.
 *
 * 1. It puts a session's messages beyond max_inflight_messages in its queue, and sends a
 *    queued QoS 2 message as a PUBLISH again even when it had sent its PUBREL (only PUBCOMP
 *    was awaited). MQTT 3.1.1 §4.3.3 forbids that resend, and obliges the subscriber, which
 *    answered PUBREL with PUBCOMP and forgot the id, to take the PUBLISH as a new message.
 *    `resentAfterPubrel`: the log shows PUBREL sent, a restart, then the PUBLISH with DUP.
 *    (mosquitto numbers a session's messages upwards: no id repeats in this test.)
 * 2. Its inflight count goes wrong: after a restart it sends the subscriber hundreds of QoS 2
 *    PUBLISHes at once, unanswered, against max_inflight_messages 20. The client remembers 64
 *    ids awaiting PUBREL (README, "Defaults and bounds"); past that it forgets the oldest and
 *    says so with one `error`, and a later resend of a forgotten one is delivered again.
 *    `forgottenThenResent`: the ids for which the log, replayed through that window, shows
 *    exactly this.
 */
function resentAfterPubrel(log, client, mid) {
	const pubrel = log.indexOf(`Sending PUBREL to ${client} (m${mid})`);
	if (pubrel < 0) return false;
	const restart = log.indexOf(" terminating", pubrel);
	return restart > 0 && log.indexOf(`Sending PUBLISH to ${client} (d1, q2, r0, m${mid},`, restart) > 0;
}

function forgottenThenResent(log, client, window) {
	const held = [];                  // oldest first, as the client keeps them
	const forgotten = new Set();
	const resent = new Set();
	const packet = new RegExp(`Sending (PUBLISH|PUBREL) to ${client} \\((?:d\\d, q2, r0, )?m(\\d+)[,)]`, "g");
	for (const [, type, text] of log.matchAll(packet)) {
		const mid = Number(text);
		const index = held.indexOf(mid);
		if (type === "PUBREL") {
			if (index >= 0) held.splice(index, 1);
		}
		else if (index < 0) {
			if (forgotten.delete(mid)) resent.add(mid);
			held.push(mid);
			if (held.length > window) forgotten.add(held.shift());
		}
	}
	return resent;
}

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
	// Each QoS 2 duplicate: the broker's doing (see above), or the client's.
	const log = broker.log();
	const { qos2Duplicates, ...figures } = report;
	const resends = qos2Duplicates.filter(([, firstId, , againId, againDup]) => firstId === againId && againDup === 1);
	const afterPubrel = resends.filter(([, , , id]) => resentAfterPubrel(log, "soak-sub", id));
	const forgotten = resends.length ? forgottenThenResent(log, "soak-sub", 64) : new Set();   // a 10 MB log: replayed only when needed
	const pastWindow = resends.filter((d) => !afterPubrel.includes(d) && forgotten.has(d[3]));
	const windowReported = driver.seen("sub", "error").some((e) => /QoS 2 messages awaiting PUBREL/.test(e.payload));
	const byClient = qos2Duplicates.filter((d) => !afterPubrel.includes(d) && !pastWindow.includes(d));
	console.log(`# soak: ${JSON.stringify({ ...figures, restarts, seconds, qos2DuplicatesResentAfterPubrel: afterPubrel.length, qos2DuplicatesPastWindow: pastWindow.length })}`);
	assert.equal(restarts, 3);
	assert.equal(report.published, TOTAL, "every message was eventually accepted by publish()");
	assert.equal(report.missing, 0, `messages neither received nor reported lost: ${report.missingSample}`);
	assert.equal(new Set(qos2Duplicates.map(([index]) => index)).size, report.duplicatesQos2, "every QoS 2 message delivered again was recorded");
	if (pastWindow.length) assert.ok(windowReported, "the client said it had to forget QoS 2 ids");
	assert.deepEqual(byClient.map(([index, firstId, firstDup, againId, againDup]) =>
		`s${index}: m${firstId}${firstDup ? " dup" : ""}, then m${againId}${againDup ? " dup" : ""}`), [],
	"no QoS 2 message delivered twice, but where the broker resent a PUBLISH after its PUBREL or went past the client's reported window");
	assert.equal(report.awaitingAck, 0, "nothing left unacknowledged");
	await driver.call("pub", "close");
	await driver.call("sub", "close");
});
