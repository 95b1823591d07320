// Cases of the mosquitto project's client tests (its test/lib 03-publish-*), replayed against
// a broker scripted byte for byte: every packet mqttc sends is compared whole, as those tests
// do, and the broker's side follows their scripts. Adapted where mqttc's API differs: a
// keepalive under 15 s is clamped (LuatOS), so the "still connected" check after a stray ack
// is the next PUBLISH on the same connection rather than a PINGREQ 5 s later. Also: debug(true)
// traces every packet both ways, once each, against mosquitto.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startByteBroker, hex } from "./lib/byte-broker.mjs";
import { startBroker } from "./lib/broker.mjs";
import { startDriver, connected } from "./lib/driver.mjs";

let driver;
let broker;
before(async () => {
	driver = await startDriver();
	broker = await startBroker();
});
after(async () => {
	await driver?.stop();
	await broker?.stop();
});

const CONNACK = hex({ cmd: "connack", returnCode: 0, sessionPresent: false });
const connect = (clientId) => hex({ cmd: "connect", clientId, keepalive: 60, clean: true });
const publish = (topic, payload, qos, messageId, dup = false) =>
	hex({ cmd: "publish", topic, payload: Buffer.from(payload), qos, messageId, dup, retain: false });
const ack = (cmd, messageId) => hex({ cmd, messageId });

/** A client `name` with id `clientId`, keepalive 60, autoreconn 100 ms, connected to the
 * scripted broker: returns the broker's side of the connection, CONNECT checked, CONNACK sent. */
async function open(scripted, name, clientId) {
	assert.ok(await driver.create(name, "127.0.0.1", scripted.port));
	await driver.call(name, "auth", clientId, "", "", true);
	await driver.call(name, "keepalive", 60);
	await driver.call(name, "autoreconn", true, 100);
	await driver.call(name, "connect");
	return handshake(scripted, name, clientId);
}

async function handshake(scripted, name, clientId) {
	const conn = await scripted.accept();
	await conn.expect("connect", connect(clientId));
	conn.send(CONNACK);
	await driver.waitEvent(name, "conack");
	return conn;
}

/** The broker sends an acknowledgement for an id the client never used; the client must
 * ignore it (or answer it) and go on on the same connection. */
async function strayAck(cmd, answer) {
	const scripted = await startByteBroker();
	const name = `stray-${cmd}`;
	try {
		const conn = await open(scripted, name, `${cmd}-test`);
		conn.send(ack(cmd, 13423));
		if (answer) await conn.expect(answer, ack(answer, 13423));
		assert.notEqual(await driver.call(name, "publish", "after/stray", "still here", 0), null);
		await conn.expect("publish", publish("after/stray", "still here", 0));
		await new Promise((r) => setTimeout(r, 100));
		assert.deepEqual(driver.seen(name, "disconnect"), [], "the connection stays up");
		assert.deepEqual(driver.seen(name, "error"), [], "no error");
		assert.equal(scripted.connections.length, 1, "no reconnect");
		assert.equal(await driver.call(name, "ready"), true);
		await driver.call(name, "disconnect");
		await conn.expect("disconnect", hex({ cmd: "disconnect" }));
		await driver.call(name, "close");
	}
	finally {
		await scripted.stop();
	}
}

test("03-publish-b2c-qos1-unexpected-puback: a PUBACK for an id never used is ignored, the connection stays", () => strayAck("puback"));

test("03-publish-b2c-qos2-unexpected-pubcomp: a PUBCOMP for an id never used is ignored, the connection stays", () => strayAck("pubcomp"));

test("a PUBREC for an id never used is answered with PUBREL, the connection stays", () => strayAck("pubrec", "pubrel"));

test("03-publish-b2c-qos2-unexpected-pubrel: a PUBREL for an id never used gets PUBCOMP; a QoS 2 message then completes", async () => {
	const scripted = await startByteBroker();
	try {
		const conn = await open(scripted, "pubrel", "publish-qos2-test");
		conn.send(ack("pubrel", 1000));
		await conn.expect("pubcomp", ack("pubcomp", 1000));
		conn.send(publish("pub/qos2/receive", "message", 2, 13423));
		await conn.expect("pubrec", ack("pubrec", 13423));
		conn.send(ack("pubrel", 13423));
		await conn.expect("pubcomp", ack("pubcomp", 13423));
		const recv = await driver.waitEvent("pubrel", "recv");
		assert.equal(recv.data, "pub/qos2/receive");
		assert.equal(recv.payload, "message");
		assert.equal(scripted.connections.length, 1);
		await driver.call("pubrel", "close");
	}
	finally {
		await scripted.stop();
	}
});

test("03-publish-c2b-qos1-disconnect: the PUBLISH resent after a reconnect with a clean session has DUP set (3a)", async () => {
	const scripted = await startByteBroker();
	try {
		let conn = await open(scripted, "c2b1", "publish-qos1-test");
		const id = await driver.call("c2b1", "publish", "pub/qos1/test", "message", 1);
		await conn.expect("publish", publish("pub/qos1/test", "message", 1, id));
		conn.close();
		conn = await handshake(scripted, "c2b1", "publish-qos1-test");
		await conn.expect("retried publish", publish("pub/qos1/test", "message", 1, id, true));
		assert.equal(publish("pub/qos1/test", "message", 1, id, true).slice(0, 2), "3a");
		conn.send(ack("puback", id));
		assert.equal((await driver.waitEvent("c2b1", "sent")).data, id);
		await driver.call("c2b1", "disconnect");
		await conn.expect("disconnect", hex({ cmd: "disconnect" }));
		assert.equal(driver.seen("c2b1", "sent").length, 1);
		await driver.call("c2b1", "close");
	}
	finally {
		await scripted.stop();
	}
});

test("03-publish-c2b-qos2-disconnect: PUBLISH resent with DUP (3c), then PUBREL resent after the next reconnect, clean session", async () => {
	const scripted = await startByteBroker();
	try {
		let conn = await open(scripted, "c2b2", "publish-qos2-test");
		const id = await driver.call("c2b2", "publish", "pub/qos2/test", "message", 2);
		await conn.expect("publish", publish("pub/qos2/test", "message", 2, id));
		conn.close();
		conn = await handshake(scripted, "c2b2", "publish-qos2-test");
		await conn.expect("retried publish", publish("pub/qos2/test", "message", 2, id, true));
		conn.send(ack("pubrec", id));
		await conn.expect("pubrel", ack("pubrel", id));
		conn.close();
		conn = await handshake(scripted, "c2b2", "publish-qos2-test");
		await conn.expect("retried pubrel", ack("pubrel", id));
		assert.equal(driver.seen("c2b2", "sent").length, 0, "not settled before PUBCOMP");
		conn.send(ack("pubcomp", id));
		assert.equal((await driver.waitEvent("c2b2", "sent")).data, id);
		await driver.call("c2b2", "disconnect");
		await conn.expect("disconnect", hex({ cmd: "disconnect" }));
		await driver.call("c2b2", "close");
	}
	finally {
		await scripted.stop();
	}
});

test("debug(true) traces every packet both ways once each, acknowledgements included; the password stays masked", async () => {
	const name = "traced";
	const start = driver.app.output.length;
	assert.ok(await driver.create(name, "127.0.0.1", broker.port));
	await driver.call(name, "debug", true);
	await driver.call(name, "auth", "traced-client", "user", "s3cret-pass", true);
	await driver.call(name, "connect");
	await driver.waitEvent(name, "conack");
	await driver.call(name, "subscribe", "trace/#", 2);
	await driver.waitEvent(name, "suback");
	const one = await driver.call(name, "publish", "trace/one", "q1", 1);
	await driver.waitEvent(name, "sent", (e) => e.data === one);
	await driver.waitEvent(name, "recv", (e) => e.payload === "q1");
	const two = await driver.call(name, "publish", "trace/two", "q2", 2);
	await driver.waitEvent(name, "sent", (e) => e.data === two);
	await driver.waitEvent(name, "recv", (e) => e.payload === "q2");
	await new Promise((r) => setTimeout(r, 200));   // the client's PUBCOMP for the message it received
	await driver.call(name, "disconnect");
	await driver.waitEvent(name, "disconnect");
	await driver.call(name, "close");
	const lines = driver.app.output.slice(start).split("\n").filter((l) => l.startsWith("mqttc: ") && /^mqttc: [<>] /.test(l)).map((l) => l.slice(7).replace(/ (topic|bytes|client_id|clean|keepalive|username)=\S+/g, ""));
	const count = (line) => lines.filter((l) => l === line).length;
	// Out: CONNECT, SUBSCRIBE, PUBLISH 1 and 2, PUBACK for the QoS 1 message received, PUBREC
	// and PUBCOMP for the QoS 2 one, PUBREL for the one sent, DISCONNECT. In: CONNACK, SUBACK,
	// the two PUBLISHes back, PUBACK, PUBREC, PUBCOMP for ours, PUBREL for theirs.
	assert.equal(count("> CONNECT password=***"), 1, lines.join("\n"));
	assert.equal(count("< CONNACK session_present=false"), 1, lines.join("\n"));
	assert.equal(lines.filter((l) => l.startsWith("< CONNACK")).length, 1, "CONNACK traced once");
	assert.equal(lines.filter((l) => /^> SUBSCRIBE id=\d+ trace\/#$/.test(l)).length, 1);
	assert.equal(lines.filter((l) => l.startsWith("< SUBACK id=")).length, 1);
	assert.equal(count(`> PUBLISH id=${one} qos=1`), 1, lines.join("\n"));
	assert.equal(count(`> PUBLISH id=${two} qos=2`), 1);
	assert.equal(count(`< PUBACK id=${one}`), 1);
	assert.equal(count(`< PUBREC id=${two}`), 1);
	assert.equal(count(`> PUBREL id=${two}`), 1);
	assert.equal(count(`< PUBCOMP id=${two}`), 1);
	const inbound = lines.filter((l) => /^< PUBLISH id=\d+ qos=[12]$/.test(l));
	assert.equal(inbound.length, 2, lines.join("\n"));
	const [in1, in2] = inbound.map((l) => Number(/id=(\d+)/.exec(l)[1]));
	assert.equal(count(`> PUBACK id=${in1}`), 1, lines.join("\n"));
	assert.equal(count(`> PUBREC id=${in2}`), 1);
	assert.equal(count(`< PUBREL id=${in2}`), 1);
	assert.equal(count(`> PUBCOMP id=${in2}`), 1);
	assert.equal(count("> DISCONNECT"), 1);
	assert.ok(!driver.app.output.slice(start).includes("s3cret-pass"), "the password is never printed");
});
