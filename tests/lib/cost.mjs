// Per-message cost of mqttc on the XS engine: compute units (deterministic for a pinned
// xsnap) and slots allocated, from the host's meter, with the cost bench app
// (tests/apps/cost) behind a stand-in socket and timer. One turn does n messages; a turn
// with n = 0 is the baseline that is subtracted, so the call's own overhead does not count.
// countScenario and calibrateCall give the calls into the stand-ins per message and what each
// costs beyond a native call (tests/apps/cost/calls.ts), for the bench's net figures.
import { startApp } from "../../hosts/xs/host.mjs";

const APP = new URL("../apps/cost/", import.meta.url).pathname;

export async function startCostApp() {
	return startApp(APP, { stdout: false });
}

/** Meter figures of one turn calling `fn(n, ...args)`, after a garbage collection. */
async function turn(app, fn, n, args) {
	await app.call("collect");
	const heap = app.meter.currentHeapCount;
	await app.call(fn, n, ...args);
	return { compute: app.meter.compute, slots: app.meter.currentHeapCount - heap };
}

/** {compute, slots} per message of `fn(n, ...args)`. */
export async function perMessage(app, fn, args = [], n = 50) {
	const base = await turn(app, fn, 0, args);
	const full = await turn(app, fn, n, args);
	return {
		compute: Math.round((full.compute - base.compute) / n),
		slots: Math.round((full.slots - base.slots) / n * 10) / 10,
	};
}

/** The scenarios of the table, each measured on a freshly connected client; a
 * publish's payload is text, or with `binary` a Uint8Array. */
export async function measureScenario(app, scenario) {
	const [fn, args] = await prepareScenario(app, scenario);
	return perMessage(app, fn, args, scenario.n ?? 50);
}

/** The scenario's set-up (a freshly connected client, its payload or inbound packet) and the
 * exported function and arguments of its turns. */
async function prepareScenario(app, scenario) {
	const { kind, qos, size, piece = 0, binary = false } = scenario;
	if (!await app.call("setup", ...(scenario.opts ? [scenario.opts] : []))) throw new Error("the bench client did not connect");
	if (kind === "publish") {
		await app.call("usePayload", size, binary);
		return ["publish", [qos]];
	}
	await app.call("prepareInbound", size, qos);
	return ["receive", [piece]];
}

/**
 * Calls per message into the stand-in socket and timer, by key ("socket.write/3": three
 * arguments): the scenario's turns run again, with the app's counting wrappers installed for
 * them only (countStart … countStop), so the measured turns are not touched. As perMessage,
 * the turn with n = 0 is the baseline.
 */
export async function countScenario(app, scenario) {
	const n = scenario.n ?? 50;
	const [fn, args] = await prepareScenario(app, scenario);
	await app.call("countStart");
	try {
		await app.call(fn, 0, ...args);
		const base = await app.call("countTake");
		await app.call(fn, n, ...args);
		const full = await app.call("countTake");
		const calls = {};
		for (const key of new Set([...Object.keys(base), ...Object.keys(full)])) {
			const perMessage = ((full[key] ?? 0) - (base[key] ?? 0)) / n;
			if (perMessage) calls[key] = Math.round(perMessage * 100) / 100;
		}
		return calls;
	}
	finally {
		await app.call("countStop");
	}
}

/**
 * What one stand-in call of `key` costs on the meter against its native reference (the app's
 * calibrateInfo/calibratePrepare/calibrate/calibrateDone): {standIn, native, own, file,
 * reference, less}. standIn and native are compute units per iteration of a loop making the
 * call (the loop's own units are in both); own = standIn - native, the stand-in's own work,
 * less the own costs of the keys the calibrator names in `minus` (parts of its loop counted
 * under their own keys; `less` lists them with their own costs). Each from a turn of n calls
 * less a turn of none. `known`: the calibrations already made in this app, by key (filled in).
 */
export async function calibrateCall(app, key, n = 200, known = {}) {
	if (known[key]) return known[key];
	const { standIn: file, reference, most, minus } = await app.call("calibrateInfo", key);
	const calls = most ? Math.min(n, most) : n;
	const side = async (native) => {
		const units = [];
		for (const m of [0, calls]) {
			await app.call("calibratePrepare", key, native, m);
			try {
				units.push((await turn(app, "calibrate", m, [key, native])).compute);
			}
			finally {
				await app.call("calibrateDone");
			}
		}
		return units[1] - units[0];
	};
	const standIn = await side(false);
	const native = await side(true);
	let own = (standIn - native) / calls;
	const less = [];
	for (const part of minus) {
		const partOwn = (await calibrateCall(app, part, n, known)).own;
		less.push({ key: part, own: partOwn });
		own -= partOwn;
	}
	const round = (units) => Math.round(units * 10) / 10;
	const result = { standIn: round(standIn / calls), native: round(native / calls), less, own: round(own), file, reference };
	known[key] = result;
	return result;
}
