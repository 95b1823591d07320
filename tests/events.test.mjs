// When events arrive, as an app written for LuatOS expects: never inside an API call,
// never nested in a handler; a graceful disconnect; failures before CONNACK are "connect"
// on both platform profiles. On the XS engine against mosquitto.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { mosquittoSub, freePort } from "./lib/broker.mjs";
import { startDriver, brokerAndDriver, connected } from "./lib/driver.mjs";

const env = brokerAndDriver();

/** Position in the trace of the first line matching `re` (fails when there is none). */
function lineOf(re) {
	const lines = env.driver.app.output.split("\n");
	const index = lines.findIndex((line) => re.test(line));
	assert.ok(index >= 0, `no line matches ${re}`);
	return index;
}

test("a QoS 0 publish returns its id before the id's sent event is delivered", async () => {
	await connected(env.driver, "order", env.broker.port);
	const [id] = await env.driver.app.call("sequence", "order", [["publish", "events/order", "hello", 0]]);
	assert.ok(id > 0);
	await env.driver.waitEvent("order", "sent", (e) => e.data === id);
	assert.ok(lineOf(new RegExp(`^RET order publish ${id}$`)) < lineOf(new RegExp(`^EVT order \\{"event":"sent","data":${id},`)),
		"sent came after publish() returned");
	await env.driver.call("order", "close");
});

test("disconnect() returns before the disconnect event is delivered", async () => {
	await connected(env.driver, "bye", env.broker.port);
	const [result] = await env.driver.app.call("sequence", "bye", [["disconnect"]]);
	assert.equal(result, true);
	const gone = await env.driver.waitEvent("bye", "disconnect");
	assert.equal(gone.data, "user");
	assert.ok(lineOf(/^RET bye disconnect true$/) < lineOf(/^EVT bye \{"event":"disconnect"/));
	await env.driver.call("bye", "close");
});

test("a handler that calls the API never sees a nested event; what its calls raise follows it", async () => {
	await env.driver.create("nest", "127.0.0.1", env.broker.port);
	await env.driver.call("nest", "auth", "nest");
	await env.driver.app.call("react", "nest", "conack", "subscribe", "events/nest/#", 1);
	await env.driver.app.call("react", "nest", "conack", "publish", "events/nest/a", "from conack", 0);
	await env.driver.app.call("react", "nest", "recv", "publish", "events/other", "from recv", 0);
	await env.driver.call("nest", "connect");
	await env.driver.waitEvent("nest", "conack");
	await env.driver.waitEvent("nest", "suback");
	const recv = await env.driver.waitEvent("nest", "recv", (e) => e.data === "events/nest/a");
	assert.equal(recv.payload, "from conack");
	await env.driver.waitEvent("nest", "sent");
	await env.driver.waitEvent("nest", "sent");   // of the publish made in the recv handler
	assert.doesNotMatch(env.driver.app.output, /^NESTED /m, "no event was delivered inside a running handler");
	// The sent of the publish made in the conack handler comes after that handler's return.
	assert.ok(lineOf(/^RET nest publish \d+$/) < lineOf(/^EVT nest \{"event":"sent"/));
	await env.driver.call("nest", "close");
});

test("disconnect() with 20 KB queued: the message is delivered, the broker gets DISCONNECT, no will", async () => {
	const big = "x".repeat(20000);
	const sub = await mosquittoSub(env.broker.port, ["-t", "events/big/#", "-t", "events/will/#", "-q", "1"]);
	try {
		await env.driver.create("leave", "127.0.0.1", env.broker.port);
		await env.driver.call("leave", "auth", "graceful-leaver");
		assert.equal(await env.driver.call("leave", "will", "events/will/leaver", "gone", 1), true);
		await env.driver.call("leave", "connect");
		await env.driver.waitEvent("leave", "conack");
		// One turn: nothing leaves the 1024-byte socket before disconnect() is called.
		const [q0, q1, result] = await env.driver.app.call("sequence", "leave", [
			["publish", "events/big/q0", { repeat: "x", count: 20000 }, 0],
			["publish", "events/big/q1", "one", 1],
			["disconnect"],
		]);
		assert.ok(q0 > 0 && q1 > 0);
		assert.equal(result, true);
		assert.equal(await env.driver.call("leave", "state"), 0, "state() says DISCONNECT at once");
		assert.equal(await env.driver.call("leave", "ready"), false);
		assert.equal(await env.driver.call("leave", "publish", "events/big/late", "too late", 0), null, "nothing more is accepted");
		const gone = await env.driver.waitEvent("leave", "disconnect");
		assert.equal(gone.data, "user");
		await env.driver.waitEvent("leave", "sent", (e) => e.data === q0);
		await env.driver.waitEvent("leave", "sent", (e) => e.data === q1);
		assert.equal(env.driver.seen("leave", "error").length, 0, "nothing was reported lost");
		const lines = await sub.waitFor(2);
		assert.deepEqual(lines.slice(0, 2).sort(), [`events/big/q0 ${big}`, "events/big/q1 one"]);
		assert.match(env.broker.log(), /Received DISCONNECT from graceful-leaver/);
		await new Promise((r) => setTimeout(r, 500));
		assert.equal(sub.lines.filter((l) => l.startsWith("events/will/")).length, 0, "the broker did not publish the will");
	}
	finally {
		sub.stop();
		await env.driver.call("leave", "close");
	}
});

test("connect() during a graceful disconnect opens a new connection once the old one has closed", async () => {
	await connected(env.driver, "again", env.broker.port);
	await env.driver.app.call("sequence", "again", [["disconnect"], ["connect"]]);
	assert.equal((await env.driver.waitEvent("again", "disconnect")).data, "user");
	await env.driver.waitEvent("again", "conack");
	assert.equal(await env.driver.call("again", "ready"), true);
	await env.driver.call("again", "close");
});

for (const platform of ["lin", "esp32"]) {
	test(`a refused TCP connect is error "connect" and disconnect "connect" (${platform} profile)`, async () => {
		const own = await startDriver({ platform });
		try {
			const port = await freePort();
			await own.create("refused", "127.0.0.1", port);
			await own.call("refused", "connect");
			const error = await own.waitEvent("refused", "error");
			assert.equal(error.data, "connect", `error ${error.data}: ${error.payload}`);
			assert.equal((await own.waitEvent("refused", "disconnect")).data, "connect");
			assert.equal(await own.call("refused", "state"), 0);
		}
		finally {
			await own.stop();
		}
	});
}

test("a broker that closes the connection before CONNACK is error \"connect\", disconnect \"connect\"", async () => {
	const closer = net.createServer((socket) => socket.once("data", () => socket.destroy()));
	await new Promise((r) => closer.listen(0, "127.0.0.1", r));
	try {
		await env.driver.create("early", "127.0.0.1", closer.address().port);
		await env.driver.call("early", "connect");
		assert.equal((await env.driver.waitEvent("early", "error")).data, "connect");
		assert.equal((await env.driver.waitEvent("early", "disconnect")).data, "connect");
		await env.driver.call("early", "close");
	}
	finally {
		closer.close();
	}
});
