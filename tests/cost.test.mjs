// The per-message cost budget: XS compute units are deterministic for the pinned xsnap, so a
// change that makes the publish or receive path dearer fails here rather than landing.
// Budgets are the figures measured when they were set, plus 10 %; the README lists them with
// the goals. tests/cost.bench.mjs prints the full table.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startCostApp, measureScenario } from "./lib/cost.mjs";

/** Measured compute units per message when the budget was set (see README, "Cost"). */
const MEASURED = {
	"publish QoS 0, 64 B": { kind: "publish", qos: 0, size: 64, compute: 560 },
	"publish QoS 1 with PUBACK, 64 B": { kind: "publish", qos: 1, size: 64, compute: 1461 },
	"publish QoS 2 with PUBREC/PUBREL/PUBCOMP, 64 B": { kind: "publish", qos: 2, size: 64, compute: 2225 },
	"receive QoS 0, 64 B": { kind: "receive", qos: 0, size: 64, compute: 1087 },
	"receive QoS 0, 4 KB": { kind: "receive", qos: 0, size: 4096, compute: 1132 },
	"receive QoS 1 with PUBACK, 64 B": { kind: "receive", qos: 1, size: 64, compute: 1264 },
	"receive QoS 2 with PUBREC/PUBREL/PUBCOMP, 64 B": { kind: "receive", qos: 2, size: 64, compute: 2110 },
};
/** The allocation goal for a QoS 0 publish, met: slots allocated per message. */
const PUBLISH_SLOTS = 12;

let app;
before(async () => { app = await startCostApp(); });
after(async () => { await app?.stop(); });

for (const [name, { compute, ...scenario }] of Object.entries(MEASURED)) {
	test(`${name}: at most ${Math.round(compute * 1.1)} compute units per message`, async () => {
		const measured = await measureScenario(app, scenario);
		assert.ok(measured.compute <= compute * 1.1, `${measured.compute} compute units per message, budget ${Math.round(compute * 1.1)}`);
	});
}

test(`a QoS 0 publish allocates at most ${PUBLISH_SLOTS} slots (a 4 KB one no more than a 16 B one)`, async () => {
	for (const size of [16, 4096]) {
		const { slots } = await measureScenario(app, { kind: "publish", qos: 0, size });
		assert.ok(slots <= PUBLISH_SLOTS, `${slots} slots per ${size}-byte publish`);
	}
});

test("no per-byte work in JS: a 4 KB message costs what a 256 B one does, publish and receive, QoS 0 and 1, text and bytes", async () => {
	// Both have a two-byte remaining length (a fixed step more than a 16 B message); a JS
	// loop over the bytes would add at least 3,840 units here. So would a typed array's
	// slice(), which XS meters element by element (a QoS 1 publish of 4 KB of bytes cost
	// 9,682 units with one, 1,506 with ArrayBuffer.prototype.slice).
	for (const [kind, binary] of [["publish", false], ["publish", true], ["receive", false]]) {
		for (const qos of [0, 1]) {
			const medium = await measureScenario(app, { kind, qos, size: 256, binary });
			const large = await measureScenario(app, { kind, qos, size: 4096, binary });
			assert.ok(large.compute <= medium.compute * 1.05, `${kind}${binary ? " (bytes)" : ""} QoS ${qos}: ${medium.compute} units at 256 B, ${large.compute} at 4 KB`);
		}
	}
});

test("a message received in 1-byte reads is delivered whole and intact (the slow path still works)", async () => {
	const before = await app.call("counts");
	await measureScenario(app, { kind: "receive", qos: 1, size: 300, piece: 1, n: 3 });
	const counts = await app.call("counts");
	assert.equal(counts.received - before.received, 3, "three messages delivered");
	assert.equal(counts.ready, true, "the client stayed connected");
});
