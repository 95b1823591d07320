/*
 * timer — Moddable's Timer on the Xtensa host: static host functions (platform/timer.c).
 */
const host = globalThis.xtensaHost;

export default class Timer {
	constructor() {
		throw new TypeError("Timer: use Timer.set or Timer.repeat");
	}
}
Timer.set = host.timerSet;
Timer.repeat = host.timerRepeat;
Timer.schedule = host.timerSchedule;
Timer.clear = host.timerClear;
Timer.delay = host.timerDelay;
Object.freeze(Timer);
