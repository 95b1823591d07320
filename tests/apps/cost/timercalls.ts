/*
 * Counting and calibrating the calls into mqttc's bench timer (./benchtimer: every function
 * does nothing); manifest name "bench/timercalls". Keys: "Timer.<function>/<arguments>".
 */
import AnyTimer from "timer";
import type BenchTimer from "./benchtimer";
import { countCalls, byArity, plainCall, type Calibrator } from "bench/calls";

// The manifest maps "timer" to the bench timer; the typings only know the real one.
const Timer = AnyTimer as unknown as typeof BenchTimer;
const NAMES = ["set", "repeat", "schedule", "clear", "delay"];

/** Counts every call of the bench timer's functions. */
export function countTimer(): void {
	for (const name of NAMES)
		countCalls(Timer, name, byArity(`Timer.${name}`));
}

/** The calibrator of a bench timer key, or undefined: each is one native call on a device. */
export function timerCalibrator(key: string): Calibrator | undefined {
	const [name, arity] = key.split("/");
	if (!name.startsWith("Timer.") || !NAMES.includes(name.slice(6)))
		return undefined;
	return plainCall("cost/benchtimer.ts", Timer, name.slice(6), Number(arity));
}
