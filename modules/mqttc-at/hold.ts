/*
 * mqttc-at/hold: flow control of received messages, between the clients and the serial queue.
 *
 * A message URC is written only when the serial queue accepts it, and a QoS 1/2 message is
 * acknowledged to the broker (client.ack, mqttc's manual_ack) only then. Until then it waits
 * here, in arrival order, and its acknowledgement waits with it, so that the broker's own
 * window holds the rest. A message this list cannot take either is counted and reported by
 * the dialect's URC (<drop prefix><count>), as soon as the queue has room for the report.
 *
 * Bounds: `max` bytes (default 32768, the engine's holdMax), at most HOLD_COUNT (40)
 * messages, of which at most HOLD_QOS0 (8) QoS 0 ones.
 */

import type {AtClient} from "mqttc-at/types";
import {SerialQueue, AREA_MESSAGE, AREA_INFO} from "mqttc-at/serial";

/** Messages the hold list keeps at most, and how many of them may be QoS 0. */
export const HOLD_COUNT = 40;
export const HOLD_QOS0 = 8;

/** A received message waiting for room in the serial queue. */
interface Held {
	client: AtClient;
	qos: number;
	mid: number;
	bytes: ArrayBuffer;
	drop: string;
}

export class HoldList {
	private readonly queue: SerialQueue;
	private readonly max: number;
	private held: Held[] = [];
	private heldBytes = 0;
	private heldQos0 = 0;
	/** Lost-message counts not yet reported, by report prefix. */
	private dropReports: Record<string, number> = {};
	/** Messages dropped because neither the serial queue nor this list had room. */
	dropped = 0;

	constructor(queue: SerialQueue, max: number) {
		this.queue = queue;
		this.max = max;
	}

	/**
	 * A received message's URC: written now when nothing waits and `direct` (not in data mode,
	 * where nothing may come before the data-mode result), else held, else dropped and reported.
	 */
	add(client: AtClient, qos: number, mid: number, bytes: ArrayBuffer, drop: string, direct: boolean): void {
		if (!this.held.length && direct && this.queue.offer(bytes, AREA_MESSAGE)) {
			if (qos) acknowledge(client, mid);
			return;
		}
		const size = bytes.byteLength;
		if (this.held.length >= HOLD_COUNT || (qos === 0 && this.heldQos0 >= HOLD_QOS0) || (this.held.length && this.heldBytes + size > this.max)) {
			// no room anywhere: say so (a QoS 1/2 message stays unacknowledged at the broker)
			this.dropped++;
			this.dropReports[drop] = (this.dropReports[drop] ?? 0) + 1;
			this.reportDrops();
			return;
		}
		this.held.push({client, qos, mid, bytes, drop});
		this.heldBytes += size;
		if (qos === 0) this.heldQos0++;
	}

	/** Moves held messages into the serial queue while it accepts them, acknowledging each. */
	release(): void {
		const held = this.held;
		while (held.length && this.queue.offer(held[0].bytes, AREA_MESSAGE)) {
			const h = held.shift()!;
			this.heldBytes -= h.bytes.byteLength;
			if (h.qos === 0) this.heldQos0--;
			else acknowledge(h.client, h.mid);
		}
		this.reportDrops();
	}

	private reportDrops(): void {
		const reports = this.dropReports;
		for (const prefix in reports) {
			if (this.queue.offer("\r\n" + prefix + reports[prefix] + "\r\n", AREA_INFO)) delete reports[prefix];
		}
	}
}

function acknowledge(client: AtClient, mid: number): void {
	try {
		client.ack?.(mid);
	} catch {
		// a client that is gone acknowledges nothing; the broker keeps the message
	}
}
