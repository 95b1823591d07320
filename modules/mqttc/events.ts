/*
 * When the app's `on` handler runs. As on LuatOS, whose callbacks go through its message
 * bus, no event is delivered from inside an API call: what a call raises waits in this
 * queue and is delivered after the call has returned (a promise job at the end of the
 * turn). Events raised in a socket or timer callback are delivered at once, unless a
 * handler is running: a handler never sees a nested event; what its own API calls raise
 * follows it, in order.
 *
 * Bound: an API call raises at most one event per message or request it settles (the
 * outbox, the send queue and the pending requests are bounded) plus a few state events.
 * The slots grow to the largest burst seen and are reused; nothing is allocated per event
 * once they have.
 */

import type { EventCallback, MqttEvent } from "mqttc/types";

/** Slots per queued event: name, data, payload, metas (a QoS 0 `sent` takes one: its id). */
const SLOTS = 4;

export class EventQueue {
	declare handler: EventCallback | undefined;
	/** The client: the handler's first argument. */
	declare owner: unknown;
	private declare slots: unknown[];
	/** Slots in use (SLOTS per waiting event). */
	private declare count: number;
	/** API calls in progress, nested through handlers (enter() adds one). A socket callback
	 * resets it to 0: none runs inside an API call. */
	declare calls: number;
	private declare delivering: boolean;
	private declare scheduled: boolean;
	/** deliver() as a promise job, made once. */
	private declare readonly deliverLater: () => void;

	constructor() {
		this.slots = [];
		this.count = 0;
		this.calls = 0;
		this.delivering = false;
		this.scheduled = false;
		this.deliverLater = (): void => {
			this.scheduled = false;
			this.deliver();
		};
	}

	/** An API call begins: what it raises waits until it has returned. */
	enter(): void {
		this.calls++;
	}

	/** An API call returns: what it raised is delivered once the caller's turn has ended. */
	leave(): void {
		if (--this.calls || !this.count || this.delivering || this.scheduled) return;
		this.scheduled = true;
		Promise.resolve().then(this.deliverLater);
	}

	/** publish() has sent a QoS 0 message: its `sent` waits until the call has returned, as
	 * one slot, its id (a number where an event's name would be). The call is not counted
	 * (enter()): nothing else it does raises an event when the write succeeds. */
	sent(id: number): void {
		const at = this.count;
		this.slots[at] = id;
		this.count = at + 1;
		if (this.delivering || this.scheduled) return;
		this.scheduled = true;
		Promise.resolve().then(this.deliverLater);
	}

	emit(event: MqttEvent, data?: unknown, payload?: unknown, metas?: unknown): void {
		const handler = this.handler;
		if (!handler) return;
		if (!this.calls && !this.delivering && !this.count) {
			// A socket or timer callback with nothing waiting: straight to the handler.
			this.delivering = true;
			try {
				handler(this.owner, event, data, payload, metas);
			}
			catch (e) {
				report(event, e);
			}
			this.delivering = false;
			if (this.count) this.deliver();
			return;
		}
		const slots = this.slots;
		const at = this.count;
		slots[at] = event;
		slots[at + 1] = data;
		slots[at + 2] = payload;
		slots[at + 3] = metas;
		this.count = at + SLOTS;
		if (!this.calls && !this.delivering) this.deliver();
	}

	/** close(): nothing more, not even what was raised and not yet delivered. */
	silence(): void {
		this.handler = undefined;
		this.clear();
	}

	/** Delivers what waits, in the order raised, including what the handlers raise meanwhile.
	 * One try around the loop, not one per event: a handler that throws is reported and the
	 * loop resumes after its event. */
	private deliver(): void {
		if (this.delivering) return;
		this.delivering = true;
		const slots = this.slots;
		const owner = this.owner;
		let i = 0;
		let event: unknown;
		while (i < this.count) {
			try {
				while (i < this.count) {
					const handler = this.handler;
					if (!handler) break;                 // close() from a handler
					event = slots[i];
					if (typeof event === "number") {      // sent()'s one slot
						i++;
						handler(owner, "sent", event);
					}
					else {
						i += SLOTS;
						handler(owner, event as MqttEvent, slots[i - 3], slots[i - 2], slots[i - 1]);
					}
				}
				break;
			}
			catch (e) {
				report(typeof event === "number" ? "sent" : event as MqttEvent, e);
			}
		}
		this.clear();
		this.delivering = false;
	}

	private clear(): void {
		this.slots.fill(undefined, 0, this.count);     // let delivered payloads be collected
		this.count = 0;
	}

}

/** An app bug must not take the connection down with it, nor stay invisible. */
function report(event: MqttEvent, e: unknown): void {
	trace(`mqttc: the "${event}" handler threw: ${(e as Error)?.message ?? e}\n`);
}
