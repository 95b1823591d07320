// Keepalive, dead-peer detection and reconnect backoff, in the XS host's virtual time:
// minutes of device time in a second of test time.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBroker, freePort } from "./lib/broker.mjs";
import { startScriptedBroker } from "./lib/scripted-broker.mjs";
import { startDriver, connected } from "./lib/driver.mjs";

let broker;
let driver;
before(async () => {
	broker = await startBroker();
	driver = await startDriver({ virtualTime: true });
});
after(async () => {
	await driver?.stop();
	await broker?.stop();
});

test("an idle connection sends PINGREQ after 3/4 of the keepalive and reports pong", async () => {
	await connected(driver, "ka", broker.port, { keepalive: 20 });
	await driver.advance(14000, 500);
	assert.equal(driver.seen("ka", "pong").length, 0, "no ping before 3/4 of 20 s");
	await driver.advance(2000, 500);
	await driver.waitEvent("ka", "pong");
	await driver.advance(60000, 500);
	const pongs = driver.seen("ka", "pong").length;
	assert.ok(pongs >= 4 && pongs <= 5, `${pongs} pongs in 76 s of keepalive 20`);
	assert.equal(await driver.call("ka", "ready"), true);
	assert.equal(driver.seen("ka", "disconnect").length, 0);
	await driver.call("ka", "close");
});

test("keepalive is clamped to 15..600 s as LuatOS does", async () => {
	await connected(driver, "clamp", broker.port, { keepalive: 1 });
	await driver.advance(10000, 500);
	assert.equal(driver.seen("clamp", "pong").length, 0, "1 s became 15 s: no ping within 10 s");
	await driver.advance(2000, 500);
	await driver.waitEvent("clamp", "pong");
	await driver.call("clamp", "close");
});

test("a broker that stops answering is declared dead: error, disconnect ping_timeout, then autoreconn", async () => {
	let answer = true;
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd === "pingreq" && !answer) return true; // swallow it: the peer is "dead"
			return false;
		},
	});
	try {
		await connected(driver, "dead", scripted.port, { keepalive: 20 });
		await driver.call("dead", "autoreconn", true, 1000);
		await driver.advance(16000, 500);
		await driver.waitEvent("dead", "pong");
		answer = false;
		// last life at 15 s; next PINGREQ at 30 s (3 ticks of 5 s idle); dead 2 ticks later, at 40 s
		await driver.advance(20000, 500);
		assert.equal(driver.seen("dead", "disconnect").length, 0, "not before 2 ticks after the unanswered PINGREQ");
		await driver.advance(5500, 500);
		const error = await driver.waitEvent("dead", "error");
		assert.equal(error.data, "other");
		assert.match(error.payload, /PINGRESP/);
		assert.equal((await driver.waitEvent("dead", "disconnect")).data, "ping_timeout");
		answer = true;
		await driver.advance(1500, 250);
		await driver.waitEvent("dead", "conack");
		assert.equal(scripted.connections.length, 2, "a new connection after the dead one");
		await driver.call("dead", "close");
	}
	finally {
		await scripted.stop();
	}
});

test("any packet from the broker counts as life: no ping timeout while messages flow", async () => {
	let answer = true;
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd === "pingreq" && !answer) return true;
			if (packet.cmd === "subscribe") { conn.send({ cmd: "suback", messageId: packet.messageId, granted: [0] }); return true; }
			return false;
		},
	});
	try {
		await connected(driver, "flow", scripted.port, { keepalive: 20 });
		await driver.call("flow", "subscribe", "f", 0);
		await driver.waitEvent("flow", "suback");
		answer = false;
		for (let i = 0; i < 12; i++) {
			scripted.connections[0].send({ cmd: "publish", topic: "f", payload: Buffer.from(`tick ${i}`), qos: 0, dup: false, retain: false });
			await driver.waitEvent("flow", "recv");
			await driver.advance(5000, 500);
		}
		assert.equal(driver.seen("flow", "disconnect").length, 0, "60 s without PINGRESP but with traffic");
		await driver.call("flow", "close");
	}
	finally {
		await scripted.stop();
	}
});

test("autoreconn with a cap backs off exponentially with jitter; without one it keeps its fixed period", async () => {
	const port = await freePort(); // nothing listens: every attempt is refused
	for (const [name, args] of [["fixed", [true, 200]], ["backoff", [true, 200, 4000]]]) {
		await driver.create(name, "127.0.0.1", port);
		await driver.call(name, "auth", name);
		await driver.call(name, "autoreconn", ...args);
		await driver.call(name, "connect");
	}
	await driver.advance(20000, 100);
	const fixed = driver.seen("fixed", "disconnect").length;
	const backoff = driver.seen("backoff", "disconnect").length;
	console.log(`# attempts in 20 s of refused connections: fixed 200 ms: ${fixed}, backoff 200..4000 ms: ${backoff}`);
	assert.ok(fixed >= 60, `fixed period: ${fixed} attempts`);
	// delays are at least 100, 200, 400, 800, 1600, 2000, 2000... ms: at most 14 attempts in 20 s
	assert.ok(backoff >= 5 && backoff <= 14, `backoff: ${backoff} attempts`);
	await driver.call("fixed", "close");
	await driver.call("backoff", "close");
});

test("a broker that drops the connection right after CONNACK does not reset the backoff; a connection that lasts one keepalive tick does", async () => {
	let drop = true;
	const scripted = await startScriptedBroker({
		onPacket(conn, packet) {
			if (packet.cmd !== "connect") return false;
			conn.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
			if (drop) setTimeout(() => conn.close(), 5);
			return true;
		},
	});
	try {
		await driver.create("flaky", "127.0.0.1", scripted.port);
		await driver.call("flaky", "auth", "flaky");
		await driver.call("flaky", "keepalive", 20);
		await driver.call("flaky", "autoreconn", true, 200, 4000);
		await driver.call("flaky", "connect");
		await driver.advance(20000, 100);
		const flaps = scripted.connections.length;
		console.log(`# connections in 20 s to a broker that drops each one after CONNACK, backoff 200..4000 ms: ${flaps}`);
		// Reset at each CONNACK, every delay would be 100..200 ms: over 100 connections.
		assert.ok(flaps >= 5 && flaps <= 15, `${flaps} connections`);
		drop = false;
		await driver.advance(4000, 100);          // the next attempt succeeds and stays
		const stable = scripted.connections.length;
		await driver.advance(6000, 100);          // one keepalive tick (5 s) on it
		assert.equal(scripted.connections.length, stable, "it stayed connected");
		scripted.connections.at(-1).close();
		await driver.waitEvent("flaky", "disconnect", (e) => e.data === "peer");
		await driver.advance(300, 50);            // base period again: within 200 ms, not 2000..4000
		assert.equal(scripted.connections.length, stable + 1, "reconnected at the base period");
		await driver.call("flaky", "close");
	}
	finally {
		await scripted.stop();
	}
});
