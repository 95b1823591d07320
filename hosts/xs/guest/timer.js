/*
 * timer — Moddable's Timer for the desktop XS host. The clock lives in the parent
 * (real time, or virtual time that moves only with app.advance()). Each fire is
 * its own XS turn; the callback gets the timer, `this` is globalThis.
 *
 * As on devices (modules/base/timer): a timer whose repeat interval is 0 is gone
 * once its callback returned (schedule() on it then throws); Timer.schedule(t)
 * unschedules but keeps it; Timer.clear() ignores anything that is not a live timer.
 */
import {state, handlers, recordNumbers, recordBytes, delay, K_TIMER,
	OP_TIMER_SET, OP_TIMER_UNSCHEDULE, OP_TIMER_CLEAR} from "xs-host/bridge";

const records = new WeakMap();		// timer object -> record
const byId = new Map();
const none = new Uint8Array(0);

function toInteger(value) {
	const n = Number(value);
	return Number.isFinite(n) ? Math.trunc(n) : 0;
}

function create(callback, first, interval) {
	if (typeof callback !== "function")
		throw new TypeError("Timer: callback is not a function");
	const timer = Object.create(Timer.prototype);
	const r = {id: state.nextId++, timer, callback, interval, unscheduled: false};
	records.set(timer, r);
	byId.set(r.id, r);
	recordNumbers(OP_TIMER_SET, r.id, first, interval);
	return timer;
}

function live(timer) {
	const r = ((timer !== null) && (typeof timer === "object")) ? records.get(timer) : undefined;
	if (!r || !byId.has(r.id))
		throw new SyntaxError("C: xsGetHostData: invalid host data");
	return r;
}

function remove(r) {
	byId.delete(r.id);
	recordBytes(OP_TIMER_CLEAR, r.id, none);
}

export default class Timer {
	constructor() {
		throw new TypeError("Timer: use Timer.set or Timer.repeat");
	}
	static set(callback, delay, repeat) {
		return create(callback, toInteger(delay), toInteger(repeat));
	}
	static repeat(callback, delay) {
		const interval = toInteger(delay);
		return create(callback, interval, interval);
	}
	static schedule(timer, delay, repeat) {
		const r = live(timer);
		if (arguments.length <= 1) {
			r.unscheduled = true;
			r.interval = -1;
			recordBytes(OP_TIMER_UNSCHEDULE, r.id, none);
		}
		else {
			r.unscheduled = false;
			r.interval = toInteger(repeat);
			recordNumbers(OP_TIMER_SET, r.id, toInteger(delay), r.interval);
		}
	}
	static clear(timer) {
		const r = ((timer !== null) && (typeof timer === "object")) ? records.get(timer) : undefined;
		if (r && byId.has(r.id))
			remove(r);
	}
	static delay(ms) {
		delay(Math.max(0, toInteger(ms)));
	}
}
Object.freeze(Timer.prototype);

handlers[K_TIMER] = function (id) {
	const r = byId.get(id);
	if (!r || r.unscheduled)
		return;
	try {
		r.callback.call(globalThis, r.timer);
	}
	finally {
		if (byId.has(id) && !r.unscheduled && (0 === r.interval))
			remove(r);		// one-shot: gone after its callback
	}
};
