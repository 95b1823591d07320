/*
 * Codec conformance app: the test (Node) sends packet descriptions in mqtt-packet's shape
 * and raw packets from mqtt-packet's generate(); this app encodes and decodes them with
 * mqttc's codec on XS and answers with compact summaries (length, checksum, hex).
 */
import {
	CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE,
	UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, encodeConnect, encodeAck,
	encodeSubscribe, encodeUnsubscribe, encodeEmpty,
} from "mqttc/packet";
import { Decoder, type Packet, type PublishPacket } from "mqttc/decoder";
import { toUtf8 } from "mqttc/utf8";
import { Writer } from "mqttc/writer";

type Bytes = { hex?: string; len?: number };
type Spec = Record<string, any>;

const ACKS: Record<string, number> = { puback: PUBACK, pubrec: PUBREC, pubrel: PUBREL, pubcomp: PUBCOMP, unsuback: UNSUBACK };
const EMPTY: Record<string, number> = { pingreq: PINGREQ, pingresp: PINGRESP, disconnect: DISCONNECT };
const NAMES: Record<number, string> = {
	[CONNECT]: "connect", [CONNACK]: "connack", [PUBLISH]: "publish", [PUBACK]: "puback", [PUBREC]: "pubrec",
	[PUBREL]: "pubrel", [PUBCOMP]: "pubcomp", [SUBSCRIBE]: "subscribe", [SUBACK]: "suback",
	[UNSUBSCRIBE]: "unsubscribe", [UNSUBACK]: "unsuback", [PINGREQ]: "pingreq", [PINGRESP]: "pingresp",
	[DISCONNECT]: "disconnect",
};

function hexToBytes(hex: string): Uint8Array {
	const out = new Uint8Array(hex.length >> 1);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
	return out;
}

/** The deterministic payload pattern shared with the test. */
function pattern(length: number): Uint8Array {
	const out = new Uint8Array(length);
	for (let i = 0; i < length; i++) out[i] = (i * 31 + 7) & 0xFF;
	return out;
}

function bytes(value: Bytes | Uint8Array | string | undefined): Uint8Array {
	if (value === undefined) return new Uint8Array(0);
	if (typeof value === "string") return toUtf8(value);
	if (value instanceof Uint8Array) return value;
	return value.hex !== undefined ? hexToBytes(value.hex) : pattern(value.len ?? 0);
}

function hex(data: Uint8Array): string {
	let s = "";
	for (let i = 0; i < data.length; i++) s += (data[i] < 16 ? "0" : "") + data[i].toString(16);
	return s;
}

/** FNV-1a, 32 bits. */
function checksum(data: Uint8Array, seed = 0x811C9DC5): number {
	let h = seed;
	for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193) >>> 0;
	return h;
}

function summary(data: Uint8Array) {
	return { length: data.length, sum: checksum(data), hex: data.length <= 4096 ? hex(data) : undefined };
}

export function encode(spec: Spec) {
	let out: Uint8Array;
	const cmd = spec.cmd as string;
	if (cmd === "connect") {
		out = encodeConnect({
			clientId: bytes(spec.clientId), cleanSession: spec.clean, keepalive: spec.keepalive,
			username: spec.username !== undefined ? bytes(spec.username) : undefined,
			password: spec.password !== undefined ? bytes(spec.password) : undefined,
			will: spec.will ? { topic: bytes(spec.will.topic), payload: bytes(spec.will.payload), qos: spec.will.qos, retain: spec.will.retain } : undefined,
		});
	}
	else if (cmd === "publish") {
		const topic = bytes(spec.topic);
		const field = new Uint8Array(2 + topic.length);
		field.set([topic.length >> 8, topic.length & 0xFF]);
		field.set(topic, 2);
		out = publishAsWritten((PUBLISH << 4) | (spec.dup ? 8 : 0) | (spec.qos << 1) | (spec.retain ? 1 : 0), field, spec.messageId ?? 0, bytes(spec.payload));
	}
	else if (cmd in ACKS) out = encodeAck(ACKS[cmd], spec.messageId);
	else if (cmd === "subscribe") out = encodeSubscribe(spec.messageId, spec.subscriptions.map((s: Spec) => bytes(s.topic)), spec.subscriptions.map((s: Spec) => s.qos));
	else if (cmd === "unsubscribe") out = encodeUnsubscribe(spec.messageId, spec.unsubscriptions.map((t: string) => bytes(t)));
	else out = encodeEmpty(EMPTY[cmd]);
	return summary(out);
}

/** A PUBLISH as the client sends it: the writer hands header, topic, id and payload to the
 * socket in one write (there is no separate encoder); this socket joins what it is given. */
function publishAsWritten(first: number, field: Uint8Array, id: number, payload: Uint8Array): Uint8Array {
	const socket = new JoiningSocket(1 << 30);
	const result = new Writer(socket, () => {}, () => {}).sendPublish(first, field, id, payload, 0);
	if (result !== true) throw new Error("the writer did not write the PUBLISH at once");
	return socket.out;
}

/** A socket that joins what it is given, with `room` bytes of free space, all or nothing as
 * Moddable's: a larger write throws and takes nothing. */
class JoiningSocket {
	out = new Uint8Array(0);
	room: number;

	constructor(room: number) {
		this.room = room;
	}

	write(...items: (ArrayBuffer | ArrayBufferView | number)[]): number {
		if (!items.length) return this.room;
		const parts = items.map((item) => typeof item === "number" ? Uint8Array.of(item) : ArrayBuffer.isView(item) ? new Uint8Array(item.buffer, item.byteOffset, item.byteLength) : new Uint8Array(item));
		const length = parts.reduce((n, part) => n + part.length, 0);
		if (length > this.room) throw new Error("can't write all data");
		const joined = new Uint8Array(this.out.length + length);
		joined.set(this.out, 0);
		let at = this.out.length;
		for (const part of parts) {
			joined.set(part, at);
			at += part.length;
		}
		this.out = joined;
		this.room -= length;
		return this.room;
	}
}

function describe(packet: Packet, payload?: Uint8Array): Spec {
	const result: Spec = { cmd: NAMES[packet.type] };
	switch (packet.type) {
	case CONNACK:
		Object.assign(result, { sessionPresent: packet.sessionPresent, returnCode: packet.code });
		break;
	case PUBLISH:
		Object.assign(result, { topic: packet.topic, qos: packet.qos, retain: packet.retain, dup: packet.dup, messageId: packet.qos ? packet.id : undefined, payload: summary(payload ?? packet.payload!) });
		break;
	case SUBACK:
		Object.assign(result, { messageId: packet.id, granted: packet.codes });
		break;
	case PINGRESP:
		break;
	default:
		result.messageId = packet.id;
	}
	return result;
}

/**
 * Decodes a stream of packets (bytes from mqtt-packet) fed in pieces: `split` is
 * "whole", "bytes" (one byte at a time) or a list of piece sizes repeated cyclically.
 * Large PUBLISH payloads delivered in parts are reassembled for the summary.
 */
export function decode(stream: Uint8Array, split: "whole" | "bytes" | number[], rxSize: number) {
	return decodeBytes(stream, split, rxSize);
}

/** Same, for a single large PUBLISH whose payload the app builds from the shared pattern,
 * behind the header mqtt-packet generated (so megabytes need not cross the bridge). */
export function decodeLarge(header: Uint8Array, payloadLength: number, split: number[], rxSize: number) {
	const stream = new Uint8Array(header.length + payloadLength);
	stream.set(header, 0);
	stream.set(pattern(payloadLength), header.length);
	return decodeBytes(stream, split, rxSize);
}

function decodeBytes(stream: Uint8Array, split: "whole" | "bytes" | number[], rxSize: number) {
	const packets: Spec[] = [];
	let fault: string | undefined;
	let parts: Uint8Array[] = [];
	let partCount = 0;
	const decoder = new Decoder(rxSize, {
		publishReceived: (first: number, topic: string, id: number, payload: string | ArrayBuffer) => {
			const body = new Uint8Array(payload as ArrayBuffer);   // a binary decoder gives bytes
			packets.push(describe({ type: PUBLISH, qos: (first >> 1) & 3, retain: (first & 1) === 1, dup: (first & 8) === 8, topic, id, payload: body, total: body.length }));
		},
		ackReceived: (type: number, id: number) => { packets.push(describe({ type, id } as Packet)); },
		packetReceived: (packet: Packet) => { packets.push(describe(packet)); },
		partReceived: (packet: PublishPacket, chunk: Uint8Array, offset: number) => {
			if (offset !== parts.reduce((n, p) => n + p.length, 0)) fault = `part offset ${offset} out of order`;
			parts.push(chunk.slice());
			partCount++;
			if (offset + chunk.length === packet.total) {
				const whole = new Uint8Array(packet.total);
				let at = 0;
				for (const p of parts) { whole.set(p, at); at += p.length; }
				parts = [];
				const described = describe(packet, whole);
				described.parts = partCount;
				partCount = 0;
				packets.push(described);
			}
		},
		protocolFault: (reason: string) => { fault = reason; },
	}, true);
	let at = 0;
	let k = 0;
	while (at < stream.length && fault === undefined) {
		const size = split === "whole" ? stream.length : split === "bytes" ? 1 : Math.max(1, split[k++ % split.length]);
		const ok = decoder.feed(stream.subarray(at, Math.min(stream.length, at + size)));
		at += size;
		if (!ok) break;
	}
	return { packets, fault, busy: decoder.busy };
}

/**
 * The writer on a socket with `free` bytes of room (all or nothing, as Moddable's): a
 * `size`-byte PUBLISH at QoS `qos` (QoS 1 as an outbox entry, the payload the writer may
 * keep; QoS 0 the app's buffer, which the test overwrites after the call), optionally a
 * discardPending() before the room comes back (a linger expiring), then room for everything
 * in steps of `free`. Returns what reached the socket, what one write of the whole packet
 * gives, and the tags reported.
 */
export function writeAcrossRoom(size: number, free: number, qos: number, discard: boolean) {
	const socket = new JoiningSocket(free);
	const written: number[] = [];
	const writer = new Writer(socket, (tag) => written.push(tag), () => {});
	const field = Uint8Array.of(0, 3, 0x61, 0x2F, 0x62);
	const payload = new Uint8Array(size);
	for (let i = 0; i < size; i++) payload[i] = (i * 7) & 0xFF;
	const expected = publishAsWritten(0x30 | (qos << 1), field, qos ? 9 : 0, payload);
	const result = writer.sendPublish(0x30 | (qos << 1), field, qos ? 9 : 0, payload, qos ? 0 : 5);
	if (qos === 0) payload.fill(0xEE);            // the app reuses its buffer: what waits must be a copy
	if (discard) writer.discardPending();
	for (let i = 0; i < 1000 && !writer.idle; i++) {
		socket.room = free;
		writer.flush();
	}
	const out = socket.out;
	return { result: String(result), same: out.length === expected.length && out.every((b, i) => b === expected[i]), length: out.length, expected: expected.length, written };
}
