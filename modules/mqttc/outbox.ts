/*
 * The outbox: QoS 1 and 2 messages from publish() until the broker has acknowledged them,
 * in publish order, each kept as the parts of its PUBLISH (first byte, topic field, payload)
 * that the writer sends in one write: no packet is assembled, no payload copied. Its memory
 * is bounded by a byte limit (each message counts its packet length plus ENTRY_OVERHEAD),
 * and how many of them may await an acknowledgement at once by the inflight limit; the
 * rest wait here, in order. Entries are found by id through a map, which also keeps the
 * publish order. The waiting ones are also in a list, taken from its front with a native
 * shift(): it holds exactly the waiting messages, even under a backlog that never drains.
 * A message that may go out at once (none waits, the inflight limit has room) enters as
 * SENT and is never in that list.
 */

import { DUP_FLAG } from "mqttc/packet";

/** Waiting for its turn (inflight limit) or for a connection. */
export const QUEUED = 0;
/** PUBLISH sent, waiting for PUBACK (QoS 1) or PUBREC (QoS 2). */
export const SENT = 1;
/** QoS 2: PUBREC received and PUBREL sent, waiting for PUBCOMP. */
export const RELEASED = 2;

/** Bytes counted for each entry besides its packet: the entry object and its slots. */
export const ENTRY_OVERHEAD = 32;
/** Bytes of a PUBLISH besides its topic field and payload, counted at most: a fixed header
 * of up to 5 bytes and the packet id. */
export const PACKET_OVERHEAD = 7;

export interface OutboxEntry {
	id: number;
	state: number;
	/** The PUBLISH's first byte: type, QoS and RETAIN, and DUP once it is sent again. */
	first: number;
	/** The topic as it goes on the wire (the client's cached field: shared, never changed). */
	field: Uint8Array;
	/** The payload, the outbox's own; emptied once the broker has the message (PUBREC). */
	payload: Uint8Array | ArrayBuffer;
}

export class Outbox {
	readonly declare limit: number;
	readonly declare inflightLimit: number;
	/** Every entry by id, in publish order (a Map iterates in insertion order). Read-only
	 * outside: the client finds acknowledged entries in it, the session allocates ids
	 * against it. */
	declare byId: Map<number, OutboxEntry>;
	/** The QUEUED entries in publish order: exactly `queued` of them (taken from the front
	 * with shift(), so a queue that never drains does not grow the array). */
	protected declare waiting: OutboxEntry[];
	/** Bytes counted against the limit now. */
	declare bytes: number;
	/** Entries in SENT or RELEASED state. */
	declare inflight: number;
	/** Entries in QUEUED state (waiting for the inflight limit or a connection). */
	declare queued: number;

	constructor(limit: number, inflightLimit: number) {
		this.byId = new Map<number, OutboxEntry>();
		this.waiting = [];
		this.bytes = 0;
		this.inflight = 0;
		this.queued = 0;
		this.limit = limit;
		this.inflightLimit = inflightLimit;
	}

	/** Adds a message, SENT when the caller sends it now (none waits, `inflight` is under
	 * the limit and it is connected), else QUEUED to be sent in turn. Returns the entry, or
	 * undefined, adding nothing, when it would take the outbox over its byte limit. */
	add(id: number, first: number, field: Uint8Array, payload: Uint8Array | ArrayBuffer, sent: boolean): OutboxEntry | undefined {
		const size = PACKET_OVERHEAD + field.length + payload.byteLength + ENTRY_OVERHEAD;
		if (this.bytes + size > this.limit) return undefined;
		const entry: OutboxEntry = { id, state: sent ? SENT : QUEUED, first, field, payload };
		this.byId.set(id, entry);
		this.bytes += size;
		if (sent) this.inflight++;
		else {
			this.waiting.push(entry);
			this.queued++;
		}
		return entry;
	}

	/** Why add() refused (the `error` "tx" text). */
	full(): string {
		return `outbox full (${this.limit} bytes)`;
	}

	/** The next entry that may be sent now under the inflight limit, marked SENT. */
	next(): OutboxEntry | undefined {
		if (this.queued === 0 || this.inflight >= this.inflightLimit) return undefined;
		const entry = this.waiting.shift()!;
		this.queued--;
		entry.state = SENT;
		this.inflight++;
		return entry;
	}

	/** PUBREC: the broker has the message; only its id is kept (PUBREL is what goes out now). */
	release(entry: OutboxEntry): void {
		this.bytes -= entry.payload.byteLength;
		entry.payload = new ArrayBuffer(0);
		entry.state = RELEASED;
	}

	/** Removes an entry of the outbox (acknowledged, or settled without its session). */
	remove(entry: OutboxEntry): void {
		this.byId.delete(entry.id);
		this.bytes -= PACKET_OVERHEAD + entry.field.length + entry.payload.byteLength + ENTRY_OVERHEAD;   // as add() counted it
		if (entry.state !== QUEUED) this.inflight--;
		else {
			// Not on a message's path: acknowledgements settle entries that were sent.
			const waiting = this.waiting;
			const at = waiting.indexOf(entry);
			if (at >= 0) waiting.splice(at, 1);
			this.queued--;
		}
	}

	/**
	 * The connection is back. Every PUBLISH that went out before is marked DUP: whatever the
	 * session, sending it again is an attempt to re-deliver [MQTT-3.3.1-1], and the first copy
	 * may have reached the broker before the link died. With the broker's session (`resume`),
	 * what was in flight is returned in publish order to be sent again: PUBLISH, or PUBREL.
	 * Without it, unacknowledged PUBLISHes go back to the queue, in publish order with those
	 * that waited, and RELEASED entries are returned for PUBREL to be sent again.
	 */
	reconnected(resume: boolean): OutboxEntry[] {
		const result: OutboxEntry[] = [];
		const waiting: OutboxEntry[] = [];
		for (const entry of this.byId.values()) {
			if (entry.state === QUEUED) waiting.push(entry);
			else if (resume) {
				if (entry.state === SENT) entry.first |= DUP_FLAG;
				result.push(entry);
			}
			else if (entry.state === SENT) {
				entry.first |= DUP_FLAG;
				entry.state = QUEUED;
				this.inflight--;
				this.queued++;
				waiting.push(entry);
			}
			else result.push(entry);
		}
		this.waiting = waiting;
		return result;
	}

	/** Takes every entry out (close, or resend disabled), in publish order. */
	clear(): OutboxEntry[] {
		const entries = Array.from(this.byId.values());
		this.byId.clear();
		this.waiting = [];
		this.bytes = 0;
		this.inflight = 0;
		this.queued = 0;
		return entries;
	}
}
