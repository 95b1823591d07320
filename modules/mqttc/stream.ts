/*
 * A PUBLISH larger than the receive buffer, which the decoder hands over once it knows the
 * length: not an error, and not buffered whole. Its topic and packet id are collected in the
 * buffer (a topic that does not fit is dropped, the id still kept so the message can be
 * acknowledged), then its payload is passed to the sink in pieces of at most the buffer's
 * size, in order, each with its offset; the last ends at the packet's total.
 */

import type { Decoder } from "mqttc/decoder";
import type { PublishPacket } from "mqttc/packet";
import { textOf } from "mqttc/utf8";

// Stream states.
const HEAD = 0;        // collecting topic length, topic and packet id
const SKIP = 1;        // the topic does not fit: dropping its bytes
const ID = 2;          // ... then collecting the packet id
const BODY = 3;        // passing the payload on in pieces

export class Stream {
	/** The message, while its payload streams. */
	declare packet: PublishPacket | undefined;
	private declare decoder: Decoder;
	private declare state: number;
	private declare first: number;        // the PUBLISH's first byte
	private declare need: number;         // bytes wanted before the next step
	private declare filled: number;       // bytes of the buffer in use
	private declare left: number;         // bytes of the packet not yet consumed
	private declare offset: number;       // payload offset of the next piece

	constructor(decoder: Decoder) {
		this.state = HEAD;
		this.first = 0;
		this.need = 0;
		this.filled = 0;
		this.left = 0;
		this.offset = 0;
		this.decoder = decoder;
	}

	/** A PUBLISH of `length` remaining bytes starts: first its topic length. */
	begin(first: number, length: number): void {
		this.first = first;
		this.state = HEAD;
		this.need = 2;
		this.filled = 0;
		this.left = length;
		this.packet = undefined;
	}

	/** Takes what it needs of bytes[i, end); returns where it stopped, or -1 when the decoder
	 * has stopped (a fault, or the sink reset it). */
	take(bytes: Uint8Array, i: number, end: number): number {
		const buffer = this.decoder.buffer;
		if (this.state === SKIP) {
			const n = Math.min(this.need, end - i);
			this.need -= n;
			this.left -= n;
			if (this.need === 0 && !this.afterSkip()) return -1;
			return i + n;
		}
		if (this.state === BODY) {
			const n = Math.min(this.left, buffer.length - this.filled, end - i);
			buffer.set(bytes.subarray(i, i + n), this.filled);
			this.filled += n;
			this.left -= n;
			if ((this.filled === buffer.length || this.left === 0) && !this.flushPart()) return -1;
			return i + n;
		}
		const n = Math.min(this.need - this.filled, end - i);
		buffer.set(bytes.subarray(i, i + n), this.filled);
		this.filled += n;
		if (this.filled === this.need && !this.collected()) return -1;
		return i + n;
	}

	/** The wanted bytes are in the buffer: the topic length, the packet id, or both with the topic. */
	private collected(): boolean {
		const decoder = this.decoder;
		const idSize = this.first & 0x06 ? 2 : 0;
		const buffer = decoder.buffer;
		if (this.state === ID) {        // after a dropped topic
			const id = (buffer[0] << 8) | buffer[1];
			this.left -= 2;
			return id ? this.start(undefined, id) : decoder.fail("PUBLISH with packet id 0");
		}
		if (this.need === 2) {          // the topic length is known
			const topicLength = (buffer[0] << 8) | buffer[1];
			if (!topicLength) return decoder.fail("PUBLISH with an empty topic");
			if (2 + topicLength + idSize > this.left) return decoder.fail("PUBLISH topic longer than the packet");
			if (2 + topicLength + idSize <= buffer.length) {
				this.need = 2 + topicLength + idSize;
				return true;
			}
			// The topic does not fit: drop it, but keep the packet id so the message can be acknowledged.
			this.left -= 2;
			this.state = SKIP;
			this.need = topicLength;
			return true;
		}
		const topicLength = this.need - 2 - idSize;
		const topic = textOf(buffer, 2, 2 + topicLength);
		if (topic === undefined) return decoder.fail("PUBLISH topic is not valid UTF-8");
		const id = idSize ? (buffer[2 + topicLength] << 8) | buffer[3 + topicLength] : 0;
		if (idSize && !id) return decoder.fail("PUBLISH with packet id 0");
		this.left -= this.need;
		return this.start(topic, id);
	}

	/** The topic was dropped: read the packet id, if the QoS has one. */
	private afterSkip(): boolean {
		if (!(this.first & 0x06)) return this.start(undefined, 0);
		this.state = ID;
		this.filled = 0;
		this.need = 2;
		return true;
	}

	private start(topic: string | undefined, id: number): boolean {
		const first = this.first;
		this.packet = {
			type: 3, qos: (first >> 1) & 3, retain: (first & 1) === 1, dup: (first & 8) === 8,
			topic, id, payload: undefined, total: this.left,
		};
		this.state = BODY;
		this.filled = 0;
		this.offset = 0;
		if (this.left === 0) return this.flushPart();
		return true;
	}

	/** The buffer's piece to the sink; the last one ends the message (the decoder reads a header next). */
	private flushPart(): boolean {
		const decoder = this.decoder;
		const packet = this.packet!;
		const chunk = decoder.buffer.subarray(0, this.filled);
		const offset = this.offset;
		this.offset += this.filled;
		this.filled = 0;
		if (this.left === 0) {
			decoder.state = 0;             // HEADER
			this.packet = undefined;
		}
		const epoch = decoder.epoch;
		decoder.sink.partReceived(packet, chunk, offset);
		return decoder.state !== 4 && decoder.epoch === epoch;   // not FAILED, not reset
	}
}
