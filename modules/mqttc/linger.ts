/*
 * The graceful disconnect: disconnect() while READY accepts nothing more (state() says
 * DISCONNECT at once), lets what is queued leave, then sends DISCONNECT, which follows
 * everything published before disconnect() (the writer keeps order; outbox entries held back
 * by the inflight limit go first), and keeps reading (acknowledgements settle the outbox as
 * usual) until the broker closes the connection, within LINGER_MS. Then the link is lost
 * ("user"). One timer.
 */

import Timer from "timer";
import { encodeEmpty } from "mqttc/packet";
import type { Link } from "mqttc/link";

/** Milliseconds to wait for queued packets, DISCONNECT and the broker's close. */
const LINGER_MS = 2000;

export class Linger {
	private link: Link;
	private timer: Timer | undefined;

	constructor(link: Link) {
		this.link = link;
	}

	/** disconnect() on a READY link. */
	begin(): void {
		const link = this.link;
		link.leaving = true;
		this.timer = Timer.set(() => link.guard(() => this.expired()), LINGER_MS);
		this.goodbye();
	}

	/** DISCONNECT once nothing published before it waits any more. */
	goodbye(): void {
		const link = this.link;
		if (link.leaving && !link.byeSent && link.session.outbox.queued === 0) this.send();
	}

	/** DISCONNECT to the socket, once per connection. */
	send(): void {
		this.link.byeSent = true;
		this.link.writer?.packet(encodeEmpty(14));
	}

	/** The link is lost: no wait any more. */
	cancel(): void {
		if (this.timer !== undefined) Timer.clear(this.timer);
		this.timer = undefined;
	}

	/** Out of time: DISCONNECT now if no packet is half written (what had not started is
	 * reported lost), then close. */
	private expired(): void {
		this.timer = undefined;
		const link = this.link;
		const writer = link.writer;
		if (!link.byeSent && writer) {
			writer.discardPending();
			if (writer.idle) this.send();
		}
		link.lost("user");
	}
}
