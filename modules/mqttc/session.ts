/*
 * The MQTT session as the client keeps it: what survives a reconnect. The outbox of QoS 1/2
 * messages not yet acknowledged, the SUBSCRIBE/UNSUBSCRIBE requests awaiting their answer,
 * the subscriptions (to restore them when the broker has lost its session), the ids of QoS 2
 * messages received and awaiting PUBREL (exactly once), and the packet id counter.
 */

import type { Outbox } from "mqttc/outbox";

export interface PendingRequest {
	id: number;
	subscribe: boolean;
	topics: string[];
	packet: Uint8Array;
}

export class Session {
	readonly declare outbox: Outbox;
	/** Requests awaiting SUBACK/UNSUBACK, by id, in request order (at most `pendingLimit`). */
	declare pending: Map<number, PendingRequest>;
	/** Filter -> QoS of every subscription the app made. */
	declare subscriptions: Map<string, number>;
	/** Received QoS 2 ids awaiting PUBREL, oldest first (at most `qos2Window`). */
	protected declare qos2Ids: number[];
	private declare qos2Window: number;
	/** The last packet id given out (publish() allocates inline, as allocateId() does). */
	declare nextId: number;

	/** `outbox`: the core's, or a durable one (mqttc/store) that persists what it is given. */
	constructor(outbox: Outbox, qos2Window: number) {
		this.pending = new Map<number, PendingRequest>();
		this.subscriptions = new Map<string, number>();
		this.qos2Ids = [];
		this.nextId = 0;
		this.outbox = outbox;
		this.qos2Window = qos2Window;
	}

	/** The next packet id (1..65535) not used by a message or request awaiting its ack; 0
	 * when none is free. With nothing awaiting an ack, the next number is free: no lookup. */
	allocateId(): number {
		const id = this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
		if (this.outbox.byId.size === 0 && this.pending.size === 0) return id;
		return this.freeIdFrom(id);
	}

	/** The first id from `first` on that no message or request awaiting its ack uses, or 0. */
	freeIdFrom(first: number): number {
		const used = this.outbox.byId;
		const pending = this.pending;
		for (let id = first, tries = 0; tries < 65535; tries++) {
			if (!used.has(id) && !pending.has(id)) return this.nextId = id;
			id = id >= 65535 ? 1 : id + 1;
		}
		return 0;
	}

	/** Takes out the request a SUBACK (`subscribe`) or UNSUBACK answers, if there is one. */
	settle(id: number, subscribe: boolean): PendingRequest | undefined {
		const request = this.pending.get(id);
		if (!request || request.subscribe !== subscribe) return undefined;
		this.pending.delete(id);
		return request;
	}

	/** Whether a QoS 2 message with this id was delivered and awaits PUBREL. */
	hasQos2(id: number): boolean {
		return this.qos2Ids.indexOf(id) >= 0;
	}

	/** Remembers a delivered QoS 2 id until PUBREL; false when the window was full and the
	 * oldest id had to be forgotten (its duplicates can no longer be recognised). */
	rememberQos2(id: number): boolean {
		const ids = this.qos2Ids;
		const full = ids.length >= this.qos2Window;
		if (full) ids.shift();
		ids.push(id);
		return !full;
	}

	/** PUBREL: the broker will not send this QoS 2 message again. */
	releaseQos2(id: number): void {
		const index = this.qos2Ids.indexOf(id);
		if (index >= 0) this.qos2Ids.splice(index, 1);
	}

	/** The broker has no session any more: what it would have resent cannot come. */
	forgetReceived(): void {
		this.qos2Ids.length = 0;
	}

	/** close(): everything goes. */
	clear(): void {
		this.outbox.clear();
		this.pending.clear();
		this.subscriptions.clear();
		this.qos2Ids.length = 0;
	}
}
