// Unit tests of dialect B (AT+MQTT*, seed 003) against a fake mqttc client.
import test from "node:test";
import assert from "node:assert/strict";
import {rig, load} from "./_load.mjs";

const ab = (x) => new Uint8Array(Buffer.from(x)).buffer;
const ONENET_PW = "version=2018 -10-31&res=products%2F431671%2Fdevices%2FMQTT002&et=1635216369&method= md5&sign=UJyDU%2FI3%2FVGCJFjUHhBAXw%3D%3D";

async function connected() {
	const r = await rig();
	assert.deepEqual(r.cmd("AT+MQTTCONFIG=127.0.0.1,1883,MQTT002,1,60,431671," + ONENET_PW), ["OK"]);
	assert.deepEqual(r.cmd("AT+MQTTCONNECT"), []);
	r.client.fire("conack");
	assert.deepEqual(r.take(), ["+MQTTCONNECT:0", "OK"]);
	return r;
}

test("seed 003 sequence: test forms, CONFIG with = & %, CONNECT, PUB JSON, SUB, UNSUB, STATE, DISCONNECT", async () => {
	const r = await rig();
	assert.deepEqual(r.cmd("AT+MQTTTLS=?"), ["+MQTTTLS:(0-1)", "OK"]);
	assert.deepEqual(r.cmd("AT+MQTTCONFIG=?"), ["+MQTTCONFIG:<url>,<port>,<client id>,(0-1),<keepalive>,<username>,<password>", "OK"]);
	assert.deepEqual(r.cmd("AT+MQTTCONFIG=127.0.0.1,8883,MQTT002,1,60,431671," + ONENET_PW), ["OK"]);
	assert.deepEqual(r.cmd("AT+MQTTCONFIG?"), ["+MQTTCONFIG:127.0.0.1,8883,MQTT002,1,60,431671," + ONENET_PW, "OK"]);
	assert.deepEqual(r.cmd("AT+MQTTSTATE"), ["+MQTTSTATE:0", "OK"]);
	assert.deepEqual(r.cmd("AT+MQTTCONNECT"), []);
	const c = r.client;
	assert.equal(c.host, "127.0.0.1");
	assert.equal(c.port, 8883);
	assert.equal(c.ssl, false);
	assert.equal(c.opts.conn_timeout, 5);
	assert.deepEqual(c.calls, [["auth", "MQTT002", "431671", ONENET_PW, true], ["keepalive", 60], ["connect"]]);
	assert.deepEqual(r.cmd("AT"), ["ERROR"]); // busy until CONNACK
	c.fire("conack");
	assert.deepEqual(r.take(), ["+MQTTCONNECT:0", "OK"]);
	assert.deepEqual(r.cmd("AT+MQTTPUB=?"), ["+MQTTPUB:<topic>,(0-2),(0-1);<message>", "OK"]);
	const json = '"{\\"id\\":123,\\"dp\\":{\\"temperatrue\\":[{\\"v\\":35,}],\\"power\\":[{\\"v\\":61,}]}}"';
	assert.deepEqual(r.cmd('AT+MQTTPUB="$sys/431671/MQTT002/dp/post/json",1,0,' + json), []); // QoS 1: OK at PUBACK
	assert.deepEqual(c.calls.at(-1), ["publish", "$sys/431671/MQTT002/dp/post/json", '{"id":123,"dp":{"temperatrue":[{"v":35,}],"power":[{"v":61,}]}}', 1, 0]);
	c.fire("sent", 1);
	assert.deepEqual(r.take(), ["OK"]);
	assert.deepEqual(r.cmd('AT+MQTTSUB="topic1",1'), []);
	c.fire("suback", true, 1, {message_id: 2, topics: ["topic1"], codes: [1]});
	assert.deepEqual(r.take(), ["OK"]);
	assert.deepEqual(r.cmd("AT+MQTTSUB?"), ["+MQTTSUB:topic1,1", "OK"]);
	c.fire("recv", "topic1", ab("a,b\r\nc"), {message_id: 3, qos: 1, retain: 0, dup: 0});
	assert.ok(r.raw().endsWith('\r\n+MQTTSUBRECV:"topic1",6,a,b\r\nc\r\n'));
	r.take();
	assert.deepEqual(r.cmd('AT+MQTTUNSUB="topic1"'), []);
	c.fire("unsuback", 3);
	assert.deepEqual(r.take(), ["OK"]);
	assert.deepEqual(r.cmd("AT+MQTTSUB?"), ["OK"]);
	assert.deepEqual(r.cmd("AT+MQTTSTATE"), ["+MQTTSTATE:1", "OK"]);
	assert.deepEqual(r.cmd("AT+MQTTDISCONNECT"), ["OK"]);
	assert.equal(c.calls.at(-1)[0], "disconnect");
	c.fire("disconnect", "user");
	assert.ok(c.closed);
	assert.deepEqual(r.take(), []);
	assert.deepEqual(r.cmd("AT+MQTTSTATE"), ["+MQTTSTATE:0", "OK"]);
});

test("CONNECT failures give the seed's codes and free the engine", async () => {
	const r = await rig();
	assert.deepEqual(r.cmd("AT+MQTTCONNECT"), ["+MQTTCONNECT:11", "ERROR"]);
	assert.deepEqual(r.cmd("AT+MQTTCONFIG?"), ["+MQTTCONFIG:11", "ERROR"]);
	r.cmd("AT+MQTTCONFIG=h,1883,id,1,60");
	for (const [reason, code] of [["conack_timeout", 8], ["refused", 9], ["connect", 5], ["protocol", 7]]) {
		r.cmd("AT+MQTTCONNECT");
		r.client.fire("error", "x", "y");
		r.client.fire("disconnect", reason);
		assert.deepEqual(r.take(), ["+MQTTCONNECT:" + code, "ERROR"], reason);
		assert.ok(r.client.closed);
		assert.deepEqual(r.cmd("AT"), ["OK"]);
	}
	assert.deepEqual(r.cmd("AT+MQTTCONNECT"), []);
	assert.deepEqual(r.client.calls[0], ["auth", "id", undefined, undefined, true]);
	r.client.fire("conack");
	assert.deepEqual(r.take(), ["+MQTTCONNECT:0", "OK"]);
	assert.deepEqual(r.cmd("AT+MQTTCONNECT"), ["+MQTTCONNECT:0", "OK"]); // already connected
});

test("malformed dialect B commands: code 3 then ERROR; not connected: 5", async () => {
	const r = await rig();
	for (const l of ["AT+MQTTCONFIG=h,1883", "AT+MQTTCONFIG=h,0,id,1,60", "AT+MQTTCONFIG=h,1883,id,2,60", "AT+MQTTCONFIG=,1883,id,1,60", 'AT+MQTTCONFIG="h,1883,id,1,60'])
		assert.deepEqual(r.cmd(l), ["+MQTTCONFIG:3", "ERROR"], l);
	assert.deepEqual(r.cmd("AT+MQTTPUB=t,0,0,x"), ["+MQTTPUB:5", "ERROR"]);
	const c = await connected();
	for (const l of ["AT+MQTTPUB=t,3,0,x", "AT+MQTTPUB=t,0,2,x", "AT+MQTTPUB=t,0,0", "AT+MQTTPUB=a/+,0,0,x", 'AT+MQTTPUB="t,0,0,x', "AT+MQTTPUB=,0,0,x"])
		assert.deepEqual(c.cmd(l), ["+MQTTPUB:3", "ERROR"], l);
	for (const l of ["AT+MQTTSUB=t,3", "AT+MQTTSUB=t", "AT+MQTTSUB=t,1,2", 'AT+MQTTSUB="t,1'])
		assert.deepEqual(c.cmd(l), ["+MQTTSUB:3", "ERROR"], l);
	assert.deepEqual(c.cmd("AT+MQTTTLS=2,0"), ["+MQTTTLS:3", "ERROR"]);
	assert.deepEqual(c.cmd("AT+MQTTFOO"), ["ERROR"]);
	assert.deepEqual(c.cmd("AT+MQTTPUB"), ["ERROR"]);
	// an unquoted message keeps its commas and quotes
	assert.deepEqual(c.cmd('AT+MQTTPUB=t,0,0,{"a":1,"b":2}'), ["OK"]);
	assert.deepEqual(c.client.calls.at(-1), ["publish", "t", '{"a":1,"b":2}', 0, 0]);
	c.client.refuse.publish = true;
	assert.deepEqual(c.cmd("AT+MQTTPUB=t,0,0,x"), ["+MQTTPUB:6", "ERROR"]);
});

test("SUB refused, SUB/UNSUB interrupted by a lost connection, +MQTTDISCONNECTED", async () => {
	const r = await connected();
	r.cmd("AT+MQTTSUB=bad/#,2");
	r.client.fire("suback", false, 0x80, {message_id: 1, topics: ["bad/#"], codes: [0x80]});
	assert.deepEqual(r.take(), ["+MQTTSUB:9", "ERROR"]);
	assert.deepEqual(r.cmd("AT+MQTTSUB?"), ["OK"]);
	r.cmd("AT+MQTTSUB=x,0");
	r.client.fire("disconnect", "peer");
	assert.deepEqual(r.take(), ["+MQTTSUB:5", "ERROR", "+MQTTDISCONNECTED:5"]);
	assert.deepEqual(r.cmd("AT+MQTTSTATE"), ["+MQTTSTATE:0", "OK"]);
	const r2 = await connected();
	r2.client.fire("disconnect", "ping_timeout");
	assert.deepEqual(r2.take(), ["+MQTTDISCONNECTED:8"]);
});

test("MQTTTLS: PEM up to 1536 bytes feeds the ssl table; flattened and \\n forms accepted", async () => {
	const r = await rig();
	const body = "MIIBszCCAVmgAwIBAgIUQ2xhdWRlVGVzdENlcnRpZmljYXRlMAoGCCqGSM49BAMCMBIxEDAOBgNVBAMMB3Rlc3QtY2EwHhcNMjQwMTAxMDAwMDAwWhcNMzQwMTAxMDAwMDAwWjASMRAwDgYDVQQDDAd0ZXN0LWNh";
	const pem = "-----BEGIN CERTIFICATE-----\\n" + body.slice(0, 64) + "\\n" + body.slice(64) + "\\n-----END CERTIFICATE-----";
	assert.deepEqual(r.cmd(`AT+MQTTTLS=1,0,"${pem}",${pem.length}`), ["OK"]);
	assert.deepEqual(r.cmd("AT+MQTTTLS?"), ["+MQTTTLS:1", "OK"]);
	const key = "-----BEGIN PRIVATE KEY-----" + body + "-----END PRIVATE KEY-----";
	assert.deepEqual(r.cmd(`AT+MQTTTLS=1,2,"${key}",${key.length}`), ["OK"]);
	r.cmd("AT+MQTTCONFIG=h,8883,id,1,60");
	r.cmd("AT+MQTTCONNECT");
	const ssl = r.client.ssl;
	const lines = (label) => ["-----BEGIN " + label + "-----", body.slice(0, 64), body.slice(64, 128), body.slice(128), "-----END " + label + "-----", ""].join("\n");
	assert.deepEqual(ssl, {server_cert: lines("CERTIFICATE"), client_key: lines("PRIVATE KEY")});
	const big = "-----BEGIN CERTIFICATE-----" + "A".repeat(1500) + "-----END CERTIFICATE-----";
	assert.deepEqual(r.cmd(`AT+MQTTTLS=1,0,"${big}",1536`), ["ERROR"]); // busy: CONNECT pending
	r.client.fire("conack");
	r.take();
	assert.deepEqual(r.cmd(`AT+MQTTTLS=1,0,"${big}",1536`), ["+MQTTTLS:3", "ERROR"]);
	assert.deepEqual(r.cmd(`AT+MQTTTLS=1,0,"not a pem",9`), ["+MQTTTLS:3", "ERROR"]);
	// the seed's own line, its certificate body elided: stored, OK (CONNECT fails later with code 2)
	assert.deepEqual(r.cmd('AT+MQTTTLS=1,0,"-----BEGIN CERTIFICATE-----......",1181'), ["OK"]);
	assert.deepEqual(r.cmd("AT+MQTTTLS?"), ["+MQTTTLS:1", "OK"]);
	assert.deepEqual(r.cmd(`AT+MQTTTLS=1,3,"${pem}",10`), ["+MQTTTLS:3", "ERROR"]);
	assert.deepEqual(r.cmd("AT+MQTTTLS=0"), ["OK"]);
	assert.deepEqual(r.cmd("AT+MQTTTLS?"), ["+MQTTTLS:0", "OK"]);
});

test("TLS without certificates is ssl=true", async () => {
	const r = await rig();
	r.cmd("AT+MQTTTLS=1");
	r.cmd("AT+MQTTCONFIG=h,8883,id,1,60");
	r.cmd("AT+MQTTCONNECT");
	assert.equal(r.client.ssl, true);
});

test("normalizePem", async () => {
	const {mqttset} = await load();
	assert.equal(mqttset.normalizePem("-----BEGIN X-----QUJD\r\n REVG-----END X-----"), "-----BEGIN X-----\nQUJDREVG\n-----END X-----\n");
	assert.equal(mqttset.normalizePem("-----BEGIN X-----QU$D-----END X-----"), undefined);
	assert.equal(mqttset.normalizePem("-----BEGIN X-----QUJD-----END Y-----"), undefined);
	assert.equal(mqttset.normalizePem("-----BEGIN X----------END X-----"), undefined);
});

test("both dialects at once use separate clients", async () => {
	const r = await connected();
	const b = r.client;
	assert.deepEqual(r.cmd('AT+ECMTOPEN=0,"127.0.0.1",1883'), ["OK"]);
	const a = r.client;
	a.fire("open");
	assert.deepEqual(r.take(), ["+ECMTOPEN: 0,0"]);
	assert.notEqual(a, b);
	b.fire("recv", "x", ab("1"), {message_id: 0});
	assert.deepEqual(r.take(), ['+MQTTSUBRECV:"x",1,1']);
});

/** A timer the test fires by hand. */
function manualTimer() {
	const due = new Map();
	let next = 1;
	return {
		set: (cb, ms) => { const h = next++; due.set(h, {cb, ms}); return h; },
		clear: (h) => { due.delete(h); },
		fireAll() { const all = [...due.values()]; due.clear(); for (const t of all) t.cb(); return all.map((t) => t.ms); },
		get pending() { return due.size; },
	};
}

test("blocking SUB, UNSUB and PUB QoS 1/2 answer code 8 after 5 s without the broker; the next AT gets OK", async () => {
	const timer = manualTimer();
	const r = await rig({engine: {timer}});
	r.cmd("AT+MQTTCONFIG=h,1883,id,1,60");
	r.cmd("AT+MQTTCONNECT");
	assert.equal(r.client.opts.manual_ack, 32);
	r.client.fire("conack");
	r.take();
	for (const [line, name] of [['AT+MQTTSUB="t",1', "+MQTTSUB"], ['AT+MQTTUNSUB="t"', "+MQTTUNSUB"], ["AT+MQTTPUB=t,1,0,x", "+MQTTPUB"], ["AT+MQTTPUB=t,2,0,x", "+MQTTPUB"]]) {
		assert.deepEqual(r.cmd(line), [], line);
		assert.deepEqual(r.cmd("AT"), ["ERROR"], "busy while it waits");
		assert.deepEqual(timer.fireAll(), [5000]);
		assert.deepEqual(r.take(), [name + ":8", "ERROR"], line);
		assert.deepEqual(r.cmd("AT"), ["OK"]);
	}
	// QoS 0 does not wait; an answer in time cancels the timer
	assert.deepEqual(r.cmd("AT+MQTTPUB=t,0,0,x"), ["OK"]);
	assert.deepEqual(r.cmd('AT+MQTTSUB="u",0'), []);
	const id = r.client.nextId - 1;
	r.client.fire("suback", true, 0, {message_id: id, topics: ["u"], codes: [0]});
	assert.deepEqual(r.take(), ["OK"]);
	assert.equal(timer.pending, 0);
	// a late SUBACK for the timed-out request changes nothing
	r.client.fire("suback", true, 1, {message_id: 1, topics: ["t"], codes: [1]});
	assert.deepEqual(r.take(), []);
	assert.deepEqual(r.cmd("AT+MQTTSUB?"), ["+MQTTSUB:u,0", "OK"]);
});

test("+MQTTSUBRECV waits for room on the UART and is acknowledged then; what finds no room is reported", async () => {
	const r = await connected();
	const c = r.client;
	r.room = 0;
	const body = "b".repeat(3000);
	for (let i = 1; i <= 3; i++) c.fire("recv", "t", ab(body), {message_id: i, qos: 1, retain: 0, dup: 0});
	assert.deepEqual(c.calls.filter((x) => x[0] === "ack").map((x) => x[1]), [1, 2]);
	r.drain();
	assert.deepEqual(c.calls.filter((x) => x[0] === "ack").map((x) => x[1]), [1, 2, 3]);
	assert.equal(r.take().filter((l) => l.startsWith('+MQTTSUBRECV:"t",3000,')).length, 3);
	r.room = 0;
	for (let i = 0; i < 12; i++) c.fire("recv", "t", ab(body), {message_id: 0, qos: 0, retain: 0, dup: 0});
	r.drain();
	const lines = r.take();
	assert.equal(lines.filter((l) => l.startsWith("+MQTTSUBRECV")).length + r.e.messagesDropped, 12);
	assert.ok(r.e.messagesDropped > 0);
	// 2 queued, 8 held (the QoS 0 share of the hold list), 2 reported
	assert.equal(r.e.messagesDropped, 2);
	const reported = lines.filter((l) => l.startsWith("+MQTTDROPPED:")).reduce((n, l) => n + Number(l.slice(13)), 0);
	assert.equal(reported, 2);
});
