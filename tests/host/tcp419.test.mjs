// The ECMA-419 TCP socket (embedded:io/socket/tcp, hosts/xs/guest/tcp419.js) against Node TCP
// servers, on both profiles: lin (the simulator's modules/io/socket/lin/tcp.c: a 20 ms poll,
// a 1536-byte read buffer and writable count) and esp32 (lwIP's modules/io/socket/lwip/tcp.c).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startApp } from "../../hosts/xs/host.mjs";
import { recordingServer, freePort, until } from "../helpers/net.mjs";
import { makeApp } from "../helpers/apps.mjs";

const APP = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/tcp419");
const PLATFORMS = /** @type {const} */ (["lin", "esp32"]);
/** the writable count of a connected socket: lin's kBufferSize, lwIP's tcp_sndbuf (TCP_SND_BUF) */
const WRITABLE = { lin: 1536, esp32: 8192 };

/** @type {Record<string, any>} */
const apps = {};
before(async () => {
	for (const platform of PLATFORMS)
		apps[platform] = await startApp(APP, { stdout: false, platform });
});
after(async () => {
	for (const app of Object.values(apps))
		await app.stop();
});

const sleep = (/** @type {number} */ ms) => new Promise(resolve => setTimeout(resolve, ms));
const text = (/** @type {any} */ result) => Buffer.from(result.result.bytes).toString("latin1");
/** @param {any} app @param {(events: any[]) => any} match */
const waitEvents = (app, match, what = "events", timeout = 5000) =>
	until(async () => { const events = await app.call("events"); return match(events) ? events : undefined; }, { timeout, what });
const named = (/** @type {any[]} */ events) => events.map(e => e.event);
/** close() in a `finally`: the server is closed after it even when the app has ended */
const closeQuietly = (/** @type {any} */ app) => app.call("close").catch(() => undefined);
/** connected: the first onWritable came */
const connected = (/** @type {any} */ app) => waitEvents(app, events => events.some(e => e.event === "writable"), "onWritable");

for (const platform of PLATFORMS) {
	test(`${platform}: connects; onWritable(${WRITABLE[platform]}) with \`this\` the socket; the peer's address and port`, async () => {
		const app = apps[platform];
		const server = await recordingServer();
		try {
			assert.deepEqual(await app.call("open", server.port), { ok: true });
			const events = await connected(app);
			assert.deepEqual(events[0], { event: "writable", args: 1, value: WRITABLE[platform] });
			assert.deepEqual(await app.call("remote"), { address: { result: "127.0.0.1" }, port: { result: server.port } });
			await sleep(100);
			assert.deepEqual(named(await app.call("events")), ["writable"], "nothing more until something happens");
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: echo round trip; unread bytes are kept across callbacks and onReadable gives all that is unread`, async () => {
		const app = apps[platform];
		const server = await recordingServer({ onConnection: s => s.on("data", d => s.write(d)) });
		try {
			await app.call("open", server.port);
			await connected(app);
			assert.deepEqual(await app.call("write", { text: "abc" }), { result: WRITABLE[platform] - 3 });
			await waitEvents(app, events => events.some(e => e.event === "readable" && e.value === 3), "onReadable(3)");
			await app.call("write", { text: "defg" });
			const events = await waitEvents(app, events => events.some(e => e.event === "readable" && e.value === 7), "onReadable(7)");
			assert.ok(events.every(e => !e.wrongThis));
			assert.equal(text(await app.call("read")), "abcdefg");
			assert.deepEqual(await app.call("read"), { result: "(undefined)" }, "nothing readable: undefined");
			// the count came back once the bytes went out (lin: at the next poll, 1536 again)
			const after = events.slice(events.findIndex(e => e.event === "readable" && e.value === 3));
			assert.ok(after.some(e => e.event === "writable" && e.value === WRITABLE[platform]), JSON.stringify(events));
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: read(n), read(buffer), "invalid", a buffer of 16-bit elements, format "number"`, async () => {
		const app = apps[platform];
		const server = await recordingServer({ onConnection: s => s.write("0123456789AB") });
		try {
			await app.call("open", server.port);
			await waitEvents(app, events => events.some(e => e.event === "readable" && e.value === 12), "onReadable(12)");
			assert.equal(text(await app.call("read", { n: 3 })), "012");
			const filled = await app.call("read", { buffer: 4 });
			assert.equal(filled.result, 4, "read(buffer) fills it and returns the count");
			assert.equal(Buffer.from(filled.buffer).toString(), "3456");
			assert.equal((await app.call("read", { buffer: 2, type: "DataView" })).result, 2);
			assert.deepEqual(await app.call("read", { n: 0 }), { error: { name: "Error", message: "invalid" } });
			assert.deepEqual(await app.call("read", { n: 4 }), { error: { name: "Error", message: "invalid" } }, "3 readable");
			assert.deepEqual((await app.call("read", { buffer: 4 })).error, { name: "Error", message: "invalid" });
			assert.deepEqual((await app.call("read", { buffer: 1, type: "Uint16Array" })).error, { name: "TypeError", message: "invalid buffer" });
			assert.equal(text(await app.call("read", { args: ["1", "ignored"] })), "9", "the count is converted (ToInt32); a second argument is ignored");
			assert.deepEqual(await app.call("format", "number"), { result: "number" });
			assert.deepEqual(await app.call("read", { n: 100 }), { result: 0x41 }, "format number: one byte, whatever the argument");
			assert.deepEqual(await app.call("format", "string"), { error: { name: "RangeError", message: "unimplemented" } });
			assert.deepEqual(await app.call("format", "text"), { error: { name: "RangeError", message: "unknown" } });
			assert.deepEqual(await app.call("format", "buffer"), { result: "buffer" });
			assert.equal(text(await app.call("read")), "B");
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: "would block" writes nothing; a write of the whole count leaves 0; onWritable gives it back`, async () => {
		const app = apps[platform];
		const limit = WRITABLE[platform];
		const server = await recordingServer();
		try {
			await app.call("open", server.port);
			const conn = await server.connection();
			await connected(app);
			assert.deepEqual(await app.call("write", { size: limit + 1 }), { error: { name: "Error", message: "would block" } });
			await sleep(60);
			assert.equal(conn.received.length, 0, "nothing of the refused write was sent");
			assert.deepEqual(await app.call("write", { size: limit, fill: 0x62 }), { result: 0 });
			assert.deepEqual(await app.call("write", { size: 1 }), { error: { name: "Error", message: "would block" } });
			await until(() => conn.received.length === limit, { what: `${limit} bytes at the server` });
			const events = await waitEvents(app, events => events.filter(e => e.event === "writable").length === 2, "onWritable again");
			assert.deepEqual(events.at(-1), { event: "writable", args: 1, value: limit });
			assert.deepEqual(await app.call("write", { size: 0 }), { result: limit }, "an empty write");
			assert.ok(conn.received.every(b => b === 0x62));
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: write takes one ArrayBuffer or 1-byte view (a string throws TypeError); format "number" writes a byte`, async () => {
		const app = apps[platform];
		const server = await recordingServer();
		try {
			await app.call("open", server.port, { format: "number" });
			const conn = await server.connection();
			await connected(app);
			assert.deepEqual(await app.call("write", { byte: 0x141 }), { result: WRITABLE[platform] - 1 });
			assert.deepEqual(await app.call("write", { none: true }), { error: { name: "SyntaxError", message: "C: xsArg(0): invalid index" } });
			assert.deepEqual(await app.call("format", "buffer"), { result: "buffer" });
			assert.deepEqual(await app.call("write", { string: "x" }), { error: { name: "TypeError", message: "invalid buffer" } });
			await app.call("write", { text: "yz" });
			await until(() => conn.received.length === 3, { what: "3 bytes" });
			assert.equal(conn.received.toString("latin1"), "Ayz");
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: the peer closes after data the app reads in onReadable: onError (no argument) after the data`, async () => {
		const app = apps[platform];
		// the close apart from the data: lwIP delivers them one by one (together, see the esp32 test below)
		const server = await recordingServer({ onConnection: s => { s.write("bye"); setTimeout(() => s.end(), 50); } });
		try {
			await app.call("open", server.port, { plan: { readable: "all" } });
			const events = await waitEvents(app, events => events.some(e => e.event === "error"), "onError");
			assert.deepEqual(events.filter(e => e.event !== "writable"), [
				{ event: "readable", args: 1, value: 3, read: { length: 3, bytes: [...Buffer.from("bye")] } },
				{ event: "error", args: 0 },
			]);
			await sleep(60);
			assert.equal((await app.call("events")).filter(e => e.event === "error").length, 1);
			const write = await app.call("write", { text: "late" });
			if (platform === "lin")
				assert.deepEqual(write, { result: 1532 }, "lin: the socket is only half closed; the write goes out");
			else
				assert.deepEqual(write, { error: { name: "Error", message: "not ready" } }, "lwIP: not ready after an error");
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: a refused connect gives onError only (port 0 too)`, async () => {
		const app = apps[platform];
		for (const port of [await freePort(), 0]) {
			const before = app.output.length;
			await app.call("open", port);
			await waitEvents(app, events => events.length > 0, "onError");
			await sleep(60);
			assert.deepEqual(await app.call("events"), [{ event: "error", args: 0 }], `port ${port}`);
			const write = await app.call("write", { text: "x" });
			if (platform === "lin") {
				// the poll that saw the failure set the count to 1536; write(2) fails
				assert.deepEqual(write, { result: "(undefined)" });
				assert.equal(app.output.slice(before), "write failed");
			}
			else
				assert.deepEqual(write, { error: { name: "Error", message: "not ready" } });
			await app.call("close");
		}
	});

	test(`${platform}: a reset by the peer gives onError; what a write does then`, async () => {
		const app = apps[platform];
		const server = await recordingServer({ onConnection: s => setTimeout(() => s.resetAndDestroy(), 30) });
		const before = app.output.length;
		try {
			await app.call("open", server.port);
			await waitEvents(app, events => events.some(e => e.event === "error"), "onError");
			assert.deepEqual(named(await app.call("events")), ["writable", "error"]);
			const write = await app.call("write", { text: "x" });
			if (platform === "lin") {
				assert.deepEqual(write, { result: "(undefined)" });
				assert.equal(app.output.slice(before), "write failed");
				assert.deepEqual(await app.call("remote"), { address: { result: "0.0.0.0" }, port: { result: 0 } },
					"getpeername fails: the simulator formats an uninitialised address");
			}
			else
				assert.deepEqual(write, { error: { name: "Error", message: "not ready" } });
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: close() is idempotent; afterwards methods throw XS's SyntaxError and no callback comes; bytes written before it arrive`, async () => {
		const app = apps[platform];
		const server = await recordingServer();
		try {
			await app.call("open", server.port);
			const conn = await server.connection();
			await connected(app);
			await app.call("write", { text: "last words" });
			assert.deepEqual(await app.call("close"), { result: "(undefined)" });
			assert.deepEqual(await app.call("close"), { result: "(undefined)" });
			const closed = { name: "SyntaxError", message: "C: xsGetHostData: invalid host data" };
			assert.deepEqual(await app.call("read"), { error: closed });
			assert.deepEqual(await app.call("write", { text: "x" }), { error: closed });
			assert.deepEqual(await app.call("format"), { error: closed });
			assert.deepEqual(await app.call("remote"), { address: { error: closed }, port: { error: closed } });
			await until(() => conn.closed, { what: "the server to see the close" });
			assert.equal(conn.received.toString(), "last words");
			await sleep(60);
			assert.deepEqual(named(await app.call("events")), ["writable"]);
		}
		finally {
			await server.close();
		}
	});

	test(`${platform}: closing with received bytes unread resets the connection; without, it ends it`, async () => {
		const app = apps[platform];
		/** @type {string[]} */
		const seen = [];
		const server = await recordingServer({
			onConnection: s => {
				s.on("error", e => seen.push(/** @type {any} */ (e).code));
				s.on("end", () => seen.push("end"));
				s.write(Buffer.alloc(4000, 0x61));
			},
		});
		try {
			await app.call("open", server.port);
			await waitEvents(app, events => events.some(e => e.event === "readable"), "onReadable");
			await app.call("close");
			await until(() => seen.length > 0, { what: "the server to see the close" });
			assert.deepEqual(seen, ["ECONNRESET"], "lin: bytes still in the kernel; lwIP: bytes not given back to the window");
			seen.length = 0;
			await app.call("open", server.port, { plan: { readable: "all" } });
			await waitEvents(app, events => events.filter(e => e.event === "readable").reduce((n, e) => n + e.read.length, 0) === 4000, "all 4000 bytes");
			await app.call("close");
			await until(() => seen.length > 0, { what: "the server to see the close" });
			assert.deepEqual(seen, ["end"]);
		}
		finally {
			await server.close();
		}
	});

	test(`${platform}: the constructor's checks: address (an IP literal), port, format, callbacks`, async () => {
		const app = apps[platform];
		const port = await freePort();
		const construct = (/** @type {any} */ dictionary) => app.call("construct", { port, ...dictionary });
		const error = (/** @type {string} */ name, /** @type {string} */ message) => ({ error: { name, message } });
		assert.deepEqual(await construct({ address: "localhost" }), error("Error", "invalid address"), "a name is not resolved");
		assert.deepEqual(await construct({ host: "127.0.0.1" }), error("Error", "invalid address"), "no `host` option");
		assert.deepEqual(await construct({}), error("Error", "invalid address"));
		assert.deepEqual(await construct({ address: "127.0.0.256" }), error("Error", "invalid address"));
		assert.deepEqual(await construct({ address: "127.0.0.08" }), error("Error", "invalid address"));
		assert.deepEqual(await construct({ address: "::1" }), error("Error", "invalid address"));
		assert.deepEqual(await construct({ address: "127.000000000000000000000000000.0.1" }), error("RangeError", "cannot buffer string"));
		for (const address of ["127.1", "0x7f.0.0.1", "2130706433", "127.0.0.1 trailing"])
			assert.deepEqual(await construct({ address }), { result: { format: "buffer", target: "(undefined)" } }, address);
		assert.deepEqual(await construct({ address: "0x" }), platform === "esp32" ? { result: { format: "buffer", target: "(undefined)" } } : error("Error", "invalid address"),
			"lwIP's ip4addr_aton takes a bare 0x (0.0.0.0), glibc's inet_aton does not");
		assert.deepEqual(await construct({ address: "127.0.0.1", port: 65536 }), error("RangeError", "invalid port"));
		assert.deepEqual(await construct({ address: "127.0.0.1", port: -1 }), error("RangeError", "invalid port"));
		assert.deepEqual(await construct({ address: "127.0.0.1", port: undefined }), error("Error", "invalid"));
		assert.deepEqual(await construct({ address: "127.0.0.1", format: "string" }), error("RangeError", "unimplemented"));
		assert.deepEqual(await construct({ address: "127.0.0.1", format: "bytes" }), error("RangeError", "unimplemented"));
		assert.deepEqual(await construct({ address: "127.0.0.1", format: "number", target: 7 }), { result: { format: "number", target: 7 } });
		assert.deepEqual(await construct({ address: "127.0.0.1", onReadable: 5 }), error("Error", "not a function"));
		assert.deepEqual(await app.call("construct", undefined, true), { result: { format: "buffer", target: "(undefined)" } }, "new TCP(): no socket");
		assert.deepEqual(await app.call("construct", null), error("TypeError", "cannot coerce null to object"));
	});
}

test("lin: a 1536-byte read buffer: an app that does not read gets onReadable(1536) once, and the peer is held back", { timeout: 30000 }, async () => {
	const app = apps.lin;
	let written = 0;
	const server = await recordingServer({
		onConnection: s => {
			const chunk = Buffer.alloc(65536, 0x63);
			const pump = () => { while (written < 16 << 20 && s.write(chunk)) written += chunk.length; };
			s.on("drain", () => { written += chunk.length; pump(); });
			pump();
		},
	});
	try {
		await app.call("open", server.port);
		await waitEvents(app, events => events.some(e => e.event === "readable"), "onReadable");
		await sleep(300);
		assert.deepEqual((await app.call("events")).filter(e => e.event === "readable"), [{ event: "readable", args: 1, value: 1536 }]);
		assert.ok(written < 16 << 20, `the peer is held back (${written} bytes written)`);
		assert.equal((await app.call("read")).result.length, 1536);
		await waitEvents(app, events => events.filter(e => e.event === "readable").length === 2, "onReadable again");
		assert.equal((await app.call("read", { n: 1000 })).result.length, 1000);
		await sleep(100);
		const readable = (await app.call("events")).filter(e => e.event === "readable");
		assert.deepEqual(readable.at(-1), { event: "readable", args: 1, value: 1536 }, "the room was filled again at the next poll");
	}
	finally {
		await closeQuietly(app);
		await server.close();
	}
});

test("lin: the peer closes while bytes are unread: onError never comes (the SDK's task stops once `error` is set)", async () => {
	const app = apps.lin;
	const server = await recordingServer({ onConnection: s => s.end("bye") });
	try {
		await app.call("open", server.port);
		await waitEvents(app, events => events.some(e => e.event === "readable"), "onReadable");
		await sleep(100);
		assert.equal(text(await app.call("read")), "bye");
		await sleep(100);
		assert.deepEqual(named(await app.call("events")), ["writable", "readable"]);
	}
	finally {
		await closeQuietly(app);
		await server.close();
	}
});

test("lin: a callback that closes the socket does not stop the others of the same poll (they find it closed)", async () => {
	const app = apps.lin;
	const server = await recordingServer({ onConnection: s => s.on("data", d => s.write(d)) });
	try {
		// the second onWritable (the count reset after the write) and onReadable (the echo) come in one poll
		await app.call("open", server.port, { plan: { writable: ["write:ping", "close"], readable: "try" } });
		const events = await waitEvents(app, events => events.some(e => e.event === "readable"), "onReadable", 1000).catch(() => undefined);
		if (!events)
			return;		// the echo came a poll later, after the close: nothing to see this time
		assert.deepEqual(named(events), ["writable", "writable", "readable"]);
		assert.deepEqual(events[2].read, { error: { name: "SyntaxError", message: "C: xsGetHostData: invalid host data" } });
	}
	finally {
		await server.close();
	}
});

test("esp32: onError waits until read() empties the receive buffers, then comes in a later delivery", async () => {
	const app = apps.esp32;
	const server = await recordingServer({ onConnection: s => s.end("bye") });
	try {
		await app.call("open", server.port);
		await waitEvents(app, events => events.some(e => e.event === "readable"), "onReadable");
		await sleep(100);
		assert.deepEqual(named(await app.call("events")), ["writable", "readable"], "no onError while 3 bytes are unread");
		assert.deepEqual(await app.call("write", { text: "x" }), { error: { name: "Error", message: "not ready" } }, "the error is known: not ready");
		assert.deepEqual((await app.call("read", { n: 2 })).result.length, 2);
		await sleep(60);
		assert.deepEqual(named(await app.call("events")), ["writable", "readable"]);
		assert.equal(text(await app.call("read")), "e");
		const events = await waitEvents(app, events => events.some(e => e.event === "error"), "onError");
		assert.deepEqual(named(events), ["writable", "readable", "error"]);
	}
	finally {
		await closeQuietly(app);
		await server.close();
	}
});

test("esp32: data and the peer's close in one delivery: emptying the buffers in onReadable gives onError twice (tcpDeliver)", async () => {
	const app = apps.esp32;
	/** @type {import("node:net").Socket | undefined} */
	let peer;
	const server = await recordingServer({ onConnection: s => { peer = s; } });
	try {
		await app.call("open", server.port, { plan: { readable: "all" } });
		await connected(app);
		await until(() => peer, { what: "the connection" });
		/** @type {any} */ (peer).end("bye");
		await app.call("spin", 150);		// both arrive while the machine is busy: one delivery takes both
		const events = await waitEvents(app, events => events.filter(e => e.event === "error").length === 2, "two onError");
		assert.deepEqual(named(events), ["writable", "readable", "error", "error"]);
		await sleep(60);
		assert.equal((await app.call("events")).length, 4);
	}
	finally {
		await closeQuietly(app);
		await server.close();
	}
});

test("esp32: unread bytes are bounded by the receive window (the send buffer size); the peer is held back", { timeout: 30000 }, async () => {
	const app = await startApp(APP, { stdout: false, platform: "esp32", sendBufferSize: 5744 });
	const payload = Buffer.alloc(200000);
	for (let i = 0; i < payload.length; i++)
		payload[i] = i % 251;
	const server = await recordingServer({ onConnection: s => s.write(payload) });
	try {
		await app.call("open", server.port);
		const events = await connected(app);
		assert.equal(events[0].value, 5744, "ESP32-C3/S2: TCP_SND_BUF 5744");
		await waitEvents(app, events => events.some(e => e.event === "readable" && e.value === 5744), "a full window");
		await sleep(200);
		assert.ok((await app.call("events")).every(e => e.event !== "readable" || e.value <= 5744));
		/** @type {Buffer[]} */
		const got = [];
		let total = 0;
		await until(async () => {
			const result = (await app.call("read")).result;
			if (result !== "(undefined)") {
				total += result.length;
				got.push(Buffer.alloc(0));
			}
			return total === payload.length;
		}, { timeout: 20000, interval: 5, what: "all 200000 bytes" });
		assert.ok((await app.call("events")).every(e => e.event !== "readable" || e.value <= 5744));
	}
	finally {
		await app.stop();
		await server.close();
	}
});

test("esp32: write before the connect completes throws \"not ready\"; lin: the count is 0 (\"would block\")", async () => {
	for (const platform of PLATFORMS) {
		const app = apps[platform];
		// a listener that never accepts would still complete the handshake: write in the constructing turn
		const server = await recordingServer();
		try {
			const result = await app.call("open", server.port, { plan: {} });
			assert.deepEqual(result, { ok: true });
			const write = await app.call("write", { text: "early" });
			// the connect may already be done at the OS, but the app learns it only from a delivery
			if (platform === "esp32")
				assert.deepEqual(write, { error: { name: "Error", message: "not ready" } }, platform);
			else
				assert.deepEqual(write, { error: { name: "Error", message: "would block" } }, platform);
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	}
});

test("esp32: remoteAddress after a connection error dereferences the freed pcb: the app ends, as the device crashes", async () => {
	const app = await startApp(APP, { stdout: false, stderr: false, platform: "esp32" });
	try {
		await app.call("open", await freePort());
		await waitEvents(app, events => events.some(e => e.event === "error"), "onError");
		await assert.rejects(app.call("remote"), /app ended/);
		const exited = await app.exited;
		assert.equal(exited.code, 1);
		assert.match(exited.message, /remoteAddress: the socket's lwIP pcb is gone/);
	}
	finally {
		await app.stop();
	}
});

test("an exception thrown by a callback ends the app (fxAbort), on both profiles", async () => {
	for (const platform of PLATFORMS) {
		const app = await startApp(APP, { stdout: false, stderr: false, platform });
		const server = await recordingServer();
		try {
			await app.call("open", server.port, { plan: { throwIn: "writable" } });
			const exited = await app.exited;
			assert.equal(exited.code, 1, platform);
			assert.match(exited.message, /unhandled exception: thrown from writable/);
		}
		finally {
			await app.stop();
			await server.close();
		}
	}
});

test("virtual time: a reply on its way holds the clock; it reaches the app before a timer due later", async () => {
	for (const platform of PLATFORMS) {
		const app = await startApp(APP, { stdout: false, platform, virtualTime: true });
		const server = await recordingServer({ onConnection: s => s.on("data", d => setTimeout(() => s.write(d), 80)) });
		try {
			await app.call("open", server.port);
			await app.advance(0);
			assert.deepEqual(named(await app.call("events")), ["writable"], `${platform}: the connect held the clock`);
			await app.call("write", { text: "ping" });
			await app.call("timer", 60000);
			await app.advance(60000);
			const events = named(await app.call("events"));
			assert.deepEqual(events.filter(e => e !== "writable"), ["readable", "timer"], platform);
		}
		finally {
			await app.stop();
			await server.close();
		}
	}
});

test("the module comes only with the SDK's io manifest (known: no warning), or when the app names it", async () => {
	assert.ok(apps.lin.manifest.sdkIncludes.includes("$(MODDABLE)/modules/io/manifest.json"));
	assert.deepEqual(apps.lin.manifest.warnings, []);
	const main = `import TCP from "embedded:io/socket/tcp";\nexport function kind() { return typeof TCP; }\n`;
	const without = makeApp({ "main.js": main });
	const named = makeApp({
		"manifest.json": { modules: { "*": ["./main"], "embedded:io/socket/tcp": "$(MODDABLE)/modules/io/socket/lin/tcp" } },
		"main.js": main,
	});
	try {
		await assert.rejects(startApp(without.dir, { stdout: false }), /module "embedded:io\/socket\/tcp" imported by "main" .* not found/);
		const app = await startApp(named.dir, { stdout: false });
		try {
			assert.equal(await app.call("kind"), "function");
			assert.deepEqual(app.manifest.warnings, []);
		}
		finally {
			await app.stop();
		}
	}
	finally {
		without.cleanup();
		named.cleanup();
	}
});
