/*
 * Hands packets to a Moddable socket without ever asking it for more than its free space
 * (Moddable's write() throws "can't write all data" otherwise). A packet larger than the
 * free space goes in pieces, the next piece when the socket reports space again (message
 * 3), so packets are never interleaved and always leave in the order they were queued.
 *
 * The per-message packets (PUBLISH, acknowledgements) go straight to the socket when
 * nothing waits and it has room: a PUBLISH as its header, topic field and payload in one
 * write() (no copy of the payload), an acknowledgement as four numbers (no buffer at all).
 * Only what must wait is copied into one packet and queued.
 *
 * The queue holds references to packets. Its size is bounded by the client: QoS 1/2
 * packets by the outbox bound and the inflight limit, everything else by `queueLimit`
 * bytes.
 */

import { encodeAck, putFixedHeader, MAX_REMAINING_LENGTH } from "mqttc/packet";

/** The part of a Moddable Socket/SecureSocket the writer uses. */
export interface WritableSocket {
	write(...data: (ArrayBuffer | ArrayBufferView | number)[]): number | void;
}

export class Writer {
	private socket: WritableSocket;
	private packets: Uint8Array[] = [];
	/** Tag of each queued packet (0: none), reported through `written` when it has gone out. */
	private tags: number[] = [];
	/** Tags of packets discardPending() dropped, for drop() to report. */
	private discarded: number[] = [];
	/** Bytes of packets[0] already handed to the socket. */
	private offset = 0;
	/** Bytes queued but not yet handed to the socket. */
	queued = 0;
	private written: (tag: number) => void;
	/** A PUBLISH fixed header (first byte, 1..4 length bytes), seen through views of its
	 * exact length; and a packet id. Filled and written at once, so one of each suffices. */
	private header = new Uint8Array(5);
	private headers: Uint8Array[];
	private id = new Uint8Array(2);

	constructor(socket: WritableSocket, written: (tag: number) => void) {
		this.socket = socket;
		this.written = written;
		const header = this.header;
		this.headers = [header.subarray(0, 2), header.subarray(0, 3), header.subarray(0, 4), header];
	}

	/** Queues a packet and sends what the socket takes now. Throws what the socket throws
	 * for reasons other than lack of space (a dead socket). */
	send(packet: Uint8Array, tag = 0): void {
		this.packets.push(packet);
		this.tags.push(tag);
		this.queued += packet.length;
		if (this.packets.length === 1) this.flush();
	}

	/** A PUBLISH of `field` (topic with its length bytes), packet id (0: none) and payload.
	 * Returns true when it went out at once (its tag is then not reported through `written`). */
	sendPublish(first: number, field: Uint8Array, id: number, payload: Uint8Array, tag: number): boolean {
		const remaining = field.length + (id ? 2 : 0) + payload.length;
		if (remaining > MAX_REMAINING_LENGTH) throw new RangeError("mqttc: packet too large");
		const n = putFixedHeader(this.header, first, remaining);
		const head = this.headers[n - 2];
		const total = n + remaining;
		if (!this.packets.length) {
			// Moddable's write() takes all or nothing: it throws when the packet does not fit,
			// which is then queued; asking first would cost a call per packet.
			try {
				if (id) {
					this.id[0] = id >> 8;
					this.id[1] = id & 0xFF;
					this.socket.write(head, field, this.id, payload);
				}
				else this.socket.write(head, field, payload);
				return true;
			}
			catch (e) {
				if ((this.socket.write() as number) >= total) throw e;   // not a lack of space
			}
		}
		const packet = new Uint8Array(total);
		packet.set(head, 0);
		packet.set(field, n);
		let at = n + field.length;
		if (id) {
			packet[at++] = id >> 8;
			packet[at++] = id & 0xFF;
		}
		packet.set(payload, at);
		this.send(packet, tag);
		return false;
	}

	/** PUBACK, PUBREC, PUBREL, PUBCOMP for `id`. */
	sendAck(type: number, id: number): void {
		if (!this.packets.length && (this.socket.write() as number) >= 4) {
			this.socket.write((type << 4) | (type === 6 ? 0x02 : 0), 2, id >> 8, id & 0xFF);
			return;
		}
		this.send(encodeAck(type, id));
	}

	/** Sends as much as the socket has room for; call on socket message 3. */
	flush(): void {
		const packets = this.packets;
		while (packets.length) {
			const free = this.socket.write() as number;
			if (!(free > 0)) return;
			const packet = packets[0];
			const n = Math.min(free, packet.length - this.offset);
			this.socket.write(this.offset === 0 && n === packet.length ? packet : packet.subarray(this.offset, this.offset + n));
			this.offset += n;
			this.queued -= n;
			if (this.offset < packet.length) return;
			packets.shift();
			const tag = this.tags.shift()!;
			this.offset = 0;
			if (tag) this.written(tag);
		}
	}

	/** Drops the packets not yet started (a half-written one stays); drop() reports their
	 * tags with the rest. For a packet that must go out now, ahead of a backlog. */
	discardPending(): void {
		const keep = this.offset > 0 ? 1 : 0;
		for (let i = keep; i < this.packets.length; i++) {
			this.queued -= this.packets[i].length;
			if (this.tags[i]) this.discarded.push(this.tags[i]);
		}
		this.packets.length = keep;
		this.tags.length = keep;
	}

	/** Whether everything queued has been handed to the socket. */
	get idle(): boolean {
		return this.packets.length === 0;
	}

	/** Empties the queue (the connection is gone) and returns the tags that never went out. */
	drop(): number[] {
		const tags = this.discarded.concat(this.tags.filter((tag) => tag !== 0));
		this.discarded.length = 0;
		this.packets.length = 0;
		this.tags.length = 0;
		this.offset = 0;
		this.queued = 0;
		return tags;
	}
}
