/*
 * mqttc-at/events: when the dialects' code runs. A command line, a data-mode result, a
 * client event and a timeout each run alone: client events that come while one runs (a
 * client may call back from inside publish() or connect()) wait here and run after it, in
 * order, so that a command's final result always comes before the URCs it causes.
 * At most EVENT_MAX (32) events wait; more are dropped and counted.
 */

import type {AtDialect, AtTimer} from "mqttc-at/types";

const EVENT_MAX = 32;

/** Timers from the host when it has setTimeout (Node, tests); the entry module passes Moddable's. */
function defaultTimer(): AtTimer | undefined {
	const g = globalThis as any;
	if (typeof g.setTimeout !== "function") return undefined;
	return {set: (cb, ms) => g.setTimeout(cb, ms), clear: (h) => g.clearTimeout(h)};
}

export class EventQueue {
	private readonly timer: AtTimer | undefined;
	private events: any[][] = [];
	/** How many commands, events or timeouts are running (nested: a command inside input()). */
	private depth = 0;
	/** Client events dropped because the queue was full (for diagnostics). */
	dropped = 0;

	/** `timer` undefined: the host's setTimeout, if it has one. */
	constructor(timer: AtTimer | undefined) {
		this.timer = timer ?? defaultTimer();
	}

	/** Something starts running: events wait until leave(). */
	enter(): void {
		this.depth++;
	}

	leave(): void {
		this.depth--;
	}

	/** Forgets what was running (after a bug), so that events are not stuck behind it. */
	reset(): void {
		this.depth = 0;
	}

	/** Queues a client event for `target`, and runs it now when nothing runs. */
	post(target: AtDialect, client: any, event: string, data: any, payload: any, metas: any): void {
		if (this.events.length >= EVENT_MAX) {
			this.dropped++;
			return;
		}
		this.events.push([target, client, event, data, payload, metas]);
		this.drain();
	}

	/** Runs the waiting events, unless something still runs. */
	drain(): void {
		if (this.depth) return;
		while (this.events.length) {
			const e = this.events.shift()!;
			this.depth++;
			try {
				(e[0] as AtDialect).event(e[1], e[2], e[3], e[4], e[5]);
			} catch {
				// a bad event must not stop the engine
			} finally {
				this.depth--;
			}
		}
	}

	/** Calls `cb` once after `ms`, running alone; undefined without timers. */
	later(ms: number, cb: () => void): unknown {
		const t = this.timer;
		if (!t) return undefined;
		return t.set(() => {
			this.depth++;
			try {
				cb();
			} catch {
				// a failing timeout handler must not escape the timer callback
			} finally {
				this.depth--;
			}
			this.drain();
		}, ms);
	}

	cancel(handle: unknown): void {
		if (handle !== undefined && this.timer) this.timer.clear(handle);
	}
}
