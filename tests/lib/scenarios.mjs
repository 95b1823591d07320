// Client scenarios every broker suite runs the same way (mosquitto, RabbitMQ).
import assert from "node:assert/strict";
import { mosquittoSub } from "./broker.mjs";
import { startDriver, connected } from "./driver.mjs";

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

/**
 * Keepalive on an idle connection (virtual time): no PINGREQ before 3/4 of 20 s, then a
 * PINGRESP (`pong`) each time, and no disconnect, for a client made with `opts` (a transport)
 * in a driver app of its own on `platform`.
 */
export async function idleKeepalive(port, { opts, platform = "lin" } = {}) {
	const virtual = await startDriver({ virtualTime: true, platform });
	try {
		await connected(virtual, "ka", port, { opts, keepalive: 20 });
		await virtual.advance(14000, 500);
		assert.equal(virtual.seen("ka", "pong").length, 0, "no ping before 3/4 of 20 s");
		await virtual.advance(2000, 500);
		await virtual.waitEvent("ka", "pong");
		await virtual.advance(40000, 500);
		assert.ok(virtual.seen("ka", "pong").length >= 3);
		assert.equal(virtual.seen("ka", "disconnect").length, 0);
		await virtual.call("ka", "close");
	}
	finally {
		await virtual.stop();
	}
}
