// Unit tests of the engine and dialect A (AT+ECMT*) against a fake mqttc client.
import test from "node:test";
import assert from "node:assert/strict";
import {rig} from "./_load.mjs";

/** A fresh ArrayBuffer holding exactly these bytes (ab(...) may be a shared pool). */
const ab = (x) => new Uint8Array(Buffer.from(x)).buffer;

/** AT+ECMTOPEN: OK at once, "+ECMTOPEN: 0,0" once the client reports TCP open. */
function opened(r, line = 'AT+ECMTOPEN=0,"127.0.0.1",1883') {
	assert.deepEqual(r.cmd(line), ["OK"]);
	assert.deepEqual(r.client.calls.at(-1), ["open"]);
	r.client.fire("open");
	assert.deepEqual(r.take(), ["+ECMTOPEN: 0,0"]);
}

async function connected(opts) {
	const r = await rig(opts);
	opened(r);
	assert.deepEqual(r.cmd('AT+ECMTCONN=0,"dev1"'), ["OK"]);
	r.client.fire("conack");
	assert.deepEqual(r.take(), ["+ECMTCONN: 0,0,0"]);
	return r;
}

test("basics: AT, ATI, AT+GMR, ATE0/ATE1 echo, unknown", async () => {
	const r = await rig({echo: true});
	r.e.input("AT\r\n");
	assert.equal(r.raw(), "AT\r\n\r\nOK\r\n");
	assert.deepEqual(r.take(), ["AT", "OK"]);
	assert.deepEqual(r.cmd("ATI"), ["ATI", "mqttc-at 0.1.0", "OK"]);
	assert.deepEqual(r.cmd("AT+GMR"), ["AT+GMR", "mqttc-at 0.1.0", "OK"]);
	assert.deepEqual(r.cmd("ATE0"), ["ATE0", "OK"]);
	assert.deepEqual(r.cmd("AT"), ["OK"]);
	assert.deepEqual(r.cmd("AT+FOO"), ["ERROR"]);
	assert.deepEqual(r.cmd("hello"), ["ERROR"]);
	assert.deepEqual(r.cmd("AT+ECMTFOO=1"), ["ERROR"]);
	assert.deepEqual(r.cmd("ATE1"), ["OK"]);
	assert.deepEqual(r.cmd("AT"), ["AT", "OK"]);
});

test("input in arbitrary pieces, CR, LF, CRLF, split CRLF, backspace", async () => {
	const r = await rig();
	const s = "AT\rAT\nAT\r\nATI\r";
	for (const ch of s) r.e.input(ch);
	r.e.input("\nAX\bT\r\n");
	assert.deepEqual(r.take(), ["OK", "OK", "OK", "mqttc-at 0.1.0", "OK", "OK"]);
	r.e.input(new Uint8Array(Buffer.from("AT\r\nAT\r\n")));
	assert.deepEqual(r.take(), ["OK", "OK"]);
	r.e.input(Buffer.from("\r\n\r\n")); // empty lines: no answer
	assert.deepEqual(r.take(), []);
});

test("echo of several lines in one piece interleaves with the answers", async () => {
	const r = await rig({echo: true});
	r.e.input("AT\r\nATI\r\nAT+X");
	assert.equal(r.raw(), "AT\r\n\r\nOK\r\nATI\r\n\r\nmqttc-at 0.1.0\r\n\r\nOK\r\nAT+X");
});

test("overlong line gets ERROR and the engine keeps answering", async () => {
	const r = await rig({engine: {lineMax: 64}});
	r.e.input("AT+ECMTPUB=" + "x".repeat(100));
	r.e.input("yyy\r\n");
	assert.deepEqual(r.take(), ["ERROR"]);
	assert.deepEqual(r.cmd("AT"), ["OK"]);
	assert.deepEqual(r.cmd("A" + "T".repeat(63)), ["ERROR"]); // exactly 64 bytes: parsed, not an AT command
	assert.deepEqual(r.cmd("AT"), ["OK"]);
});

test("seed 002 sequence: OPEN, CONN, SUB, PUB, UNS, DISC", async () => {
	const r = await rig();
	opened(r, 'AT+ECMTOPEN=0, "127.0.0.1",1883');
	const c = r.client;
	assert.equal(c.host, "127.0.0.1");
	assert.equal(c.port, 1883);
	assert.equal(c.ssl, false);
	assert.equal(c.opts.binary, true);
	assert.deepEqual(r.cmd("AT+ECMTCONN=0"), ["OK"]);
	assert.deepEqual(c.calls.slice(0, 4), [["open"], ["auth", "", undefined, undefined, true], ["keepalive", 120], ["connect"]]);
	c.fire("conack");
	assert.deepEqual(r.take(), ["+ECMTCONN: 0,0,0"]);
	assert.deepEqual(r.cmd("AT+ECMTCONN?"), ["+ECMTCONN: 0,3", "OK"]);
	assert.deepEqual(r.cmd("AT+ECMTSUB=0,1,\u201dtest\u201d,2"), ["OK"]);
	const subId = 1;
	c.fire("suback", true, 2, {message_id: subId, topics: ["test"], codes: [2]});
	assert.deepEqual(r.take(), ["+ECMTSUB: 0,1,0,2"]);
	assert.deepEqual(r.cmd('AT+ECMTPUB=0,0,0,0,"test","hello"'), ["OK"]);
	assert.deepEqual(c.calls.at(-1), ["publish", "test", "hello", 0, 0]);
	c.fire("sent", 2);
	c.fire("recv", "test", ab("hello"), {message_id: 0, qos: 0, retain: 0, dup: 0});
	assert.deepEqual(r.take(), ["+ECMTPUB: 0,0,0", '+ECMTRECV: 0,0,"test","hello"']);
	assert.deepEqual(r.cmd('AT+ECMTUNS=0,4, "test"'), ["OK"]);
	c.fire("unsuback", 3);
	assert.deepEqual(r.take(), ["+ECMTUNS: 0,4,0"]);
	assert.deepEqual(r.cmd("AT+ECMTDISC=0"), ["OK"]);
	c.fire("disconnect", "user");
	assert.deepEqual(r.take(), ["+ECMTDISC: 0,0"]);
	assert.ok(c.closed);
	assert.deepEqual(r.cmd("AT+ECMTCONN?"), ["OK"]);
});

test("events fired synchronously inside a client call come after OK", async () => {
	const r = await connected();
	const c = r.client;
	c.publish = function (...a) {
		this.log("publish", ...a);
		const id = this.nextId++;
		this.fire("sent", id);
		return id;
	};
	assert.deepEqual(r.cmd('AT+ECMTPUB=0,0,0,0,"t","x"'), ["OK", "+ECMTPUB: 0,0,0"]);
});

test("QoS 1/2 publish maps the host msgID to the client id", async () => {
	const r = await connected();
	const c = r.client;
	assert.deepEqual(r.cmd('AT+ECMTPUB=0,77,1,1,"a/b","p1"'), ["OK"]);
	assert.deepEqual(r.cmd('AT+ECMTPUB=0,78,2,0,"a/b","p2"'), ["OK"]);
	const [id1, id2] = [1, 2];
	c.fire("sent", id2);
	c.fire("sent", id1);
	c.fire("sent", 999); // unknown: ignored
	assert.deepEqual(r.take(), ["+ECMTPUB: 0,78,0", "+ECMTPUB: 0,77,0"]);
	assert.deepEqual(c.calls.filter((x) => x[0] === "publish"), [["publish", "a/b", "p1", 1, 1], ["publish", "a/b", "p2", 2, 0]]);
});

test("several topics in one ECMTSUB keep their order in the answer", async () => {
	const r = await connected();
	assert.deepEqual(r.cmd('AT+ECMTSUB=0,9,"b",1,"1",0,"a",2'), ["OK"]);
	const call = r.client.calls.at(-1);
	assert.equal(call[0], "subscribe");
	assert.deepEqual(call[1], {b: 1, 1: 0, a: 2});
	r.client.fire("suback", false, 0, {message_id: 1, topics: ["1", "b", "a"], codes: [0, 1, 128]});
	assert.deepEqual(r.take(), ["+ECMTSUB: 0,9,0,1,0,128"]);
});

test("malformed ECMT commands get ERROR and change nothing", async () => {
	const r = await connected();
	const bad = [
		"AT+ECMTPUB=0,0,0,0,test,hello", // missing quotes
		'AT+ECMTPUB=0,0,0,0,"test,"hello"', // broken quotes
		'AT+ECMTPUB=0,1,3,0,"t","x"', // qos out of range
		'AT+ECMTPUB=0,0,1,0,"t","x"', // msgID 0 with qos 1
		'AT+ECMTPUB=0,5,0,0,"t","x"', // msgID must be 0 for qos 0
		'AT+ECMTPUB=0,1,1,2,"t","x"', // retain out of range
		'AT+ECMTPUB=0,70000,1,0,"t","x"', // msgID out of range
		'AT+ECMTPUB=0,1,1,0,"a/#","x"', // wildcard in a publish topic
		'AT+ECMTPUB=0,1,1,0,"","x"', // empty topic
		'AT+ECMTPUB=1,0,0,0,"t","x"', // only connect ID 0
		'AT+ECMTPUB=0,0,0,0,"t","x",1', // too many
		'AT+ECMTPUB=0,0,0,0,"' + "t".repeat(257) + '","x"', // topic too long
		'AT+ECMTSUB=0,0,"t",1', // msgID 0
		'AT+ECMTSUB=0,1,"t",3',
		'AT+ECMTSUB=0,1,"t"',
		"AT+ECMTSUB=0,1,t,1",
		"AT+ECMTUNS=0,1",
		'AT+ECMTCFG="keepalive",0,3601',
		'AT+ECMTCFG="nope",0,1',
		'AT+ECMTCFG="version",0,3',
		'AT+ECMTOPEN=0,"h",0',
		"AT+ECMTOPEN=0,h,1883",
		'AT+ECMTCONN=0,"x"', // already connected
		"AT+ECMTPUB?",
		"AT+ECMTDISC=1",
	];
	for (const l of bad) assert.deepEqual(r.cmd(l), ["ERROR"], l);
	assert.equal(r.client.calls.filter((x) => x[0] === "publish" || x[0] === "subscribe").length, 0);
	assert.deepEqual(r.cmd("AT"), ["OK"]);
	assert.deepEqual(r.cmd('AT+ECMTPUB=0,0,0,0,"t","ok"'), ["OK"]);
});

test("commands before OPEN / CONN get ERROR", async () => {
	const r = await rig();
	assert.deepEqual(r.cmd('AT+ECMTCONN=0,"x"'), ["ERROR"]);
	assert.deepEqual(r.cmd('AT+ECMTPUB=0,0,0,0,"t","x"'), ["ERROR"]);
	assert.deepEqual(r.cmd("AT+ECMTCLOSE=0"), ["ERROR"]);
	assert.deepEqual(r.cmd("AT+ECMTDISC=0"), ["ERROR"]);
	opened(r, 'AT+ECMTOPEN=0,"h",1883');
	assert.deepEqual(r.cmd('AT+ECMTPUB=0,0,0,0,"t","x"'), ["ERROR"]);
	assert.deepEqual(r.cmd('AT+ECMTOPEN=0,"h",1883'), ["OK", "+ECMTOPEN: 0,2"]);
	assert.deepEqual(r.cmd("AT+ECMTOPEN?"), ['+ECMTOPEN: 0,"h",1883', "OK"]);
	assert.deepEqual(r.cmd("AT+ECMTCLOSE=0"), ["OK", "+ECMTCLOSE: 0,0"]);
	assert.ok(r.client.closed);
});

test("create failing gives +ECMTOPEN: 0,1", async () => {
	const r = await rig({createFails: true});
	assert.deepEqual(r.cmd('AT+ECMTOPEN=0,"h",1883'), ["OK", "+ECMTOPEN: 0,1"]);
});

test("ECMTCFG sets what ECMTOPEN/ECMTCONN apply, and reads back", async () => {
	const r = await rig();
	assert.deepEqual(r.cmd('AT+ECMTCFG="keepalive",0,60'), ["OK"]);
	assert.deepEqual(r.cmd('AT+ECMTCFG="session",0,0'), ["OK"]);
	assert.deepEqual(r.cmd('AT+ECMTCFG="timeout",0,7,3,0'), ["OK"]);
	assert.deepEqual(r.cmd('AT+ECMTCFG="will",0,1,1,0,"dev/state","gone"'), ["OK"]);
	assert.deepEqual(r.cmd('AT+ECMTCFG="version",0,4'), ["OK"]);
	assert.deepEqual(r.cmd('AT+ECMTCFG="keepalive",0'), ['+ECMTCFG: "keepalive",60', "OK"]);
	assert.deepEqual(r.cmd('AT+ECMTCFG="will",0'), ['+ECMTCFG: "will",1,1,0,"dev/state","gone"', "OK"]);
	opened(r, 'AT+ECMTOPEN=0,"h",1883');
	assert.equal(r.client.opts.conn_timeout, 7);
	assert.equal(r.client.opts.manual_ack, 32);
	assert.deepEqual(r.cmd('AT+ECMTCONN=0,"id","u","p"'), ["OK"]);
	assert.deepEqual(r.client.calls, [["open"], ["auth", "id", "u", "p", false], ["keepalive", 60], ["will", "dev/state", "gone", 1, 0], ["connect"]]);
	assert.deepEqual(r.cmd("AT+ECMTCONN?"), ["+ECMTCONN: 0,2", "OK"]);
	assert.ok(r.cmd("AT+ECMTCFG=?").length === 6);
	assert.deepEqual(r.cmd("AT+ECMTPUB=?"), ['+ECMTPUB: (0),(0-65535),(0-2),(0,1),"<topic>"[,"<payload>"]', "OK"]);
});

test("connect failures: refused, timeout, TCP; CONN may be retried", async () => {
	const r = await rig();
	opened(r, 'AT+ECMTOPEN=0,"h",1883');
	const c = r.client;
	r.cmd('AT+ECMTCONN=0,"x"');
	c.fire("error", "conack", 5);
	c.fire("disconnect", "refused");
	assert.deepEqual(r.take(), ["+ECMTCONN: 0,0,5"]);
	assert.deepEqual(r.cmd('AT+ECMTCONN=0,"x"'), ["OK"]);
	c.fire("error", "other", "timeout");
	c.fire("disconnect", "conack_timeout");
	assert.deepEqual(r.take(), ["+ECMTCONN: 0,2"]);
	assert.deepEqual(r.cmd('AT+ECMTCONN=0,"x"'), ["OK"]);
	c.fire("disconnect", "connect");
	assert.deepEqual(r.take(), ["+ECMTCONN: 0,2"]);
	c.refuse.connect = true;
	assert.deepEqual(r.cmd('AT+ECMTCONN=0,"x"'), ["ERROR"]);
	c.refuse.connect = false;
	c.refuse.auth = true;
	assert.deepEqual(r.cmd('AT+ECMTCONN=0,"x"'), ["ERROR"]);
});

test("losing the connection: +ECMTSTAT with mapped codes, pending ops fail with 2", async () => {
	for (const [reason, code] of [["peer", 1], ["network", 1], ["ping_timeout", 2], ["tx", 6], ["protocol", 7]]) {
		const r = await connected();
		r.cmd('AT+ECMTPUB=0,5,1,0,"t","x"');
		r.cmd('AT+ECMTSUB=0,6,"s",1');
		r.client.fire("disconnect", reason);
		assert.deepEqual(r.take(), ["+ECMTPUB: 0,5,2", "+ECMTSUB: 0,6,2", "+ECMTSTAT: 0," + code], reason);
		assert.ok(r.client.closed);
		assert.deepEqual(r.cmd('AT+ECMTPUB=0,0,0,0,"t","x"'), ["ERROR"]);
		// the old client is forgotten: its events change nothing
		r.client.fire("recv", "t", "late", {message_id: 0});
		assert.deepEqual(r.take(), []);
		opened(r, 'AT+ECMTOPEN=0,"h",1883');
	}
});

test("data mode: CR/LF and binary up to Ctrl-Z, Esc cancels, overflow", async () => {
	const r = await connected({engine: {dataMax: 16}});
	r.cmd("ATE1");
	r.e.input('AT+ECMTPUB=0,3,1,0,"bin"\r');
	assert.ok(r.raw().endsWith('AT+ECMTPUB=0,3,1,0,"bin"\r\r\n> '));
	r.take();
	const payload = Buffer.from([0x41, 0x0d, 0x0a, 0x00, 0xff, 0x22, 0x0d]);
	r.e.input(payload.subarray(0, 3));
	r.e.input(Buffer.concat([payload.subarray(3), Buffer.from([0x1a]), Buffer.from("AT\r")]));
	const pub = r.client.calls.at(-1);
	assert.equal(pub[0], "publish");
	assert.deepEqual(Buffer.from(pub[2]), payload);
	assert.deepEqual(pub.slice(3), [1, 0]);
	assert.deepEqual(r.take(), ["OK", "AT", "OK"]); // data not echoed; the AT after Ctrl-Z is
	r.client.fire("sent", 1);
	assert.deepEqual(r.take(), ["+ECMTPUB: 0,3,0"]);
	// Esc cancels
	r.e.input('AT+ECMTPUB=0,4,1,0,"bin"\rabc\x1b');
	assert.deepEqual(r.take().slice(-2), ["> ", "OK"]);
	// more than dataMax bytes: ERROR at Ctrl-Z, nothing published
	const n = r.client.calls.length;
	r.e.input('AT+ECMTPUB=0,5,1,0,"bin"\r' + "x".repeat(40) + "\x1a");
	assert.deepEqual(r.take().slice(-1), ["ERROR"]);
	assert.equal(r.client.calls.length, n);
	assert.deepEqual(r.cmd("AT"), ["AT", "OK"]);
});

test("URCs are held back in data mode and come after its result", async () => {
	const r = await connected();
	r.e.input('AT+ECMTPUB=0,0,0,0,"t"\r');
	r.take();
	r.client.fire("recv", "a", ab("1"), {message_id: 0, qos: 0});
	r.client.fire("recv", "b", ab("2"), {message_id: 9, qos: 1});
	r.client.fire("sent", 1);
	assert.deepEqual(r.take(), []);
	r.e.input("data\x1a");
	assert.deepEqual(r.take(), ["OK", '+ECMTRECV: 0,0,"a","1"', '+ECMTRECV: 0,9,"b","2"']);
});

test("ECMTRECV writes payload bytes raw", async () => {
	const r = await connected();
	r.client.fire("recv", "t/x", ab([0x31, 0x0d, 0x0a, 0x22, 0x00, 0xe4]), {message_id: 12, qos: 1, retain: 0, dup: 0});
	assert.equal(r.raw().slice(-22), '\r\n+ECMTRECV: 0,12,"t/x","1\r\n"\x00\xe4"\r\n'.slice(-22));
	assert.ok(r.raw().endsWith('+ECMTRECV: 0,12,"t/x","1\r\n"\x00\xe4"\r\n'));
});

test("DISC while not connected and with a client that cannot send DISCONNECT", async () => {
	let r = await rig();
	opened(r, 'AT+ECMTOPEN=0,"h",1883');
	assert.deepEqual(r.cmd("AT+ECMTDISC=0"), ["OK", "+ECMTDISC: 0,0"]);
	r = await connected();
	r.client.disconnect = () => false;
	assert.deepEqual(r.cmd("AT+ECMTDISC=0"), ["OK", "+ECMTDISC: 0,0"]);
});

test("exceptions inside the client or the transport never reach input()", async () => {
	const r = await connected();
	r.client.publish = () => {
		throw new Error("boom");
	};
	assert.deepEqual(r.cmd('AT+ECMTPUB=0,0,0,0,"t","x"'), ["ERROR"]);
	r.client.recvThrows = true;
	assert.doesNotThrow(() => r.client.fire("recv", 5, null, null)); // odd event arguments
	r.take();
	assert.doesNotThrow(() => r.e.input(new Uint8Array([0x41, 0x54, 0xff, 0xfe, 0x0d])));
	r.take();
	assert.deepEqual(r.cmd("AT"), ["OK"]);
	const {engine} = await import("./_load.mjs").then((m) => m.load());
	const e = new engine.AtEngine({write() { throw new Error("uart gone"); }});
	assert.doesNotThrow(() => e.input("AT\r\nAT+ECMTOPEN=0,\"h\",1\r\n"));
});

test("flow control: a QoS 1/2 message is acknowledged only once its URC is queued; the rest waits, in order", async () => {
	const r = await connected({engine: {txMax: 4096}}); // message area: 4096 - 2048 reserve
	const c = r.client;
	r.room = 0; // the UART takes nothing for now
	const big = "m".repeat(900);
	for (let i = 1; i <= 5; i++) c.fire("recv", "t", ab(big + i), {message_id: i, qos: 1, retain: 0, dup: 0});
	c.fire("recv", "t", ab("q0"), {message_id: 0, qos: 0, retain: 0, dup: 0});
	const acks = () => c.calls.filter((x) => x[0] === "ack").map((x) => x[1]);
	assert.deepEqual(acks(), [1, 2], "two URCs fit the message area; the others wait unacknowledged");
	assert.deepEqual(r.take(), []);
	// an answer still finds room in the queue: the reserve is not for messages
	r.e.input("AT\r\n");
	r.drain(); // the UART takes everything from now on
	assert.deepEqual(acks(), [1, 2, 3, 4, 5]);
	const lines = r.take().filter((l) => l.startsWith("+ECMTRECV"));
	assert.deepEqual(lines.map((l) => l.slice(0, 16)), ["+ECMTRECV: 0,1,\"", "+ECMTRECV: 0,2,\"", "+ECMTRECV: 0,3,\"", "+ECMTRECV: 0,4,\"", "+ECMTRECV: 0,5,\"", "+ECMTRECV: 0,0,\""]);
	assert.ok(r.raw().includes("\r\nOK\r\n"));
	assert.equal(r.e.messagesDropped, 0);
});

test("flow control: messages that find no room are reported by +ECMTDROPPED, never dropped silently", async () => {
	const r = await connected({engine: {txMax: 4096, holdMax: 2000}});
	const c = r.client;
	r.room = 0;
	const big = "m".repeat(900);
	for (let i = 1; i <= 6; i++) c.fire("recv", "t", ab(big + i), {message_id: i, qos: 1, retain: 0, dup: 0});
	for (let i = 0; i < 3; i++) c.fire("recv", "t", ab(big), {message_id: 0, qos: 0, retain: 0, dup: 0});
	// 2 queued, 2 held (2000 bytes), the rest dropped: 2 QoS 1 (left unacknowledged at the broker) and 3 QoS 0
	assert.equal(r.e.messagesDropped, 5);
	r.drain();
	const lines = r.take();
	assert.equal(lines.filter((l) => l.startsWith("+ECMTRECV")).length, 4);
	const reports = lines.filter((l) => l.startsWith("+ECMTDROPPED: 0,"));
	assert.ok(reports.length >= 1);
	assert.equal(reports.reduce((n, l) => n + Number(l.split(",")[1]), 0), 5);
	assert.deepEqual(c.calls.filter((x) => x[0] === "ack").map((x) => x[1]), [1, 2, 3, 4]);
});

test("a final result for every line: a 100 KB line gets ERROR although the UART takes nothing meanwhile", async () => {
	const r = await rig({echo: true, room: 0});
	r.e.input("AT+ECMTPUB=0,0,0,0,\"t\",\"" + "x".repeat(100 * 1024) + "\"\r\nAT\r\n");
	r.drain();
	const text = r.raw();
	assert.ok(text.endsWith("\r\nERROR\r\nAT\r\n\r\nOK\r\n"), JSON.stringify(text.slice(-40)));
	assert.ok(r.e.echoDropped > 90 * 1024, "the echo that found no room is counted");
	assert.ok(text.length < 4096, "the queue stayed bounded");
});

test("Backspace/DEL removes a whole UTF-8 character", async () => {
	const r = await connected();
	// a stray \u201d typed and erased: the line is still the seed's
	r.e.input("AT+ECMTSUB=0,1,\u201dtest\u201d\u201d\x7f,2\r\n");
	assert.deepEqual(r.take(), ["OK"]);
	assert.deepEqual(r.client.calls.at(-1), ["subscribe", "test", 2]);
	r.e.input("AT+ECMTPUB=0,0,0,0,\"t\",\"\u00e9\u4e2d\ud83d\ude00\b\b\"\r\n"); // 4-byte then 3-byte characters
	assert.deepEqual(r.take(), ["OK"]);
	assert.deepEqual(r.client.calls.at(-1), ["publish", "t", "\u00e9", 0, 0]);
	r.e.input(Buffer.concat([Buffer.from("AT"), Buffer.from([0x80, 0x80, 0x7f, 0x7f]), Buffer.from("\r\n")])); // stray continuation bytes: one each
	assert.deepEqual(r.take(), ["OK"]);
});

test("OPEN that cannot open the network: +ECMTOPEN: 0,1, and the client is gone", async () => {
	const r = await rig();
	assert.deepEqual(r.cmd('AT+ECMTOPEN=0,"h",1883'), ["OK"]);
	assert.deepEqual(r.cmd("AT+ECMTCONN?"), ["+ECMTCONN: 0,1", "OK"]);
	assert.deepEqual(r.cmd('AT+ECMTCONN=0,"x"'), ["ERROR"], "no CONNECT before the network is open");
	r.client.fire("error", "connect", "refused");
	r.client.fire("disconnect", "connect");
	assert.deepEqual(r.take(), ["+ECMTOPEN: 0,1"]);
	assert.ok(r.client.closed);
	assert.deepEqual(r.cmd("AT+ECMTCONN?"), ["OK"]);
	// open() refused at once
	assert.deepEqual(r.cmd('AT+ECMTOPEN=0,"h",1883').slice(0, 1), ["OK"]);
	r.client.fire("open");
	r.take();
	// the open link dropped before CONN: +ECMTSTAT
	r.client.fire("disconnect", "peer");
	assert.deepEqual(r.take(), ["+ECMTSTAT: 0,1"]);
	// a client that refuses to open at all
	const r2 = await rig({refuse: {open: true}});
	assert.deepEqual(r2.cmd('AT+ECMTOPEN=0,"h",1883'), ["OK", "+ECMTOPEN: 0,1"]);
	assert.ok(r2.client.closed);
});

test("PUB/SUB/UNS without an answer within the ECMTCFG packet timeout fail with result 2", {timeout: 10000}, async () => {
	const r = await rig();
	assert.deepEqual(r.cmd('AT+ECMTCFG="timeout",0,1'), ["OK"]);
	opened(r);
	r.cmd("AT+ECMTCONN=0");
	r.client.fire("conack");
	r.take();
	assert.deepEqual(r.cmd('AT+ECMTSUB=0,11,"a",1'), ["OK"]);
	assert.deepEqual(r.cmd('AT+ECMTPUB=0,12,1,0,"a","x"'), ["OK"]);
	assert.deepEqual(r.cmd('AT+ECMTUNS=0,13,"a"'), ["OK"]);
	await new Promise((res) => setTimeout(res, 1300));
	assert.deepEqual(r.take(), ["+ECMTSUB: 0,11,2", "+ECMTPUB: 0,12,2", "+ECMTUNS: 0,13,2"]);
	// a late SUBACK changes nothing; the engine answers
	r.client.fire("suback", true, 1, {message_id: 1, topics: ["a"], codes: [1]});
	assert.deepEqual(r.take(), []);
	assert.deepEqual(r.cmd("AT"), ["OK"]);
});
