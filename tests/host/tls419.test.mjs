// The ECMA-419 TLS socket (embedded:io/socket/tcp/tls: the SDK's TLSSocket over tls_419.json's
// session; hosts/xs/guest/tls419.js, the TLS computed by hosts/xs/tls419.mjs) against Node TLS
// servers on 127.0.0.1, over both profiles of the ECMA-419 TCP socket beneath it: lin (the
// simulator: a 20 ms poll, 1536 bytes to write) and esp32 (lwIP: the send buffer's room).
// The fixture app hands the TLS socket a TCP constructor that logs what passes between the
// two (tcp-writable, tcp-readable, tcp-error, tcp-write with each record's size).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startApp, readManifest } from "../../hosts/xs/host.mjs";
import { makeCerts } from "../lib/certs.mjs";
import { recordingServer, listen, until } from "../helpers/net.mjs";

const APP = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/tls419");
const PLATFORMS = /** @type {const} */ (["lin", "esp32"]);
/** the TCP socket's writable count when all was sent: lin's kBufferSize, lwIP's tcp_sndbuf */
const TCP_ROOM = { lin: 1536, esp32: 8192 };
/** what TLSSocket takes off onWritable's count, and session_419.js off write()'s */
const ESTIMATE = 96, MARGIN = 32;
const CBC = "AES128-SHA256", GCM = "ECDHE-RSA-AES128-GCM-SHA256";
/** a record's size for `n` bytes of data: AES-CBC with HMAC-SHA256 (5 header, 16 IV, MAC and padding to 16), AES-GCM (5, 8 nonce, 16 tag) */
const cbcRecord = (/** @type {number} */ n) => 5 + 16 + Math.ceil((n + 32 + 1) / 16) * 16;
const gcmRecord = (/** @type {number} */ n) => 5 + 8 + n + 16;

/** @type {ReturnType<typeof makeCerts>} */
let certs;
/** @type {Record<string, any>} */
const apps = {};
before(async () => {
	certs = makeCerts();
	for (const platform of PLATFORMS)
		apps[platform] = await startApp(APP, { stdout: false, platform });
});
after(async () => {
	for (const app of Object.values(apps))
		await app.stop();
	certs?.cleanup();
});

const sleep = (/** @type {number} */ ms) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * A Node TLS server (TLS 1.2, the CA-signed 127.0.0.1/localhost certificate with its CA, as
 * mosquitto presents it): plaintext received per connection, server-side errors in `errors`.
 * @param {tls.TlsOptions} [extra] @param {(s: tls.TLSSocket) => void} [onSecure]
 */
async function tlsServer(extra = {}, onSecure) {
	/** @type {string[]} */
	const errors = [];
	const server = await recordingServer({
		createServer: listener => {
			const s = tls.createServer({ key: readFileSync(certs.server.key), cert: readFileSync(certs.server.chain), maxVersion: "TLSv1.2", ciphers: CBC, ...extra }, listener);
			s.on("tlsClientError", e => errors.push(e.message));
			return s;
		},
		onConnection: s => {
			s.on("error", e => errors.push(e.message));
			onSecure?.(/** @type {tls.TLSSocket} */ (s));
		},
	});
	return Object.assign(server, { errors });
}

/**
 * Writes `text` a moment after the server's handshake: what comes with the server's Finished
 * is lost (see the test of it). @param {tls.TLSSocket} s @param {string} text
 */
function later(s, text) {
	setTimeout(() => s.write(text), 50);
}

/** A TCP relay to `port` that keeps what the client sent: its TLS records. @param {number} port */
async function recordsProxy(port) {
	/** @type {Buffer[]} */
	const up = [];
	/** @type {net.Socket[]} */
	const sockets = [];
	const server = net.createServer(client => {
		const peer = net.connect(port, "127.0.0.1");
		sockets.push(client, peer);
		client.on("data", d => { up.push(d); peer.write(d); });
		peer.on("data", d => client.write(d));
		for (const [a, b] of [[client, peer], [peer, client]]) {
			a.on("end", () => b.end());
			a.on("error", () => b.destroy());
			a.on("close", () => b.destroy());
		}
	});
	return {
		port: await listen(server),
		/** the records the client sent: [type, length of the fragment] */
		records() {
			const bytes = Buffer.concat(up);
			const list = [];
			for (let at = 0; at + 5 <= bytes.length; at += 5 + bytes.readUInt16BE(at + 3))
				list.push([bytes[at], bytes.readUInt16BE(at + 3)]);
			return list;
		},
		async close() {
			for (const s of sockets)
				s.destroy();
			await new Promise(resolve => server.close(resolve));
		},
	};
}

/** @param {any} app @param {(events: any[]) => any} match */
const waitEvents = (app, match, what = "events", timeout = 5000) =>
	until(async () => { const events = await app.call("events"); return match(events) ? events : undefined; }, { timeout, what });
/** the TLS socket's first onWritable: its handshake is over */
const ready = (/** @type {any} */ app) => waitEvents(app, events => events.some(e => e.event === "writable"), "the TLS socket's onWritable");
const tlsEvents = (/** @type {any[]} */ events) => events.filter(e => !e.event.startsWith("tcp-"));
const secure = (extra = {}) => ({ secure: { certificate: certs.ca.der, cache: false, ...extra } });
/** close() in a `finally` (the app may have ended) */
const closeQuietly = (/** @type {any} */ app) => app.call("close").catch(() => undefined);
/** Waits for the TLS socket's onWritable of a TCP socket with all its room, then forgets the log. */
async function settled(/** @type {any} */ app, /** @type {string} */ platform) {
	await waitEvents(app, events => events.some(e => e.event === "writable" && e.value === TCP_ROOM[platform] - ESTIMATE), "onWritable of the full room");
	await app.call("clear");
}

test("the app's manifest (the SDK's tlssocket manifest and tls_419.json) is known to the host: no warning", () => {
	assert.deepEqual(readManifest(APP).warnings, []);
});

for (const platform of PLATFORMS) {
	const room = TCP_ROOM[platform];

	test(`${platform}: the handshake runs over the TCP socket it was given; onWritable is the TCP count less 96; a round trip`, async () => {
		const app = apps[platform];
		const server = await tlsServer({}, s => s.on("data", d => s.write(`echo:${d}`)));
		try {
			assert.deepEqual(await app.call("open", server.port, secure()), { result: true });
			const events = await ready(app);
			// ClientHello at the TCP socket's first onWritable; then the client's second flight
			const first = events.findIndex(e => e.event === "tcp-writable");
			assert.deepEqual(events.slice(0, 2).map(e => e.event), ["tcp-writable", "tcp-write"]);
			assert.equal(events[first].value, room);
			assert.equal(events[1].type, 22, "a handshake record");
			// the first onWritable: the TCP socket's last count less the handshake bytes written since, less 96
			const at = events.findIndex(e => e.event === "writable");
			const last = events.slice(0, at).findLastIndex(e => e.event === "tcp-writable");
			const since = events.slice(last, at).filter(e => e.event === "tcp-write").reduce((sum, e) => sum + e.size, 0);
			assert.equal(events[at].value, events[last].value - since - ESTIMATE, JSON.stringify(events));
			assert.ok(events.slice(0, at).every(e => e.event !== "writable" && e.event !== "readable"), "no TLS callback before the handshake is over");
			const conn = await server.connection();
			const socket = /** @type {tls.TLSSocket} */ (conn.socket);
			assert.equal(socket.getProtocol(), "TLSv1.2");
			assert.equal(socket.servername, "localhost", "SNI: the TLS socket's host");
			await app.call("clear");
			const [written] = await app.call("write", { text: "ping" });
			const record = (await app.call("events")).find((/** @type {any} */ e) => e.event === "tcp-write");
			assert.deepEqual(record, { event: "tcp-write", size: cbcRecord(4), type: 23, result: written.result + MARGIN });
			const echoed = await waitEvents(app, events => events.some(e => e.event === "readable"), "onReadable");
			assert.deepEqual(tlsEvents(echoed).find(e => e.event === "readable"), { event: "readable", value: 9 });
			assert.deepEqual(await app.call("read"), { result: { length: 9, text: "echo:ping" } });
			assert.deepEqual(await app.call("read"), { result: "(undefined)" });
			assert.deepEqual(conn.received.toString(), "ping");
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: write() answers the TCP count less 32; a record costs up to 69 bytes more than its data (AES-CBC) or 29 (AES-GCM); onWritable comes back as ${room} - 96`, async () => {
		const app = apps[platform];
		for (const [ciphers, size] of /** @type {const} */ ([[CBC, cbcRecord], [GCM, gcmRecord]])) {
			const server = await tlsServer({ ciphers });
			try {
				await app.call("open", server.port, secure());
				await settled(app, platform);
				const writes = await app.call("write", { size: 7 }, { size: 28 });
				assert.deepEqual(writes, [{ result: room - size(7) - MARGIN }, { result: room - size(7) - size(28) - MARGIN }], ciphers);
				assert.deepEqual((await app.call("events")).filter((/** @type {any} */ e) => e.event === "tcp-write").map((/** @type {any} */ e) => e.size), [size(7), size(28)]);
				// each onWritable is the TCP socket's count less 96 (lwIP gives the room back in steps, as sent)
				const events = await waitEvents(app, events => events.some(e => e.event === "writable" && e.value === room - ESTIMATE), "onWritable");
				for (const [i, e] of events.entries())
					if (e.event === "writable")
						assert.deepEqual(events[i - 1], { event: "tcp-writable", value: e.value + ESTIMATE });
				await until(async () => (await server.connection()).received.length === 35, { what: "35 bytes at the server" });
			}
			finally {
				await closeQuietly(app);
				await server.close();
			}
		}
		assert.equal(cbcRecord(16) - 16, 69, "CBC: the most a record adds");
		assert.equal(gcmRecord(7) - 7, 29);
	});

	test(`${platform}: {more: true, byteLength} gathers writes into one record until a write without it; an empty write seals`, async () => {
		const app = apps[platform];
		const server = await tlsServer();
		const proxy = await recordsProxy(server.port);
		try {
			await app.call("open", proxy.port, secure());
			await settled(app, platform);
			const before = proxy.records().length;
			const head = await app.call("write", { text: "head", more: 104 });
			assert.deepEqual(head, [{ result: room - 4 - MARGIN }], "the count less what is gathered less 32");
			assert.equal((await app.call("events")).length, 0, "nothing written yet");
			const body = await app.call("write", { size: 100 });
			assert.deepEqual(body, [{ result: room - cbcRecord(104) - MARGIN }]);
			const sealed = await app.call("write", { text: "a", more: 3 }, { text: "b", more: 3 }, { text: "" });
			assert.deepEqual(sealed.map((/** @type {any} */ w) => w.result), [room - cbcRecord(104) - 1 - MARGIN, room - cbcRecord(104) - 2 - MARGIN, room - cbcRecord(104) - cbcRecord(2) - MARGIN]);
			await until(async () => (await server.connection()).received.length === 106, { what: "106 bytes at the server" });
			assert.equal((await server.connection()).received.toString(), `head${"a".repeat(100)}ab`);
			assert.deepEqual(proxy.records().slice(before), [[23, cbcRecord(104) - 5], [23, cbcRecord(2) - 5]], "two records on the wire");
		}
		finally {
			await closeQuietly(app);
			await proxy.close();
			await server.close();
		}
	});

	test(`${platform}: a record larger than the TCP count throws "would block" and sends nothing; the record is lost, so the server refuses the next one (its alert is thrown)`, async () => {
		const app = apps[platform];
		const server = await tlsServer();
		try {
			await app.call("open", server.port, { ...secure(), guard: true });
			await settled(app, platform);
			assert.deepEqual(await app.call("write", { size: 16385 }), [{ error: { name: "Error", message: "too large" } }], "more than 2^14 bytes: refused before it is encrypted");
			const size = platform === "lin" ? 1500 : 8150;
			assert.ok(cbcRecord(size) > room && size + MARGIN < room);
			assert.deepEqual(await app.call("write", { size }), [{ error: { name: "Error", message: "would block" } }]);
			assert.deepEqual((await app.call("events")).filter((/** @type {any} */ e) => e.event === "tcp-write"), [{ event: "tcp-write", size: cbcRecord(size), error: { name: "Error", message: "would block" } }]);
			await sleep(100);
			assert.equal((await server.connection()).received.length, 0, "nothing reached the server");
			// the session's sequence number moved on with the lost record: the next one fails the server's MAC check
			assert.deepEqual(await app.call("write", { text: "next" }), [{ result: room - cbcRecord(4) - MARGIN }]);
			// the server's bad_record_mac alert: TLSError "alert: 2, 20" from the TCP callback
			const events = await waitEvents(app, events => events.some(e => e.event === "caught"), "the server's alert");
			assert.deepEqual(events.find(e => e.event === "caught"), { event: "caught", name: "TLS", message: "alert: 2, 20" });
			await until(() => server.errors.length > 0, { what: "the server's error" });
			assert.match(server.errors.join(" "), /bad record mac|decryption failed|cipher operation failed/i);
			assert.equal((await server.connection()).received.length, 0);
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: a wrong CA: TLSError "certificate: auth err" thrown from the TCP socket's callback, caught there, the VM goes on`, async () => {
		const app = apps[platform];
		const server = await tlsServer();
		try {
			await app.call("open", server.port, { ...secure({ certificate: certs.other.der }), guard: true });
			const events = await waitEvents(app, events => events.some(e => e.event === "caught"), "the exception");
			const caught = events.findIndex(e => e.event === "caught");
			assert.deepEqual(events[caught], { event: "caught", name: "TLS", message: "certificate: auth err" });
			assert.equal(events[caught - 1].event, "tcp-readable", "thrown from onReadable (the server's Certificate)");
			assert.equal(events.filter(e => e.event === "tcp-write").length, 1, "only the ClientHello was written");
			await sleep(100);
			assert.deepEqual(tlsEvents(await app.call("events")), [{ event: "caught", name: "TLS", message: "certificate: auth err" }], "no TLS callback");
			await app.call("close");
			// the VM is alive: the next connection with the right CA is up
			await app.call("open", server.port, secure());
			await ready(app);
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});
}

test("a wrong CA with nothing to catch the exception: the app aborts (XS abort: unhandled exception), on both profiles", async () => {
	const server = await tlsServer();
	try {
		for (const platform of PLATFORMS) {
			const app = await startApp(APP, { stdout: false, stderr: false, platform });
			try {
				await app.call("open", server.port, secure({ certificate: certs.other.der }));
				const exited = await Promise.race([app.exited, sleep(5000).then(() => undefined)]);
				assert.ok(exited, `${platform}: the app ended`);
				assert.equal(exited.code, 1);
				assert.equal(exited.message, "unhandled exception: certificate: auth err");
				assert.match(exited.stack ?? "", /tls419\.js/);
			}
			finally {
				await app.stop();
			}
		}
	}
	finally {
		await server.close();
	}
});

test("the SDK's certificate rules: the name (serverName, else host) against subjectAltName; verify: false; a server that sends its certificate alone is refused", async () => {
	const app = apps.lin;
	const server = await tlsServer({}, s => later(s, "hi"));
	const alone = await tlsServer({ cert: certs.server.pem });
	try {
		await app.call("open", server.port, { ...secure({ serverName: "wrong.example" }), guard: true });
		await waitEvents(app, events => events.some(e => e.event === "caught"), "a wrong name");
		assert.match(app.output, /subjectAltName match failed for wrong\.example\n/);
		await app.call("close");
		await app.call("open", server.port, { ...secure(), host: "127.0.0.1", guard: true, plan: { readable: "all" } });
		assert.deepEqual((await waitEvents(app, events => events.some(e => e.event === "readable"), "127.0.0.1 (SAN IP)")).find(e => e.event === "readable").read, { length: 2, text: "hi" });
		await app.call("close");
		await app.call("open", server.port, { ...secure({ certificate: certs.other.der, verify: false }), plan: { readable: "all" } });
		assert.deepEqual((await waitEvents(app, events => events.some(e => e.event === "readable"), "verify: false")).find(e => e.event === "readable").read, { length: 2, text: "hi" });
		await app.call("close");
		// ssl_cert.js matches the name only on a certificate followed by its issuer
		const before = app.output.length;
		await app.call("open", alone.port, { ...secure(), guard: true });
		assert.equal((await waitEvents(app, events => events.some(e => e.event === "caught"), "leaf alone")).find(e => e.event === "caught").message, "certificate: auth err");
		assert.equal(app.output.slice(before), "subjectAltName match failed for localhost\n");
	}
	finally {
		await closeQuietly(app);
		await server.close();
		await alone.close();
	}
});

test("the constructor: an expired `certificate` throws \"date validation failed\" (unless verify: false); no TCP socket without TCP.io", async () => {
	const app = apps.esp32;
	assert.deepEqual(await app.call("open", 1, secure({ certificate: certs.expired.der })), { error: { name: "Error", message: "date validation failed" } });
	assert.deepEqual(await app.call("events"), [], "no TCP socket was made");
	assert.deepEqual(await app.call("open", 1, { ...secure({ certificate: certs.expired.der, verify: false }), address: "300.0.0.1" }), { error: { name: "Error", message: "invalid address" } }, "the TCP socket's own checks");
});

for (const platform of PLATFORMS) {
	test(`${platform}: reading: read(n), read(view), "invalid"; unread data is kept and no record is read meanwhile; once taken, a timer reads on; format "number"`, async () => {
		const app = apps[platform];
		const server = await tlsServer({}, s => {
			later(s, "0123456789");
			setTimeout(() => s.write("ABCD"), 110);
		});
		try {
			await app.call("open", server.port, secure());
			await waitEvents(app, events => events.some(e => e.event === "readable"), "onReadable(10)");
			// the second record reaches the TCP socket; the TLS socket reads nothing while data is unread
			await waitEvents(app, events => events.filter(e => e.event === "tcp-readable").length >= 3, "the second record at the TCP socket", 3000);
			await sleep(60);
			assert.deepEqual(tlsEvents(await app.call("events")).filter(e => e.event === "readable"), [{ event: "readable", value: 10 }]);
			assert.deepEqual(await app.call("read", { n: 3 }), { result: { length: 3, text: "012" } });
			assert.deepEqual(await app.call("read", { view: 4 }), { result: 4, text: "3456" });
			assert.deepEqual(await app.call("read", { n: 4 }), { error: { name: "Error", message: "invalid" } }, "3 left");
			assert.equal((await app.call("read", { arrayBuffer: 2 })).error.name, "RangeError", "an ArrayBuffer: the SDK fills `.buffer` of it, undefined");
			assert.deepEqual(await app.call("read", { view: 8 }), { result: 3, text: "789" }, "a larger view: what is left");
			const events = await waitEvents(app, events => events.filter(e => e.event === "readable").length === 2, "onReadable from the timer");
			assert.deepEqual(tlsEvents(events).filter(e => e.event === "readable").at(-1), { event: "readable", value: 4 });
			assert.deepEqual(await app.call("format", "number"), { result: "number" });
			assert.deepEqual(await app.call("read", { n: 100 }), { result: 0x41 }, "one byte, whatever the argument");
			assert.equal((await app.call("format", "text")).error.name, "RangeError");
			assert.deepEqual(await app.call("format", "buffer"), { result: "buffer" });
			assert.deepEqual(await app.call("read"), { result: { length: 3, text: "BCD" } });
		}
		finally {
			await closeQuietly(app);
			await server.close();
		}
	});

	test(`${platform}: the peer's close_notify traces "SSL: close notify" and calls onError; a peer that drops the connection: onError`, async () => {
		const app = apps[platform];
		const server = await tlsServer({}, s => { later(s, "bye"); setTimeout(() => s.end(), 100); });
		const dropping = await tlsServer({}, s => setTimeout(() => s.destroy(), 50));
		try {
			const before = app.output.length;
			await app.call("open", server.port, { ...secure(), plan: { readable: "all", error: "close" } });
			const events = await waitEvents(app, events => events.some(e => e.event === "error"), "onError");
			assert.deepEqual(tlsEvents(events).filter(e => e.event !== "writable"), [
				{ event: "readable", value: 3, read: { length: 3, text: "bye" } },
				{ event: "error" },
			]);
			assert.equal(app.output.slice(before), "SSL: close notify\n");
			await sleep(100);
			assert.equal(tlsEvents(await app.call("events")).filter(e => e.event === "error").length, 1);

			await app.call("open", dropping.port, secure());
			const dropped = await waitEvents(app, events => events.some(e => e.event === "error"), "onError");
			const at = dropped.findIndex(e => e.event === "error");
			assert.equal(dropped[at - 1].event, "tcp-error", "the TCP socket's onError, passed on");
			assert.equal(app.output.slice(before), "SSL: close notify\n", "no close_notify this time");
		}
		finally {
			await closeQuietly(app);
			await server.close();
			await dropping.close();
		}
	});

	test(`${platform}: client certificate and key (mutual TLS), ALPN; a server that picks DHE_RSA and asks for the certificate: "certificateVerify: unimplemented"`, async () => {
		const app = apps[platform];
		const server = await tlsServer({ ca: certs.ca.pem, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ["mqtt"] },
			s => later(s, `client=${s.getPeerCertificate().subject?.CN}`));
		const dhe = await tlsServer({ requestCert: true, rejectUnauthorized: false, honorCipherOrder: true, dhparam: "auto", ciphers: "DHE-RSA-AES128-SHA256:AES128-SHA256" });
		const client = { clientKey: certs.client.keyDer, clientCertificates: [certs.client.der], applicationLayerProtocolNegotiation: "mqtt" };
		try {
			await app.call("open", server.port, { ...secure(client), plan: { readable: "all" } });
			const events = await waitEvents(app, events => events.some(e => e.event === "readable"), "data over mutual TLS");
			assert.equal(events.find(e => e.event === "readable").read.text, "client=mqttc-device");
			assert.equal(/** @type {tls.TLSSocket} */ ((await server.connection()).socket).alpnProtocol, "mqtt");
			await app.call("close");
			await app.call("open", dhe.port, { ...secure(client), guard: true });
			const failed = await waitEvents(app, events => events.some(e => e.event === "caught"), "certificateVerify");
			assert.deepEqual(failed.find(e => e.event === "caught"), { event: "caught", name: "TLS", message: "certificateVerify: unimplemented" });
			const flight = failed.filter(e => e.event === "tcp-write").slice(1);
			assert.equal(flight.length, 2, "Certificate and ClientKeyExchange were written");
		}
		finally {
			await closeQuietly(app);
			await server.close();
			await dhe.close();
		}
	});
}

test("data the server sends with its Finished is lost: the SDK's TLSSocket reads it with the handshake's last record and drops it (both profiles)", async () => {
	const server = await tlsServer({}, s => { s.write("early"); later(s, "later"); });
	try {
		for (const platform of PLATFORMS) {
			const app = apps[platform];
			await app.call("open", server.port, { ...secure(), plan: { readable: "all" } });
			const events = await waitEvents(app, events => events.some(e => e.event === "readable"), "onReadable");
			assert.deepEqual(tlsEvents(events).filter(e => e.event === "readable"), [{ event: "readable", value: 5, read: { length: 5, text: "later" } }], platform);
			await app.call("close");
		}
	}
	finally {
		await server.close();
	}
});
