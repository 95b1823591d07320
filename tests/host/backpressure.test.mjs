// Send-buffer emulation: write() beyond free space throws and sends nothing; message 3
// comes when the OS took the bytes; a paused reader really holds the sender back.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startApp } from "../../hosts/xs/host.mjs";
import { recordingServer, until } from "../helpers/net.mjs";

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/probe");

test("a write larger than the free space throws \"can't write all data\" and sends nothing", async () => {
	const app = await startApp(PROBE, { stdout: false });
	const server = await recordingServer();
	try {
		await app.call("connect", server.port);
		const conn = await server.connection();
		await until(async () => (await app.call("events")).some(e => e.message === 1), { what: "connect" });
		assert.deepEqual(await app.call("write", { size: 1025 }), { error: "can't write all data", free: 1024 });
		assert.deepEqual(await app.call("write", { s: "abc" }, { size: 1022 }), { error: "can't write all data", free: 1024 },
			"all items are checked before anything is sent");
		assert.deepEqual(await app.call("write", { s: "<" }, { size: 1022 }, { s: ">" }), { result: "(undefined)", free: 0 });
		assert.deepEqual(await app.call("write", { n: 1 }), { error: "can't write all data", free: 0 });
		await until(() => conn.received.length >= 1024, { what: "1024 bytes at the server" });
		await new Promise(resolve => setTimeout(resolve, 50));
		assert.equal(conn.received.length, 1024, "nothing of the refused writes was sent");
		assert.equal(conn.received.toString("latin1", 0, 1), "<");
		assert.equal(conn.received.toString("latin1", 1023), ">");
		const sent = await until(async () => (await app.call("events")).find(e => e.message === 3), { what: "message 3" });
		assert.equal(sent.value, 1024, "message 3 reports the space free again");
		assert.equal(await app.call("free"), 1024);
	}
	finally {
		await app.stop();
		await server.close();
	}
});

test("the send buffer size is configurable (ESP32 lwIP: 8192)", async () => {
	const app = await startApp(PROBE, { stdout: false, sendBufferSize: 8192 });
	const server = await recordingServer();
	try {
		assert.equal(await app.call("connect", server.port), 8192);
		await until(async () => (await app.call("events")).some(e => e.message === 1), { what: "connect" });
		assert.deepEqual(await app.call("write", { size: 5000 }), { result: "(undefined)", free: 3192 });
	}
	finally {
		await app.stop();
		await server.close();
	}
});

test("a paused reader holds the sender back; it resumes when the reader reads again", { timeout: 60000 }, async () => {
	const app = await startApp(PROBE, { stdout: false, sendBufferSize: 8192 });
	let paused = true;
	const server = await recordingServer({ onConnection: s => s.pause() });
	try {
		await app.call("connect", server.port);
		const conn = await server.connection();
		conn.socket.on("data", () => { if (paused) conn.socket.pause(); });
		await until(async () => (await app.call("events")).some(e => e.message === 1), { what: "connect" });
		await app.call("startFlood");
		// wait until the accepted total stops growing for a while (kernel buffers full)
		let last = -1, stableSince = Date.now();
		const stalled = await until(async () => {
			const { accepted } = await app.call("floodStatus");
			if (accepted !== last) {
				last = accepted;
				stableSince = Date.now();
				return undefined;
			}
			return Date.now() - stableSince > 500 ? accepted : undefined;
		}, { timeout: 30000, interval: 50, what: "the sender to stall" });
		assert.ok(stalled > 8192, "more than one send buffer went out before the stall");
		assert.equal(await app.call("free"), 0, "no free space while the peer does not read");
		await new Promise(resolve => setTimeout(resolve, 300));
		assert.equal((await app.call("floodStatus")).accepted, stalled, "still stalled");

		paused = false;
		conn.socket.resume();
		await until(async () => (await app.call("floodStatus")).accepted > stalled + 100000, { timeout: 30000, what: "the sender to resume" });
		const total = await app.call("stopFlood");
		await until(() => conn.received.length === total, { timeout: 30000, what: `all ${total} bytes at the server` });
		assert.ok(conn.received.every(b => b === 0x5a));
	}
	finally {
		await app.stop();
		await server.close();
	}
});
