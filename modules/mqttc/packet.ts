/*
 * MQTT 3.1.1 packets: their types and names, the shapes the decoder hands on, and the encoder
 * of the control packets a client sends, each built straight into one
 * Uint8Array of the exact size (no intermediate strings or arrays). PUBLISH has no encoder here: the
 * writer (mqttc/writer) hands its header, topic, id and payload to the socket in one write.
 * Strings arrive here already as UTF-8 bytes: callers validate and convert them once.
 */

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const PUBREC = 5;
export const PUBREL = 6;
export const PUBCOMP = 7;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/** Packet names for error texts and debug traces, indexed by type. */
export const PACKET_NAMES: readonly string[] = Object.freeze([
	"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "RESERVED",
]);

export interface ConnectFields {
	clientId: Uint8Array;
	username?: Uint8Array;
	password?: Uint8Array;
	cleanSession: boolean;
	keepalive: number;
	will?: WillMessage;
}

// What the decoder (mqttc/decoder) hands its sink (mqttc/inbound).
export interface ConnackPacket { type: typeof CONNACK; sessionPresent: boolean; code: number }
export interface PublishPacket {
	type: typeof PUBLISH;
	qos: number;
	retain: boolean;
	dup: boolean;
	/** The topic, or undefined when it was longer than the receive buffer (payload then skipped). */
	topic: string | undefined;
	id: number;
	/** The whole payload (a view into the receive buffer, valid only during the call), or
	 * undefined for a PUBLISH delivered in parts. */
	payload: Uint8Array | undefined;
	/** Length of the whole payload. */
	total: number;
}
export interface AckPacket { type: typeof PUBACK | typeof PUBREC | typeof PUBREL | typeof PUBCOMP | typeof UNSUBACK; id: number }
export interface SubackPacket { type: typeof SUBACK; id: number; codes: number[] }
export interface PingrespPacket { type: typeof PINGRESP }

/** What a broker sends (MQTT 3.1.1): the decoder refuses the packets only a client sends. */
export type Packet = ConnackPacket | PublishPacket | AckPacket | SubackPacket | PingrespPacket;

/** Where the decoder hands packets. The client is one; its methods are called per packet,
 * so they are methods of the sink itself (a closure in between would cost a call more). */
export interface DecoderSink {
	/** A whole PUBLISH: its first byte (flags), topic, packet id (0 for QoS 0) and payload,
	 * as a string when it is text that round-trips (and the decoder is not binary), else as
	 * an ArrayBuffer of its own. */
	publishReceived(first: number, topic: string, id: number, payload: string | ArrayBuffer): void;
	/** PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK (`type`) for packet `id`. */
	ackReceived(type: number, id: number): void;
	/** Any other whole packet. */
	packetReceived(packet: Packet): void;
	/** A piece of the payload of a PUBLISH larger than the receive buffer (`packet.payload`
	 * is undefined). Pieces come in order; the last one ends at packet.total. */
	partReceived(packet: PublishPacket, chunk: Uint8Array, offset: number): void;
	/** A protocol violation: the decoder has stopped and must be reset before reuse. */
	protocolFault(reason: string): void;
}

/** The largest remaining length MQTT can express (four length bytes). */
export const MAX_REMAINING_LENGTH = 268435455;

/** Bit of the first byte that marks a PUBLISH as a retransmission. */
export const DUP_FLAG = 0x08;

export interface WillMessage {
	topic: Uint8Array;
	payload: Uint8Array;
	qos: number;
	retain: boolean;
}

/** Bytes needed to write `length` as a remaining length. */
function lengthSize(length: number): number {
	if (length < 0x80) return 1;
	if (length < 0x4000) return 2;
	if (length < 0x200000) return 3;
	if (length <= MAX_REMAINING_LENGTH) return 4;
	throw new RangeError("mqttc: packet too large");
}

/**
 * A packet of `remaining` body bytes with its fixed header written; its body starts at
 * `length - remaining`.
 */
function allocate(first: number, remaining: number): Uint8Array {
	const bytes = new Uint8Array(1 + lengthSize(remaining) + remaining);
	putFixedHeader(bytes, first, remaining);
	return bytes;
}

/** Writes the first byte and the remaining length at bytes[0]; returns where the body starts. */
export function putFixedHeader(bytes: Uint8Array, first: number, remaining: number): number {
	bytes[0] = first;
	let at = 1;
	let value = remaining;
	do {
		const digit = value & 0x7F;
		value >>>= 7;
		bytes[at++] = value ? digit | 0x80 : digit;
	} while (value);
	return at;
}

function putU16(bytes: Uint8Array, at: number, value: number): number {
	bytes[at] = value >> 8;
	bytes[at + 1] = value & 0xFF;
	return at + 2;
}

/** Writes a length-prefixed byte string. */
function putString(bytes: Uint8Array, at: number, value: Uint8Array): number {
	at = putU16(bytes, at, value.length);
	bytes.set(value, at);
	return at + value.length;
}

export function encodeConnect(fields: ConnectFields): Uint8Array {
	const { clientId, username, password, will } = fields;
	let remaining = 10 + 2 + clientId.length;
	let flags = fields.cleanSession ? 0x02 : 0;
	if (will) {
		remaining += 4 + will.topic.length + will.payload.length;
		flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
	}
	if (username) {
		remaining += 2 + username.length;
		flags |= 0x80;
	}
	if (password) {
		remaining += 2 + password.length;
		flags |= 0x40;
	}
	const bytes = allocate(CONNECT << 4, remaining);
	let at = bytes.length - remaining;
	bytes.set([0, 4, 0x4D, 0x51, 0x54, 0x54, 4, flags], at); // "MQTT", level 4
	at = putU16(bytes, at + 8, fields.keepalive);
	at = putString(bytes, at, clientId);
	if (will) {
		at = putString(bytes, at, will.topic);
		at = putString(bytes, at, will.payload);
	}
	if (username) at = putString(bytes, at, username);
	if (password) putString(bytes, at, password);
	return bytes;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK: a fixed header and a packet id. */
export function encodeAck(type: number, id: number): Uint8Array {
	const first = (type << 4) | (type === PUBREL ? 0x02 : 0);
	return Uint8Array.of(first, 2, id >> 8, id & 0xFF);
}

export function encodeSubscribe(id: number, topics: readonly Uint8Array[], qos: readonly number[]): Uint8Array {
	let remaining = 2;
	for (let i = 0; i < topics.length; i++) remaining += 3 + topics[i].length;
	const bytes = allocate((SUBSCRIBE << 4) | 0x02, remaining);
	let at = putU16(bytes, bytes.length - remaining, id);
	for (let i = 0; i < topics.length; i++) {
		at = putString(bytes, at, topics[i]);
		bytes[at++] = qos[i];
	}
	return bytes;
}

export function encodeUnsubscribe(id: number, topics: readonly Uint8Array[]): Uint8Array {
	let remaining = 2;
	for (let i = 0; i < topics.length; i++) remaining += 2 + topics[i].length;
	const bytes = allocate((UNSUBSCRIBE << 4) | 0x02, remaining);
	let at = putU16(bytes, bytes.length - remaining, id);
	for (let i = 0; i < topics.length; i++) at = putString(bytes, at, topics[i]);
	return bytes;
}

/** PINGREQ, PINGRESP and DISCONNECT: two bytes, no body. */
export function encodeEmpty(type: number): Uint8Array {
	return Uint8Array.of(type << 4, 0);
}

/** The CONNACK, SUBACK or PINGRESP (`type`) in buffer[0, end), or why it is malformed (the
 * decoder checked the lengths): the rare packets, decoded from the receive buffer. */
export function decodeControl(type: number, buffer: Uint8Array, end: number): Packet | string {
	if (type === CONNACK) {
		const flags = buffer[0];
		if (flags & 0xFE) return "CONNACK with reserved flags set";
		return { type, sessionPresent: flags === 1, code: buffer[1] };
	}
	if (type === SUBACK) {
		if (end < 3) return "SUBACK without return codes";
		const id = (buffer[0] << 8) | buffer[1];
		if (!id) return "SUBACK with packet id 0";
		const codes: number[] = [];
		for (let at = 2; at < end; at++) {
			const code = buffer[at];
			if (code > 2 && code !== 0x80) return `SUBACK return code 0x${code.toString(16)}`;
			codes.push(code);
		}
		return { type, id, codes };
	}
	return { type: PINGRESP };
}
