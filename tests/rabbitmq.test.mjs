// mqttc against RabbitMQ (Debian's rabbitmq-server with its MQTT plugin), on the XS engine:
// the core client scenarios, what RabbitMQ does differently (see docs/interop.md), and
// failover between the two nodes of a cluster. One two-node cluster serves every test of
// this file (a node takes 11-14 s to start); the failover test, which stops node A, is last.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startRabbitCluster } from "./lib/rabbitmq.mjs";
import { mosquittoPub, mosquittoSub } from "./lib/broker.mjs";
import { startDriver, connected } from "./lib/driver.mjs";
import { willScenario } from "./lib/scenarios.mjs";

let cluster;
let a;          // node A: the core scenarios, and the node that goes down in the failover test
let b;          // node B
let driver;
before(async () => {
	cluster = await startRabbitCluster();
	({ a, b } = cluster);
	await a.ctl("add_user", "alice", "right");
	await a.ctl("set_permissions", "-p", "/", "alice", ".*", ".*", ".*");
	driver = await startDriver();
});
after(async () => {
	await driver?.stop();
	await cluster?.shutdown();
});

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

test("connect, subscribe, QoS 0 and 1 both ways; a QoS 2 subscription is granted QoS 1", async () => {
	await connected(driver, "core", a.port, { keepalive: 30 });
	assert.equal(await driver.call("core", "state"), 3);
	const subId = await driver.call("core", "subscribe", { "core/q0": 0, "core/q1": 1, "core/q2": 2 });
	const suback = await driver.waitEvent("core", "suback");
	assert.equal(suback.metas.message_id, subId);
	assert.equal(suback.data, true);
	assert.deepEqual(suback.metas.codes, [0, 1, 1], "RabbitMQ grants at most QoS 1");
	for (const qos of [0, 1]) {
		const id = await driver.call("core", "publish", `core/q${qos}`, `own ${qos}`, qos);
		assert.equal((await driver.waitEvent("core", "sent", (e) => e.data === id)).metas, undefined);
		const recv = await driver.waitEvent("core", "recv", (e) => e.data === `core/q${qos}`);
		assert.equal(recv.payload, `own ${qos}`);
		assert.equal(recv.metas.qos, qos);
	}
	// From another client, at QoS 1: arrives at the granted QoS.
	await mosquittoPub(a.port, ["-t", "core/q2", "-m", "from outside", "-q", "1"]);
	const recv = await driver.waitEvent("core", "recv", (e) => e.data === "core/q2");
	assert.equal(recv.payload, "from outside");
	assert.equal(recv.metas.qos, 1);
	assert.ok(recv.metas.message_id > 0);
	await driver.call("core", "disconnect");
	assert.equal((await driver.waitEvent("core", "disconnect")).data, "user");
});

test("a QoS 2 publish is settled once as a QoS 1 downgrade: one sent, one copy, no reconnect loop", async () => {
	const watcher = await mosquittoSub(a.port, ["-t", "down/#", "-q", "1"]);
	try {
		await connected(driver, "q2", a.port);
		await driver.call("q2", "autoreconn", true, 200);
		const two = await driver.call("q2", "publish", "down/two", "asked exactly once", 2);
		const one = await driver.call("q2", "publish", "down/one", "queued behind it", 1);
		const sent = await driver.waitEvent("q2", "sent", (e) => e.data === two);
		assert.deepEqual(sent.metas, { message_id: two, qos: 1, downgraded: true });
		await driver.waitEvent("q2", "sent", (e) => e.data === one);
		await watcher.waitFor(2);
		await pause(1500);                       // the issue saw a copy per reconnect, one a second
		assert.deepEqual(watcher.lines.sort(), ["down/one queued behind it", "down/two asked exactly once"]);
		assert.equal(driver.seen("q2", "disconnect").length, 0);
		assert.equal(driver.seen("q2", "sent").length, 2);
		await driver.call("q2", "close");
	}
	finally {
		watcher.stop();
	}
});

test("user name and password: a wrong one is refused with CONNACK code 4, the right one connects", async () => {
	await driver.create("pw", "127.0.0.1", a.port);
	await driver.call("pw", "auth", "pw-client", "alice", "wrong");
	await driver.call("pw", "connect");
	const error = await driver.waitEvent("pw", "error");
	assert.equal(error.data, "conack");
	assert.equal(error.payload, 4, "bad user name or password");
	assert.equal((await driver.waitEvent("pw", "disconnect")).data, "refused");
	await driver.call("pw", "auth", "pw-client", "alice", "right");
	await driver.call("pw", "connect");
	await driver.waitEvent("pw", "conack");
	await driver.call("pw", "close");
});

test("unsubscribe stops delivery", async () => {
	await connected(driver, "unsub", a.port);
	await driver.call("unsub", "subscribe", { "un/one": 0, "un/two": 1 });
	await driver.waitEvent("unsub", "suback");
	await mosquittoPub(a.port, ["-t", "un/two", "-m", "before", "-q", "1"]);
	assert.equal((await driver.waitEvent("unsub", "recv")).payload, "before");
	const id = await driver.call("unsub", "unsubscribe", "un/two");
	assert.equal((await driver.waitEvent("unsub", "unsuback")).data, id);
	await mosquittoPub(a.port, ["-t", "un/two", "-m", "after", "-q", "1"]);
	await mosquittoPub(a.port, ["-t", "un/one", "-m", "marker"]);
	assert.equal((await driver.waitEvent("unsub", "recv")).payload, "marker", "nothing on the unsubscribed topic");
	await driver.call("unsub", "close");
});

test("retained messages: delivered with retain=1 to an exact subscription, not to a wildcard one, and kept per node", async () => {
	await connected(driver, "keeper", a.port);
	const id = await driver.call("keeper", "publish", "ret/a", "stored", 1, 1);
	await driver.waitEvent("keeper", "sent", (e) => e.data === id);
	await driver.call("keeper", "close");
	await connected(driver, "ret", a.port);
	await driver.call("ret", "subscribe", { "ret/#": 1 });
	await driver.waitEvent("ret", "suback");
	await driver.call("ret", "subscribe", "ret/a", 1);
	await driver.waitEvent("ret", "suback");
	const recv = await driver.waitEvent("ret", "recv");
	assert.equal(recv.payload, "stored");
	assert.equal(recv.metas.retain, 1);
	await pause(500);
	assert.equal(driver.seen("ret", "recv").length, 1, "the wildcard subscription got no retained copy");
	await driver.call("ret", "close");
	await connected(driver, "retb", b.port);
	await driver.call("retb", "subscribe", "ret/a", 1);
	await driver.waitEvent("retb", "suback");
	await pause(500);
	assert.equal(driver.seen("retb", "recv").length, 0, "node B has no copy of node A's retained message");
	await driver.call("retb", "close");
});

test("a dot in a topic is a level separator: 'a.b' is delivered as 'a/b'", async () => {
	await connected(driver, "dots", a.port);
	await driver.call("dots", "subscribe", "dot/#", 0);
	await driver.waitEvent("dots", "suback");
	await driver.call("dots", "publish", "dot/sensor.temp", "21.5", 0);
	const recv = await driver.waitEvent("dots", "recv");
	assert.equal(recv.data, "dot/sensor/temp");
	assert.equal(recv.payload, "21.5");
	await driver.call("dots", "close");
});

test("the will is delivered when the client vanishes, and not after disconnect()", async () => {
	await willScenario(a.port, "rabbit-");
});

test("keepalive: an idle connection pings and gets pong (virtual time)", async () => {
	const timed = await startDriver({ virtualTime: true });
	try {
		await connected(timed, "ka", a.port, { keepalive: 15 });
		await timed.advance(12000, 500);
		await timed.waitEvent("ka", "pong");
		assert.equal(await timed.call("ka", "ready"), true);
		await timed.call("ka", "close");
	}
	finally {
		await timed.stop();
	}
});

test("cleanSession false: the subscription and the QoS 1 messages published while offline survive a reconnect", async () => {
	await connected(driver, "sess", a.port, { id: "rabbit-session", clean: false });
	await driver.call("sess", "subscribe", "sess/t", 1);
	await driver.waitEvent("sess", "suback");
	await driver.call("sess", "disconnect");
	await driver.waitEvent("sess", "disconnect");
	for (const n of [1, 2, 3]) await mosquittoPub(a.port, ["-t", "sess/t", "-m", `offline ${n}`, "-q", "1"]);
	assert.equal(await driver.call("sess", "connect"), true);
	await driver.waitEvent("sess", "conack");
	const got = [];
	for (let i = 0; i < 3; i++) got.push((await driver.waitEvent("sess", "recv")).payload);
	assert.deepEqual(got, ["offline 1", "offline 2", "offline 3"]);
	assert.equal(driver.seen("sess", "suback").length, 1, "no resubscribe: the broker kept the session");
	await driver.call("sess", "close");
	// Clean up the durable session on the broker.
	await connected(driver, "sess2", a.port, { id: "rabbit-session", clean: true });
	await driver.call("sess2", "close");
});

test("over WebSocket (web_mqtt, path /ws): connect, QoS 0 and 1 both ways, QoS 2 downgraded once, retained, reconnect after the WebSocket drops", async () => {
	const ws = { websocket: { path: "/ws" } };
	await connected(driver, "ws", a.wsPort, { opts: ws, keepalive: 30 });
	await driver.call("ws", "autoreconn", true, 200);
	await driver.call("ws", "subscribe", "wsr/#", 1);
	await driver.waitEvent("ws", "suback");
	for (const qos of [0, 1, 2]) await driver.call("ws", "publish", `wsr/q${qos}`, `over ws ${qos}`, qos);
	for (const qos of [0, 1, 2]) await driver.waitEvent("ws", "recv", (e) => e.payload === `over ws ${qos}`);
	const downgraded = await driver.waitEvent("ws", "sent", (e) => e.metas?.downgraded === true);
	assert.equal(downgraded.metas.qos, 1);
	const kept = await driver.call("ws", "publish", "wsr/kept", "retained over ws", 1, 1);
	await driver.waitEvent("ws", "sent", (e) => e.data === kept);
	await connected(driver, "ws2", a.wsPort, { opts: ws });
	await driver.call("ws2", "subscribe", "wsr/kept", 1);
	assert.equal((await driver.waitEvent("ws2", "recv", (e) => e.payload === "retained over ws")).metas.retain, 1);
	// the broker closes the WebSocket of a client id taken over: ws reconnects by itself
	await connected(driver, "thief", a.wsPort, { opts: ws, id: "ws" });
	await driver.waitEvent("ws", "disconnect");
	await driver.call("thief", "close");
	await driver.waitEvent("ws", "conack");
	for (const name of ["ws", "ws2"]) await driver.call(name, "close");
});

test("failover: node A stops; the device reconnects to node B, its subscription is restored, every QoS 1 message is accounted for", async () => {
	const watcher = await mosquittoSub(b.port, ["-t", "fleet/dev/up", "-q", "1"]);
	try {
		await connected(driver, "dev", a.port, { opts: { backup: [`127.0.0.1:${b.port}`] } });
		await driver.call("dev", "autoreconn", true, 500, 4000);
		await driver.call("dev", "subscribe", "fleet/dev/cmd", 1);
		await driver.waitEvent("dev", "suback");
		const ids = new Map();                    // message id -> payload
		let n = 0;
		const publishSome = async (count) => {
			for (let i = 0; i < count; i++, n++) {
				const id = await driver.call("dev", "publish", "fleet/dev/up", `m${n}`, 1);
				assert.ok(id, `publish m${n} accepted`);
				ids.set(id, `m${n}`);
				await pause(20);
			}
		};
		await publishSome(20);
		const stopping = a.stop();                // graceful: the node closes its connections
		await publishSome(20);                     // while A goes down and the device moves to B
		await stopping;
		await driver.waitEvent("dev", "conack", () => true, 20000);
		await driver.waitEvent("dev", "suback");   // restored on B (no session there)
		await publishSome(10);
		await mosquittoPub(b.port, ["-t", "fleet/dev/cmd", "-m", "reboot", "-q", "1"]);
		assert.equal((await driver.waitEvent("dev", "recv")).payload, "reboot");
		// Every message: sent, or reported lost with its id; every sent one reached the watcher.
		const settled = () => driver.seen("dev", "sent").filter((e) => ids.has(e.data)).length
			+ driver.seen("dev", "error").filter((e) => ids.has(e.metas?.message_id)).length;
		for (let waited = 0; settled() < ids.size && waited < 15000; waited += 100) await pause(100);
		const sent = new Set(driver.seen("dev", "sent").map((e) => ids.get(e.data)).filter(Boolean));
		const lost = new Set(driver.seen("dev", "error").map((e) => ids.get(e.metas?.message_id)).filter(Boolean));
		assert.equal(sent.size + lost.size, ids.size, `every message settled: ${sent.size} sent + ${lost.size} reported of ${ids.size}`);
		await pause(500);
		const delivered = new Set(watcher.lines.map((l) => l.split(" ")[1]));
		const missing = [...sent].filter((p) => !delivered.has(p));
		assert.deepEqual(missing, [], "every acknowledged message was delivered");
		console.log(`# failover: ${ids.size} QoS 1 messages, ${sent.size} sent, ${lost.size} reported lost, ${watcher.lines.length} deliveries (${watcher.lines.length - delivered.size} duplicates), disconnects: ${driver.seen("dev", "disconnect").map((e) => e.data).join(",")}`);
		await driver.call("dev", "close");
	}
	finally {
		watcher.stop();
	}
});
