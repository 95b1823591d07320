/*
 * Streaming MQTT 3.1.1 decoder. Bytes arrive in pieces of any size (a packet boundary can
 * fall anywhere) and are assembled in ONE receive buffer of `rxSize` bytes, allocated when
 * the decoder is made. Every length read from the wire is checked against the packet and
 * the buffer before it is used; the decoder never trusts a length field.
 *
 * A packet that arrives whole within one piece is decoded where it lies, without a copy;
 * only packets split across pieces are assembled in the buffer. PUBLISH and the
 * acknowledgements, the packets of every message, reach the sink as plain values, with no
 * object or closure made for them.
 *
 * A PUBLISH larger than the buffer is not an error: mqttc/stream streams it. Anything that
 * breaks the protocol stops the decoder with a reason. Packet types as numbers: 1 CONNECT,
 * 3 PUBLISH, 4 PUBACK, 5 PUBREC, 6 PUBREL, 7 PUBCOMP, 8 SUBSCRIBE, 10 UNSUBSCRIBE,
 * 11 UNSUBACK, 12 PINGREQ, 14 DISCONNECT (mqttc/packet names them).
 */

import { PACKET_NAMES, decodeControl, type DecoderSink } from "mqttc/packet";
import { isText, type FromArrayBuffer } from "mqttc/utf8";
import { Stream } from "mqttc/stream";

export type { DecoderSink, Packet, PublishPacket } from "mqttc/packet";

/** The smallest receive buffer: room for any fixed-size packet and a useful topic. */
export const MIN_RX_SIZE = 256;

// Decoder states (mqttc/stream sets HEADER and reads FAILED: literals there).
const HEADER = 0;      // waiting for the first byte of a packet
const LENGTH = 1;      // reading the remaining length
const BODY = 2;        // collecting a packet that fits in the buffer
const STREAM = 3;      // a PUBLISH larger than the buffer: mqttc/stream has it
const FAILED = 4;      // stopped by a protocol violation
/** Remaining lengths that only one value is legal for, by packet type (-1: variable). */
const FIXED_LENGTHS: readonly number[] = Object.freeze([-1, -1, 2, -1, 2, 2, 2, 2, -1, -1, -1, 2, 0, 0, 0, -1]);
/** Required low nibble of the first byte, by packet type (-1: PUBLISH carries flags there). */
const FIXED_FLAGS: readonly number[] = Object.freeze([0, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0]);

export class Decoder {
	/** The one receive buffer. */
	readonly declare buffer: Uint8Array;
	readonly declare sink: DecoderSink;
	/** HEADER .. FAILED (mqttc/stream ends its message with HEADER). */
	declare state: number;
	private declare first: number;        // first byte of the current packet
	private declare remaining: number;    // remaining length of the current packet
	private declare multiplier: number;   // remaining-length decoding
	private declare filled: number;       // bytes of the buffer in use
	private declare need: number;         // bytes wanted before the next step
	/** The PUBLISH larger than the buffer, while it streams. */
	private declare stream: Stream;
	/** Bumped by reset(): a feed in progress stops when its sink resets the decoder. */
	declare epoch: number;
	/** Payloads always as ArrayBuffer (the client's `binary` option). */
	private declare binary: boolean;

	constructor(rxSize: number, sink: DecoderSink, binary = false) {
		this.state = HEADER;
		this.first = 0;
		this.remaining = 0;
		this.multiplier = 1;
		this.filled = 0;
		this.need = 0;
		this.epoch = 0;
		this.buffer = new Uint8Array(rxSize);
		this.sink = sink;
		this.binary = binary;
		this.stream = new Stream(this);
	}

	/** Forgets any partial packet: for a new connection. Called from a sink callback, it
	 * also ends the feed in progress (the rest of that chunk belongs to a dead connection). */
	reset(): void {
		this.epoch++;
		this.state = HEADER;
		this.filled = 0;
		this.stream.packet = undefined;
	}

	/** Whether a packet has started but not ended (the connection must not be idle-judged). */
	get busy(): boolean {
		return this.state !== HEADER;
	}

	/** Feeds bytes from the network. Returns false, having stopped, after a fault or when
	 * the sink reset the decoder. */
	feed(bytes: Uint8Array): boolean {
		const end = bytes.length;
		let i = 0;
		while (i < end) {
			switch (this.state) {
			case HEADER: {
				// The common case: the whole packet is in this piece; decode it where it lies.
				// A remaining length of one or two bytes (under 16 KB) is read here, no call.
				const first = bytes[i];
				const low = i + 1 < end ? bytes[i + 1] : 0x80;
				let whole = 0;
				if (low < 0x80) {
					if (i + 2 + low <= end) {
						this.remaining = low;
						whole = i + 2 + low;
					}
				}
				else if (i + 2 < end && bytes[i + 2] < 0x80) {
					const length = (low & 0x7F) | (bytes[i + 2] << 7);
					// Larger than rxSize: the streaming states deliver it in pieces, as the app expects.
					if (i + 3 + length <= end && length <= this.buffer.length) {
						this.remaining = length;
						whole = i + 3 + length;
					}
				}
				else whole = this.wholeAt(bytes, i, end);
				if (whole > 0) {
					const epoch = this.epoch;
					const type = first >> 4;
					this.first = first;
					if (type === 3 && (first & 0x06) !== 0x06) {
						if (!this.publish(bytes, whole - this.remaining, whole)) return false;
					}
					else if (type >= 4 && type <= 7 && this.remaining === 2 && (first & 0x0F) === (type === 6 ? 2 : 0)) {
						const id = (bytes[i + 2] << 8) | bytes[i + 3];
						if (id === 0) return this.fail(`${PACKET_NAMES[type]} with packet id 0`);
						this.sink.ackReceived(type, id);
					}
					else if (!this.checkFirst(first) || !this.checkLength() || !this.dispatch(bytes, whole - this.remaining, whole)) return false;
					if (this.epoch !== epoch || (this.state as number) === FAILED) return false;
					i = whole;
					break;
				}
				i++;
				if (!this.checkFirst(first)) return false;
				this.first = first;
				this.remaining = 0;
				this.multiplier = 1;
				this.state = LENGTH;
				break;
			}
			case LENGTH: {
				const digit = bytes[i++];
				this.remaining += (digit & 0x7F) * this.multiplier;
				if (digit & 0x80) {
					this.multiplier *= 128;
					if (this.multiplier > 128 * 128 * 128) return this.fail("remaining length longer than 4 bytes");
					break;
				}
				if (!this.begin()) return false;
				break;
			}
			case BODY: {
				const n = Math.min(this.need - this.filled, end - i);
				this.buffer.set(bytes.subarray(i, i + n), this.filled);
				this.filled += n;
				i += n;
				if (this.filled === this.need && !this.parse(this.buffer, 0, this.remaining)) return false;
				break;
			}
			case STREAM:
				i = this.stream.take(bytes, i, end);
				if (i < 0) return false;
				break;
			default:
				return false;
			}
		}
		return true;
	}

	/**
	 * Where the packet starting at bytes[at] ends, when all of it is in bytes[at, end) and
	 * its length field is well formed; else 0 (the byte-by-byte states take over). Sets
	 * this.remaining.
	 */
	private wholeAt(bytes: Uint8Array, at: number, end: number): number {
		let remaining = 0;
		let multiplier = 1;
		for (let k = at + 1; k < end && k <= at + 4; k++) {
			const digit = bytes[k];
			remaining += (digit & 0x7F) * multiplier;
			if (digit & 0x80) {
				multiplier *= 128;
				continue;
			}
			// Larger than rxSize: the streaming states deliver it in pieces, as the app expects.
			if (k + 1 + remaining > end || remaining > this.buffer.length) return 0;
			this.remaining = remaining;
			return k + 1 + remaining;
		}
		return 0;
	}

	/** A packet type and flags the client may receive: not one only a client sends. */
	private checkFirst(first: number): boolean {
		const type = first >> 4;
		const flags = first & 0x0F;
		if (type === 0 || type === 15) return this.fail(`reserved packet type ${type}`);
		if (type === 1 || type === 8 || type === 10 || type === 12 || type === 14)
			return this.fail(`${PACKET_NAMES[type]} from the broker (only a client sends it)`);
		const expect = FIXED_FLAGS[type];
		if (expect >= 0 ? flags !== expect : (flags & 0x06) === 0x06)
			return this.fail(`invalid flags 0x${flags.toString(16)} on ${PACKET_NAMES[type]}`);
		return true;
	}

	/** The remaining length suits the packet type. */
	private checkLength(): boolean {
		const type = this.first >> 4;
		const length = this.remaining;
		const fixed = FIXED_LENGTHS[type];
		if (fixed >= 0 && length !== fixed)
			return this.fail(`${PACKET_NAMES[type]} with remaining length ${length}, expected ${fixed}`);
		return true;
	}

	/** The remaining length is known: check it and choose how to collect the body. */
	private begin(): boolean {
		if (!this.checkLength()) return false;
		const type = this.first >> 4;
		const length = this.remaining;
		this.filled = 0;
		if (length === 0) return this.parse(this.buffer, 0, 0);
		if (length <= this.buffer.length) {
			this.state = BODY;
			this.need = length;
			return true;
		}
		if (type !== 3)
			return this.fail(`${PACKET_NAMES[type]} of ${length} bytes is larger than rxSize ${this.buffer.length}`);
		this.state = STREAM;
		this.stream.begin(this.first, length);
		return true;
	}

	/** Stops the decoder for a protocol violation, which the sink hears of. */
	fail(reason: string): false {
		this.state = FAILED;
		this.sink.protocolFault(reason);
		return false;
	}

	/** A whole packet is in the buffer (assembled there): hand it on. */
	private parse(bytes: Uint8Array, start: number, end: number): boolean {
		this.state = HEADER;
		const epoch = this.epoch;
		if (!this.dispatch(bytes, start, end)) return false;
		return this.state !== FAILED && this.epoch === epoch;
	}

	/** A whole PUBLISH whose body is bytes[start, end): topic, id and payload to the sink. */
	private publish(bytes: Uint8Array, start: number, end: number): boolean {
		const first = this.first;
		const topicEnd = start + 2 + ((bytes[start] << 8) | bytes[start + 1]);
		const payloadStart = first & 0x06 ? topicEnd + 2 : topicEnd;
		if (end - start < 2 || payloadStart > end) return this.fail("PUBLISH topic malformed or not valid UTF-8");
		if (topicEnd === start + 2) return this.fail("PUBLISH with an empty topic");
		const id = payloadStart > topicEnd ? (bytes[topicEnd] << 8) | bytes[topicEnd + 1] : 0;
		if (payloadStart > topicEnd && id === 0) return this.fail("PUBLISH with packet id 0");
		// Topic and payload as text by XS's native conversion, as utf8.ts's textAt() does, inline:
		// this runs for every message. It throws on malformed UTF-8 and stops at a NUL byte: a
		// string of another length than its bytes is checked (isText) or refused.
		const buffer = bytes.buffer as ArrayBuffer;
		const base = bytes.byteOffset;
		const topicLength = topicEnd - start - 2;
		const payloadLength = end - payloadStart;
		let topic: string | undefined;
		let text: string | undefined;
		try {
			topic = (String.fromArrayBuffer as FromArrayBuffer)(buffer, base + start + 2, topicLength);
			if (!this.binary) text = (String.fromArrayBuffer as FromArrayBuffer)(buffer, base + payloadStart, payloadLength);
		}
		catch {
			// the topic is refused below; a payload that is not text is delivered as bytes
		}
		if (topic === undefined || (topic.length !== topicLength && !isText(topic, topicLength)))
			return this.fail("PUBLISH topic malformed or not valid UTF-8");
		if (text !== undefined && text.length !== payloadLength && !isText(text, payloadLength)) text = undefined;
		// A string only when it is text that round-trips; else the bytes, never mangled.
		this.sink.publishReceived(first, topic, id, text !== undefined ? text : buffer.slice(base + payloadStart, base + end));
		return true;
	}

	/** The body of the current packet is bytes[start, end): hand it to the sink. */
	private dispatch(bytes: Uint8Array, start: number, end: number): boolean {
		const first = this.first;
		const type = first >> 4;
		if (type === 3) return this.publish(bytes, start, end);
		if ((type >= 4 && type <= 7) || type === 11) {
			const id = (bytes[start] << 8) | bytes[start + 1];
			if (!id) return this.fail(`${PACKET_NAMES[type]} with packet id 0`);
			this.sink.ackReceived(type, id);
			return true;
		}
		if (start !== 0) {
			// Rare packets are decoded from the receive buffer.
			this.buffer.set(bytes.subarray(start, end), 0);
		}
		const packet = decodeControl(this.first >> 4, this.buffer, end - start);
		if (typeof packet === "string") return this.fail(packet);
		this.sink.packetReceived(packet);
		return true;
	}
}
