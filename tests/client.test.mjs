// mqttc against a real mosquitto, on the XS engine: the LuatOS API as a user drives it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdtempSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { startBroker, mosquittoPub, freePort } from "./lib/broker.mjs";
import { startDriver, connected } from "./lib/driver.mjs";
import { willScenario } from "./lib/scenarios.mjs";

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

test("the LuatOS demo flow: subscribe, publish QoS 0/1/2, receive own messages with metas and sent ids", async () => {
	const states = await driver.app.call("constants");
	assert.deepEqual(states, { DISCONNECT: 0, SCONNECT: 1, MQTT: 2, READY: 3 });
	assert.equal(await driver.create("demo", "127.0.0.1", broker.port), true);
	assert.equal(await driver.call("demo", "state"), 0);
	assert.equal(await driver.call("demo", "auth", "demo-client", "user", "secret"), true);
	await driver.call("demo", "keepalive", 30);
	assert.equal(await driver.call("demo", "ready"), false);
	assert.equal(await driver.call("demo", "connect"), true);
	assert.equal(await driver.call("demo", "connect"), false, "a second connect() while connecting");
	const conack = await driver.waitEvent("demo", "conack");
	assert.equal(conack.same, true, "the callback's first argument is the client");
	assert.equal(await driver.call("demo", "ready"), true);
	assert.equal(await driver.call("demo", "state"), 3);

	const subId = await driver.call("demo", "subscribe", "/luatos/demo/#", 2);
	assert.ok(subId >= 1 && subId <= 65535);
	const suback = await driver.waitEvent("demo", "suback");
	assert.equal(suback.data, true);
	assert.equal(suback.payload, 2);
	assert.equal(suback.metas.message_id, subId);

	const ids = [];
	for (const qos of [0, 1, 2]) {
		const id = await driver.call("demo", "publish", `/luatos/demo/q${qos}`, `payload ${qos}`, qos);
		assert.ok(Number.isInteger(id) && id > 0, `publish qos ${qos} returns an id`);
		ids.push(id);
	}
	assert.equal(new Set(ids).size, 3, "ids are distinct");
	for (const [qos, id] of ids.entries()) {
		const sent = await driver.waitEvent("demo", "sent", (e) => e.data === id);
		assert.equal(sent.data, id);
		const recv = await driver.waitEvent("demo", "recv", (e) => e.data === `/luatos/demo/q${qos}`);
		assert.equal(recv.payload, `payload ${qos}`);
		assert.equal(recv.metas.qos, qos);
		assert.equal(recv.metas.retain, 0);
		assert.equal(recv.metas.dup, 0);
		if (qos) assert.ok(recv.metas.message_id > 0);
	}
	assert.equal(driver.seen("demo", "sent").length, 3, "sent exactly once per message");
	assert.equal(await driver.call("demo", "disconnect"), true);
	const gone = await driver.waitEvent("demo", "disconnect");
	assert.equal(gone.data, "user");
	assert.equal(await driver.call("demo", "state"), 0);
});

test("binary payloads go out unchanged and come back as ArrayBuffer when asked", async () => {
	await connected(driver, "bin", broker.port, { opts: { binary: true } });
	await driver.call("bin", "subscribe", "bin/x", 1);
	await driver.waitEvent("bin", "suback");
	const bytes = "00ff0d0a1b1a80c3";
	await driver.call("bin", "publish", "bin/x", { hex: bytes }, 1);
	const recv = await driver.waitEvent("bin", "recv");
	assert.deepEqual(recv.payload, { hex: bytes });
	await driver.call("bin", "close");
});

test("a payload is the bytes of the app's view: a window into a larger Uint8Array, a DataView, an Int16Array, an ArrayBuffer (QoS 0 and 1)", async () => {
	await connected(driver, "views", broker.port, { opts: { binary: true } });
	await driver.call("views", "subscribe", "views/+", 1);
	await driver.waitEvent("views", "suback");
	for (const qos of [0, 1]) {
		const ids = await driver.app.call("publishViews", "views", `views/${qos}`, qos);
		assert.ok(ids.every((id) => typeof id === "number"), `QoS ${qos}: all four taken`);
	}
	const expected = ["view0", "view1", "view2!", "view3"].map((text) => ({ hex: Buffer.from(text).toString("hex") }));
	for (const qos of [0, 1]) {
		const got = [];
		for (let i = 0; i < 4; i++) got.push((await driver.waitEvent("views", "recv", (e) => e.data === `views/${qos}`)).payload);
		assert.deepEqual(got, expected, `QoS ${qos}`);
	}
	await driver.call("views", "close");
});

test("a retained message arrives with retain=1 in metas", async () => {
	await mosquittoPub(broker.port, ["-t", "keep/this", "-m", "stored", "-r", "-q", "1"]);
	await connected(driver, "ret", broker.port);
	await driver.call("ret", "subscribe", "keep/this", 1);
	const recv = await driver.waitEvent("ret", "recv");
	assert.equal(recv.payload, "stored");
	assert.equal(recv.metas.retain, 1);
	await driver.call("ret", "close");
	await mosquittoPub(broker.port, ["-t", "keep/this", "-n", "-r"]);
});

test("multi-topic subscribe with mixed qos reports every topic's grant; unsubscribe stops delivery", async () => {
	await connected(driver, "multi", broker.port);
	const id = await driver.call("multi", "subscribe", { "m/one": 0, "m/two": 1, "m/three": 2 });
	const suback = await driver.waitEvent("multi", "suback");
	assert.equal(suback.metas.message_id, id);
	assert.deepEqual(suback.metas.topics, ["m/one", "m/two", "m/three"]);
	assert.deepEqual(suback.metas.codes, [0, 1, 2]);
	assert.equal(suback.data, true);
	await mosquittoPub(broker.port, ["-t", "m/two", "-m", "before", "-q", "1"]);
	assert.equal((await driver.waitEvent("multi", "recv")).payload, "before");
	const unsubId = await driver.call("multi", "unsubscribe", ["m/two", "m/three"]);
	const unsuback = await driver.waitEvent("multi", "unsuback");
	assert.equal(unsuback.data, unsubId);
	await mosquittoPub(broker.port, ["-t", "m/two", "-m", "after", "-q", "1"]);
	await mosquittoPub(broker.port, ["-t", "m/one", "-m", "marker"]);
	const next = await driver.waitEvent("multi", "recv");
	assert.equal(next.payload, "marker", "nothing arrives on the unsubscribed topic");
	await driver.call("multi", "close");
});

test("invalid topics and arguments return null and nothing reaches the broker", async () => {
	await connected(driver, "bad", broker.port);
	for (const topic of ["", "a/#", "a/+/b", "nul\u0000x", 42]) assert.equal(await driver.call("bad", "publish", topic, "x"), null, `publish ${JSON.stringify(topic)}`);
	assert.equal(await driver.call("bad", "publish", "ok", "x", 3), null, "qos 3");
	for (const filter of ["", "a/#/b", "a+", "#a"]) assert.equal(await driver.call("bad", "subscribe", filter, 0), null, `subscribe ${filter}`);
	assert.equal(await driver.call("bad", "publish", "x".repeat(65536), "x"), null, "topic over 65535 bytes");
	assert.equal(await driver.call("bad", "auth", { repeat: "é", count: 40000 }), null, "client id over 65535 bytes");
	assert.equal(await driver.call("bad", "ready"), true, "the connection survived");
	assert.equal(await driver.create("nohost", "", 1883), false);
	assert.equal(await driver.create("noport", "127.0.0.1", 70000), false);
	assert.equal(await driver.create("norx", "127.0.0.1", 1883, null, { rxSize: 10 }), false);
	await driver.call("bad", "close");
});

test("the will is delivered when the client vanishes, and not after disconnect()", async () => {
	await willScenario(broker.port);
});

test("a refused password gives error conack with code 5, then disconnect", async () => {
	const port = await freePort();
	const dir = mkdtempSync(join(tmpdir(), "mqttc-pw-"));
	const passwords = join(dir, "passwords");
	writeFileSync(passwords, "");
	execFileSync("mosquitto_passwd", ["-b", passwords, "alice", "right"]);
	chmodSync(dir, 0o755);
	chmodSync(passwords, 0o644);
	const auth = await startBroker({ port, listener: false, lines: [`listener ${port} 127.0.0.1`, `password_file ${passwords}`, "allow_anonymous false"] });
	try {
		await driver.create("pw", "127.0.0.1", auth.port);
		await driver.call("pw", "auth", "pw-client", "alice", "wrong");
		await driver.call("pw", "connect");
		const error = await driver.waitEvent("pw", "error");
		assert.equal(error.data, "conack");
		assert.equal(error.payload, 5);
		assert.equal((await driver.waitEvent("pw", "disconnect")).data, "refused");
		assert.equal(await driver.call("pw", "ready"), false);
		await driver.call("pw", "auth", "pw-client", "alice", "right");
		await driver.call("pw", "connect");
		await driver.waitEvent("pw", "conack");
		await driver.call("pw", "close");
	}
	finally {
		await auth.stop();
	}
});

test("a refused TCP connection gives error connect, then disconnect", async () => {
	const port = await freePort();
	await driver.create("refused", "127.0.0.1", port);
	await driver.call("refused", "connect");
	const error = await driver.waitEvent("refused", "error");
	assert.equal(error.data, "connect");
	await driver.waitEvent("refused", "disconnect");
	assert.equal(await driver.call("refused", "state"), 0);
	await driver.call("refused", "close");
});

test("a server that accepts TCP but never answers CONNECT times out after conn_timeout", async () => {
	const silent = net.createServer(() => {});
	await new Promise((r) => silent.listen(0, "127.0.0.1", r));
	try {
		await driver.create("silent", "127.0.0.1", silent.address().port, null, { conn_timeout: 1 });
		await driver.call("silent", "connect");
		const error = await driver.waitEvent("silent", "error", () => true, 5000);
		assert.equal(error.data, "connect");
		assert.equal((await driver.waitEvent("silent", "disconnect")).data, "conack_timeout");
		await driver.call("silent", "close");
	}
	finally {
		silent.close();
	}
});

test("autoreconn brings the client back after the broker is killed and restarted, resubscribed", async () => {
	const own = await startBroker();
	try {
		await connected(driver, "re", own.port);
		await driver.call("re", "autoreconn", true, 200);
		await driver.call("re", "subscribe", "re/t", 1);
		await driver.waitEvent("re", "suback");
		await own.kill();
		assert.equal((await driver.waitEvent("re", "disconnect")).data, "peer");
		await new Promise((r) => setTimeout(r, 500));
		await own.restart();
		await driver.waitEvent("re", "conack", () => true, 15000);
		await driver.waitEvent("re", "suback"); // restored subscription (the new broker has no session)
		await mosquittoPub(own.port, ["-t", "re/t", "-m", "back", "-q", "1"]);
		assert.equal((await driver.waitEvent("re", "recv")).payload, "back");
		await driver.call("re", "close");
	}
	finally {
		await own.stop();
	}
});

test("after close() every method is a harmless no-op returning null/false", async () => {
	await connected(driver, "closed", broker.port);
	await driver.call("closed", "close");
	const calls = [
		["auth", ["x"]], ["keepalive", [30]], ["on", [null]], ["connect", []], ["disconnect", []],
		["autoreconn", [true]], ["publish", ["t", "x", 1]], ["subscribe", ["t", 1]], ["unsubscribe", ["t"]],
		["close", []], ["ready", []], ["state", []], ["will", ["t", "x"]], ["debug", [true]],
	];
	for (const [method, args] of calls) {
		const result = await driver.call("closed", method, ...args);
		assert.ok(result === null || result === false || result === 0, `${method} after close returned ${JSON.stringify(result)}`);
	}
	assert.equal(driver.seen("closed", "disconnect").length, 0, "close() is silent");
});

test("debug(true) on an open connection traces from the next packet on, both ways", async () => {
	await driver.create("dbglive", "127.0.0.1", broker.port);
	await driver.call("dbglive", "auth", "dbg-live");
	await driver.call("dbglive", "connect");
	await driver.waitEvent("dbglive", "conack");
	const before = driver.app.output.length;
	await driver.call("dbglive", "debug", true);
	const id = await driver.call("dbglive", "publish", "dbg/live", "traced", 1);
	await driver.waitEvent("dbglive", "sent", (e) => e.data === id);
	await driver.call("dbglive", "debug", false);
	await driver.call("dbglive", "close");
	const trace = driver.app.output.slice(before);
	assert.match(trace, new RegExp(`mqttc: > PUBLISH id=${id} qos=1 topic=dbg/live bytes=6`));
	assert.match(trace, new RegExp(`mqttc: < PUBACK id=${id}`));
	assert.doesNotMatch(trace, /mqttc: > DISCONNECT/, "nothing traced after debug(false)");
});

test("debug(true) traces the packets in and out and never the password", async () => {
	const before = driver.app.output.length;
	await driver.create("dbg", "127.0.0.1", broker.port);
	await driver.call("dbg", "debug", true);
	await driver.call("dbg", "auth", "dbg-client", "someone", "s3cret-pw");
	await driver.call("dbg", "connect");
	await driver.waitEvent("dbg", "conack");
	await driver.call("dbg", "publish", "dbg/t", "traced", 1);
	await driver.waitEvent("dbg", "sent");
	await driver.call("dbg", "debug", false);
	await driver.call("dbg", "publish", "dbg/t", "quiet", 0);
	await driver.waitEvent("dbg", "sent");
	await driver.call("dbg", "close");
	const trace = driver.app.output.slice(before);
	assert.match(trace, /mqttc: > CONNECT client_id=dbg-client .*username=someone password=\*\*\*/);
	assert.match(trace, /mqttc: < CONNACK/);
	assert.match(trace, /mqttc: > PUBLISH id=\d+ qos=1/);
	assert.match(trace, /mqttc: < PUBACK id=\d+/);
	assert.doesNotMatch(trace, /s3cret-pw/, "the password never appears");
	assert.doesNotMatch(trace, /bytes=5/, "nothing is traced after debug(false)");
});
