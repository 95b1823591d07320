/*
 * mqttc/store (manifest_store.json): the durable session. The QoS 1/2 messages publish()
 * accepted, their PUBREL state and the received QoS 2 ids awaiting PUBREL are kept in a file
 * (mqttc/storelog) as well as in RAM, so that a reboot loses none of them:
 *
 *   import Store from "mqttc/store";
 *   const store = new Store("meter");                  // <config.file.root>meter.mq
 *   trace(`${store.restored.length} messages restored\n`);
 *   const client = mqtt.create(null, host, 1883, false, { store });
 *
 * The file is read when the Store is made: `restored` holds the ids of the messages found
 * (each gets `sent` once the broker has it), `received` the QoS 2 ids still awaiting PUBREL,
 * `unreadable` the bytes dropped (a record torn by a power cut, or a file that is not a
 * store). `drop()` erases all of it, before create(). One client uses a store at a time;
 * close() leaves what is stored for the next client made with it.
 */

import config from "mc/config";
import { RELEASED as RELEASED_STATE, QUEUED } from "mqttc/outbox";
import type { OutboxEntry } from "mqttc/outbox";
import { QOS2_WINDOW } from "mqttc/inbound";
import type { EventQueue } from "mqttc/events";
import type { Session } from "mqttc/session";
import type { SessionSource } from "mqttc/types";
import { DONE, FORGET, PUBLISH, RECEIVED, RECEIVED_RELEASED, RELEASED, StoreLog } from "mqttc/storelog";
import { StoredOutbox, StoredSession } from "mqttc/stored";

export interface StoreOptions {
	/** Bound of the store's file, bytes (4096..16777216, default 32768); it holds messages
	 * up to half of it (each counted as 10 bytes + topic + 2 + payload). */
	size?: number;
}

export default class Store implements SessionSource {
	/** Ids of the restored messages, in publish order. */
	declare restored: number[];
	/** Received QoS 2 ids restored, awaiting PUBREL (not delivered again). */
	declare received: number[];
	/** Bytes of the file that could not be read and were dropped. */
	declare unreadable: number;
	declare log: StoreLog;
	private declare entries: Map<number, OutboxEntry> | undefined;
	private declare user: StoredOutbox | undefined;

	constructor(name: string, options?: StoreOptions) {
		if (typeof name !== "string" || !/^[A-Za-z0-9_-]{1,24}$/.test(name)) throw new RangeError("store name must be 1..24 letters, digits, '_' or '-'");
		const size = options?.size ?? 32768;
		if (typeof size !== "number" || !(size >= 4096 && size <= 16777216)) throw new RangeError("store size must be 4096..16777216 bytes");
		const root = (config as { file?: { root?: string } }).file?.root ?? "";
		this.log = new StoreLog(root, name, size | 0);
		this.user = undefined;
		this.load();
	}

	/** Erases what is stored (outgoing messages and received QoS 2 ids). Not while a client
	 * uses the store. */
	drop(): void {
		if (this.user !== undefined && !this.user.detached) throw new Error("store in use: drop() before create() or after close()");
		this.log.erase();
		this.entries = new Map();
		this.restored = [];
		this.received = [];
	}

	/** create()'s session: restored from the file (read again after a close()). */
	session(outboxLimit: number, inflight: number, qos2Window: number, events: EventQueue): Session | string {
		if (this.user !== undefined && !this.user.detached) return "store already in use by another client";
		if (this.entries === undefined) this.load();
		const outbox = new StoredOutbox(this.log, this.log.size >> 1, outboxLimit, inflight, events);
		outbox.adopt(this.entries!.values(), this.received);
		const session = new StoredSession(outbox, qos2Window, this.received);
		const ids = this.restored;
		if (ids.length) session.nextId = ids[ids.length - 1];
		this.entries = undefined;
		this.user = outbox;
		if (this.log.broken) {
			try {
				outbox.rewrite();
			}
			catch {
				// The first append tries again, and reports.
			}
		}
		return session;
	}

	/** Reads the file; a torn or foreign tail is dropped by rewriting what was read. */
	private load(): void {
		const entries = new Map<number, OutboxEntry>();
		const received: number[] = [];
		const empty = new Uint8Array(0);      // what a released message keeps of its PUBLISH
		this.unreadable = this.log.read((type, first, id, body, length) => {
			if (type === PUBLISH) {
				const field = ((body![0] << 8) | body![1]) + 2;
				entries.delete(id);     // an id used again goes to the end, as a Map keeps order
				entries.set(id, { id, state: QUEUED, first, field: body!.subarray(0, field), payload: body!.subarray(field, length) });
			}
			else if (type === RELEASED) {
				const entry = entries.get(id);
				if (entry === undefined) entries.set(id, { id, state: RELEASED_STATE, first: 0x34, field: empty, payload: empty });
				else {
					entry.state = RELEASED_STATE;
					entry.field = empty;
					entry.payload = empty;
				}
			}
			else if (type === DONE) entries.delete(id);
			else if (type === RECEIVED) {
				if (received.length >= QOS2_WINDOW) received.shift();
				received.push(id);
			}
			else if (type === RECEIVED_RELEASED) {
				const at = received.indexOf(id);
				if (at >= 0) received.splice(at, 1);
			}
			else if (type === FORGET) received.length = 0;
		});
		this.entries = entries;
		this.restored = Array.from(entries.keys());
		this.received = received;
	}
}
