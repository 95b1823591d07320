// The AT front end on the XS engine: hosts/examples/at-modem runs in the desktop XS host
// with the real mqttc client, its UART is a TCP connection from this test, and the broker
// is a real mosquitto on 127.0.0.1. Set AT_TRANSCRIPT_DIR to keep the session bytes.
import test from "node:test";
import assert from "node:assert/strict";
import {spawn, execFileSync} from "node:child_process";
import net from "node:net";
import {mosquittoPub, mosquittoSub, startBroker as mosquitto} from "../lib/broker.mjs";
import {startModem} from "./_uart.mjs";


const OK = /\r\nOK\r\n/;
const ERROR = /\r\nERROR\r\n/;
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const line = (s) => new RegExp("\\r\\n" + esc(s) + "\\r\\n");

/** One message from mosquitto_sub, payload as hex (-F %x), after it has subscribed. */
async function subscribeHex(port, topic) {
	const child = spawn("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-C", "1", "-F", "%x"], {stdio: ["ignore", "pipe", "pipe"]});
	let out = "";
	child.stdout.on("data", (d) => (out += d));
	const done = new Promise((resolve) => child.once("exit", () => resolve(out.trim())));
	await new Promise((r) => setTimeout(r, 300));
	return {done, stop: () => child.kill()};
}

async function withSession(fn, {broker: brokerOpts} = {}) {
	const broker = await mosquitto(brokerOpts);
	const modem = await startModem();
	try {
		await fn(modem, broker);
	} finally {
		await modem.stop();
		await broker.stop();
	}
}

test("dialect A: the seed 002 sequence against mosquitto, mosquitto_pub -> +ECMTRECV, data mode with CR/LF", {timeout: 60000}, async () => {
	await withSession(async (m, broker) => {
		const P = broker.port;
		await m.cmd("AT");
		await m.cmd("ATI");
		await m.cmd(`AT+ECMTOPEN=0, "127.0.0.1",${P}`);
		await m.expect(line("+ECMTOPEN: 0,0"));
		await m.cmd("AT+ECMTCONN=0");
		await m.expect(line("+ECMTCONN: 0,0,0"));
		await m.cmd("AT+ECMTCONN?", line("+ECMTCONN: 0,3"));
		await m.expect(OK);
		await m.cmd("AT+ECMTSUB=0,1,\u201dtest\u201d,2");
		await m.expect(line("+ECMTSUB: 0,1,0,2"));
		await m.cmd('AT+ECMTPUB=0,0,0,0,"test","hello"');
		await m.expectAll([line("+ECMTPUB: 0,0,0"), line('+ECMTRECV: 0,0,"test","hello"')]);

		// a message from another client
		await mosquittoPub(P, ["-t", "test", "-q", "1", "-m", "from mosquitto_pub"]);
		await m.expect(/\r\n\+ECMTRECV: 0,\d+,"test","from mosquitto_pub"\r\n/);

		// data mode: CR, LF, NUL, quotes and high bytes, ended by Ctrl-Z
		const payload = Buffer.from([0x6c, 0x31, 0x0d, 0x0a, 0x6c, 0x32, 0x0d, 0x00, 0x22, 0xff, 0x0a]);
		const seen = await subscribeHex(P, "test");
		m.send('AT+ECMTPUB=0,7,1,0,"test"\r');
		await m.expect(/\r\n> $/);
		m.send(payload.subarray(0, 5));
		await new Promise((r) => setTimeout(r, 50));
		m.send(Buffer.concat([payload.subarray(5), Buffer.from([0x1a])]));
		await m.expect(OK);
		const [, recv] = await m.expectAll([line("+ECMTPUB: 0,7,0"), /\r\n\+ECMTRECV: 0,\d+,"test","([\s\S]*?)"\r\n/]);
		assert.deepEqual(Buffer.from(recv[1], "latin1"), payload);
		assert.equal(await seen.done, payload.toString("hex"));

		// Esc cancels data mode: nothing is published
		m.send('AT+ECMTPUB=0,8,1,0,"test"\r');
		await m.expect(/\r\n> $/);
		m.send("never sent\x1b");
		await m.expect(OK);

		await m.cmd('AT+ECMTUNS=0,4, "test"');
		await m.expect(line("+ECMTUNS: 0,4,0"));
		await mosquittoPub(P, ["-t", "test", "-m", "not for us"]);
		await m.cmd("AT+ECMTDISC=0");
		await m.expect(line("+ECMTDISC: 0,0"));
		await m.cmd("AT");
		assert.ok(!m.text.includes("not for us"));
		assert.ok(!m.text.includes("never sent\r\n+"));
		m.saveTranscript("dialect-a.txt");
	});
});

test("dialect A: killing the broker gives +ECMTSTAT: 0,1; the engine answers and reconnects", {timeout: 60000}, async () => {
	await withSession(async (m, broker) => {
		const P = broker.port;
		await m.cmd('AT+ECMTCFG="keepalive",0,60');
		await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${P}`);
		await m.expect(line("+ECMTOPEN: 0,0"));
		await m.cmd('AT+ECMTCONN=0,"at-kill"');
		await m.expect(line("+ECMTCONN: 0,0,0"));
		await m.cmd('AT+ECMTSUB=0,2,"k/#",1');
		await m.expect(line("+ECMTSUB: 0,2,0,1"));
		await broker.kill();
		await m.expect(line("+ECMTSTAT: 0,1"));
		await m.cmd("AT");
		await m.cmd('AT+ECMTPUB=0,0,0,0,"k/1","x"', ERROR);
		await m.cmd("AT+ECMTCONN?");
		// the broker is back: open and connect again
		await broker.restart();
		await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${P}`);
		await m.expect(line("+ECMTOPEN: 0,0"));
		await m.cmd('AT+ECMTCONN=0,"at-kill"');
		await m.expect(line("+ECMTCONN: 0,0,0"));
		await m.cmd("AT+ECMTCLOSE=0");
		await m.expect(line("+ECMTCLOSE: 0,0"));
		m.saveTranscript("dialect-a-kill.txt");
	});
});

test("dialect A: OPEN to a closed port gives +ECMTOPEN: 0,1 (TCP is opened by OPEN, ESP32 sockets); CONN then has nothing to use", {timeout: 30000}, async () => {
	const broker = await mosquitto();
	const P = broker.port;
	await broker.stop();
	const m = await startModem({platform: "esp32"});
	try {
		await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${P}`, OK);
		await m.expect(line("+ECMTOPEN: 0,1"));
		await m.cmd('AT+ECMTCONN=0,"nobody"', ERROR);
		await m.cmd("AT", OK);
		await m.cmd("AT+ECMTCONN?", OK);
		assert.doesNotMatch(m.text, /\+ECMTOPEN: 0,0/);
	} finally {
		await m.stop();
	}
});

test("malformed commands get ERROR and the engine keeps answering", {timeout: 60000}, async () => {
	await withSession(async (m, broker) => {
		await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${broker.port}`);
		await m.expect(line("+ECMTOPEN: 0,0"));
		await m.cmd('AT+ECMTCONN=0,"at-bad"');
		await m.expect(line("+ECMTCONN: 0,0,0"));
		const bad = [
			"AT+ECMTPUB=0,0,0,0,test,hello", // missing quotes
			'AT+ECMTPUB=0,0,0,0,"test,"hello', // unterminated quote
			'AT+ECMTPUB=0,1,3,0,"test","x"', // qos 3
			'AT+ECMTPUB=0,0,1,0,"test","x"', // msgID 0 with qos 1
			'AT+ECMTSUB=0,1,"test",7',
			'AT+ECMTSUB=0,0,"test",1',
			"AT+ECMTCONN=0,unquoted",
			"AT+NOPE",
			"hello",
			"AT+ECMTPUB=0,0,0,0,\"t\",\"" + "x".repeat(3000) + "\"", // overlong line
			"AT+MQTTPUB=t,5,0,x",
			"AT+MQTTSUB=t",
		];
		for (const l of bad) {
			await m.cmd(l);
			const tail = m.text.slice(-16);
			assert.match(tail, /ERROR\r\n$/, l.slice(0, 60));
			await m.cmd("AT", OK);
		}
		// bytes that are not UTF-8, a lone Ctrl-Z and Esc outside data mode
		m.send(Buffer.from([0x41, 0x54, 0x2b, 0xff, 0xfe, 0xc3, 0x0d, 0x0a]));
		await m.expect(ERROR);
		m.send(Buffer.from([0x1a, 0x1b, 0x0d, 0x0a]));
		await m.expect(ERROR);
		await m.cmd("AT", OK);
		// still working end to end
		await m.cmd('AT+ECMTPUB=0,0,0,0,"test","still here"');
		await m.expect(line("+ECMTPUB: 0,0,0"));
		await m.cmd("AT+ECMTDISC=0");
		await m.expect(line("+ECMTDISC: 0,0"));
	});
});

test("dialect B: the seed 003 sequence against mosquitto, mosquitto_pub -> +MQTTSUBRECV", {timeout: 60000}, async () => {
	await withSession(async (m, broker) => {
		const P = broker.port;
		const PW = "version=2018 -10-31&res=products%2F431671%2Fdevices%2FMQTT002&et=1635216369&method= md5&sign=UJyDU%2FI3%2FVGCJFjUHhBAXw%3D%3D";
		await m.cmd("AT+MQTTTLS=?", line("+MQTTTLS:(0-1)"));
		await m.expect(OK);
		await m.cmd("AT+MQTTCONFIG=?", line("+MQTTCONFIG:<url>,<port>,<client id>,(0-1),<keepalive>,<username>,<password>"));
		await m.expect(OK);
		await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${P},MQTT002,1,60,431671,${PW}`);
		await m.cmd("AT+MQTTCONFIG?", line(`+MQTTCONFIG:127.0.0.1,${P},MQTT002,1,60,431671,${PW}`));
		await m.expect(OK);
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:0"));
		await m.expect(OK);
		await m.cmd("AT+MQTTPUB=?", line("+MQTTPUB:<topic>,(0-2),(0-1);<message>"));
		await m.expect(OK);
		const sub = await mosquittoSub(P, ["-t", "$sys/431671/MQTT002/dp/post/json"]);
		await m.cmd('AT+MQTTPUB="$sys/431671/MQTT002/dp/post/json",1,0,"{\\"id\\":123,\\"dp\\":{\\"temperatrue\\":[{\\"v\\":35,}],\\"power\\":[{\\"v\\":61,}]}}"', OK);
		const got = await sub.waitFor(1);
		sub.stop();
		assert.equal(got[0], '$sys/431671/MQTT002/dp/post/json {"id":123,"dp":{"temperatrue":[{"v":35,}],"power":[{"v":61,}]}}');
		await m.cmd('AT+MQTTSUB="topic1",1', OK);
		await m.cmd("AT+MQTTSUB?", line("+MQTTSUB:topic1,1"));
		await m.expect(OK);
		await mosquittoPub(P, ["-t", "topic1", "-q", "1", "-m", "hi, from mosquitto_pub"]);
		await m.expect(line('+MQTTSUBRECV:"topic1",22,hi, from mosquitto_pub'));
		await m.cmd('AT+MQTTUNSUB="topic1"', OK);
		await m.cmd("AT+MQTTSTATE", line("+MQTTSTATE:1"));
		await m.expect(OK);
		await m.cmd("AT+MQTTDISCONNECT", OK);
		await m.cmd("AT+MQTTSTATE", line("+MQTTSTATE:0"));
		await m.expect(OK);
		m.saveTranscript("dialect-b.txt");
		assert.match(broker.log(), /MQTT002/);
	});
});

test("dialect B: CONNECT refused by the broker, unreachable, CONNACK timeout (5 s); lost link", {timeout: 60000}, async () => {
	await withSession(async (m, broker) => {
		const P = broker.port;
		// unreachable
		const dead = await mosquitto();
		const deadPort = dead.port;
		await dead.stop();
		await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${deadPort},b1,1,60`, OK);
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:5"));
		await m.expect(ERROR);
		// a TCP server that never answers CONNECT: CONNACK timeout after 5 s
		const mute = net.createServer((s) => s.on("error", () => {}));
		await new Promise((r) => mute.listen(0, "127.0.0.1", r));
		await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${mute.address().port},b1,1,60`, OK);
		const t0 = Date.now();
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:8"), 12000);
		await m.expect(ERROR);
		const took = Date.now() - t0;
		mute.close();
		assert.ok(took >= 4000 && took < 9000, `CONNACK timeout after ${took} ms`);
		await m.cmd("AT", OK);
		// connected, then the broker dies
		await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${P},b1,1,60`, OK);
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:0"));
		await m.expect(OK);
		await broker.kill();
		await m.expect(line("+MQTTDISCONNECTED:5"));
		await m.cmd("AT+MQTTSTATE", line("+MQTTSTATE:0"));
		await m.expect(OK);
		await m.cmd("AT+MQTTPUB=t,0,0,x", line("+MQTTPUB:5"));
		await m.expect(ERROR);
	});
});

test("dialect B: a refused CONNECT (bad password) gives +MQTTCONNECT:9", {timeout: 60000}, async () => {
	const fs = await import("node:fs");
	const path = await import("node:path");
	const os = await import("node:os");
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttc-at-pw-"));
	const pwfile = path.join(dir, "pw");
	fs.chmodSync(dir, 0o755);
	fs.writeFileSync(pwfile, "");
	try {
		execFileSync("mosquitto_passwd", ["-b", pwfile, "user", "right"], {stdio: "ignore"});
	} catch {
		return; // mosquitto_passwd missing: nothing to test with
	}
	fs.chmodSync(pwfile, 0o644);
	await withSession(async (m, broker) => {
		await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${broker.port},b2,1,60,user,wrong`, OK);
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:9"));
		await m.expect(ERROR);
		await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${broker.port},b2,1,60,user,right`, OK);
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:0"));
		await m.expect(OK);
		await m.cmd("AT+MQTTDISCONNECT", OK);
	}, {broker: {lines: ["allow_anonymous false", `password_file ${pwfile}`]}});
	fs.rmSync(dir, {recursive: true, force: true});
});

test("dialect B: AT+MQTTTLS with the CA certificate against a TLS mosquitto; the wrong CA fails", {timeout: 60000}, async () => {
	const {makeCerts} = await import("../lib/certs.mjs");
	const fs = await import("node:fs");
	const certs = makeCerts(); // RSA 2048, as Moddable's TLS wants; the CA's PEM fits the 1536-byte limit
	const pki = {ca: certs.ca, otherCa: certs.other, server: {cert: certs.server, key: {path: certs.server.key}}, cleanup: () => certs.cleanup()};
	// one AT line per PEM: line breaks written as literal \n, or left out altogether
	const escaped = (pem) => pem.trim().replace(/\r?\n/g, "\\n");
	const flat = (pem) => pem.replace(/\r?\n/g, "");
	assert.ok(pki.ca.pem.length <= 1536, `CA PEM is ${pki.ca.pem.length} bytes`);
	try {
		await withSession(async (m, broker) => {
			await m.cmd(`AT+MQTTTLS=1,0,"${escaped(pki.otherCa.pem)}",${pki.otherCa.pem.length}`, OK);
			await m.cmd("AT+MQTTTLS?", line("+MQTTTLS:1"));
			await m.expect(OK);
			await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${broker.port},tls1,1,60`, OK);
			await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:5"), 10000);
			await m.expect(ERROR);
			await m.cmd(`AT+MQTTTLS=1,0,"${flat(pki.ca.pem)}",${pki.ca.pem.length}`, OK);
			await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:0"), 10000);
			await m.expect(OK);
			await m.cmd('AT+MQTTSUB="tls/t",0', OK);
			await m.cmd('AT+MQTTPUB="tls/t",0,0,"over TLS"', OK);
			await m.expect(line('+MQTTSUBRECV:"tls/t",8,over TLS'));
			await m.cmd("AT+MQTTDISCONNECT", OK);
		}, {broker: {lines: [`cafile ${pki.ca.path}`, `certfile ${pki.server.cert.path}`, `keyfile ${pki.server.key.path}`, "tls_version tlsv1.2"]}});
	} finally {
		pki.cleanup();
	}
});

test("dialect B: the seed's own AT+MQTTTLS line (certificate body elided) answers OK as in the seed; CONNECT then fails with code 2", {timeout: 60000}, async () => {
	await withSession(async (m, broker) => {
		await m.cmd("AT+MQTTTLS=?", line("+MQTTTLS:(0-1)"));
		await m.expect(OK);
		await m.cmd('AT+MQTTTLS=1,0,"-----BEGIN CERTIFICATE-----......",1181', OK);
		await m.cmd("AT+MQTTTLS?", line("+MQTTTLS:1"));
		await m.expect(OK);
		await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${broker.port},MQTT002,1,60`, OK);
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:2"));
		await m.expect(ERROR);
		await m.cmd("AT+MQTTTLS=0", OK);
		await m.cmd("AT+MQTTCONNECT", line("+MQTTCONNECT:0"));
		await m.expect(OK);
	});
});
