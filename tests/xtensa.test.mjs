// The Xtensa tier: mqttc on the XS engine built for an emulated lx106 core (QEMU), with a
// heap and stack fixed at hosts/esp32/manifest.json's creation values, against a real
// mosquitto. Each test runs tests/apps/xtensa-scenario through hosts/xtensa/run.mjs, as a
// user would. The first run builds the guest (cached in build/xtensa).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { startBroker, mosquittoPub, freePort } from "./lib/broker.mjs";
import { buildGuest } from "../hosts/xtensa/build.mjs";
import { ROOT, runXtensa } from "./lib/xtensa-run.mjs";

const APP = path.join(ROOT, "tests", "apps", "xtensa-scenario");

function run(args, app = APP) {
	return runXtensa(app, args);
}

let broker;
before(async () => {
	await buildGuest();
	broker = await startBroker();
});
after(async () => { await broker?.stop(); });

test("connect, subscribe from conack, QoS 0, 1 and 2 round trips published from recv", async () => {
	const app = run([`port=${broker.port}`, "scenario=roundtrip", "--until", "^roundtrip done$", "--timeout", "60"]);
	const code = await app.exited;
	assert.equal(code, 0, app.stderr);
	assert.deepEqual(app.lines.filter((l) => /^(connected|subscribed|recv|roundtrip)/.test(l)),
		["connected 1", "subscribed 2", "recv qos=0 qos 0", "recv qos=1 qos 1", "recv qos=2 qos 2", "roundtrip done"]);
});

test("keepalive: PINGREQ answered by PINGRESP, in virtual time (two 60 s periods)", async () => {
	const app = run([`port=${broker.port}`, "scenario=keepalive", "keepalive=60", "--virtual-time", "--until", "^pong 2$", "--timeout", "60"]);
	assert.equal(await app.exited, 0, app.stderr);
	assert.ok(app.lines.includes("pong 1"));
});

test("reconnects after the broker restarts", async () => {
	const app = run([`port=${broker.port}`, "scenario=reconnect", "--timeout", "60"]);
	await app.waitFor(/^connected 1$/);
	await broker.restart();
	await app.waitFor(/^connected 2$/);
	await mosquittoPub(broker.port, ["-t", "mqttc/xtensa", "-q", "1", "-m", "after restart"]);
	await app.waitFor(/^recv after restart$/);
	await app.kill();
});

test("a message larger than rxSize arrives in chunks", async () => {
	const app = run([`port=${broker.port}`, "scenario=listen", "rxSize=1024", "--until", "^chunk 2048/3000 952$", "--timeout", "60"]);
	await app.waitFor(/^subscribed 2$/);
	await mosquittoPub(broker.port, ["-t", "mqttc/xtensa", "-q", "1", "-m", "a".repeat(3000)]);
	assert.equal(await app.exited, 0, app.stderr);
	assert.deepEqual(app.lines.filter((l) => l.startsWith("chunk")), ["chunk 0/3000 1024", "chunk 1024/3000 1024", "chunk 2048/3000 952"]);
});

test("a publish larger than the socket's 8192 bytes of free space goes out whole", async () => {
	const app = run([`port=${broker.port}`, "scenario=big", "size=10000", "--until", "^big done 10000$", "--timeout", "60"]);
	assert.equal(await app.exited, 0, app.stderr);
	assert.ok(!app.lines.some((l) => l.includes("corrupt")), app.lines.join("\n"));
});

test("a QoS 1 queue that never drains (inflight 1, two always waiting) runs 3,000 messages in the ESP32's fixed heap", async () => {
	// Each message leaves the outbox's list of waiting ones as it goes out; a list that kept a
	// slot per message sent (an index over a growing array) ran out of memory here.
	const app = run([`port=${broker.port}`, "scenario=backlog", "count=3000", "topic=xtensa/backlog", "--until", "^backlog done 3000$", "--timeout", "120"]);
	assert.equal(await app.exited, 0, app.stderr);
});

test("the XS stack is the manifest's creation.stack: 360 slots stop the client with a stack overflow", async () => {
	const app = run([`port=${broker.port}`, "scenario=roundtrip", "--until", "^roundtrip done$", "--timeout", "60"],
		path.join(ROOT, "tests", "apps", "xtensa-small-stack"));
	assert.equal(await app.exited, 1);
	assert.match(app.stderr, /stack overflow/);
	// the report names the functions holding the stack, deepest first, down to the host's call
	assert.match(app.stderr, /XS stack at the overflow[^]*Decoder\.prototype\.feed[^]*Link\.prototype\.\(anonymous-0\)[^]*\(host\)/);
});

test("the heap is fixed: a heap too small for the client stops the app with memory full", async () => {
	const app = run([`port=${broker.port}`, "scenario=roundtrip", "--heap", "16384", "--until", "^roundtrip done$", "--timeout", "60"]);
	assert.equal(await app.exited, 1);
	assert.match(app.stderr, /memory full/);
});

test("a refused connect reaches the client as a socket error", async () => {
	const port = await freePort();
	const app = run([`port=${port}`, "scenario=roundtrip", "--until", "^error connect", "--timeout", "60"]);
	assert.equal(await app.exited, 0, app.stderr);
});

test("the guest reaches 127.0.0.1 only", async () => {
	const app = run(["host=192.0.2.1", `port=${broker.port}`, "scenario=roundtrip", "--until", "^error connect", "--timeout", "60"]);
	assert.equal(await app.exited, 0, app.stderr);
});

test("socket: lwIP semantics (free space, can't write all data, read forms, buffered bytes, -1, -2); String.fromArrayBuffer's checks", async () => {
	const server = net.createServer((peer) => {
		let received = 0;
		peer.write("hello\nworld!");
		peer.on("data", (chunk) => {
			received += chunk.length;
			if (received === 8192) peer.end("bye");
		});
		peer.on("error", () => {});
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	const closedPort = await freePort();
	try {
		const app = run([`port=${server.address().port}`, `closedPort=${closedPort}`, "--timeout", "60"], path.join(ROOT, "tests", "apps", "xtensa-socket"));
		assert.equal(await app.exited, 0, app.stderr);
		const expected = ["utf8-bad TypeError", "utf8-range RangeError", 'utf8-nul "a"', "utf8-slice \u00e9l",
			"connected 1", "free 8192", "oversize can't write all data", "free-after-throw 8192",
			"readable 12", "available 12", "number 104", 'line "ello\\n"', 'count "wo"', "skip 1", "available-now 3",
			"later ld!", "empty undefined", "free-full 0", "writable 8192", "bye bye", "disconnected -1",
			"write-after-close write on closed socket", "closed twice is fine"];
		assert.deepEqual(app.lines.filter((l) => !l.startsWith("refused")), expected);
		assert.ok(app.lines.includes("refused -2"), app.lines.join("\n"));
	}
	finally {
		server.close();
	}
});
