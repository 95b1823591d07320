/*
 * Deferred acknowledgements (`opts.manual_ack`, `client.ack(id)`): a received QoS 1/2
 * message is acknowledged (PUBACK, PUBREC) when the app says so, not after its `recv`
 * handler; the AT front end needs it to hold messages until the serial line took them.
 * An opt-in feature: apps include mqttc's manifest_acks.json (manifest_at.json does); the
 * core loads this module with Modules.importNow only when `manual_ack` is set.
 *
 * Bound: at most `limit` messages await ack() at once (32 for `manual_ack: true`, else the
 * number given); past it a message is acknowledged at once and the client says so.
 * The list belongs to one connection: the client clears it when the link is lost (a
 * resumed session redelivers, with dup = 1).
 */

import type { DeferredAcks } from "mqttc/types";

/** What `manual_ack: true` allows. */
const DEFAULT_LIMIT = 32;

class AckList implements DeferredAcks {
	readonly limit: number;
	/** The messages awaiting ack(), as id * 4 + qos, in arrival order. */
	private awaiting: number[] = [];

	constructor(limit: number) {
		this.limit = limit;
	}

	awaits(qos: number, id: number): boolean {
		return qos > 0 && this.awaiting.indexOf(id * 4 + qos) >= 0;
	}

	defer(qos: number, id: number): boolean {
		if (this.awaiting.length >= this.limit) return false;
		this.awaiting.push(id * 4 + qos);
		return true;
	}

	take(id: number): number {
		const list = this.awaiting;
		for (let i = 0; i < list.length; i++) {
			if (list[i] >> 2 !== id) continue;
			const qos = list[i] & 3;
			list.splice(i, 1);
			return qos;
		}
		return 0;
	}

	clear(): void {
		this.awaiting.length = 0;
	}
}

/** What the client takes through Modules.importNow("mqttc/acks"): the list for
 * `manual_ack` (true, or how many may await ack() at once), or the reason it is invalid. */
export default Object.freeze({
	create(manual: unknown): DeferredAcks | string {
		if (manual === true) return new AckList(DEFAULT_LIMIT);
		if (typeof manual !== "number" || !(manual >= 1 && manual <= 65535) || (manual | 0) !== manual) return "manual_ack must be a boolean or 1..65535";
		return new AckList(manual);
	},
});
