/*
 * Hands packets to a Moddable socket without ever asking it for more than its free space
 * (Moddable's write() throws "can't write all data" otherwise). A packet larger than the
 * free space goes in pieces, the next piece when the socket reports space again (message
 * 3), so packets are never interleaved and always leave in the order they were queued.
 *
 * The queue holds references to packets, never copies. Its size is bounded by the client:
 * QoS 1/2 packets by the outbox bound and the inflight limit, everything else by
 * `queueLimit` bytes.
 */

/** The part of a Moddable Socket/SecureSocket the writer uses. */
export interface WritableSocket {
	write(...data: (ArrayBuffer | ArrayBufferView)[]): number | void;
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

	constructor(socket: WritableSocket, written: (tag: number) => void) {
		this.socket = socket;
		this.written = written;
	}

	/** Queues a packet and sends what the socket takes now. Throws what the socket throws
	 * for reasons other than lack of space (a dead socket). */
	send(packet: Uint8Array, tag = 0): void {
		this.packets.push(packet);
		this.tags.push(tag);
		this.queued += packet.length;
		if (this.packets.length === 1) this.flush();
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
