/*
 * The SDK cost benches' stand-in for Moddable's `timer`. Both SDK clients hand per-message
 * work to a zero-delay timer: mqtt.js delivers every received message (and the CONNACK) from
 * one; the ECMA-419 client sends PUBACK and PUBREL from one. On a device the event loop fires
 * such a timer right after the socket callback returns, so its cost is part of the message's.
 * Here set() queues it and the bench calls Timer.runImmediate() inside the same measured
 * turn, right after each delivery, so the full cost is counted (plus this stand-in's own,
 * which the bench counts and takes out of its net figures: ./timercalls.ts). Not run
 * synchronously inside set(): the ECMA-419 client calls Timer.set from inside its parser and
 * relies on the callback running later.
 * Timers with a delay or an interval (connect timeout, keepalive) are recorded, never fired:
 * the bench measures per-message work, which needs none of them.
 */
interface QueuedTimerRecord {
	callback: (timer: QueuedTimerRecord) => void;
	cleared: boolean;
}

/** Zero-delay timers not yet run; bounded: the bench empties it after every delivery. */
const immediate: QueuedTimerRecord[] = [];

/** At most this many callbacks per runImmediate(), so a timer that re-arms itself cannot hang a turn. */
const MOST_PER_RUN = 64;

export default class Timer {
	static set(callback: (timer: unknown) => void, ms?: number, interval?: number): object {
		const timer: QueuedTimerRecord = { callback, cleared: false };
		if (!ms && !interval)
			immediate.push(timer);
		return timer;
	}
	static repeat(callback: (timer: unknown) => void, _ms: number): object {
		return { callback, cleared: false };
	}
	static schedule(_timer: object, _ms?: number, _interval?: number): void {
	}
	static clear(timer: object | undefined): void {
		if (timer)
			(timer as QueuedTimerRecord).cleared = true;
	}
	static delay(_ms: number): void {
	}
	/** Runs the queued zero-delay timers, as the event loop would; returns how many ran. */
	static runImmediate(): number {
		let ran = 0;
		while (immediate.length && ran < MOST_PER_RUN) {
			const timer = immediate.shift()!;
			if (timer.cleared)
				continue;
			timer.cleared = true;
			ran++;
			timer.callback(timer);
		}
		return ran;
	}
}
