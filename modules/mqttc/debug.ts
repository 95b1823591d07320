/*
 * mqttc/debug: what client.debug(true) traces (an opt-in feature: apps include mqttc's
 * manifest_debug.json; the client loads this module at the first debug(true), and without
 * it debug(true) traces one line saying so). Every packet both ways, once, from the bytes
 * themselves: a tap on the socket the writer writes to, and the bytes the link reads before
 * the decoder has them. So the core carries no trace site on its per-message paths; what the
 * link decides that no packet shows (connecting, reconnect delay, a lost connection, CA
 * rotation, refusals) comes through the tracer's note(). The password is never printed.
 *
 * Bounds: of each packet only its first HEAD_BYTES bytes are kept (for its fields); the rest
 * is counted and skipped. Two scanners per client, one each way.
 */

import { PACKET_NAMES } from "mqttc/packet";
import { textOf } from "mqttc/utf8";
import type { Tracer, WritableSocket } from "mqttc/types";

/** Bytes kept of each packet for its trace line: topics, ids, CONNECT's fields. */
const HEAD_BYTES = 512;

/** Splits a byte stream into packets and traces each, from its first HEAD_BYTES bytes. */
class Scanner {
	private head = new Uint8Array(HEAD_BYTES);
	private kept = 0;              // bytes of the packet's body in head
	private left = -1;             // body bytes still to come; -1: reading the fixed header
	private first = 0;
	private length = 0;            // remaining length, while it is being read
	private shift = -1;            // bits of the length read; -1: the first byte comes next
	private total = 0;
	private outgoing: boolean;
	private tracer: Tracer;

	constructor(outgoing: boolean, tracer: Tracer) {
		this.outgoing = outgoing;
		this.tracer = tracer;
	}

	feed(bytes: Uint8Array): void {
		let i = 0;
		while (i < bytes.length) {
			if (this.left < 0) {           // fixed header: type, then 1..4 length bytes
				const byte = bytes[i++];
				if (this.shift < 0) {
					this.first = byte;
					this.length = this.shift = 0;
					continue;
				}
				this.length += (byte & 0x7F) << this.shift;
				this.shift += 7;
				if (byte & 0x80 && this.shift < 28) continue;
				this.left = this.total = this.length;
				this.kept = 0;
			}
			else {
				const n = Math.min(this.left, bytes.length - i);
				const keep = Math.min(n, HEAD_BYTES - this.kept);
				if (keep > 0) this.head.set(bytes.subarray(i, i + keep), this.kept);
				this.kept += keep;
				this.left -= n;
				i += n;
			}
			if (this.left === 0) {
				if (this.tracer.on) trace(`mqttc: ${this.outgoing ? ">" : "<"} ${describe(this.first, this.head.subarray(0, this.kept), this.total)}\n`);
				this.left = this.shift = -1;
			}
		}
	}

	/** A new connection: nothing of a packet is pending. */
	reset(): void {
		this.left = this.shift = -1;
	}
}

/** The trace line of a packet: its name and fields (`body` its first bytes, `total` its length). */
function describe(first: number, body: Uint8Array, total: number): string {
	const type = first >> 4;
	const name = PACKET_NAMES[type];
	const u16 = (at: number): number => (body[at] << 8) | body[at + 1];
	const text = (at: number): string => textOf(body, at + 2, Math.min(body.length, at + 2 + u16(at))) ?? "?";
	if (type === 3) {                          // PUBLISH
		const qos = (first >> 1) & 3;
		const topicEnd = 2 + u16(0);
		const id = qos ? ` id=${u16(topicEnd)}` : "";
		return `${name}${id} qos=${qos}${first & 8 ? " dup" : ""} topic=${text(0)} bytes=${total - topicEnd - (qos ? 2 : 0)}${first & 1 ? " retain" : ""}`;
	}
	if (type === 1) {                          // CONNECT: fields in order, the password masked
		const flags = body[7];
		let at = 10;
		const id = text(at);
		at += 2 + u16(at);
		if (flags & 0x04) at += 4 + u16(at) + u16(at + 2 + u16(at));
		const user = flags & 0x80 ? ` username=${text(at)}` : "";
		return `${name} client_id=${id} clean=${(flags & 2) === 2} keepalive=${u16(8)}${user}${flags & 0x40 ? " password=***" : ""}${flags & 0x04 ? " will" : ""}`;
	}
	if (type === 2) return body[1] ? `${name} refused code=${body[1]}` : `${name} session_present=${body[0] === 1}`;
	if (type === 8 || type === 10) {           // SUBSCRIBE, UNSUBSCRIBE: the filters
		const topics: string[] = [];
		for (let at = 2; at + 2 <= body.length; at += 2 + u16(at) + (type === 8 ? 1 : 0)) topics.push(text(at));
		return `${name} id=${u16(0)} ${topics.join(",")}`;
	}
	return total >= 2 && type !== 12 && type !== 13 && type !== 14 ? `${name} id=${u16(0)}` : name;
}

/** Byte views of what write() was given: buffers, views and numbers (a byte each). */
function bytesOf(part: ArrayBuffer | ArrayBufferView | number): Uint8Array {
	if (typeof part === "number") return Uint8Array.of(part);
	if (part instanceof ArrayBuffer) return new Uint8Array(part);
	return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
}

class PacketTracer implements Tracer {
	on = false;
	// Both scanners follow the stream while tracing is off too, so that turning it on again
	// finds them at a packet boundary.
	private sent = new Scanner(true, this);
	private heard = new Scanner(false, this);

	tap(socket: WritableSocket): WritableSocket {
		const sent = this.sent;
		sent.reset();
		this.heard.reset();
		// The writer writes whole packets in order (a queued one in pieces), so the scanner
		// sees them as the broker will. A write the socket refuses (it throws) was not sent.
		return {
			write(...parts: (ArrayBuffer | ArrayBufferView | number)[]): number | void {
				const result = socket.write(...parts);
				for (const part of parts) sent.feed(bytesOf(part));
				return result;
			},
		};
	}

	input(decoder: { feed(bytes: Uint8Array): unknown }): { feed(bytes: Uint8Array): unknown } {
		const heard = this.heard;
		return {
			feed(bytes: Uint8Array): unknown {
				heard.feed(bytes);
				return decoder.feed(bytes);
			},
		};
	}

	note(text: string): void {
		if (this.on) trace(`mqttc: ${text}\n`);
	}
}

export default Object.freeze({
	tracer(): Tracer {
		return new PacketTracer();
	},
});
