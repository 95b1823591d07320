/*
 * Hands packets to a Moddable socket in order. Moddable's write() takes all or nothing: it
 * throws "can't write all data" and writes nothing when the data do not fit. So a packet is
 * offered whole when nothing waits (asking for the free space first would cost a call per
 * message), and one the socket refuses is queued; the queue goes out in pieces of the free
 * space, the next when the socket reports room again (message 3), so packets are never
 * interleaved and always leave in the order they were sent.
 *
 * The per-message packets go straight to the socket: a PUBLISH as its header, topic field,
 * packet id (two numbers) and payload in one write() (no copy of the payload), an
 * acknowledgement as four numbers (no buffer at all). Only what must wait is copied into
 * one packet and queued.
 *
 * The queue holds references to packets. Its size is bounded by the client: QoS 1/2
 * packets by the outbox bound and the inflight limit, everything else by `queueLimit`
 * bytes.
 */

import { PUBREL, encodeAck, putFixedHeader } from "mqttc/packet";
import type { OutboxEntry } from "mqttc/outbox";
import type { Tracer, WritableSocket } from "mqttc/types";

export class Writer {
	private declare socket: WritableSocket;
	private declare packets: Uint8Array[];
	/** Tag of each queued packet (0: none), reported through `written` when it has gone out. */
	private declare tags: number[];
	/** Tags of packets discardPending() dropped, for drop() to report. */
	private declare discarded: number[];
	/** Bytes of packets[0] already handed to the socket. */
	private declare offset: number;
	/** packets[0] is the rest of a PUBLISH whose start went out already (split()). */
	private declare started: boolean;
	/** Bytes queued but not yet handed to the socket: 0 exactly when no packet waits. */
	declare queued: number;
	private written: (tag: number) => void;
	/** The socket failed (a dead socket, not a full one): the link is lost. */
	private failed: (error: unknown) => void;
	/** Keepalive ticks since the last write (the link counts them, a write resets them). */
	declare sinceWrite: number;
	/** A PUBLISH fixed header (first byte, 1..4 length bytes), seen through views of its
	 * exact length, for packets of 16 KB and more and for queued ones. Filled and used at
	 * once, so one suffices. */
	private declare header: Uint8Array;
	private declare headers: Uint8Array[];

	constructor(socket: WritableSocket, written: (tag: number) => void, failed: (error: unknown) => void) {
		this.socket = socket;
		this.written = written;
		this.failed = failed;
		this.packets = [];
		this.tags = [];
		this.discarded = [];
		this.offset = this.queued = this.sinceWrite = 0;
		this.started = false;
		const header = this.header = new Uint8Array(5);
		this.headers = [header.subarray(0, 2), header.subarray(0, 3), header.subarray(0, 4), header];
	}

	// ---- For the link and the packet handling: a failure is reported through `failed` ----

	/** A control packet (CONNECT, SUBSCRIBE, PINGREQ...); false when the socket failed. */
	packet(packet: Uint8Array): boolean {
		const failure = this.send(packet, 0);
		if (failure !== undefined) {
			this.failed(failure);
			return false;
		}
		this.sinceWrite = 0;
		return true;
	}

	/** An outbox entry's PUBLISH; false when the socket failed. */
	entry(entry: OutboxEntry): boolean {
		const failure = this.sendPublish(entry.first, entry.field, entry.id, entry.payload, 0);
		if (failure !== true && failure !== false) {
			this.failed(failure);
			return false;
		}
		this.sinceWrite = 0;
		return true;
	}

	/** PUBACK, PUBREC, PUBREL or PUBCOMP for `id`. */
	ack(type: number, id: number): void {
		const failure = this.sendAck(type, id);
		if (failure !== undefined) this.failed(failure);
		else this.sinceWrite = 0;
	}

	// ---- The writes: each returns what the socket threw, rather than throwing ----

	/**
	 * Hands a packet to the socket, or queues it behind what waits or when the socket has no
	 * room (its tag is then reported through `written` once it has gone). Returns undefined,
	 * or what the socket threw for a reason other than lack of space (a dead socket): a value
	 * rather than an exception, so that the per-message callers need no try.
	 */
	send(packet: Uint8Array, tag: number): unknown {
		if (this.queued === 0) {
			try {
				this.socket.write(packet);
				return undefined;
			}
			catch (e) {
				if (this.fits(packet.length)) return e;
			}
		}
		return this.enqueue(packet, tag);
	}

	/** Queues a packet the socket did not take (or that must wait its turn) and, when it is
	 * the only one, hands the socket what fits of it now. Returns undefined or the error. */
	private enqueue(packet: Uint8Array, tag: number): unknown {
		this.packets.push(packet);
		this.tags.push(tag);
		this.queued += packet.length;
		if (this.packets.length === 1) {
			try {
				this.flush();
			}
			catch (e) {
				return e;
			}
		}
		return undefined;
	}

	/** After write() threw: whether `length` bytes would have fitted, i.e. whether the socket
	 * failed for another reason than lack of room (Moddable's write() takes all or nothing:
	 * asking for the free space before each packet would cost a call per message). */
	private fits(length: number): boolean {
		const free = this.room();
		return free < 0 || free >= length;
	}

	/** The socket's free space, or -1 when it cannot even say (a dead socket). */
	private room(): number {
		try {
			return this.socket.write() as number;
		}
		catch {
			return -1;
		}
	}

	/** A PUBLISH (`first` its first byte) of `field` (topic with its length bytes), packet id
	 * `id` (0: none, QoS 0) and payload (a view, or a string's bytes as an ArrayBuffer), in
	 * one write: true when it went out at once, false when queued (`tag` is then reported
	 * through `written`), or what the socket threw. The caller has checked the size. */
	sendPublish(first: number, field: Uint8Array, id: number, payload: Uint8Array | ArrayBuffer, tag: number): unknown {
		const remaining = field.length + (id === 0 ? 0 : 2) + payload.byteLength;
		if (this.queued === 0) {
			// The fixed header as numbers, a byte each, under 16 KB (one or two length bytes):
			// no header buffer written, no call.
			try {
				if (remaining < 0x80) {
					if (id === 0) this.socket.write(first, remaining, field, payload);
					else this.socket.write(first, remaining, field, id >> 8, id & 0xFF, payload);
				}
				else if (remaining < 0x4000) {
					if (id === 0) this.socket.write(first, (remaining & 0x7F) | 0x80, remaining >> 7, field, payload);
					else this.socket.write(first, (remaining & 0x7F) | 0x80, remaining >> 7, field, id >> 8, id & 0xFF, payload);
				}
				else {
					const head = this.head(first, remaining);
					if (id === 0) this.socket.write(head, field, payload);
					else this.socket.write(head, field, id >> 8, id & 0xFF, payload);
				}
				return true;
			}
			catch (e) {
				const free = this.room();
				if (free < 0 || free >= remaining + (remaining < 0x80 ? 2 : remaining < 0x4000 ? 3 : 5)) return e;
				return this.split(first, field, id, payload, tag, remaining, free);
			}
		}
		const head = this.head(first, remaining);
		const packet = new Uint8Array(head.length + remaining);
		packet.set(head, 0);
		packet.set(field, head.length);
		let at = head.length + field.length;
		if (id !== 0) {
			packet[at++] = id >> 8;
			packet[at++] = id & 0xFF;
		}
		packet.set(payload instanceof ArrayBuffer ? new Uint8Array(payload) : payload, at);
		const failure = this.enqueue(packet, tag);      // not write() again: it just refused
		return failure === undefined ? false : failure;
	}

	/**
	 * A PUBLISH larger than the socket's free space, with nothing queued: its start goes to
	 * the socket now, up to the free space, and only the rest of the payload waits, as a view
	 * when the payload is the outbox's own (`tag` 0: it stays until acknowledged), else as a
	 * copy. So a large message is never held twice. false (queued), or what the socket threw.
	 */
	private split(first: number, field: Uint8Array, id: number, payload: Uint8Array | ArrayBuffer, tag: number, remaining: number, free: number): unknown {
		const head = this.head(first, remaining);
		const bytes = payload instanceof ArrayBuffer ? new Uint8Array(payload) : payload;
		const now = free - head.length - field.length - (id === 0 ? 0 : 2);
		if (now <= 0) {
			const packet = new Uint8Array(head.length + remaining);      // not even the header fits: whole
			packet.set(head, 0);
			packet.set(field, head.length);
			if (id !== 0) packet.set([id >> 8, id & 0xFF], head.length + field.length);
			packet.set(bytes, head.length + field.length + (id === 0 ? 0 : 2));
			return this.enqueue(packet, tag) ?? false;
		}
		try {
			if (id === 0) this.socket.write(head, field, bytes.subarray(0, now));
			else this.socket.write(head, field, id >> 8, id & 0xFF, bytes.subarray(0, now));
		}
		catch (e) {
			return e;
		}
		const rest = tag === 0 ? bytes.subarray(now) : bytes.slice(now);
		this.started = true;
		return this.enqueue(rest, tag) ?? false;
	}

	/** A PUBLISH fixed header, in the one header buffer (valid until the next call). */
	private head(first: number, remaining: number): Uint8Array {
		return this.headers[putFixedHeader(this.header, first, remaining) - 2];
	}

	/** PUBACK, PUBREC, PUBREL, PUBCOMP for `id`, as four numbers when the socket has room
	 * (no buffer at all). Returns undefined or what the socket threw. */
	sendAck(type: number, id: number): unknown {
		if (this.queued === 0) {
			try {
				this.socket.write((type << 4) | (type === PUBREL ? 0x02 : 0), 2, id >> 8, id & 0xFF);
				return undefined;
			}
			catch (e) {
				if (this.fits(4)) return e;
			}
		}
		return this.enqueue(encodeAck(type, id), 0);
	}

	/** From now on, what goes to the socket is traced (debug(true) on an open connection). */
	tap(tracer: Tracer): void {
		this.socket = tracer.tap(this.socket);
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
			this.started = false;
			if (tag) this.written(tag);
		}
	}

	/** Drops the packets not yet started (a half-written one stays); drop() reports their
	 * tags with the rest. For a packet that must go out now, ahead of a backlog. */
	discardPending(): void {
		const keep = this.offset > 0 || this.started ? 1 : 0;
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
		this.started = false;
		this.queued = 0;
		return tags;
	}
}
