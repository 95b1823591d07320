// Codec conformance on the XS engine: every packet a client sends must be byte-for-byte what
// mqtt-packet's generate() produces, and the streaming decoder must read every packet a
// broker sends as mqtt-packet generates it, whole, one byte at a time and in random splits,
// and refuse the packets only a client sends.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import mqttPacket from "mqtt-packet";
import { startApp } from "../hosts/xs/host.mjs";

const APP = new URL("./apps/codec/", import.meta.url).pathname;

/** The payload pattern the app generates too. */
function pattern(length) {
	const out = Buffer.alloc(length);
	for (let i = 0; i < length; i++) out[i] = (i * 31 + 7) & 0xFF;
	return out;
}
function fnv(data) {
	let h = 0x811C9DC5;
	for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193) >>> 0;
	return h;
}
function summary(data) {
	const result = { length: data.length, sum: fnv(data) };
	if (data.length <= 4096) result.hex = data.toString("hex");
	return result;
}
/** mqtt-packet object → what the app understands (Buffers cross the bridge as bytes). */
function toSpec(packet) {
	return packet;
}
/** Remaining length of a PUBLISH with topic "t" at QoS 0 whose total remaining length is n. */
function publishOfRemaining(n) {
	return { cmd: "publish", topic: "t", payload: pattern(n - 3), qos: 0, dup: false, retain: false };
}

const CASES = [
	{ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "dev-1", keepalive: 240 },
	{ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "", keepalive: 15 },
	{ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, clientId: "keep", keepalive: 15 },
	{ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "ü-client", keepalive: 600, username: "user", password: Buffer.from("pässword") },
	{ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, clientId: "w", keepalive: 60, will: { topic: "last/will", payload: Buffer.from("gone"), qos: 2, retain: true }, username: "u", password: Buffer.from([0, 1, 2, 255]) },
	{ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "w0", keepalive: 0, will: { topic: "w", payload: Buffer.alloc(0), qos: 1, retain: false } },
	{ cmd: "connack", returnCode: 0, sessionPresent: false },
	{ cmd: "connack", returnCode: 0, sessionPresent: true },
	...[1, 2, 3, 4, 5].map((returnCode) => ({ cmd: "connack", returnCode, sessionPresent: false })),
	{ cmd: "publish", topic: "a/b", payload: Buffer.from("hello"), qos: 0, dup: false, retain: false },
	{ cmd: "publish", topic: "a/b", payload: Buffer.alloc(0), qos: 1, dup: false, retain: true, messageId: 1 },
	{ cmd: "publish", topic: "ünïcode/τ", payload: Buffer.from([0, 13, 10, 255]), qos: 2, dup: true, retain: false, messageId: 65535 },
	{ cmd: "publish", topic: "x".repeat(1000), payload: pattern(300), qos: 1, dup: true, retain: true, messageId: 258 },
	...[127, 128, 16383, 16384].map(publishOfRemaining),
	{ cmd: "puback", messageId: 1 },
	{ cmd: "pubrec", messageId: 256 },
	{ cmd: "pubrel", messageId: 4660 },
	{ cmd: "pubcomp", messageId: 65535 },
	{ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "a/+/c", qos: 0 }] },
	{ cmd: "subscribe", messageId: 8, subscriptions: [{ topic: "a/#", qos: 1 }, { topic: "b", qos: 2 }, { topic: "+", qos: 0 }] },
	{ cmd: "suback", messageId: 7, granted: [0] },
	{ cmd: "suback", messageId: 8, granted: [1, 2, 0x80] },
	{ cmd: "unsubscribe", messageId: 9, unsubscriptions: ["a/+/c"] },
	{ cmd: "unsubscribe", messageId: 10, unsubscriptions: ["a/#", "b", "ü"] },
	{ cmd: "unsuback", messageId: 9 },
	{ cmd: "pingreq" },
	{ cmd: "pingresp" },
	{ cmd: "disconnect" },
];

let app;
before(async () => { app = await startApp(APP, { stdout: false }); });
after(async () => { await app?.stop(); });

/** Who sends which packet (MQTT 3.1.1, 2.2.1): the client encodes the first, decodes the second. */
const CLIENT_SENDS = new Set(["connect", "publish", "puback", "pubrec", "pubrel", "pubcomp", "subscribe", "unsubscribe", "pingreq", "disconnect"]);
const BROKER_SENDS = new Set(["connack", "publish", "puback", "pubrec", "pubrel", "pubcomp", "suback", "unsuback", "pingresp"]);

test("every packet a client sends encodes byte-for-byte as mqtt-packet generates it", async () => {
	let checked = 0;
	for (const packet of CASES.filter((p) => CLIENT_SENDS.has(p.cmd))) {
		const expected = summary(mqttPacket.generate(packet));
		const actual = await app.call("encode", toSpec(packet));
		assert.deepEqual(actual, expected, `${packet.cmd} ${JSON.stringify(packet).slice(0, 120)}`);
		checked++;
	}
	assert.equal(checked, CASES.filter((p) => CLIENT_SENDS.has(p.cmd)).length);
});

test("a PUBLISH larger than the socket's room leaves whole and in order: its start at once, the rest when there is room; a linger's discard keeps a started packet", async () => {
	// QoS 1 (an outbox entry: the rest waits as a view of the outbox's payload) and QoS 0 (the
	// app's buffer, overwritten after publish: the rest must be a copy); 2- and 3-byte lengths.
	for (const [size, free, qos, discard] of [[1000, 300, 1, false], [1000, 300, 0, false], [20000, 8192, 1, false], [20000, 8192, 0, false], [1000, 300, 1, true], [1000, 4, 1, false], [100, 200, 1, false]]) {
		const r = await app.call("writeAcrossRoom", size, free, qos, discard);
		const what = `${size} B, room ${free}, QoS ${qos}${discard ? ", discardPending" : ""}`;
		assert.equal(r.same, true, `${what}: ${r.length} bytes reached the socket, ${r.expected} expected, or other bytes`);
		assert.equal(r.result, free >= r.expected ? "true" : "false", what);
		assert.deepEqual(r.written, qos === 0 && free < r.expected ? [5] : [], `${what}: the QoS 0 message's tag is reported once it has gone`);
	}
});

test("remaining lengths at every varint boundary encode as mqtt-packet does (0 .. 2097152)", async () => {
	for (const remaining of [0, 127, 128, 16383, 16384, 2097151, 2097152]) {
		const packet = remaining === 0 ? { cmd: "pingreq" } : publishOfRemaining(remaining);
		const generated = mqttPacket.generate(packet);
		const spec = remaining === 0 ? packet : { ...packet, payload: { len: remaining - 3 } };
		const actual = await app.call("encode", spec);
		assert.deepEqual(actual, summary(generated), `remaining length ${remaining}`);
	}
});

/** What our decoder should report for an mqtt-packet object. */
function expectedDecode(packet) {
	const p = JSON.parse(JSON.stringify(packet));
	const b = (v) => summary(Buffer.from(v?.data ?? v ?? []));
	switch (packet.cmd) {
	case "connack": return { cmd: "connack", sessionPresent: p.sessionPresent, returnCode: p.returnCode };
	case "publish": return { cmd: "publish", topic: p.topic, qos: p.qos, retain: p.retain, dup: p.dup, messageId: p.qos ? p.messageId : undefined, payload: b(packet.payload) };
	case "suback": return { cmd: "suback", messageId: p.messageId, granted: p.granted };
	case "pingresp": return { cmd: p.cmd };
	default: return { cmd: p.cmd, messageId: p.messageId };
	}
}
function clean(value) { return JSON.parse(JSON.stringify(value)); }

test("the decoder reads every packet a broker sends whole, byte by byte and in random splits", async () => {
	const fromBroker = CASES.filter((p) => BROKER_SENDS.has(p.cmd));
	const stream = Buffer.concat(fromBroker.map((p) => mqttPacket.generate(p)));
	const expected = clean(fromBroker.map(expectedDecode));
	let seed = 12345;
	const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
	const splits = ["whole", "bytes", ...Array.from({ length: 10 }, () => Array.from({ length: 7 }, () => 1 + Math.floor(random() * 700)))];
	for (const split of splits) {
		const t0 = Date.now();
		const result = await app.call("decode", stream, split, 65536);
		if (process.env.MQTTC_TIMING) console.log("# decode", JSON.stringify(split).slice(0, 20), Date.now() - t0, "ms");
		assert.equal(result.fault, undefined, `fault with split ${JSON.stringify(split)}`);
		assert.equal(result.busy, false);
		assert.deepEqual(clean(result.packets), expected, `split ${JSON.stringify(split).slice(0, 60)}`);
	}
});

test("a packet only a client sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT) stops the decoder, named", async () => {
	const names = { connect: "CONNECT", subscribe: "SUBSCRIBE", unsubscribe: "UNSUBSCRIBE", pingreq: "PINGREQ", disconnect: "DISCONNECT" };
	for (const packet of CASES.filter((p) => !BROKER_SENDS.has(p.cmd))) {
		const result = await app.call("decode", mqttPacket.generate(packet), "whole", 256);
		assert.equal(result.packets.length, 0, packet.cmd);
		assert.match(result.fault ?? "", new RegExp(`^${names[packet.cmd]} from the broker`), packet.cmd);
	}
});

test("a PUBLISH larger than rxSize arrives in order as parts that add up to the payload", async () => {
	for (const [remaining, rxSize] of [[2097152, 4096], [16384, 256], [2097151, 65536]]) {
		const packet = { ...publishOfRemaining(remaining), qos: 1, messageId: 99, topic: "t" };
		packet.payload = pattern(remaining - 5);
		const generated = mqttPacket.generate(packet);
		const headerLength = generated.length - packet.payload.length;
		const result = await app.call("decodeLarge", generated.subarray(0, headerLength), packet.payload.length, [1000, 1, 3000, 17], rxSize);
		assert.equal(result.fault, undefined);
		assert.equal(result.packets.length, 1);
		const [decoded] = result.packets;
		assert.deepEqual(decoded.payload, summary(packet.payload), `payload of ${remaining} with rxSize ${rxSize}`);
		assert.equal(decoded.messageId, 99);
		assert.ok(decoded.parts >= Math.ceil(packet.payload.length / rxSize), `parts ${decoded.parts} for rxSize ${rxSize}`);
	}
});

test("malformed packets stop the decoder with a reason, never an exception", async () => {
	const table = {
		"reserved type 0": "0000",
		"reserved type 15": "f000",
		"PUBREL without its flag bits": "60020001",
		"SUBSCRIBE flags": "800600010001610000",
		"QoS 3 PUBLISH": "36050001610001",
		"five-byte remaining length": "30ffffffff01",
		"PUBACK of length 3": "4003000100",
		"PINGRESP with a body": "d00100",
		"CONNACK reserved flag": "20020200",
		"SUBACK bad code": "9003000103",
		"PUBLISH topic past the end": "3004ffff6162",
		"PUBLISH empty topic": "300400006869",
		"PUBLISH packet id 0": "32050001610000",
		"topic not UTF-8": "30040002c328",
		"topic with U+0000": "3006000261006868",
		"huge SUBACK for the buffer": "90ff7f0001",
	};
	for (const [name, hex] of Object.entries(table)) {
		const result = await app.call("decode", Buffer.from(hex, "hex"), "whole", 256);
		assert.equal(typeof result.fault, "string", `${name} should be refused`);
		assert.equal(result.packets.length, 0, name);
	}
});
