// Per-message cost of mqttc on the XS engine: compute units (deterministic for a pinned
// xsnap) and slots allocated, from the host's meter, with the cost bench app
// (tests/apps/cost) behind a stand-in socket and timer. One turn does n messages; a turn
// with n = 0 is the baseline that is subtracted, so the call's own overhead does not count.
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
export async function measureScenario(app, { kind, qos, size, piece = 0, n = 50, binary = false }) {
	if (!await app.call("setup")) throw new Error("the bench client did not connect");
	if (kind === "publish") {
		await app.call("usePayload", size, binary);
		return perMessage(app, "publish", [qos], n);
	}
	await app.call("prepareInbound", size, qos);
	return perMessage(app, "receive", [piece], n);
}
