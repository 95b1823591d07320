/*
 * The outbox: QoS 1 and 2 messages from publish() until the broker has acknowledged them,
 * in publish order, each kept as the parts of its PUBLISH (first byte, topic field, payload)
 * that the writer sends in one write: no packet is assembled, no payload copied. Its memory
 * is bounded by a byte limit (each message counts its packet length plus ENTRY_OVERHEAD),
 * and how many of them may
 * await an acknowledgement at once is bounded by the inflight limit; the rest wait here,
 * in order. Entries are found by id through a map, and the next one to send through a
 * cursor, so each operation costs the same with ten entries or ten thousand.
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
const PACKET_OVERHEAD = 7;

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
	readonly limit: number;
	readonly inflightLimit: number;
	private entries: OutboxEntry[] = [];
	/** Every entry by id (read-only outside: the client finds acknowledged entries in it,
	 * the session allocates ids against it). */
	readonly byId = new Map<number, OutboxEntry>();
	/** Every entry before this index has been sent (none is QUEUED). */
	private cursor = 0;
	/** Bytes counted against the limit now. */
	bytes = 0;
	/** Entries in SENT or RELEASED state. */
	inflight = 0;
	/** Entries in QUEUED state (waiting for the inflight limit or a connection). */
	queued = 0;

	constructor(limit: number, inflightLimit: number) {
		this.limit = limit;
		this.inflightLimit = inflightLimit;
	}

	/** Adds a message to be sent in turn; false, adding nothing, when it would take the
	 * outbox over its byte limit. */
	add(id: number, first: number, field: Uint8Array, payload: Uint8Array | ArrayBuffer): boolean {
		const size = PACKET_OVERHEAD + field.length + payload.byteLength + ENTRY_OVERHEAD;
		if (this.bytes + size > this.limit) return false;
		const entry: OutboxEntry = { id, state: QUEUED, first, field, payload };
		this.entries.push(entry);
		this.byId.set(id, entry);
		this.bytes += size;
		this.queued++;
		return true;
	}

	/** The next entry that may be sent now under the inflight limit, marked SENT. */
	next(): OutboxEntry | undefined {
		if (this.inflight >= this.inflightLimit) return undefined;
		const entries = this.entries;
		for (; this.cursor < entries.length; this.cursor++) {
			const entry = entries[this.cursor];
			if (entry.state === QUEUED) {
				entry.state = SENT;
				this.inflight++;
				this.queued--;
				this.cursor++;
				return entry;
			}
		}
		return undefined;
	}

	/** PUBREC: the broker has the message; only its id is kept (PUBREL is what goes out now). */
	release(entry: OutboxEntry): void {
		this.bytes -= entry.payload.byteLength;
		entry.payload = new ArrayBuffer(0);
		entry.state = RELEASED;
	}

	/** Removes an acknowledged (or abandoned) entry. */
	remove(entry: OutboxEntry): void {
		if (this.byId.get(entry.id) !== entry) return;
		// Acknowledgements come mostly in publish order: the entry is usually the first.
		const entries = this.entries;
		const index = entries[0] === entry ? 0 : entries.indexOf(entry);
		if (index === 0) entries.shift();
		else entries.splice(index, 1);
		this.byId.delete(entry.id);
		if (index < this.cursor) this.cursor--;
		this.bytes -= PACKET_OVERHEAD + entry.field.length + entry.payload.byteLength + ENTRY_OVERHEAD;   // as add() counted it
		if (entry.state !== QUEUED) this.inflight--;
		else this.queued--;
	}

	/**
	 * The connection is back. With the broker's session (`resume`), what was in flight is
	 * returned in publish order to be sent again: PUBLISH with DUP set, or PUBREL. Without
	 * it, unacknowledged PUBLISHes go back to the queue as new messages and RELEASED entries
	 * (which the broker already had) are returned for the caller to settle.
	 */
	reconnected(resume: boolean): OutboxEntry[] {
		const entries = this.entries;
		const result: OutboxEntry[] = [];
		this.cursor = 0;
		for (let i = 0; i < entries.length; i++) {
			const entry = entries[i];
			if (entry.state === QUEUED) continue;
			if (resume) {
				if (entry.state === SENT) entry.first |= DUP_FLAG;
				result.push(entry);
			}
			else if (entry.state === SENT) {
				entry.first &= ~DUP_FLAG;
				entry.state = QUEUED;
				this.inflight--;
				this.queued++;
			}
			else result.push(entry);
		}
		return result;
	}

	/** Takes every entry out (close, or resend disabled), in publish order. */
	clear(): OutboxEntry[] {
		const entries = this.entries;
		this.entries = [];
		this.byId.clear();
		this.cursor = 0;
		this.bytes = 0;
		this.inflight = 0;
		this.queued = 0;
		return entries;
	}
}
