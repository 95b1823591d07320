// Timer emulation in real and virtual time.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp } from "../../hosts/xs/host.mjs";
import { makeApp } from "../helpers/apps.mjs";

const MAIN = `
import Timer from "timer";
let log = [];
const start = Date.now();
const at = () => Date.now() - start;
const timers = {};

export function reset() { log = []; return Date.now(); }
export function events() { return log; }
export function now() { return Date.now(); }

export function order() {
	Timer.set(() => log.push(["c", at()]), 30);
	Timer.set(t => log.push(["a", at(), t === timers.a]), 10);
	Timer.set(() => log.push(["b", at()]), 20);
	Timer.set(() => log.push(["a2", at()]), 10);		// same due time: creation order
	timers.a = undefined;
}
export function many(n, ms) {
	for (let i = 0; i < n; i++)
		Timer.set(() => log.push(i), ms);
}
export function self() {
	timers.self = Timer.set(t => log.push(["self", t === timers.self]), 5);
}
export function repeat(interval, stopAfter) {
	let n = 0;
	Timer.repeat(t => { log.push(["r", at()]); if (++n === stopAfter) Timer.clear(t); }, interval);
}
export function setWithRepeat() {
	let n = 0;
	Timer.set(t => { log.push(["s", at()]); if (++n === 3) Timer.clear(t); }, 50, 10);
}
export function scheduleAndClear() {
	const moved = Timer.set(() => log.push(["moved", at()]), 10);
	Timer.schedule(moved, 40);
	const cleared = Timer.set(() => log.push(["cleared", at()]), 20);
	Timer.clear(cleared);
	Timer.clear(cleared);		// clearing twice is fine
	Timer.clear(undefined);
	const parked = Timer.repeat(() => log.push(["parked", at()]), 5);
	Timer.schedule(parked);		// unscheduled, still alive
	timers.parked = parked;
}
export function rescheduleParked() {
	Timer.schedule(timers.parked, 15);
}
export function oneShotIsGone() {
	timers.once = Timer.set(() => log.push(["once", at()]), 1);
}
export function scheduleGone() {
	try { Timer.schedule(timers.once, 10); return "no error"; } catch (e) { return e.message; }
}
export function delay(ms) {
	const before = Date.now();
	Timer.delay(ms);
	return Date.now() - before;
}
`;

/** @type {{dir: string, cleanup: () => void}} */
let fixture;
before(() => { fixture = makeApp({ "main.js": MAIN }); });
after(() => fixture.cleanup());

test("virtual time: timers fire in due order (ties in creation order), Date.now() is the virtual clock", async () => {
	const app = await startApp(fixture.dir, { stdout: false, virtualTime: true, virtualStart: 1_000_000 });
	try {
		assert.equal(await app.call("now"), 1_000_000);
		await app.call("order");
		await app.advance(9);
		assert.deepEqual(await app.call("events"), [], "nothing is due before 10 ms");
		await app.advance(21);
		assert.deepEqual((await app.call("events")).map(e => e.slice(0, 2)), [["a", 10], ["a2", 10], ["b", 20], ["c", 30]]);
		assert.equal(app.now(), 1_000_030);
		assert.equal(await app.call("now"), 1_000_030);
	}
	finally {
		await app.stop();
	}
});

test("virtual time: the callback gets its timer; repeat, set with an interval, schedule, unschedule, clear", async () => {
	const app = await startApp(fixture.dir, { stdout: false, virtualTime: true, virtualStart: 0 });
	try {
		await app.call("self");
		await app.advance(5);
		assert.deepEqual(await app.call("events"), [["self", true]]);

		await app.call("reset");
		await app.call("repeat", 100, 3);
		await app.advance(1000);
		assert.deepEqual(await app.call("events"), [["r", 105], ["r", 205], ["r", 305]], "three fires, then cleared");

		await app.call("reset");
		await app.call("setWithRepeat");
		await app.advance(200);
		assert.deepEqual(await app.call("events"), [["s", 1055], ["s", 1065], ["s", 1075]], "first after 50, then every 10");

		await app.call("reset");
		await app.call("scheduleAndClear");
		await app.advance(100);
		assert.deepEqual(await app.call("events"), [["moved", 1245]], "rescheduled to 40 ms; cleared and unscheduled timers stay silent");
		await app.call("rescheduleParked");
		await app.advance(15);
		assert.deepEqual((await app.call("events")).at(-1), ["parked", 1320], "an unscheduled timer can be scheduled again");
		assert.equal(app.nextTimer(), undefined, "schedule(t, ms) without interval makes a one-shot");

		await app.call("oneShotIsGone");
		await app.advance(1);
		assert.equal(await app.call("scheduleGone"), "C: xsGetHostData: invalid host data", "a fired one-shot timer is gone, as on devices");
	}
	finally {
		await app.stop();
	}
});

test("virtual time: Timer.delay() moves the clock; a timer it made overdue fires after that turn", async () => {
	const app = await startApp(fixture.dir, { stdout: false, virtualTime: true, virtualStart: 0 });
	try {
		await app.call("repeat", 10, 1);
		assert.equal(await app.call("delay", 500), 500, "Date.now() inside the turn moved by the delay");
		await app.advance(0);
		assert.deepEqual(await app.call("events"), [["r", 500]], "fired once, in its own turn, at the clock the delay reached");
		assert.equal(app.now(), 500);
	}
	finally {
		await app.stop();
	}
});

test("real time: order, repeat and Timer.delay", async () => {
	const app = await startApp(fixture.dir, { stdout: false });
	try {
		await app.call("order");
		await app.call("repeat", 5, 3);
		const deadline = Date.now() + 5000;
		while ((await app.call("events")).length < 7 && Date.now() < deadline)
			await new Promise(resolve => setTimeout(resolve, 10));
		const log = await app.call("events");
		assert.deepEqual(log.filter(e => e[0] !== "r").map(e => e[0]), ["a", "a2", "b", "c"]);
		assert.equal(log.filter(e => e[0] === "r").length, 3);
		assert.ok(await app.call("delay", 20) >= 20, "Timer.delay blocks for at least the time asked");
	}
	finally {
		await app.stop();
	}
});

test("real time: many timers set for the same delay across several milliseconds fire in the order they were set", async () => {
	// Each timer's due time is the clock when it was set plus the delay, so setting order is
	// due order; a host that let Node order them could swap two set a clock tick apart.
	const app = await startApp(fixture.dir, { stdout: false });
	try {
		await app.call("many", 1000, 15);
		const deadline = Date.now() + 10000;
		while ((await app.call("events")).length < 1000 && Date.now() < deadline)
			await new Promise(resolve => setTimeout(resolve, 10));
		const log = await app.call("events");
		assert.equal(log.length, 1000);
		const firstOutOfOrder = log.findIndex((v, i) => v !== i);
		assert.equal(firstOutOfOrder, -1, `timer ${log[firstOutOfOrder]} fired in place ${firstOutOfOrder}`);
	}
	finally {
		await app.stop();
	}
});
