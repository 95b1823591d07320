// Issue 5 behaviours against mosquitto (through a cutting proxy) and a scripted broker:
// resend with DUP after a cut, PUBREL resent, bounded outbox, oversize messages, malformed
// broker bytes, inflight limit, backoff.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import mqttPacket from "mqtt-packet";
import { startBroker, mosquittoPub, mosquittoSub, freePort } from "./lib/broker.mjs";
import { startCuttingProxy } from "./lib/cutting-proxy.mjs";
import { startScriptedBroker } from "./lib/scripted-broker.mjs";
import { startDriver, connected } from "./lib/driver.mjs";

let broker;
let driver;
before(async () => {
	broker = await startBroker();
	driver = await startDriver();
});
after(async () => {
	await driver?.stop();
	await broker?.stop();
});

test("cut after PUBLISH before its PUBREC: resent with DUP, a QoS 2 subscriber gets it once", async () => {
	const watcher = await mosquittoSub(broker.port, ["-t", "cut/q2", "-q", "2"]);
	let cutDone = false;
	const proxy = await startCuttingProxy(broker.port, (packet, direction) => {
		if (!cutDone && direction === "up" && packet.cmd === "publish") { cutDone = true; return "cut-after"; }
		return "forward";
	});
	try {
		await connected(driver, "cut1", proxy.port, { id: "cut-one", clean: false });
		await driver.call("cut1", "autoreconn", true, 200);
		const id = await driver.call("cut1", "publish", "cut/q2", "exactly once", 2);
		assert.equal((await driver.waitEvent("cut1", "disconnect")).data, "peer");
		await driver.waitEvent("cut1", "conack");
		const sent = await driver.waitEvent("cut1", "sent");
		assert.equal(sent.data, id);
		await watcher.waitFor(1);
		await new Promise((r) => setTimeout(r, 500));
		assert.deepEqual(watcher.lines, ["cut/q2 exactly once"]);
		assert.equal(driver.seen("cut1", "sent").length, 1, "sent fires once");
		await driver.call("cut1", "close");
	}
	finally {
		watcher.stop();
		await proxy.stop();
	}
});

test("cut between PUBREC and PUBCOMP: PUBREL is resent after reconnect and the message completes once", async () => {
	const watcher = await mosquittoSub(broker.port, ["-t", "cut/rel", "-q", "2"]);
	let cutDone = false;
	let pubrels = 0;
	const proxy = await startCuttingProxy(broker.port, (packet, direction) => {
		if (direction === "up" && packet.cmd === "pubrel") {
			pubrels++;
			if (!cutDone) { cutDone = true; return "cut-before"; }
		}
		return "forward";
	});
	try {
		await connected(driver, "cut2", proxy.port, { id: "cut-two", clean: false });
		await driver.call("cut2", "autoreconn", true, 200);
		const id = await driver.call("cut2", "publish", "cut/rel", "released", 2);
		await driver.waitEvent("cut2", "disconnect");
		await driver.waitEvent("cut2", "conack");
		assert.equal((await driver.waitEvent("cut2", "sent")).data, id);
		assert.equal(pubrels, 2, "PUBREL went out again on the new connection");
		await watcher.waitFor(1);
		await new Promise((r) => setTimeout(r, 300));
		assert.deepEqual(watcher.lines, ["cut/rel released"]);
		await driver.call("cut2", "close");
	}
	finally {
		watcher.stop();
		await proxy.stop();
	}
});

test("publishing offline queues in order within the outbox bound; past it publish returns null with an error", async () => {
	const port = await freePort();
	await driver.create("full", "127.0.0.1", port, null, { outbox: 2048 });
	const ids = await driver.app.call("burst", "full", "out/box", "m", 100, 1);
	const accepted = ids.filter((id) => id !== null);
	assert.ok(accepted.length > 5 && accepted.length < 100, `${accepted.length} of 100 fit in 2048 bytes`);
	assert.deepEqual(ids.slice(0, accepted.length), accepted, "everything before the first refusal was accepted");
	const errors = driver.seen("full", "error");
	assert.equal(errors.length, 100 - accepted.length, "one error event per refused publish");
	assert.match(errors[0].payload, /outbox full/);
	// Now the broker appears: the queued messages go out in publish order.
	const own = await startBroker({ port });
	const watcher = await mosquittoSub(port, ["-t", "out/box", "-q", "1"]);
	try {
		await driver.call("full", "auth", "full-client");
		await driver.call("full", "connect");
		await driver.waitEvent("full", "conack");
		await watcher.waitFor(accepted.length);
		assert.deepEqual(watcher.lines, accepted.map((_, i) => `out/box m${i}`));
		for (const id of accepted) await driver.waitEvent("full", "sent", (e) => e.data === id);
	}
	finally {
		watcher.stop();
		await driver.call("full", "close");
		await own.stop();
	}
});

test("a QoS 1/2 message published offline from a buffer the app then reuses is sent as it was when published", async () => {
	const port = await freePort();
	await driver.create("reuse", "127.0.0.1", port, null, {});
	const ids = [
		await driver.app.call("publishThenReuse", "reuse", "re/use", "first", 1),
		await driver.app.call("publishThenReuse", "reuse", "re/use", "second", 2),
	];
	assert.ok(ids.every((id) => typeof id === "number"), "both kept in the outbox");
	const own = await startBroker({ port });
	const watcher = await mosquittoSub(port, ["-t", "re/use", "-q", "2"]);
	try {
		await driver.call("reuse", "auth", "reuse-client");
		await driver.call("reuse", "connect");
		await watcher.waitFor(2);
		assert.deepEqual(watcher.lines, ["re/use first", "re/use second"]);
		for (const id of ids) await driver.waitEvent("reuse", "sent", (e) => e.data === id);
	}
	finally {
		watcher.stop();
		await driver.call("reuse", "close");
		await own.stop();
	}
});

test("resend:false keeps the LuatOS behaviour: offline QoS 1 is refused, unacknowledged messages are reported lost", async () => {
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd === "publish") { conn.close(); return true; } // never acknowledged
			return false;
		},
	});
	try {
		await driver.create("luat", "127.0.0.1", scripted.port, null, { resend: false });
		assert.equal(await driver.call("luat", "publish", "t", "offline", 1), null);
		await driver.call("luat", "auth", "luat");
		await driver.call("luat", "connect");
		await driver.waitEvent("luat", "conack");
		const id = await driver.call("luat", "publish", "t", "online", 1);
		const lost = await driver.waitEvent("luat", "error", (e) => e.data === "tx");
		assert.equal(lost.metas.message_id, id);
		assert.match(lost.payload, /lost/);
		await driver.waitEvent("luat", "disconnect");
		await driver.call("luat", "close");
	}
	finally {
		await scripted.stop();
	}
});

for (const mode of ["chunk", "skip"]) {
	test(`a 100 KB message to a client with rxSize 4096 (oversize: "${mode}") keeps the connection and the next message arrives`, async () => {
		const name = `big-${mode}`;
		await connected(driver, name, broker.port, { opts: { rxSize: 4096, oversize: mode } });
		await driver.call(name, "subscribe", "big/#", 1);
		await driver.waitEvent(name, "suback");
		const big = "0123456789abcdef".repeat(6400); // 102400 bytes
		await mosquittoPub(broker.port, ["-t", "big/one", "-m", big, "-q", "1"]);
		await mosquittoPub(broker.port, ["-t", "big/two", "-m", "small after big", "-q", "1"]);
		if (mode === "chunk") {
			let received = "";
			let offset = 0;
			while (received.length < big.length) {
				const part = await driver.waitEvent(name, "recv", (e) => e.data === "big/one");
				assert.equal(part.metas.offset, offset);
				assert.equal(part.metas.total, big.length);
				assert.ok(part.payload.length <= 4096);
				received += part.payload;
				offset += part.payload.length;
			}
			assert.equal(received, big);
		}
		else {
			const error = await driver.waitEvent(name, "error");
			assert.equal(error.data, "other");
			assert.match(error.payload, /102400 bytes on big\/one/);
			assert.equal(driver.seen(name, "recv").filter((e) => e.data === "big/one").length, 0);
		}
		const next = await driver.waitEvent(name, "recv", (e) => e.data === "big/two");
		assert.equal(next.payload, "small after big");
		assert.equal(driver.seen(name, "disconnect").length, 0, "the connection stayed up");
		await driver.call(name, "close");
	});
}

test("a retained oversize message does not cause a reconnect loop", async () => {
	await mosquittoPub(broker.port, ["-t", "big/retained", "-m", "r".repeat(20000), "-r", "-q", "1"]);
	try {
		await connected(driver, "bigret", broker.port, { opts: { rxSize: 1024, oversize: "skip" } });
		await driver.call("bigret", "autoreconn", true, 100);
		await driver.call("bigret", "subscribe", "big/retained", 1);
		await driver.waitEvent("bigret", "error");
		await new Promise((r) => setTimeout(r, 500));
		assert.equal(driver.seen("bigret", "disconnect").length, 0);
		assert.equal(driver.seen("bigret", "conack").length, 1);
		await driver.call("bigret", "close");
	}
	finally {
		await mosquittoPub(broker.port, ["-t", "big/retained", "-n", "-r"]);
	}
});

test("a resent QoS 2 PUBLISH (DUP) from the broker is delivered once; packets split into 1-byte reads decode", async () => {
	const message = { cmd: "publish", topic: "s/q2", payload: Buffer.from("once"), qos: 2, messageId: 77, dup: false, retain: false };
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd === "subscribe") {
				conn.send({ cmd: "suback", messageId: packet.messageId, granted: [2] });
				// The message one byte per write, then its DUP copy in 3-byte pieces.
				conn.raw(mqttPacket.generate(message), 1).then(() => conn.raw(mqttPacket.generate({ ...message, dup: true }), 3));
				return true;
			}
			if (packet.cmd === "pubrec" && conn.packets.filter((p) => p.cmd === "pubrec").length === 2) {
				conn.send({ cmd: "pubrel", messageId: 77 });
				return true;
			}
			return false;
		},
	});
	try {
		await connected(driver, "dup", scripted.port);
		await driver.call("dup", "subscribe", "s/#", 2);
		const recv = await driver.waitEvent("dup", "recv");
		assert.equal(recv.payload, "once");
		await scripted.waitPacket((p) => p.cmd === "pubcomp" && p.messageId === 77);
		assert.equal(driver.seen("dup", "recv").length, 1, "delivered once");
		assert.equal(scripted.received.filter((p) => p.cmd === "pubrec").length, 2, "both copies acknowledged");
		await driver.call("dup", "close");
	}
	finally {
		await scripted.stop();
	}
});

test("QoS 2 ids awaiting PUBREL: 64 remembered; past that the oldest is forgotten with one error, and only a forgotten one's resend is delivered again", async () => {
	const publish = (id, dup) => ({ cmd: "publish", topic: "w/q2", payload: Buffer.from(`m${id}`), qos: 2, messageId: id, dup, retain: false });
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd !== "subscribe") return false;
			conn.send({ cmd: "suback", messageId: packet.messageId, granted: [2] });
			for (let id = 1; id <= 66; id++) conn.send(publish(id, false));     // none released
			return true;
		},
	});
	const pubrecs = (id) => scripted.received.filter((p) => p.cmd === "pubrec" && p.messageId === id).length;
	try {
		await connected(driver, "window", scripted.port);
		await driver.call("window", "subscribe", "w/#", 2);
		await scripted.waitPacket((p) => p.cmd === "pubrec" && p.messageId === 66);
		// 65 and 66 pushed out 1 and 2. Resent: 3 and 66 are remembered; 1 and 2 are not.
		for (const id of [3, 66, 1, 2]) scripted.connections[0].send(publish(id, true));
		const firstPubrec2 = scripted.received.find((p) => p.cmd === "pubrec" && p.messageId === 2);
		await scripted.waitPacket((p) => p.cmd === "pubrec" && p.messageId === 2 && p !== firstPubrec2);
		assert.deepEqual([3, 66, 1, 2].map(pubrecs), [2, 2, 2, 2], "every copy acknowledged with PUBREC");
		const payloads = driver.seen("window", "recv").map((e) => e.payload);
		assert.equal(payloads.length, 68, "66 messages, and the two forgotten ones again");
		assert.deepEqual(payloads.slice(66), ["m1", "m2"]);
		const errors = driver.seen("window", "error").filter((e) => /more than 64 QoS 2 messages awaiting PUBREL/.test(e.payload));
		assert.equal(errors.length, 1, "said once");
		assert.equal(driver.seen("window", "disconnect").length, 0);
		await driver.call("window", "close");
	}
	finally {
		await scripted.stop();
	}
});

test("SUBACK 0x80 is reported as a failed subscription", async () => {
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd !== "subscribe") return false;
			conn.send({ cmd: "suback", messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.topic === "denied" ? 0x80 : s.qos) });
			return true;
		},
	});
	try {
		await connected(driver, "deny", scripted.port);
		await driver.call("deny", "subscribe", "denied", 1);
		const one = await driver.waitEvent("deny", "suback");
		assert.equal(one.data, false);
		assert.equal(one.payload, 0x80);
		await driver.call("deny", "subscribe", { ok: 1, denied: 2 });
		const two = await driver.waitEvent("deny", "suback");
		assert.equal(two.data, false);
		assert.deepEqual(two.metas.codes, [1, 0x80]);
		await driver.call("deny", "close");
	}
	finally {
		await scripted.stop();
	}
});

test("every CONNACK refusal code 1..5 arrives as error conack with that code", async () => {
	let code = 0;
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd !== "connect") return false;
			conn.send({ cmd: "connack", returnCode: code, sessionPresent: false });
			return true;
		},
	});
	try {
		await driver.create("refuse", "127.0.0.1", scripted.port);
		await driver.call("refuse", "auth", "refuse");
		for (code = 1; code <= 5; code++) {
			await driver.call("refuse", "connect");
			const error = await driver.waitEvent("refuse", "error");
			assert.equal(error.data, "conack");
			assert.equal(error.payload, code);
			assert.equal((await driver.waitEvent("refuse", "disconnect")).data, "refused");
		}
		await driver.call("refuse", "close");
	}
	finally {
		await scripted.stop();
	}
});

const MALFORMED = {
	"reserved packet type": "f000",
	"five-byte remaining length": "30ffffffff7f",
	"SUBACK for an unknown id": "9003123400",
	"PUBREL with wrong flags": "60020001",
	"CONNACK twice": "20020000",
	"PUBLISH with empty topic": "300400006869",
	"PINGREQ from the broker": "c000",
};

test("malformed packets from the broker: error other, disconnect protocol, reconnect; never a host exception", async () => {
	let current = "";
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd !== "connect") return false;
			conn.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
			if (current) setTimeout(() => conn.socket.write(Buffer.from(MALFORMED[current], "hex")), 20);
			return true;
		},
	});
	try {
		await driver.create("mal", "127.0.0.1", scripted.port);
		await driver.call("mal", "auth", "mal");
		await driver.call("mal", "autoreconn", true, 100);
		for (const name of Object.keys(MALFORMED)) {
			current = name;
			if (await driver.call("mal", "state") === 0) await driver.call("mal", "connect");
			await driver.waitEvent("mal", "conack");
			const error = await driver.waitEvent("mal", "error");
			assert.equal(error.data, "other", name);
			assert.equal((await driver.waitEvent("mal", "disconnect")).data, "protocol", name);
		}
		current = "";
		await driver.waitEvent("mal", "conack"); // autoreconn after the last one
		assert.equal(await driver.call("mal", "ready"), true);
		await driver.call("mal", "close");
	}
	finally {
		await scripted.stop();
	}
});

test("the inflight limit holds back QoS 1 messages beyond it, in order", async () => {
	let hold = true;
	const held = [];
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd !== "publish") return false;
			if (hold) held.push(packet);
			else conn.send({ cmd: "puback", messageId: packet.messageId });
			return true;
		},
	});
	try {
		await connected(driver, "inflight", scripted.port, { opts: { inflight: 2 } });
		const ids = await driver.app.call("burst", "inflight", "in/flight", "n", 6, 1);
		await new Promise((r) => setTimeout(r, 300));
		assert.equal(held.length, 2, "only two in flight");
		hold = false;
		const conn = scripted.connections[0];
		for (const p of held) conn.send({ cmd: "puback", messageId: p.messageId });
		for (const id of ids) await driver.waitEvent("inflight", "sent", (e) => e.data === id);
		const order = scripted.received.filter((p) => p.cmd === "publish").map((p) => p.payload.toString());
		assert.deepEqual(order, ["n0", "n1", "n2", "n3", "n4", "n5"]);
		await driver.call("inflight", "close");
	}
	finally {
		await scripted.stop();
	}
});

for (const sessionPresent of [false, true]) {
	test(`messages held by the inflight limit across a reconnect ${sessionPresent ? "with" : "without"} the broker's session: all go out once each, in publish order${sessionPresent ? ", the unacknowledged ones first" : ""}, those sent before with DUP`, async () => {
		const scripted = await startScriptedBroker({
			onPacket(conn, packet) {
				const second = scripted.connections.indexOf(conn) > 0;
				if (packet.cmd === "connect") conn.send({ cmd: "connack", returnCode: 0, sessionPresent: second && sessionPresent });
				else if (packet.cmd === "publish" && second) conn.send({ cmd: "puback", messageId: packet.messageId });
				else return packet.cmd === "publish";   // the first connection acknowledges nothing
				return true;
			},
		});
		const name = `held${sessionPresent}`;
		try {
			await connected(driver, name, scripted.port, { id: name, clean: false, opts: { inflight: 2 } });
			await driver.call(name, "autoreconn", true, 200);
			const ids = await driver.app.call("burst", name, "in/held", "h", 5, 1);
			await scripted.waitPacket((p) => p.cmd === "publish" && p.payload.toString() === "h1");
			await new Promise((r) => setTimeout(r, 200));
			assert.deepEqual(scripted.connections[0].packets.filter((p) => p.cmd === "publish").map((p) => p.payload.toString()), ["h0", "h1"], "two in flight, the rest held");
			scripted.connections[0].close();
			for (const id of ids) await driver.waitEvent(name, "sent", (e) => e.data === id);
			const resent = scripted.connections[1].packets.filter((p) => p.cmd === "publish");
			assert.deepEqual(resent.map((p) => `${p.payload}${p.dup ? " dup" : ""}`),
				["h0 dup", "h1 dup", "h2", "h3", "h4"]);
			await new Promise((r) => setTimeout(r, 200));
			assert.equal(driver.seen(name, "sent").length, 5, "one sent per message");
			await driver.call(name, "close");
		}
		finally {
			await scripted.stop();
		}
	});
}

test("a QoS 2 PUBLISH answered with PUBACK (a broker without QoS 2, like RabbitMQ) is settled once as a QoS 1 downgrade, never resent", async () => {
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd !== "publish") return false;
			conn.send({ cmd: "puback", messageId: packet.messageId });   // PUBACK whatever the QoS
			return true;
		},
	});
	try {
		await connected(driver, "noqos2", scripted.port, { id: "noqos2", clean: false });
		await driver.call("noqos2", "autoreconn", true, 100);
		const two = await driver.call("noqos2", "publish", "q/two", "exactly once asked", 2);
		const one = await driver.call("noqos2", "publish", "q/one", "behind it", 1);
		const sent2 = await driver.waitEvent("noqos2", "sent", (e) => e.data === two);
		assert.deepEqual(sent2.metas, { message_id: two, qos: 1, downgraded: true });
		const sent1 = await driver.waitEvent("noqos2", "sent", (e) => e.data === one);
		assert.equal(sent1.metas, undefined, "a plain QoS 1 ack has no metas");
		await new Promise((r) => setTimeout(r, 500));
		assert.equal(driver.seen("noqos2", "disconnect").length, 0, "not a protocol error");
		assert.equal(driver.seen("noqos2", "sent").length, 2, "sent exactly once each");
		assert.equal(scripted.received.filter((p) => p.cmd === "publish").length, 2, "nothing resent");
		assert.equal(scripted.connections.length, 1);
		await driver.call("noqos2", "close");
	}
	finally {
		await scripted.stop();
	}
});
