// Client scenarios every broker suite runs the same way (mosquitto, RabbitMQ).
import assert from "node:assert/strict";
import { mosquittoSub } from "./broker.mjs";
import { startDriver } from "./driver.mjs";

/**
 * The will: published when a client vanishes (its XS app ends, the socket closes without
 * DISCONNECT), not after disconnect(). `idPrefix` keeps client ids apart between suites.
 */
export async function willScenario(port, idPrefix = "") {
	const watcher = await mosquittoSub(port, ["-t", "wills/#", "-q", "1"]);
	try {
		const other = await startDriver();
		await other.create("w1", "127.0.0.1", port);
		await other.call("w1", "auth", `${idPrefix}will-vanish`);
		assert.equal(await other.call("w1", "will", "wills/vanish", "gone", 1, 0), true);
		await other.call("w1", "connect");
		await other.waitEvent("w1", "conack");
		await other.create("w2", "127.0.0.1", port);
		await other.call("w2", "auth", `${idPrefix}will-polite`);
		await other.call("w2", "will", "wills/polite", "should not appear", 1);
		await other.call("w2", "connect");
		await other.waitEvent("w2", "conack");
		await other.call("w2", "disconnect");
		await other.waitEvent("w2", "disconnect");
		await new Promise((r) => setTimeout(r, 300));
		await other.stop(); // the XS app ends: w1's socket closes without DISCONNECT
		await watcher.waitFor(1);
		await new Promise((r) => setTimeout(r, 300));
		assert.deepEqual(watcher.lines, ["wills/vanish gone"]);
	}
	finally {
		watcher.stop();
	}
}
