// MQTT over WebSocket (mqttc/ws, manifest_ws.json) on the XS host: the client scenarios
// against Aedes behind the npm `ws` package, and a hostile WebSocket server scripted byte for
// byte (its upgrade answer and frames) for what no real broker does on demand.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import crypto from "node:crypto";
import fs from "node:fs";
import { startDriver, connected } from "./lib/driver.mjs";
import { startAedesWs } from "./lib/ws-broker.mjs";
import { bytes } from "./lib/byte-broker.mjs";
import { makeCerts } from "./lib/certs.mjs";
import { idleKeepalive } from "./lib/scenarios.mjs";

let driver, broker;
before(async () => {
	broker = await startAedesWs();
	driver = await startDriver();
});
after(async () => {
	await driver?.stop();
	await broker?.stop();
});

const WS = { websocket: true };

test("over WebSocket (Aedes): the upgrade asks for mqtt; QoS 0, 1 and 2 both ways; retained; will", async () => {
	await connected(driver, "w1", broker.port, { opts: WS });
	const upgrade = broker.upgrades.at(-1);
	assert.equal(upgrade["sec-websocket-protocol"], "mqtt");
	assert.equal(upgrade["sec-websocket-version"], "13");
	await driver.call("w1", "subscribe", "ws/t", 2);
	await driver.waitEvent("w1", "suback");
	for (const qos of [0, 1, 2]) assert.notEqual(await driver.call("w1", "publish", "ws/t", `hello ${qos}`, qos), null);
	for (const qos of [0, 1, 2]) {
		const recv = await driver.waitEvent("w1", "recv", (e) => e.payload === `hello ${qos}`);
		assert.equal(recv.metas.qos, qos);
	}
	await driver.waitEvent("w1", "sent");
	const kept = await driver.call("w1", "publish", "ws/retained", "kept", 1, 1);
	await driver.waitEvent("w1", "sent", (e) => e.data === kept);
	await connected(driver, "w2", broker.port, { opts: WS });
	await driver.call("w2", "subscribe", "ws/#", 1);
	const retained = await driver.waitEvent("w2", "recv", (e) => e.data === "ws/retained");
	assert.equal(retained.metas.retain, 1);
	// A will, published when its client's WebSocket drops without DISCONNECT.
	assert.ok(await driver.create("w3", "127.0.0.1", broker.port, null, WS));
	await driver.call("w3", "will", "ws/will", "gone", 1);
	await driver.call("w3", "connect");
	await driver.waitEvent("w3", "conack");
	broker.dropLast();
	await driver.waitEvent("w2", "recv", (e) => e.data === "ws/will" && e.payload === "gone");
	await driver.call("w1", "close");
	await driver.call("w2", "close");
	await driver.call("w3", "close");
});

test("over WebSocket: a message larger than rxSize streams in pieces; the connection stays", async () => {
	await connected(driver, "big", broker.port, { opts: { ...WS, rxSize: 1024 } });
	await driver.call("big", "subscribe", "ws/big", 1);
	await driver.waitEvent("big", "suback");
	await connected(driver, "pub", broker.port, { opts: { ...WS, outbox: 65536 } });
	assert.notEqual(await driver.call("pub", "publish", "ws/big", "x".repeat(20000), 1), null);
	let got = 0;
	while (got < 20000) {
		const piece = await driver.waitEvent("big", "recv");
		assert.equal(piece.metas.total, 20000);
		got += piece.payload.length;
	}
	assert.equal(got, 20000);
	await driver.call("pub", "publish", "ws/big", "after", 1);
	await driver.waitEvent("big", "recv", (e) => e.payload === "after");
	await driver.call("big", "close");
	await driver.call("pub", "close");
});

test("over WebSocket: a dropped WebSocket reconnects (autoreconn) and resends the QoS 1 message in flight", async () => {
	await connected(driver, "rc", broker.port, { opts: WS, clean: false });
	await driver.call("rc", "autoreconn", true, 200);
	await driver.call("rc", "subscribe", "ws/rc", 1);
	await driver.waitEvent("rc", "suback");
	broker.dropLast();
	assert.equal((await driver.waitEvent("rc", "disconnect")).data, "peer");
	const id = await driver.call("rc", "publish", "ws/rc", "while away", 1);
	assert.notEqual(id, null);
	await driver.waitEvent("rc", "conack");
	await driver.waitEvent("rc", "sent", (e) => e.data === id);
	await driver.waitEvent("rc", "recv", (e) => e.payload === "while away");
	await driver.call("rc", "close");
});

test("over WebSocket over TLS (wss): the CA verified, QoS 1 both ways; a wrong CA is refused before any upgrade", async (t) => {
	const certs = makeCerts();
	t.after(() => certs.cleanup());
	const secure = await startAedesWs({ tls: { cert: fs.readFileSync(certs.server.chain), key: fs.readFileSync(certs.server.key) } });
	t.after(() => secure.stop());
	await connected(driver, "wss", secure.port, { opts: WS, ssl: { server_cert: certs.ca.pem } });
	await driver.call("wss", "subscribe", "wss/t", 1);
	await driver.waitEvent("wss", "suback");
	const id = await driver.call("wss", "publish", "wss/t", "over TLS", 1);
	await driver.waitEvent("wss", "sent", (e) => e.data === id);
	await driver.waitEvent("wss", "recv", (e) => e.payload === "over TLS");
	assert.equal(secure.upgrades.length, 1);
	await driver.call("wss", "close");
	assert.ok(await driver.create("wrongca", "127.0.0.1", secure.port, { server_cert: certs.selfSigned.pem }, WS));
	await driver.call("wrongca", "connect");
	const error = await driver.waitEvent("wrongca", "error");
	assert.equal(error.data, "connect");
	assert.match(error.payload, /TLS connection failed/);
	assert.equal(secure.upgrades.length, 1, "no upgrade over an unverified connection");
	await driver.call("wrongca", "close");
});

test("over WebSocket: the graceful disconnect settles what was in flight, then DISCONNECT; failover to a backup address", async () => {
	await connected(driver, "bye", broker.port, { opts: WS });
	const id = await driver.call("bye", "publish", "ws/bye", "last words", 1);
	assert.equal(await driver.call("bye", "disconnect"), true);
	await driver.waitEvent("bye", "sent", (e) => e.data === id);
	assert.equal((await driver.waitEvent("bye", "disconnect")).data, "user");
	await driver.call("bye", "close");
	// The first address refuses; the backup is the WebSocket broker.
	const closed = net.createServer();
	await new Promise((resolve) => closed.listen(0, "127.0.0.1", resolve));
	const port = closed.address().port;
	await new Promise((resolve) => closed.close(resolve));
	assert.ok(await driver.create("fo", "127.0.0.1", port, null, { ...WS, backup: [`127.0.0.1:${broker.port}`] }));
	await driver.call("fo", "connect");
	await driver.waitEvent("fo", "conack");
	await driver.call("fo", "close");
});

test("over WebSocket: keepalive pings when idle and gets pong (virtual time)", async () => {
	await idleKeepalive(broker.port, { opts: WS });
});

test("over WebSocket on the esp32 profile (lwIP: a reset is -2, 8 KB of send space): QoS 1 round trip, a dropped WebSocket reconnects", async () => {
	const esp32 = await startDriver({ platform: "esp32" });
	try {
		await connected(esp32, "lw", broker.port, { opts: WS });
		await esp32.call("lw", "autoreconn", true, 200);
		await esp32.call("lw", "subscribe", "ws/lw", 1);
		await esp32.waitEvent("lw", "suback");
		await esp32.call("lw", "publish", "ws/lw", "x".repeat(6000), 1);
		await esp32.waitEvent("lw", "recv", (e) => e.payload.length === 6000);
		broker.dropLast();
		await esp32.waitEvent("lw", "disconnect");
		await esp32.waitEvent("lw", "conack");
		await esp32.call("lw", "close");
	}
	finally {
		await esp32.stop();
	}
});

// ---- a hostile WebSocket server ------------------------------------------------------

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

/** A server frame: FIN and opcode, payload; `mask` sets a (forbidden) mask. */
function frame(opcode, payload = Buffer.alloc(0), { fin = true, mask = false } = {}) {
	const length = payload.length;
	const head = length < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, length])
		: length < 65536 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 126, length >> 8, length & 0xFF])
		: Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 127, 0, 0, 0, 0]), Buffer.from([length >>> 24, (length >> 16) & 0xFF, (length >> 8) & 0xFF, length & 0xFF])]);
	if (mask) head[1] |= 0x80;
	return Buffer.concat([head, mask ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), payload]);
}

/** Unmasks the client's frames (each must be masked), returns [{opcode, payload}]. */
function clientFrames(buffer) {
	const frames = [];
	for (let at = 0; at + 2 <= buffer.length;) {
		let length = buffer[at + 1] & 0x7F, head = 2;
		assert.ok(buffer[at + 1] & 0x80, "a client frame is masked");
		if (length === 126) { length = buffer.readUInt16BE(at + 2); head = 4; }
		else if (length === 127) { length = Number(buffer.readBigUInt64BE(at + 2)); head = 10; }
		if (at + head + 4 + length > buffer.length) break;
		const key = buffer.subarray(at + head, at + head + 4);
		const payload = Buffer.from(buffer.subarray(at + head + 4, at + head + 4 + length));
		for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
		frames.push({ opcode: buffer[at] & 0x0F, payload });
		at += head + 4 + length;
	}
	return frames;
}

/**
 * A server that answers the upgrade with `answer(key)` (the whole HTTP answer) and then runs
 * `script(socket, frames)`: `frames()` resolves the client frames seen so far.
 */
async function hostile(answer, script = async () => {}) {
	const server = net.createServer((socket) => {
		let input = Buffer.alloc(0), upgraded = false;
		const seen = [];
		socket.on("data", (data) => {
			input = Buffer.concat([input, data]);
			if (!upgraded) {
				const end = input.indexOf("\r\n\r\n");
				if (end < 0) return;
				const key = /Sec-WebSocket-Key: (\S+)/i.exec(input.subarray(0, end).toString())[1];
				input = input.subarray(end + 4);
				upgraded = true;
				socket.write(answer(crypto.createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64")));
				script(socket, () => seen).catch(() => socket.destroy());
			}
			seen.length = 0;
			seen.push(...clientFrames(input));
		});
		socket.on("error", () => {});
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	return { port: server.address().port, close: () => new Promise((resolve) => { server.close(resolve); }) };
}

const upgrade = (accept, protocol = "mqtt") => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${protocol === null ? "" : `Sec-WebSocket-Protocol: ${protocol}\r\n`}\r\n`;

/** Connects `name` to a hostile server; returns its first error and disconnect events. */
async function refused(name, server) {
	assert.ok(await driver.create(name, "127.0.0.1", server.port, null, WS));
	await driver.call(name, "connect");
	const error = await driver.waitEvent(name, "error");
	const disconnect = await driver.waitEvent(name, "disconnect");
	await driver.call(name, "close");
	await server.close();
	return { error, disconnect };
}

test("hostile upgrade answers: a wrong or missing subprotocol, a refusal, a wrong accept: error and disconnect connect", async () => {
	const cases = [
		[(accept) => upgrade(accept, "mqttv5"), /subprotocol "mqttv5", not "mqtt"/],
		[(accept) => upgrade(accept, null), /subprotocol missing/],
		[() => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", /WebSocket upgrade refused: 404 Not Found/],
		[() => upgrade("AAAAAAAAAAAAAAAAAAAAAAAAAAA="), /not a WebSocket answer/],
		[() => "SSH-2.0-OpenSSH_9\r\n\r\n", /not an HTTP answer/],
	];
	for (const [i, [answer, reason]] of cases.entries()) {
		const { error, disconnect } = await refused(`up${i}`, await hostile(answer));
		assert.equal(error.data, "connect");
		assert.match(error.payload, reason);
		assert.equal(disconnect.data, "connect");
	}
});

test("a refused port (the lin simulator reports it connected, then the upgrade's write fails): error and disconnect connect, no abort", async () => {
	const server = net.createServer();
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	const port = server.address().port;
	await new Promise((resolve) => server.close(resolve));
	assert.ok(await driver.create("nobody", "127.0.0.1", port, null, WS));
	await driver.call("nobody", "connect");
	assert.equal((await driver.waitEvent("nobody", "error")).data, "connect");
	assert.equal((await driver.waitEvent("nobody", "disconnect")).data, "connect");
	await driver.call("nobody", "close");
	assert.equal(await driver.call("nobody", "state"), 0, "the app still answers");
});

test("frames split and joined: CONNACK in two fragments, then SUBACK and a PUBLISH in one frame", async () => {
	const server = await hostile(upgrade, async (socket, frames) => {
		socket.write(Buffer.concat([frame(2, CONNACK.subarray(0, 1), { fin: false }), frame(0, CONNACK.subarray(1))]));
		for (let i = 0; i < 50 && !frames().some((f) => f.payload[0] === 0x82); i++) await new Promise((r) => setTimeout(r, 20));
		const subscribe = frames().find((f) => f.payload[0] === 0x82).payload;
		socket.write(frame(2, Buffer.concat([Buffer.from([0x90, 3, subscribe[2], subscribe[3], 0]), bytes({ cmd: "publish", topic: "h/t", payload: "joined", qos: 0 })])));
	});
	assert.ok(await driver.create("split", "127.0.0.1", server.port, null, WS));
	await driver.call("split", "connect");
	await driver.waitEvent("split", "conack");
	await driver.call("split", "subscribe", "h/t", 0);
	await driver.waitEvent("split", "suback");
	await driver.waitEvent("split", "recv", (e) => e.payload === "joined");
	await driver.call("split", "close");
	await server.close();
});

test("hostile frames after CONNACK: masked, unknown opcode, text, a reserved bit: error other with the reason, disconnect network", async () => {
	const cases = [
		[frame(2, Buffer.from([0xD0, 0]), { mask: true }), /a masked frame from the server/],
		[frame(3, Buffer.from([1])), /unknown opcode 3/],
		[frame(1, Buffer.from("hi")), /a text frame/],
		[Buffer.from([0xC2, 0x00]), /reserved bits set/],
		[frame(0, Buffer.from([0xD0, 0])), /a continuation frame without a message/],
	];
	for (const [i, [bad, reason]] of cases.entries()) {
		const server = await hostile(upgrade, async (socket) => {
			socket.write(frame(2, CONNACK));
			await new Promise((r) => setTimeout(r, 100));
			socket.write(bad);
		});
		assert.ok(await driver.create(`bad${i}`, "127.0.0.1", server.port, null, WS));
		await driver.call(`bad${i}`, "connect");
		await driver.waitEvent(`bad${i}`, "conack");
		const error = await driver.waitEvent(`bad${i}`, "error");
		assert.equal(error.data, "other");
		assert.match(error.payload, reason);
		assert.equal((await driver.waitEvent(`bad${i}`, "disconnect")).data, "network");
		await driver.call(`bad${i}`, "close");
		await server.close();
	}
});

test("a close frame in the middle of a packet ends the link (disconnect peer); a ping storm is answered and the link stays", async () => {
	const half = bytes({ cmd: "publish", topic: "h/t", payload: "never whole", qos: 0 }).subarray(0, 6);
	const closing = await hostile(upgrade, async (socket) => {
		socket.write(frame(2, CONNACK));
		await new Promise((r) => setTimeout(r, 100));
		socket.write(Buffer.concat([frame(2, half), frame(8, Buffer.from([0x03, 0xE8]))]));
	});
	assert.ok(await driver.create("closing", "127.0.0.1", closing.port, null, WS));
	await driver.call("closing", "connect");
	await driver.waitEvent("closing", "conack");
	assert.equal((await driver.waitEvent("closing", "disconnect")).data, "peer");
	assert.equal(driver.seen("closing", "recv").length, 0);
	await driver.call("closing", "close");
	await closing.close();

	let pongs = 0;
	const storm = await hostile(upgrade, async (socket, frames) => {
		socket.write(frame(2, CONNACK));
		await new Promise((r) => setTimeout(r, 100));
		for (let i = 0; i < 200; i++) socket.write(frame(9, Buffer.from(`ping ${i}`)));
		for (let i = 0; i < 100 && (pongs = frames().filter((f) => f.opcode === 10).length) < 200; i++) await new Promise((r) => setTimeout(r, 20));
		socket.write(frame(2, bytes({ cmd: "publish", topic: "h/t", payload: "after the storm", qos: 0 })));
	});
	assert.ok(await driver.create("storm", "127.0.0.1", storm.port, null, WS));
	await driver.call("storm", "connect");
	await driver.waitEvent("storm", "conack");
	await driver.waitEvent("storm", "recv", (e) => e.payload === "after the storm");
	// Answered as the socket has room (1 KB on the lin profile): RFC 6455 lets an endpoint
	// answer only the latest of several pings.
	assert.ok(pongs >= 50, `${pongs} pongs for 200 pings`);
	assert.equal(driver.seen("storm", "disconnect").length, 0);
	await driver.call("storm", "close");
	await storm.close();
});

test("a 1 MB frame carrying one PUBLISH streams into rxSize pieces", async () => {
	const payload = "y".repeat(1 << 20);
	const server = await hostile(upgrade, async (socket) => {
		socket.write(frame(2, CONNACK));
		await new Promise((r) => setTimeout(r, 100));
		socket.write(frame(2, bytes({ cmd: "publish", topic: "h/big", payload, qos: 0 })));
	});
	assert.ok(await driver.create("mega", "127.0.0.1", server.port, null, { ...WS, rxSize: 4096 }));
	await driver.call("mega", "connect");
	await driver.waitEvent("mega", "conack");
	let got = 0;
	while (got < payload.length) {
		const piece = await driver.waitEvent("mega", "recv", () => true, 20000);
		assert.equal(piece.metas.total, payload.length);
		got += piece.payload.length;
	}
	assert.equal(got, payload.length);
	assert.equal(driver.seen("mega", "disconnect").length, 0);
	await driver.call("mega", "close");
	await server.close();
});
