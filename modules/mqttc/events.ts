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

/** Slots per queued event: name, data, payload, metas. */
const SLOTS = 4;

export class EventQueue {
	handler: EventCallback | undefined;
	private owner: unknown;
	private slots: unknown[] = [];
	/** Slots in use (SLOTS per waiting event). */
	private count = 0;
	/** API calls in progress, nested through handlers (enter() adds one). A socket callback
	 * resets it to 0: none runs inside an API call. */
	calls = 0;
	private delivering = false;
	private scheduled = false;
	private readonly deliverLater = (): void => {
		this.scheduled = false;
		this.deliver();
	};

	constructor(owner: unknown) {
		this.owner = owner;
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

	/** An API call returns having raised `event` (publish()'s `sent`): leave() and emit() in
	 * one call, for the hottest path. The event waits (a call was in progress); with no
	 * handler it is dropped at delivery. The stores are emit()'s, written out again on
	 * purpose: a shared helper would cost a call with its parameters, about 35 meter units
	 * per publish. */
	leaveWith(event: MqttEvent, data: unknown): void {
		const slots = this.slots;
		const at = this.count;
		slots[at] = event;
		slots[at + 1] = data;
		// All four, though undefined: a store past an array's end that leaves a hole makes XS
		// keep the array sparse, each later store then copying it (seen on the Xtensa tier).
		slots[at + 2] = undefined;
		slots[at + 3] = undefined;
		this.count = at + SLOTS;
		if (--this.calls || this.delivering || this.scheduled) return;
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
		while (i < this.count) {
			try {
				for (; i < this.count; i += SLOTS) {
					const handler = this.handler;
					if (!handler) break;                 // close() from a handler
					handler(owner, slots[i] as MqttEvent, slots[i + 1], slots[i + 2], slots[i + 3]);
				}
				break;
			}
			catch (e) {
				report(slots[i] as MqttEvent, e);
				i += SLOTS;
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
