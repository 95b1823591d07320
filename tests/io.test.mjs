// MQTT over the ECMA-419 TCP socket (mqttc/io, manifest_io.json) on the XS host, whose
// `embedded:io/socket/tcp` follows the SDK's two implementations: `lin` (the simulator: a
// 20 ms poll, 1,536 bytes to write and to read at a time, a refused connect is onError) and
// `esp32` (lwIP: the send buffer's room, writes before connecting throw). The client
// scenarios run against mosquitto on both; a proxy cuts connections for the reconnects.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startBroker, mosquittoSub } from "./lib/broker.mjs";
import { startDriver, connected } from "./lib/driver.mjs";
import { startCuttingProxy } from "./lib/cutting-proxy.mjs";
import { startAedesWs } from "./lib/ws-broker.mjs";
import { idleKeepalive } from "./lib/scenarios.mjs";

const IO = { io: true };

/** A port on 127.0.0.1 nobody listens on. */
async function closedPort() {
	const server = net.createServer();
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	const port = server.address().port;
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/** Subscribes `name` to `topic` at QoS 2, publishes "hello <qos>" at QoS 0, 1 and 2, and
 * waits for each to come back at its QoS. */
async function qosRoundTrip(driver, name, topic) {
	await driver.call(name, "subscribe", topic, 2);
	await driver.waitEvent(name, "suback");
	for (const qos of [0, 1, 2]) assert.notEqual(await driver.call(name, "publish", topic, `hello ${qos}`, qos), null);
	for (const qos of [0, 1, 2]) {
		const recv = await driver.waitEvent(name, "recv", (e) => e.payload === `hello ${qos}`);
		assert.equal(recv.metas.qos, qos);
	}
}

let broker;
before(async () => { broker = await startBroker(); });
after(async () => { await broker?.stop(); });

for (const platform of ["lin", "esp32"]) {
	describe(`ECMA-419 TCP on the ${platform} profile`, () => {
		let driver;
		before(async () => { driver = await startDriver({ platform }); });
		after(async () => { await driver?.stop(); });
		const p = platform;

		test("QoS 0, 1 and 2 both ways; retained; the will of a client whose connection drops", async () => {
			await connected(driver, `${p}a`, broker.port, { opts: IO });
			await qosRoundTrip(driver, `${p}a`, `${p}/t`);
			const kept = await driver.call(`${p}a`, "publish", `${p}/retained`, "kept", 1, 1);
			await driver.waitEvent(`${p}a`, "sent", (e) => e.data === kept);
			await connected(driver, `${p}b`, broker.port, { opts: IO });
			await driver.call(`${p}b`, "subscribe", `${p}/#`, 1);
			const retained = await driver.waitEvent(`${p}b`, "recv", (e) => e.data === `${p}/retained`);
			assert.equal(retained.metas.retain, 1);
			const proxy = await startCuttingProxy(broker.port, () => "forward");
			try {
				assert.ok(await driver.create(`${p}w`, "127.0.0.1", proxy.port, null, IO));
				await driver.call(`${p}w`, "will", `${p}/will`, "gone", 1);
				await driver.call(`${p}w`, "connect");
				await driver.waitEvent(`${p}w`, "conack");
				proxy.cutAll();
				await driver.waitEvent(`${p}b`, "recv", (e) => e.data === `${p}/will` && e.payload === "gone");
				assert.equal((await driver.waitEvent(`${p}w`, "disconnect")).data, "peer");
			}
			finally {
				await proxy.stop();
			}
			for (const name of ["a", "b", "w"]) await driver.call(`${p}${name}`, "close");
		});

		test("a cut connection reconnects (autoreconn) and the QoS 1 message it cut is resent", async () => {
			let cut = false;
			const proxy = await startCuttingProxy(broker.port, (packet, direction) => {
				if (!cut && direction === "up" && packet.cmd === "publish") {
					cut = true;
					return "cut-before";
				}
				return "forward";
			});
			try {
				await connected(driver, `${p}rc`, proxy.port, { opts: IO, clean: false });
				await driver.call(`${p}rc`, "autoreconn", true, 200);
				await driver.call(`${p}rc`, "subscribe", `${p}/rc`, 1);
				await driver.waitEvent(`${p}rc`, "suback");
				const id = await driver.call(`${p}rc`, "publish", `${p}/rc`, "cut once", 1);
				assert.equal((await driver.waitEvent(`${p}rc`, "disconnect")).data, "peer");
				await driver.waitEvent(`${p}rc`, "conack");
				await driver.waitEvent(`${p}rc`, "sent", (e) => e.data === id);
				const recv = await driver.waitEvent(`${p}rc`, "recv", (e) => e.payload === "cut once");
				assert.equal(recv.metas.qos, 1);
				assert.ok(cut);
				await driver.call(`${p}rc`, "close");
			}
			finally {
				await proxy.stop();
			}
		});

		test("a refused port: error connect and disconnect, never an abort; failover to a backup address", async () => {
			const port = await closedPort();
			assert.ok(await driver.create(`${p}no`, "127.0.0.1", port, null, IO));
			await driver.call(`${p}no`, "connect");
			const error = await driver.waitEvent(`${p}no`, "error");
			assert.equal(error.data, "connect");
			assert.equal(error.payload, "connection failed (refused or unreachable)");
			assert.equal((await driver.waitEvent(`${p}no`, "disconnect")).data, "connect");
			await driver.call(`${p}no`, "close");
			assert.ok(await driver.create(`${p}fo`, "127.0.0.1", port, null, { ...IO, backup: [`127.0.0.1:${broker.port}`] }));
			await driver.call(`${p}fo`, "connect");
			await driver.waitEvent(`${p}fo`, "conack");
			await driver.call(`${p}fo`, "close");
		});

		test("20 KB through a 1 KB rxSize streams in pieces; 50 QoS 1 messages of 1 KB pass the socket's room in order", async () => {
			await connected(driver, `${p}big`, broker.port, { opts: { ...IO, rxSize: 1024 } });
			await driver.call(`${p}big`, "subscribe", `${p}/big`, 1);
			await driver.waitEvent(`${p}big`, "suback");
			await connected(driver, `${p}pub`, broker.port, { opts: { ...IO, outbox: 65536, inflight: 100 } });
			assert.notEqual(await driver.call(`${p}pub`, "publish", `${p}/big`, "x".repeat(20000), 1), null);
			let got = 0;
			while (got < 20000) {
				const piece = await driver.waitEvent(`${p}big`, "recv");
				assert.equal(piece.metas.total, 20000);
				got += piece.payload.length;
			}
			assert.equal(got, 20000);
			const watcher = await mosquittoSub(broker.port, ["-t", `${p}/burst`, "-q", "1"]);
			try {
				const ids = await driver.app.call("burst", `${p}pub`, `${p}/burst`, "y".repeat(1024), 50, 1);
				assert.ok(ids.every((id) => id !== null));
				await watcher.waitFor(50);
				assert.deepEqual(watcher.lines.map((line) => line.slice(line.indexOf(" ") + 1)), ids.map((_, i) => "y".repeat(1024) + i));
			}
			finally {
				watcher.stop();
			}
			await driver.call(`${p}big`, "close");
			await driver.call(`${p}pub`, "close");
		});

		test("the graceful disconnect settles what was in flight, then DISCONNECT", async () => {
			await connected(driver, `${p}bye`, broker.port, { opts: IO });
			const id = await driver.call(`${p}bye`, "publish", `${p}/bye`, "last words", 1);
			assert.equal(await driver.call(`${p}bye`, "disconnect"), true);
			await driver.waitEvent(`${p}bye`, "sent", (e) => e.data === id);
			assert.equal((await driver.waitEvent(`${p}bye`, "disconnect")).data, "user");
			await driver.call(`${p}bye`, "close");
		});

		test("MQTT over WebSocket over the ECMA-419 socket (Aedes behind ws): QoS 1 both ways, 6 KB", async (t) => {
			const ws = await startAedesWs();
			t.after(() => ws.stop());
			await connected(driver, `${p}ws`, ws.port, { opts: { ...IO, websocket: true } });
			await driver.call(`${p}ws`, "subscribe", `${p}/ws`, 1);
			await driver.waitEvent(`${p}ws`, "suback");
			const id = await driver.call(`${p}ws`, "publish", `${p}/ws`, "z".repeat(6000), 1);
			await driver.waitEvent(`${p}ws`, "sent", (e) => e.data === id);
			await driver.waitEvent(`${p}ws`, "recv", (e) => e.payload.length === 6000);
			assert.equal(ws.upgrades.length, 1);
			await driver.call(`${p}ws`, "close");
		});

		test("host names: resolved by the app's ECMA-419 resolver; an unknown name, no resolver, an invalid address: error connect", async () => {
			const dns = { table: { "broker.test": "127.0.0.1" } };
			assert.ok(await driver.create(`${p}dns`, "broker.test", broker.port, null, { io: { dns } }));
			await driver.call(`${p}dns`, "connect");
			await driver.waitEvent(`${p}dns`, "conack");
			await driver.call(`${p}dns`, "close");
			assert.ok(await driver.create(`${p}nx`, "nowhere.test", broker.port, null, { io: { dns } }));
			await driver.call(`${p}nx`, "connect");
			assert.equal((await driver.waitEvent(`${p}nx`, "error")).payload, "cannot resolve nowhere.test");
			assert.equal((await driver.waitEvent(`${p}nx`, "disconnect")).data, "connect");
			await driver.call(`${p}nx`, "close");
			// The XS host has no `net` module: nothing can resolve the name.
			assert.ok(await driver.create(`${p}nr`, "broker.test", broker.port, null, IO));
			await driver.call(`${p}nr`, "connect");
			assert.match((await driver.waitEvent(`${p}nr`, "error")).payload, /broker\.test is a name: opts\.io\.dns .* must resolve it/);
			await driver.call(`${p}nr`, "close");
			// An address the socket refuses at construction: the open fails, the VM goes on.
			assert.ok(await driver.create(`${p}ba`, "300.1.2.3", broker.port, null, IO));
			await driver.call(`${p}ba`, "connect");
			assert.equal((await driver.waitEvent(`${p}ba`, "error")).payload, "cannot open connection: invalid address");
			assert.equal((await driver.waitEvent(`${p}ba`, "disconnect")).data, "connect");
			await driver.call(`${p}ba`, "close");
		});
	});
}

test("ECMA-419: keepalive pings when idle and gets PINGRESP (virtual time, both profiles)", async () => {
	for (const platform of ["lin", "esp32"]) await idleKeepalive(broker.port, { opts: IO, platform });
});

test("ECMA-419: bad opts.io is refused by create() with the reason", async () => {
	const driver = await startDriver();
	try {
		for (const [io, reason] of [[7, /io must be true or a table/], [{ socket: { io: 1 } }, /io\.socket must be an ECMA-419 socket entry/], [{ dns: "x" }, /io\.dns must be an ECMA-419 resolver entry/]]) {
			assert.equal(await driver.create("bad", "127.0.0.1", broker.port, null, { io }), false);
			assert.match(driver.app.output, reason);
		}
	}
	finally {
		await driver.stop();
	}
});

// TLS over ECMA-419: mqttc's manifest_io_tls.json (the SDK's TLSSocket, embedded:io/socket/tcp/tls,
// over the ECMA-419 TCP socket of each profile) against mosquitto's TLS listener. Its own driver
// app (tests/apps/client-iotls: the same main without manifest_tls.json, which cannot go with it).
describe("ECMA-419 TLS (manifest_io_tls.json) against mosquitto's TLS listener", () => {
	let certs;
	let tlsBroker;
	before(async () => {
		const { makeCerts } = await import("./lib/certs.mjs");
		const { startTlsBroker } = await import("./lib/broker.mjs");
		certs = makeCerts();
		tlsBroker = await startTlsBroker(certs);
	});
	after(async () => {
		await tlsBroker?.stop();
		certs?.cleanup();
	});

	for (const platform of ["lin", "esp32"]) {
		test(`${platform}: QoS 0, 1 and 2 round trips, 10 KB through rxSize 4096; a wrong CA is error connect "TLS failed: certificate..." and the VM goes on`, async () => {
			const driver = await startDriver({ platform, app: "client-iotls" });
			const p = `tls${platform}`;
			try {
				const ssl = { server_cert: certs.ca.pem };
				await connected(driver, `${p}a`, tlsBroker.port, { ssl, opts: { ...IO, rxSize: 4096 } });
				await qosRoundTrip(driver, `${p}a`, `${p}/t`);
				const big = "b".repeat(10000);
				const id = await driver.call(`${p}a`, "publish", `${p}/t`, big, 1);
				await driver.waitEvent(`${p}a`, "sent", (e) => e.data === id);
				let got = "";
				while (got.length < big.length) {
					const piece = await driver.waitEvent(`${p}a`, "recv", (e) => e.metas.total === big.length);
					got += piece.payload;
				}
				assert.equal(got, big);

				assert.ok(await driver.create(`${p}ca`, "127.0.0.1", tlsBroker.port, { server_cert: certs.other.pem }, IO));
				await driver.call(`${p}ca`, "connect");
				const error = await driver.waitEvent(`${p}ca`, "error");
				assert.equal(error.data, "connect");
				assert.match(error.payload, /^TLS failed: certificate/);
				assert.equal((await driver.waitEvent(`${p}ca`, "disconnect")).data, "connect");
				assert.equal(driver.seen(`${p}ca`, "conack").length, 0);
				await driver.call(`${p}ca`, "close");
				// the VM is alive: the first client still round-trips
				await driver.call(`${p}a`, "publish", `${p}/t`, "after", 1);
				await driver.waitEvent(`${p}a`, "recv", (e) => e.payload === "after");
				assert.equal(await driver.call(`${p}a`, "disconnect"), true);
				assert.equal((await driver.waitEvent(`${p}a`, "disconnect")).data, "user");
				await driver.call(`${p}a`, "close");
			}
			finally {
				await driver.stop();
			}
		});
	}
});

test("an app with both TLS manifests (SecureSocket's and the ECMA-419 TLS socket's ssl/session) is refused ssl by create(), saying why; without ssl it works", async () => {
	const driver = await startDriver({ app: "client-bothtls" });
	try {
		const reason = /manifest_tls\.json and manifest_io_tls\.json cannot go together/;
		assert.equal(await driver.create("classic", "127.0.0.1", broker.port, {}, null), false);
		assert.match(driver.app.output, reason);
		const before = driver.app.output.length;
		assert.equal(await driver.create("io", "127.0.0.1", broker.port, {}, IO), false);
		assert.match(driver.app.output.slice(before), reason);
		await connected(driver, "plain", broker.port, { opts: IO });
		await driver.call("plain", "close");
	}
	finally {
		await driver.stop();
	}
});
