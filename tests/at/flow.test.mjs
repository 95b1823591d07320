// The at-modem app on the XS engine with the real mqttc against mosquitto, where the
// serial line is slow or the broker misbehaves: flow control end to end, a final result
// for every line, timeouts, OPEN/reset codes, UTF-8 backspace. The stand-in UART is
// paced at 115200 baud (config.uart_baud: the app's TCP "UART" sends no faster than
// 11520 bytes/s through a 256-byte FIFO, as a device's UART driver does).
import test from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {startBroker as mosquitto, freePort} from "../lib/broker.mjs";
import {startModem, burst, waitCount} from "./_uart.mjs";

const OK = /\r\nOK\r\n/;
const ERROR = /\r\nERROR\r\n/;
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const line = (s) => new RegExp("\\r\\n" + esc(s) + "\\r\\n");
const UART_115200 = {config: {uart_baud: 115200}};

async function session(fn, modemOptions = UART_115200, brokerOptions) {
	const broker = await mosquitto(brokerOptions);
	const m = await startModem(modemOptions);
	try {
		await fn(m, broker);
	} finally {
		await m.stop();
		await broker.stop();
	}
}

function assertAllOnce(found, count) {
	const seen = found.map((f) => Number(f[1])).sort((a, b) => a - b);
	assert.deepEqual(seen, Array.from({length: count}, (_, i) => i), "every message exactly once");
}

test("dialect A: 40 × 900 B QoS 1 from mosquitto_pub through a 115200-baud UART give exactly 40 +ECMTRECV", {timeout: 60000}, async () => {
	await session(async (m, broker) => {
		await m.cmd("ATE0", OK);
		await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${broker.port}`, OK);
		await m.expect(line("+ECMTOPEN: 0,0"));
		await m.cmd('AT+ECMTCONN=0,"burst-a"', OK);
		await m.expect(line("+ECMTCONN: 0,0,0"));
		await m.cmd('AT+ECMTSUB=0,1,"burst",1', OK);
		await m.expect(line("+ECMTSUB: 0,1,0,1"));
		const t0 = Date.now();
		await burst(broker.port, "burst", 40, 900);
		const re = /\r\n\+ECMTRECV: 0,\d+,"burst","(\d\d)p{898}"\r\n/g;
		await waitCount(m, re, 40, 30000);
		const took = Date.now() - t0;
		await new Promise((r) => setTimeout(r, 1000)); // nothing more may come
		const found = [...m.text.matchAll(re)];
		assert.equal(found.length, 40, `URCs after ${took} ms`);
		assertAllOnce(found, 40);
		assert.doesNotMatch(m.text, /ECMTDROPPED/);
		// the line was really the bottleneck: 40 URCs of ~930 bytes at 11520 bytes/s
		assert.ok(took > 2500, `took ${took} ms: the UART was not paced`);
		await m.cmd("AT", OK);
		process.stderr.write(`# dialect A burst: 40 × 900 B in ${took} ms through 115200 baud\n`);
	});
});

test("dialect B: 40 × 900 B QoS 1 through a 115200-baud UART give exactly 40 +MQTTSUBRECV", {timeout: 60000}, async () => {
	await session(async (m, broker) => {
		await m.cmd("ATE0", OK);
		await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${broker.port},burst-b,1,60`, OK);
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:0"));
		await m.expect(OK);
		await m.cmd('AT+MQTTSUB="burst",1', OK);
		await burst(broker.port, "burst", 40, 900);
		const re = /\r\n\+MQTTSUBRECV:"burst",900,(\d\d)p{898}\r\n/g;
		await waitCount(m, re, 40, 30000);
		await new Promise((r) => setTimeout(r, 1000));
		const found = [...m.text.matchAll(re)];
		assert.equal(found.length, 40);
		assertAllOnce(found, 40);
		assert.doesNotMatch(m.text, /MQTTDROPPED/);
		await m.cmd("AT", OK);
	});
});

test("a 100 KB line gets its ERROR through a 115200-baud UART, with echo on; the next AT gets OK", {timeout: 60000}, async () => {
	const m = await startModem(UART_115200);
	try {
		await m.cmd("AT", OK);
		m.send('AT+ECMTPUB=0,0,0,0,"t","' + "x".repeat(100 * 1024) + '"\r\n');
		await m.expect(ERROR, 20000);
		await m.cmd("AT", OK);
		assert.ok(m.received < 16 * 1024, `the echo that found no room was dropped, not queued without bound (${m.received} bytes)`);
	} finally {
		await m.stop();
	}
});

test("a broker that stops answering (SIGSTOP): SUB/PUB give code 8 within 5 s and the next AT gets OK; dialect A fails SUB with 2 after its packet timeout", {timeout: 90000}, async () => {
	await session(async (m, broker) => {
		await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${broker.port},stopped-b,1,60`, OK);
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:0"));
		await m.expect(OK);
		await m.cmd('AT+ECMTCFG="timeout",0,2', OK);
		await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${broker.port}`, OK);
		await m.expect(line("+ECMTOPEN: 0,0"));
		await m.cmd('AT+ECMTCONN=0,"stopped-a"', OK);
		await m.expect(line("+ECMTCONN: 0,0,0"));
		process.kill(broker.pid, "SIGSTOP");
		try {
			for (const [cmd, name] of [['AT+MQTTSUB="quiet",1', "+MQTTSUB"], ["AT+MQTTPUB=quiet,1,0,x", "+MQTTPUB"], ['AT+MQTTUNSUB="quiet"', "+MQTTUNSUB"]]) {
				const t0 = Date.now();
				await m.cmd(cmd, line(name + ":8"), 9000);
				await m.expect(ERROR);
				const took = Date.now() - t0;
				assert.ok(took < 5000 + 2000, `${cmd}: code 8 after ${took} ms (bound 5 s)`);
				await m.cmd("AT", OK);
			}
			const t0 = Date.now();
			await m.cmd('AT+ECMTSUB=0,7,"quiet",1', OK);
			await m.expect(line("+ECMTSUB: 0,7,2"), 6000);
			assert.ok(Date.now() - t0 < 2000 + 2000);
			await m.cmd("AT", OK);
			m.saveTranscript("stopped-broker.txt");
		} finally {
			process.kill(broker.pid, "SIGCONT");
		}
	});
});

test("dialect A: CONNECT to a server that accepts TCP but never answers gives +ECMTCONN: 0,2 after the packet timeout", {timeout: 30000}, async () => {
	const mute = net.createServer((s) => s.on("error", () => {}));
	await new Promise((r) => mute.listen(0, "127.0.0.1", r));
	const m = await startModem();
	try {
		await m.cmd('AT+ECMTCFG="timeout",0,2', OK);
		await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${mute.address().port}`, OK);
		await m.expect(line("+ECMTOPEN: 0,0"));
		const t0 = Date.now();
		await m.cmd('AT+ECMTCONN=0,"mute"', OK);
		await m.expect(line("+ECMTCONN: 0,2"), 6000);
		assert.ok(Date.now() - t0 < 2000 + 2000);
		await m.cmd("AT", OK);
	} finally {
		await m.stop();
		mute.close();
	}
});

/** A TCP relay to the broker whose client side can be reset (RST) on demand. */
async function resettingRelay(brokerPort) {
	const pairs = new Set();
	const server = net.createServer((client) => {
		const upstream = net.connect(brokerPort, "127.0.0.1");
		const pair = {client, upstream};
		pairs.add(pair);
		client.pipe(upstream);
		upstream.pipe(client);
		const forget = () => pairs.delete(pair);
		client.on("error", forget);
		upstream.on("error", () => client.destroy());
		client.on("close", () => { upstream.destroy(); forget(); });
	});
	await new Promise((r) => server.listen(0, "127.0.0.1", r));
	return {
		port: server.address().port,
		reset() {
			for (const {client, upstream} of pairs) {
				client.resetAndDestroy();
				upstream.destroy();
			}
			pairs.clear();
		},
		close: () => server.close(),
	};
}

test("a connection reset by the broker's side gives +ECMTSTAT: 0,1 and +MQTTDISCONNECTED:5", {timeout: 60000}, async () => {
	await session(async (m, broker) => {
		const relay = await resettingRelay(broker.port);
		try {
			await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${relay.port}`, OK);
			await m.expect(line("+ECMTOPEN: 0,0"));
			await m.cmd('AT+ECMTCONN=0,"reset-a"', OK);
			await m.expect(line("+ECMTCONN: 0,0,0"));
			await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${relay.port},reset-b,1,60`, OK);
			await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:0"));
			await m.expect(OK);
			relay.reset();
			await m.expectAll([line("+ECMTSTAT: 0,1"), line("+MQTTDISCONNECTED:5")]);
			await m.cmd("AT", OK);
			m.saveTranscript("reset.txt");
		} finally {
			relay.close();
		}
	}, {});
});

test("Backspace/DEL after the seed's \u201d removes the whole character", {timeout: 60000}, async () => {
	await session(async (m, broker) => {
		await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${broker.port}`, OK);
		await m.expect(line("+ECMTOPEN: 0,0"));
		await m.cmd("AT+ECMTCONN=0", OK);
		await m.expect(line("+ECMTCONN: 0,0,0"));
		// a typo erased: one \u201d too many, then DEL (0x7f), then Backspace after a second typo
		m.send("AT+ECMTSUB=0,1,\u201dtest\u201d\u201d\x7f,2\r\n");
		await m.expect(line("+ECMTSUB: 0,1,0,2"));
		m.send('AT+ECMTPUB=0,0,0,0,"test","h\u00e9\u201d\b"\r\n');
		await m.expect(line('+ECMTRECV: 0,0,"test","h\u00e9"'.replace(/[^\x00-\x7f]/g, (c) => Buffer.from(c).toString("latin1"))));
		await m.cmd("AT", OK);
	}, {});
});

// On a device (lwIP) a refused connect is an error at once. The Linux simulator's socket
// reports it as connected and fails the first write, so there OPEN says 0,0 and CONN 0,2.
test("OPEN to a closed port gives +ECMTOPEN: 0,1 at once (refused, ESP32 sockets), without waiting for CONN", {timeout: 30000}, async () => {
	const port = await freePort();
	const m = await startModem({platform: "esp32"});
	try {
		const t0 = Date.now();
		await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${port}`, OK);
		await m.expect(line("+ECMTOPEN: 0,1"));
		assert.ok(Date.now() - t0 < 5000);
		// OPEN again once something listens
		const broker = await mosquitto({port});
		const connections = () => (broker.log().match(/New connection from/g) ?? []).length;
		try {
			await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${port}`, OK);
			await m.expect(line("+ECMTOPEN: 0,0"));
			await new Promise((r) => setTimeout(r, 300));
			const opened = connections();
			assert.doesNotMatch(broker.log(), /as late/, "OPEN sends no CONNECT");
			await m.cmd('AT+ECMTCONN=0,"late"', OK);
			await m.expect(line("+ECMTCONN: 0,0,0"));
			assert.match(broker.log(), /New client connected .* as late/);
			assert.equal(connections(), opened, "CONNECT went on the connection OPEN made");
			m.saveTranscript("open-closed-port.txt");
		} finally {
			await broker.stop();
		}
	} finally {
		await m.stop();
	}
});
