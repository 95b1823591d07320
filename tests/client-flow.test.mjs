// mqttc on the XS engine against mosquitto: the two flow-control features an app such as
// the AT modem needs: manual_ack + client.ack() (the app acknowledges a QoS 1/2 message
// when it has really taken it) and client.open() (TCP before CONNECT).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mosquittoPub, freePort } from "./lib/broker.mjs";
import { startDriver, brokerAndDriver } from "./lib/driver.mjs";
import { fileURLToPath } from "node:url";
import { startApp } from "../hosts/xs/host.mjs";

const env = brokerAndDriver();

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

async function connectAs(name, id, opts) {
	assert.equal(await env.driver.create(name, "127.0.0.1", env.broker.port, null, opts), true);
	assert.equal(await env.driver.call(name, "auth", id, "", "", false), true);
	assert.equal(await env.driver.call(name, "connect"), true);
	return env.driver.waitEvent(name, "conack");
}

async function reconnect(name) {
	assert.equal(await env.driver.call(name, "disconnect"), true);
	await env.driver.waitEvent(name, "disconnect");
	assert.equal(await env.driver.call(name, "connect"), true);
	await env.driver.waitEvent(name, "conack");
}

test("manual_ack: no PUBACK/PUBREC until ack(); unacknowledged messages come again on the resumed session, acknowledged ones do not", async () => {
	await connectAs("ma", "ma-device", { manual_ack: 4 });
	await env.driver.call("ma", "subscribe", "ma/t", 2);
	await env.driver.waitEvent("ma", "suback");
	await mosquittoPub(env.broker.port, ["-t", "ma/t", "-q", "1", "-m", "one"]);
	await mosquittoPub(env.broker.port, ["-t", "ma/t", "-q", "2", "-m", "two"]);
	const one = await env.driver.waitEvent("ma", "recv", (e) => e.payload === "one");
	const two = await env.driver.waitEvent("ma", "recv", (e) => e.payload === "two");
	assert.equal(one.metas.qos, 1);
	assert.equal(two.metas.qos, 2);

	// Not acknowledged: the broker still holds both and sends them again on the session.
	await reconnect("ma");
	const again1 = await env.driver.waitEvent("ma", "recv", (e) => e.payload === "one");
	const again2 = await env.driver.waitEvent("ma", "recv", (e) => e.payload === "two");
	assert.equal(again1.metas.dup, 1);
	assert.equal(again2.metas.dup, 1);
	assert.equal(await env.driver.call("ma", "ack", again1.metas.message_id), true);
	assert.equal(await env.driver.call("ma", "ack", again2.metas.message_id), true);
	assert.equal(await env.driver.call("ma", "ack", again1.metas.message_id), false, "a second ack of the same id");
	assert.equal(await env.driver.call("ma", "ack", 4242), false, "an id that awaits nothing");

	// Acknowledged (QoS 2: PUBREC, PUBREL, PUBCOMP): nothing comes back on the next session.
	await pause(300);
	await reconnect("ma");
	await mosquittoPub(env.broker.port, ["-t", "ma/t", "-q", "1", "-m", "marker"]);
	await env.driver.waitEvent("ma", "recv", (e) => e.payload === "marker");
	const payloads = env.driver.seen("ma", "recv").map((e) => e.payload);
	assert.deepEqual(payloads, ["one", "two", "one", "two", "marker"]);
	await env.driver.call("ma", "close");
});

test("manual_ack: beyond the bound a message is acknowledged at once and an error names it; QoS 0 needs no ack", async () => {
	await connectAs("mb", "mb-device", { manual_ack: 2 });
	await env.driver.call("mb", "subscribe", "mb/t", 1);
	await env.driver.waitEvent("mb", "suback");
	for (const m of ["a", "b", "c"]) await mosquittoPub(env.broker.port, ["-t", "mb/t", "-q", "1", "-m", m]);
	await mosquittoPub(env.broker.port, ["-t", "mb/t", "-q", "0", "-m", "zero"]);
	const got = [];
	for (const m of ["a", "b", "c", "zero"]) got.push(await env.driver.waitEvent("mb", "recv", (e) => e.payload === m));
	const over = await env.driver.waitEvent("mb", "error");
	assert.equal(over.data, "other");
	assert.match(over.payload, /more than 2 messages await ack\(\)/);
	assert.equal(over.metas.message_id, got[2].metas.message_id);
	assert.equal(await env.driver.call("mb", "ack", got[2].metas.message_id), false, "already acknowledged by the client");
	assert.equal(await env.driver.call("mb", "ack", got[3].metas.message_id), false, "QoS 0 awaits nothing");
	assert.equal(await env.driver.call("mb", "ack", got[0].metas.message_id), true);
	assert.equal(await env.driver.call("mb", "ack", got[1].metas.message_id), true);
	// all three were acknowledged: none comes back on the resumed session
	await reconnect("mb");
	await mosquittoPub(env.broker.port, ["-t", "mb/t", "-q", "1", "-m", "marker"]);
	await env.driver.waitEvent("mb", "recv", (e) => e.payload === "marker");
	assert.equal(env.driver.seen("mb", "recv").length, 5);
	await env.driver.call("mb", "close");
});

test("manual_ack must be a boolean or 1..65535", async () => {
	assert.equal(await env.driver.create("bad", "127.0.0.1", env.broker.port, null, { manual_ack: 0 }), false);
	assert.equal(await env.driver.create("bad", "127.0.0.1", env.broker.port, null, { manual_ack: "yes" }), false);
	assert.equal(await env.driver.create("bad", "127.0.0.1", env.broker.port, null, { manual_ack: true }), true);
	await env.driver.call("bad", "close");
});

test("open() opens TCP without CONNECT (event open); connect() then sends CONNECT on that connection", async () => {
	assert.equal(await env.driver.create("op", "127.0.0.1", env.broker.port), true);
	await env.driver.call("op", "auth", "op-device");
	assert.equal(await env.driver.call("op", "open"), true);
	assert.equal(await env.driver.call("op", "open"), false, "a second open() while opening");
	await env.driver.waitEvent("op", "open");
	assert.equal(await env.driver.call("op", "state"), 1);
	assert.equal(await env.driver.call("op", "ready"), false);
	await pause(300);
	const connections = (env.broker.log().match(/New connection from/g) ?? []).length;
	assert.doesNotMatch(env.broker.log(), /New client connected .* as op-device/, "no CONNECT before connect()");
	assert.equal(await env.driver.call("op", "connect"), true);
	await env.driver.waitEvent("op", "conack");
	assert.equal(await env.driver.call("op", "ready"), true);
	assert.match(env.broker.log(), /New client connected .* as op-device/);
	assert.equal((env.broker.log().match(/New connection from/g) ?? []).length, connections, "CONNECT went on the connection open() made");
	await env.driver.call("op", "close");
});

test("connect() during open() sends CONNECT as soon as the connection is up", async () => {
	assert.equal(await env.driver.create("oc", "127.0.0.1", env.broker.port), true);
	await env.driver.call("oc", "auth", "oc-device");
	assert.equal(await env.driver.call("oc", "open"), true);
	assert.equal(await env.driver.call("oc", "connect"), true);
	await env.driver.waitEvent("oc", "conack");
	await env.driver.call("oc", "close");
});

// A refused connect is an error at once on lwIP (ESP32). The Linux simulator's socket reports
// it as connected and fails the first write: there open() says `open` and connect() fails.
test("open() to a closed port (ESP32 sockets): error connect, disconnect connect, and autoreconn does not retry it", async () => {
	const esp = await startDriver({ platform: "esp32" });
	try {
		const port = await freePort();
		assert.equal(await esp.create("oz", "127.0.0.1", port), true);
		await esp.call("oz", "autoreconn", true, 100);
		assert.equal(await esp.call("oz", "open"), true);
		assert.equal((await esp.waitEvent("oz", "error")).data, "connect");
		assert.equal((await esp.waitEvent("oz", "disconnect")).data, "connect");
		await pause(600);
		assert.equal(esp.seen("oz", "error").length, 1, "no second attempt");
		assert.equal(esp.seen("oz", "open").length, 0);
		assert.equal(await esp.call("oz", "state"), 0);
		await esp.call("oz", "close");
	}
	finally {
		await esp.stop();
	}
});

test("open() and debug(true) in an app built without manifest_open.json and manifest_debug.json: open() is false, debug names the manifest, the client still works", async () => {
	const app = await startApp(fileURLToPath(new URL("./apps/client-notls/", import.meta.url)), { stdout: !!process.env.MQTTC_TRACE });
	try {
		assert.ok(!app.sources.has("mqttc/open") && !app.sources.has("mqttc/debug"), "neither is in a plain app");
		assert.equal(await app.call("create", "plain", "127.0.0.1", env.broker.port, null, null), true);
		await app.call("call", "plain", "debug", true);
		assert.match(app.output, /mqttc: debug needs mqttc\/debug: include mqttc's manifest_debug.json/);
		assert.equal(await app.call("call", "plain", "open"), false, "open() without mqttc/open");
		await app.call("call", "plain", "auth", "plain-open");
		assert.equal(await app.call("call", "plain", "connect"), true, "connect() after the refused open()");
		await app.waitFor(/EVT plain \{"event":"conack"/, 5000);
		const id = await app.call("call", "plain", "publish", "flow/plain", "x", 1);
		await app.waitFor(new RegExp(`EVT plain \\{"event":"sent","data":${id}`), 5000);
		assert.doesNotMatch(app.output, /mqttc: > /, "no packet traced without mqttc/debug");
		await app.call("call", "plain", "close");
	}
	finally {
		await app.stop();
	}
});

test("manual_ack in an app built without manifest_acks.json: create returns null and names the manifest; manual_ack false needs nothing", async () => {
	const app = await startApp(fileURLToPath(new URL("./apps/client-notls/", import.meta.url)), { stdout: !!process.env.MQTTC_TRACE });
	try {
		assert.equal(await app.call("create", "deferred", "127.0.0.1", env.broker.port, null, { manual_ack: true }), false);
		assert.match(app.output, /mqttc: create: manual_ack needs mqttc\/acks: include mqttc's manifest_acks.json/);
		assert.ok(!app.sources.has("mqttc/acks"), "not in a plain app");
		assert.equal(await app.call("create", "auto", "127.0.0.1", env.broker.port, null, { manual_ack: false }), true);
		assert.equal(await app.call("call", "auto", "ack", 1), false, "ack() without manual_ack: nothing awaits it");
		await app.call("call", "auto", "close");
	}
	finally {
		await app.stop();
	}
});

