/*
 * Counting and calibrating the calls into the SDK benches' queued timer (./queuedtimer);
 * manifest name "cost-sdk/timercalls". Keys:
 * - "Timer.set(0)/<n>": a zero-delay set, queued until the bench's Timer.runImmediate();
 *   "Timer.set/<n>" one with a delay (recorded, never fired); "Timer.clear/<n>" and the rest;
 * - "Timer.runImmediate/0": the bench's call after each delivery, where a device's event loop
 *   would look for due timers;
 * - "timer fired/1": each callback runImmediate() runs, where the event loop would call it.
 */
import { countCalls, count, byArity, plainCall, type Calibrator } from "bench/calls";
import { Timer } from "cost-sdk/bench";

const FILE = "cost-sdk-common/queuedtimer.ts";

/** Counts every call of the queued timer's functions, and the callbacks runImmediate runs. */
export function countQueuedTimer(): void {
	countCalls(Timer, "set", (_self, args) => (args[1] || args[2]) ? `Timer.set/${args.length}` : `Timer.set(0)/${args.length}`);
	for (const name of ["repeat", "schedule", "clear", "delay"])
		countCalls(Timer, name, byArity(`Timer.${name}`));
	countCalls(Timer, "runImmediate", byArity("Timer.runImmediate"), (ran) => count("timer fired/1", ran as number));
}

/** A callback that does nothing: what is measured is the way to it. */
function nothing(_timer?: unknown): void {
}

/** Runs every queued zero-delay timer (the bench's calibration leaves none behind). */
function drain(): void {
	while (Timer.runImmediate())
		;
}

/** The calibrator of a queued timer key, or undefined. */
export function queuedTimerCalibrator(key: string): Calibrator | undefined {
	const [name, arity] = key.split("/");
	const nargs = Number(arity);
	switch (name) {
	case "Timer.set(0)": {
		// queued: set() makes a record and pushes it (its cost does not depend on how many
		// wait); the run's records are run (as nothing) after the measured turn
		const native = Object.create({ set: Function.prototype }) as typeof Timer;
		return {
			standIn: FILE,
			reference: "native no-op, same arguments",
			run(n, isNative) {
				const target = isNative ? native : Timer;
				if (nargs === 1)
					for (let i = 0; i < n; i++) target.set(nothing);
				else
					for (let i = 0; i < n; i++) target.set(nothing, 0);
			},
			done: drain,
		};
	}
	case "Timer.set":
	case "Timer.repeat":
	case "Timer.schedule":
	case "Timer.clear":
	case "Timer.delay":
		return plainCall(FILE, Timer, name.slice(6), nargs);
	case "Timer.runImmediate":
		return plainCall(FILE, Timer, "runImmediate", nargs, "native no-op, no arguments (nothing queued: the event loop finds no timer due)");
	case "timer fired": {
		// Timer.set(cb) and a runImmediate() that runs it, one queued at a time as in the
		// bench (runImmediate's shift() costs more the more wait), against a native set and a
		// native call that calls the callback (a bound function); less the own costs of the
		// set and of an empty runImmediate(), counted under their keys, this leaves what
		// running one callback costs beyond a native call of it.
		const native = Object.create({ set: Function.prototype, runImmediate: nothing.bind(undefined, {}) }) as typeof Timer;
		return {
			standIn: FILE,
			reference: "Timer.set(cb) then runImmediate() running it, against a native no-op set then a native call that calls cb (a bound function)",
			minus: ["Timer.set(0)/1", "Timer.runImmediate/0"],
			run(n, isNative) {
				const target = isNative ? native : Timer;
				for (let i = 0; i < n; i++) {
					target.set(nothing);
					target.runImmediate();
				}
			},
		};
	}
	}
	return undefined;
}
