/*
 * The durable session's outbox and session (mqttc/store): the core's, with every change that
 * must survive a reboot appended to the store's log (mqttc/storelog) at the core's named
 * persistence points, before anything outside learns of it:
 *   add (before publish() returns the id), release (PUBREC, before PUBREL goes out),
 *   remove (PUBACK/PUBCOMP: its DONE record goes with the next record written, or within
 *   DONE_DELAY ms: losing it to a power cut only sends the message again, QoS 1 a duplicate,
 *   QoS 2 a PUBREL the broker answers), clear (resend off: the messages were reported lost);
 *   rememberQos2 (before PUBREC), releaseQos2 (PUBREL), forgetReceived (no broker session).
 * Sending, DUP marking and the inflight window write nothing: a restored message may have
 * been sent, so it goes again with DUP set.
 *
 * Bound: the messages alive (their records: RECORD_OVERHEAD + topic field + payload each)
 * take at most `capacity` bytes, half the log's bound, so a rewrite (which writes only what
 * is alive) happens at most once per `capacity` bytes appended and never writes more than
 * was appended since the one before: bytes written per message stay under twice its record.
 */

import Timer from "timer";
import { ENTRY_OVERHEAD, Outbox, PACKET_OVERHEAD, RELEASED as RELEASED_STATE } from "mqttc/outbox";
import { DUP_FLAG } from "mqttc/packet";
import type { OutboxEntry } from "mqttc/outbox";
import { Session } from "mqttc/session";
import type { EventQueue } from "mqttc/events";
import { FORGET, PUBLISH, RECEIVED, RECEIVED_RELEASED, RECORD_OVERHEAD, RELEASED, StoreLog } from "mqttc/storelog";
import type { RecordWriter } from "mqttc/storelog";

/** How long an acknowledgement's DONE record may wait for another record to go with. */
export const DONE_DELAY = 1000;

export class StoredOutbox extends Outbox {
	declare log: StoreLog;
	/** Bytes of live records the store accepts (half the log's bound). */
	declare capacity: number;
	/** Bytes the live records take: what a rewrite would write. */
	declare live: number;
	/** The session's received QoS 2 ids (the same array): a rewrite keeps them. */
	declare received: number[];
	declare events: EventQueue;
	/** Why add() refused when the store (not the outbox's own limit) refused. */
	declare refusal: string | undefined;
	/** close(): nothing more is written; what is stored stays for the next client. */
	declare detached: boolean;
	/** Rewrites the log with what is alive (bound once: the log calls it when full). */
	declare rewrite: () => void;
	/** Writes the waiting DONE records (the log's `done`) at most DONE_DELAY ms after the first. */
	declare timer: Timer | undefined;
	/** The timer's callback (made once). */
	declare flushLater: () => void;

	constructor(log: StoreLog, capacity: number, limit: number, inflight: number, events: EventQueue) {
		super(limit, inflight);
		this.log = log;
		this.capacity = capacity;
		this.live = RECORD_OVERHEAD;
		this.received = [];
		this.events = events;
		this.refusal = undefined;
		this.detached = false;
		this.timer = undefined;
		this.flushLater = () => {
			this.timer = undefined;
			this.flush();
		};
		this.rewrite = () => {
			this.live = this.log.rewrite((put: RecordWriter) => {
				for (const entry of this.byId.values()) {
					if (entry.state === RELEASED_STATE) put(RELEASED, 0, entry.id);
					else put(PUBLISH, entry.first & 0xF7, entry.id, entry.field, entry.payload);
				}
				for (const id of this.received) put(RECEIVED, 0, id);
			});
		};
	}

	/** Restored entries, in publish order: queued (with DUP: they may have been sent), or
	 * released (PUBREL goes again); the outbox's own limit does not refuse them. */
	adopt(entries: Iterable<OutboxEntry>, received: number[]): void {
		let live = RECORD_OVERHEAD * (1 + received.length);
		for (const entry of entries) {
			this.byId.set(entry.id, entry);
			this.bytes += PACKET_OVERHEAD + entry.field.length + entry.payload.byteLength + ENTRY_OVERHEAD;   // as Outbox.add counts
			if (entry.state === RELEASED_STATE) {
				this.inflight++;
				live += RECORD_OVERHEAD;
			}
			else {
				entry.first |= DUP_FLAG;
				this.waiting.push(entry);
				this.queued++;
				live += RECORD_OVERHEAD + entry.field.length + entry.payload.byteLength;
			}
		}
		this.live = live;
	}

	override add(id: number, first: number, field: Uint8Array, payload: Uint8Array | ArrayBuffer, sent: boolean): OutboxEntry | undefined {
		const size = RECORD_OVERHEAD + field.length + payload.byteLength;
		if (this.live + size > this.capacity) {
			this.refusal = `store full (${this.capacity} bytes)`;
			return undefined;
		}
		const entry = super.add(id, first, field, payload, sent);
		if (entry === undefined) {
			this.refusal = undefined;
			return undefined;
		}
		// Counted first: a rewrite the append makes writes this entry too, and counts it.
		this.live += size;
		const failed = this.write(PUBLISH, first, id, field, payload);
		if (failed === undefined) return entry;
		super.remove(entry);
		this.live -= size;
		this.refusal = `store: ${failed}`;
		return undefined;
	}

	override full(): string {
		return this.refusal ?? super.full();
	}

	override release(entry: OutboxEntry): void {
		this.note(RELEASED, entry.id);
		this.live -= entry.field.length + entry.payload.byteLength;
		super.release(entry);
	}

	override remove(entry: OutboxEntry): void {
		this.live -= entry.state === RELEASED_STATE ? RECORD_OVERHEAD : RECORD_OVERHEAD + entry.field.length + entry.payload.byteLength;
		super.remove(entry);
		if (this.detached) return;
		this.log.done.push(entry.id);
		this.timer ??= Timer.set(this.flushLater, DONE_DELAY);
	}

	/** Writes the DONE records that wait (a timer, close()). */
	flush(): void {
		if (this.timer !== undefined) Timer.clear(this.timer);
		this.timer = undefined;
		if (this.log.done.length !== 0) this.note(0, 0);
	}

	override clear(): OutboxEntry[] {
		const entries = super.clear();
		if (!this.detached) {
			try {
				this.rewrite();
			}
			catch (e) {
				this.failed(e, "the messages reported lost may be restored after a restart");
			}
		}
		return entries;
	}

	/** Appends a record without a body; a failure is reported, as the change it records has
	 * already happened on the wire or will: what a restart would then do is said. */
	note(type: number, id: number): void {
		const failed = this.write(type, 0, id);
		if (failed !== undefined)
			this.failed(failed, type === 0 ? "acknowledged messages may be sent again after a restart" : type === RELEASED ? `message ${id} may be published again after a restart` : `QoS 2 id ${id} may be delivered again after a restart`);
	}

	/** Appends a record; the reason when storage failed. */
	private write(type: number, first: number, id: number, field?: Uint8Array, payload?: Uint8Array | ArrayBuffer): string | undefined {
		if (this.detached) return undefined;
		try {
			this.log.append(type, first, id, this.rewrite, field, payload);
			return undefined;
		}
		catch (e) {
			return (e as Error)?.message ?? String(e);
		}
	}

	private failed(reason: unknown, consequence: string): void {
		this.events.emit("error", "other", `store: write failed (${(reason as Error)?.message ?? reason}): ${consequence}`);
	}
}

export class StoredSession extends Session {
	declare readonly outbox: StoredOutbox;

	constructor(outbox: StoredOutbox, qos2Window: number, received: number[]) {
		super(outbox, qos2Window);
		this.qos2Ids.push(...received);
		outbox.received = this.qos2Ids;
	}

	// Each writes its record before the change: a rewrite the append makes then holds the
	// state before it, and the record that follows is applied to it once.
	override rememberQos2(id: number): boolean {
		this.outbox.note(RECEIVED, id);
		this.outbox.live += RECORD_OVERHEAD;
		const kept = super.rememberQos2(id);
		if (!kept) this.outbox.live -= RECORD_OVERHEAD;
		return kept;
	}

	override releaseQos2(id: number): void {
		if (!this.hasQos2(id)) return;
		this.outbox.note(RECEIVED_RELEASED, id);
		this.outbox.live -= RECORD_OVERHEAD;
		super.releaseQos2(id);
	}

	override forgetReceived(): void {
		const count = this.qos2Ids.length;
		if (count === 0) return;
		this.outbox.note(FORGET, 0);
		this.outbox.live -= RECORD_OVERHEAD * count;
		super.forgetReceived();
	}

	/** close(): the client lets go; what is stored stays for the next one. */
	override clear(): void {
		this.outbox.flush();
		this.outbox.detached = true;
		super.clear();
	}
}
