/*
 * Keepalive as a tick counter. The client ticks it every keepalive/4 while READY: PINGREQ
 * goes out after 3 ticks without sending or without hearing from the broker (3/4 of the
 * keepalive, as LuatOS does), and the broker is declared dead when 2 more ticks pass without
 * its PINGRESP — or any byte from it. Sending and receiving just reset a counter: the client
 * does that itself on each data callback (silent = 0, and ping = 0 when one is outstanding),
 * a field store rather than a call per message.
 */

/** Ticks per keepalive interval. */
export const TICKS = 4;
const PING_AFTER_TICKS = 3;
export const DEAD_AFTER_TICKS = 2;

/** What a tick asks of the client. */
export const NOTHING = 0;
export const PING = 1;
export const DEAD = 2;

export class Keepalive {
	/** Ticks since the client last sent. */
	idle = 0;
	/** Ticks since the client last received. */
	silent = 0;
	/** Ticks since PINGREQ went out; -1: none outstanding. */
	ping = -1;

	/** A new connection. */
	start(): void {
		this.idle = this.silent = 0;
		this.ping = -1;
	}

	tick(): number {
		this.idle++;
		this.silent++;
		if (this.ping >= 0) return ++this.ping >= DEAD_AFTER_TICKS ? DEAD : NOTHING;
		if (this.idle >= PING_AFTER_TICKS || this.silent >= PING_AFTER_TICKS) {
			this.ping = 0;
			return PING;
		}
		return NOTHING;
	}
}
