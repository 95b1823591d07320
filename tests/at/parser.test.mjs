// Unit tests of mqttc-at/parser under Node (transpiled by tests/at/_load.mjs).
import test from "node:test";
import assert from "node:assert/strict";
import {load} from "./_load.mjs";

const {parser: P} = await load();

test("parseLine: forms and names", () => {
	assert.deepEqual(P.parseLine("AT"), {name: "", kind: P.KIND_EXEC, basic: "", line: "AT", at: 2});
	assert.equal(P.parseLine("at").name, "");
	assert.equal(P.parseLine("  AT  ").name, "");
	assert.equal(P.parseLine("ATE0").name, "E");
	assert.equal(P.parseLine("ATE0").basic, "0");
	assert.equal(P.parseLine("ati").name, "I");
	const s = P.parseLine('at+ecmtpub=0,0,0,0,"a","b"');
	assert.equal(s.name, "+ECMTPUB");
	assert.equal(s.kind, P.KIND_SET);
	assert.equal(s.line.slice(s.at), '0,0,0,0,"a","b"');
	assert.equal(P.parseLine("AT+MQTTCONFIG?").kind, P.KIND_READ);
	assert.equal(P.parseLine("AT+MQTTCONFIG=?").kind, P.KIND_TEST);
	assert.equal(P.parseLine("AT+MQTTSTATE").kind, P.KIND_EXEC);
	for (const bad of ["", "A", "XT", "hello", "AT+", "AT+X?Y", "ATE0X", "AT!"]) assert.equal(P.parseLine(bad), undefined, bad);
});

const split = (s, max, limit) => P.splitArgs(s, 0, max, limit)?.map((a) => (a.q ? "q:" : "u:") + a.s);

test("splitArgs: quoted strings, escapes, spaces", () => {
	assert.deepEqual(split('0,"test.mosquitto.org",1883'), ["u:0", "q:test.mosquitto.org", "u:1883"]);
	assert.deepEqual(split('0, "test.mosquitto.org",1883'), ["u:0", "q:test.mosquitto.org", "u:1883"]);
	assert.deepEqual(split('0,4, "test"'), ["u:0", "u:4", "q:test"]);
	assert.deepEqual(split('"a\\"b","c\\\\d","e\\nf"'), ['q:a"b', "q:c\\d", "q:e\\nf"]);
	assert.deepEqual(split('"a,b",""'), ["q:a,b", "q:"]);
	assert.deepEqual(split("0,1,\u201dtest\u201d,2"), ["u:0", "u:1", "q:test", "u:2"]);
	assert.deepEqual(split("\u201ca\"b\u201d"), ['q:a"b']);
	assert.deepEqual(split(""), ["u:"]);
	assert.deepEqual(split("a,"), ["u:a", "u:"]);
	for (const bad of ['"abc', '"a"b', '"a" x,1', '0,"x']) assert.equal(split(bad), undefined, bad);
});

test("splitArgs: unquoted values with = & % and rest-of-line", () => {
	const cfg = "183.230.40.16,8883,MQTT002,1,60,431671,version=2018 -10-31&res=products%2F431671%2Fdevices%2FMQTT002&et=1635216369&method= md5&sign=UJyDU%2FI3%2FVGCJFjUHhBAXw%3D%3D";
	const a = split(cfg, 7);
	assert.equal(a.length, 7);
	assert.equal(a[6], "u:version=2018 -10-31&res=products%2F431671%2Fdevices%2FMQTT002&et=1635216369&method= md5&sign=UJyDU%2FI3%2FVGCJFjUHhBAXw%3D%3D");
	assert.deepEqual(split("t,1,0,a,b,c", 4), ["u:t", "u:1", "u:0", "u:a,b,c"]);
	assert.deepEqual(split('"t",1,0,"{\\"id\\":1,\\"v\\":[2,3]}"', 4), ["q:t", "u:1", "u:0", 'q:{"id":1,"v":[2,3]}']);
	assert.equal(split('t,1,0,"a",b', 4), undefined);
	assert.equal(split("a,b,c", 0, 2), undefined);
});

test("argInt: ranges, quotes, junk", () => {
	const a = (s, q = false) => ({s, q});
	assert.equal(P.argInt(a("0"), 0, 2), 0);
	assert.equal(P.argInt(a("65535"), 1, 65535), 65535);
	assert.equal(P.argInt(a("65536"), 1, 65535), -1);
	assert.equal(P.argInt(a("3"), 0, 2), -1);
	assert.equal(P.argInt(a("1", true), 0, 2), -1);
	assert.equal(P.argInt(a(""), 0, 2), -1);
	assert.equal(P.argInt(a("1x"), 0, 2), -1);
	assert.equal(P.argInt(a("-1"), 0, 2), -1);
	assert.equal(P.argInt(a("1234567"), 0, 9999999), -1);
	assert.equal(P.argInt(undefined, 0, 2), -1);
});

test("utf8Length and string bounds", () => {
	assert.equal(P.utf8Length("abc"), 3);
	assert.equal(P.utf8Length("é"), 2);
	assert.equal(P.utf8Length("温度"), 6);
	assert.equal(P.utf8Length("😀"), 4);
	assert.equal(P.argQuoted({s: "温度", q: true}, 6), "温度");
	assert.equal(P.argQuoted({s: "温度", q: true}, 5), undefined);
	assert.equal(P.argQuoted({s: "x", q: false}, 5), undefined);
	assert.equal(P.argQuoted({s: "", q: true}, 5, false), undefined);
	assert.equal(P.argText({s: "x", q: false}, 5), "x");
});
