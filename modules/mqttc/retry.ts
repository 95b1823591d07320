/*
 * When the next connection attempt comes (autoreconn): after a fixed period, or with a cap
 * above it, an exponential backoff with jitter (period * 2^attempts, at most the cap, then
 * a random point in its upper half, so that a fleet spreads out after an outage). A failover
 * round's next address comes at once. The link asks for an attempt when it has lost the
 * connection; the count of attempts goes back to 0 once a connection survives a keepalive
 * tick (not at CONNACK: a broker that accepts and drops at once would be hammered).
 * One timer.
 */

import Timer from "timer";
import type { Link } from "mqttc/link";

export class Retry {
	/** autoreconn on. */
	declare enabled: boolean;
	/** Milliseconds between attempts (at least 100). */
	declare period: number;
	/** With a cap above `period`: backoff up to this many milliseconds; 0: none. */
	declare max: number;
	/** Attempts since the last connection that lasted. */
	declare attempts: number;
	private declare timer: Timer | undefined;

	constructor() {
		this.enabled = false;
		this.period = 3000;
		this.max = 0;
		this.attempts = 0;
	}

	/** autoreconn(enable, period, max), with LuatOS's defaults for what is not a number. */
	configure(enable: unknown, period: unknown, max: unknown): void {
		this.enabled = !!enable;
		this.period = typeof period === "number" && period >= 100 ? period : 3000;
		this.max = typeof max === "number" && max > this.period ? max : 0;
		if (!this.enabled) this.cancel();
	}

	cancel(): void {
		if (this.timer !== undefined) Timer.clear(this.timer);
		this.timer = undefined;
	}

	/** Opens `link` again at once (the next address of a failover round) or after the delay. */
	schedule(link: Link, immediate: boolean): void {
		let delay = immediate ? 0 : this.period;
		if (!immediate) {
			if (this.max) {
				delay = Math.min(this.max, delay * 2 ** Math.min(this.attempts, 20));
				delay = delay / 2 + Math.random() * delay / 2;
			}
			this.attempts++;
		}
		this.cancel();
		link.note(`reconnecting in ${Math.round(delay)} ms`);
		this.timer = Timer.set(() => link.guard(() => {
			this.timer = undefined;
			if (link.closed || link.stopped || link.status !== 0) return;   // the app stopped or connected meanwhile
			link.transport?.restart();
			link.openSocket();
		}), delay);
	}
}
