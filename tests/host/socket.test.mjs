// Socket emulation against a Node TCP server: connect, every read form, write forms,
// unread bytes, close, peer close, connection failure.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startApp } from "../../hosts/xs/host.mjs";
import { recordingServer, freePort, until } from "../helpers/net.mjs";

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/probe");

/** @type {any} */
let app;
before(async () => {
	app = await startApp(PROBE, { stdout: false });
});
after(async () => {
	await app?.stop();
});

const events = () => app.call("events");
const waitEvent = (/** @type {(e: any) => boolean} */ match, what = "event") =>
	until(async () => (await events()).find(match), { timeout: 5000, what });

test("connects, reports the peer address, delivers data to a callback with `this` the socket", async () => {
	const server = await recordingServer({ onConnection: s => s.write("hello\n") });
	try {
		assert.equal(await app.call("connect", server.port), 1024, "write() before connecting reports the free send buffer");
		const data = await waitEvent(e => e.message === 2);
		const log = await events();
		assert.deepEqual(log[0], { message: 1, value: "(undefined)", remote: "127.0.0.1" });
		assert.deepEqual(data, { message: 2, value: 6, reads: [["String", "hello\n"]] });
		assert.ok(log.every(e => !e.wrongThis));
	}
	finally {
		await app.call("close");
		await server.close();
	}
});

test("every read form: count, String[, n], ArrayBuffer[, n], Number, skip, terminator, unsupported type", async () => {
	const server = await recordingServer();
	try {
		await app.call("setPlan", [
			["count"], ["String", 3], ["count"], ["Number"], ["ArrayBuffer", 2], ["skip", 2],
			["String", "\n"], ["Uint8Array"], ["ArrayBuffer"], ["count"], ["String"],
		]);
		await app.call("connect", server.port);
		const conn = await server.connection();
		await waitEvent(e => e.message === 1);
		conn.socket.write("abcdefgh\nxyz");
		const data = await waitEvent(e => e.message === 2);
		assert.deepEqual(data.reads, [
			["count", 12],
			["String", "abc"],
			["count", 9],
			["Number", "d".charCodeAt(0)],
			["ArrayBuffer", [0x65, 0x66]],		// "ef"
			["skip", 2],				// "gh" skipped
			["String", "\n"],			// up to and including the terminator
			["Uint8Array", "unsupported output type"],
			["ArrayBuffer", [0x78, 0x79, 0x7a]],	// the rest
			["count", 0],
			["String", "(undefined)"],		// nothing left: undefined, as on the simulator
		]);
	}
	finally {
		await app.call("setPlan", [["String"]]);
		await app.call("close");
		await server.close();
	}
});

test("bytes not read in a data callback are discarded (Linux simulator behaviour)", async () => {
	const server = await recordingServer();
	try {
		await app.call("setPlan", [["String", 2]]);
		await app.call("connect", server.port);
		const conn = await server.connection();
		await waitEvent(e => e.message === 1);
		conn.socket.write("12345");
		await waitEvent(e => e.message === 2);
		await new Promise(resolve => setTimeout(resolve, 50));
		conn.socket.write("67");
		await until(async () => (await events()).filter(e => e.message === 2).length === 2, { what: "second data callback" });
		const reads = (await events()).filter(e => e.message === 2).map(e => e.reads[0][1]);
		assert.deepEqual(reads, ["12", "67"], "'345' was dropped when the first callback returned");
		assert.deepEqual(await app.call("readNow"), { count: 0, string: "(undefined)" }, "outside a data callback nothing can be read");
	}
	finally {
		await app.call("setPlan", [["String"]]);
		await app.call("close");
		await server.close();
	}
});

test("large input arrives in chunks of at most 1024 bytes, in order, each in its own callback", async () => {
	const payload = Buffer.alloc(5000);
	for (let i = 0; i < payload.length; i++)
		payload[i] = i % 251;
	const server = await recordingServer();
	try {
		await app.call("setPlan", [["ArrayBuffer"]]);
		await app.call("connect", server.port);
		const conn = await server.connection();
		await waitEvent(e => e.message === 1);
		conn.socket.write(payload);
		const datas = await until(async () => {
			const d = (await events()).filter(e => e.message === 2);
			return d.reduce((n, e) => n + e.value, 0) >= payload.length ? d : undefined;
		}, { what: "all 5000 bytes" });
		assert.ok(datas.every(e => e.value <= 1024 && e.reads[0][1].length === e.value));
		assert.deepEqual(Buffer.from(datas.flatMap(e => e.reads[0][1])), payload);
	}
	finally {
		await app.call("setPlan", [["String"]]);
		await app.call("close");
		await server.close();
	}
});

test("write() takes strings (UTF-8), numbers (one byte), ArrayBuffer, typed arrays and DataView", async () => {
	const server = await recordingServer();
	try {
		await app.call("connect", server.port);
		const conn = await server.connection();
		await waitEvent(e => e.message === 1);
		const result = await app.call("write", { s: "hé" }, { n: 0x141 }, { ab: [1, 2] }, { u8: [3] }, { dv: [4, 5] });
		assert.deepEqual(result, { result: "(undefined)", free: 1024 - 9 });
		assert.deepEqual(await app.call("write", { bad: true }), { error: "unsupported type for write", free: 1024 - 9 });
		await until(() => conn.received.length === 9, { what: "9 bytes at the server" });
		assert.deepEqual([...conn.received], [0x68, 0xc3, 0xa9, 0x41, 1, 2, 3, 4, 5]);
		await waitEvent(e => e.message === 3 && e.value === 1024);
	}
	finally {
		await app.call("close");
		await server.close();
	}
});

test("close() ends the connection at once, is idempotent, and later reads/writes throw", async () => {
	const server = await recordingServer();
	await app.call("connect", server.port);
	const conn = await server.connection();
	await waitEvent(e => e.message === 1);
	await app.call("write", { s: "last words" });
	const after = await app.call("close");
	assert.deepEqual(after, { write: "write on closed socket", read: "read on closed socket" });
	await until(() => conn.closed, { what: "server to see the close" });
	assert.equal(conn.received.toString(), "last words", "bytes written before close() are still delivered");
	conn.socket.destroy();
	await new Promise(resolve => setTimeout(resolve, 50));
	assert.ok((await events()).every(e => e.message === 1 || e.message === 3), "no callbacks after close()");
	await server.close();
});

test("peer closing gives -1; a refused connection (esp32 profile, lwIP) gives -2 with the reason in lastError", async () => {
	const server = await recordingServer({ onConnection: s => s.end("bye") });
	try {
		await app.call("connect", server.port);
		await waitEvent(e => e.message === -1);
		const log = await events();
		assert.deepEqual(log.map(e => e.message), [1, 2, -1]);
		assert.equal(log[1].reads[0][1], "bye");
	}
	finally {
		await server.close();
	}
	const esp32 = await startApp(PROBE, { stdout: false, platform: "esp32" });
	try {
		const port = await freePort();
		assert.equal(await esp32.call("connect", port), 8192, "lwIP's send space");
		const error = await until(async () => (await esp32.call("events")).find(e => e.message === -2), { timeout: 5000, what: "-2" });
		assert.equal(error.lastError.code, "ECONNREFUSED");
		assert.deepEqual((await esp32.call("events")).map(e => e.message), [-2]);
	}
	finally {
		await esp32.stop();
	}
});

test("a refused connection on the Linux simulator profile: message 1, then -1 at the next poll (a write in between throws \"write failed\", see cli.test)", async () => {
	const port = await freePort();
	await app.call("connect", port);
	await waitEvent(e => e.message === -1);
	assert.deepEqual((await events()).map(e => e.message), [1, -1]);
	await assert.rejects(app.call("write", { s: "late" }), /write on closed socket/, "after -1 the socket is closed, as on the simulator");
});

test("a connection reset by the peer: -1 on the Linux simulator profile (as a close), -2 on esp32 (lwIP)", async () => {
	for (const platform of ["lin", "esp32"]) {
		const probe = platform === "lin" ? app : await startApp(PROBE, { stdout: false, platform });
		const server = await recordingServer({ onConnection: s => setTimeout(() => s.resetAndDestroy(), 20) });
		try {
			await probe.call("connect", server.port);
			const end = await until(async () => (await probe.call("events")).find(e => e.message < 0), { timeout: 5000, what: "the end" });
			assert.equal(end.message, platform === "lin" ? -1 : -2, platform);
		}
		finally {
			await server.close();
			if (probe !== app) await probe.stop();
		}
	}
});

test("a host name is resolved (IPv4), as on the simulator", async () => {
	const server = await recordingServer({ onConnection: s => s.write("ok") });
	try {
		await app.call("connect", server.port, { host: "localhost" });
		const data = await waitEvent(e => e.message === 2);
		assert.equal(data.reads[0][1], "ok");
	}
	finally {
		await app.call("close");
		await server.close();
	}
});

test("turns are counted and metered", async () => {
	const before = app.turns;
	await app.call("events");
	assert.equal(app.turns, before + 1);
	assert.ok(app.meter.currentHeapCount > 0);
});
