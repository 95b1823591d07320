// Failover between broker addresses (create's opts.backup), in the XS host's virtual time:
// the next address at once within a round, the reconnect policy's delay between rounds.
// The two-node RabbitMQ cluster case is in tests/rabbitmq.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startApp } from "../hosts/xs/host.mjs";
import { startBroker, mosquittoPub, freePort } from "./lib/broker.mjs";
import { brokerAndDriver } from "./lib/driver.mjs";

const env = brokerAndDriver({ virtualTime: true });

async function start(name, port, backup, autoreconn) {
	assert.equal(await env.driver.create(name, "127.0.0.1", port, null, { backup }), true);
	await env.driver.call(name, "auth", name);
	if (autoreconn) await env.driver.call(name, "autoreconn", ...autoreconn);
	assert.equal(await env.driver.call(name, "connect"), true);
}

test("connect() tries the backup at once when the first address refuses, even without autoreconn", async () => {
	const dead = await freePort();
	await start("fo1", dead, [`127.0.0.1:${env.broker.port}`], null);
	await env.driver.advance(200, 50);
	await env.driver.waitEvent("fo1", "conack", () => true, 2000);
	assert.equal(env.driver.seen("fo1", "disconnect").length, 1, "one failed address before it");
	await env.driver.call("fo1", "subscribe", "fo/one", 1);
	await env.driver.waitEvent("fo1", "suback");
	await mosquittoPub(env.broker.port, ["-t", "fo/one", "-m", "via backup", "-q", "1"]);
	assert.equal((await env.driver.waitEvent("fo1", "recv")).payload, "via backup");
	await env.driver.call("fo1", "close");
});

test("without autoreconn one round is all: each address once, then disconnected", async () => {
	const [a, b] = [await freePort(), await freePort()];
	await start("fo2", a, [{ host: "127.0.0.1", port: b }], null);
	await env.driver.advance(5000, 100);
	assert.equal(env.driver.seen("fo2", "disconnect").length, 2);
	assert.equal(await env.driver.call("fo2", "state"), 0);
	await env.driver.call("fo2", "close");
});

test("with autoreconn the delay is between rounds, not between addresses", async () => {
	const [a, b, c] = [await freePort(), await freePort(), await freePort()];
	await start("fo3", a, [`127.0.0.1:${b}`, `127.0.0.1:${c}`], [true, 1000]);
	await env.driver.advance(300, 50);
	assert.equal(env.driver.seen("fo3", "disconnect").length, 3, "a whole round at once");
	await env.driver.advance(600, 50);
	assert.equal(env.driver.seen("fo3", "disconnect").length, 3, "then the reconnect period");
	await env.driver.advance(500, 50);
	assert.equal(env.driver.seen("fo3", "disconnect").length, 6, "then the next round");
	await env.driver.call("fo3", "close");
});

test("a dropped connection goes to the next address at once and restores its subscriptions there", async () => {
	const other = await startBroker();
	try {
		await start("fo4", other.port, [`127.0.0.1:${env.broker.port}`], [true, 60000]);
		await env.driver.advance(100, 50);
		await env.driver.waitEvent("fo4", "conack");
		await env.driver.call("fo4", "subscribe", "fo/four", 1);
		await env.driver.waitEvent("fo4", "suback");
		await other.kill();
		assert.equal((await env.driver.waitEvent("fo4", "disconnect")).data, "peer");
		await env.driver.advance(200, 50);               // far less than the 60 s period
		await env.driver.waitEvent("fo4", "conack", () => true, 2000);
		await env.driver.waitEvent("fo4", "suback");
		await mosquittoPub(env.broker.port, ["-t", "fo/four", "-m", "after failover", "-q", "1"]);
		assert.equal((await env.driver.waitEvent("fo4", "recv")).payload, "after failover");
		await env.driver.call("fo4", "close");
	}
	finally {
		await other.stop();
	}
});

test("invalid backup lists make create() return null", async () => {
	for (const backup of ["127.0.0.1:1883", [""], ["h:0"], ["h:x"], [{ host: 5 }], [{ host: "h", port: 70000 }], Array(9).fill("h")]) {
		assert.equal(await env.driver.create("fobad", "127.0.0.1", 1883, null, { backup }), false, JSON.stringify(backup));
	}
	assert.equal(await env.driver.create("fook", "127.0.0.1", 1883, null, { backup: ["h", "h:1884", { host: "h" }] }), true);
	await env.driver.call("fook", "close");
});

test("opts.backup in an app built without manifest_failover.json: create returns null and names the manifest; a plain app carries no failover code", async () => {
	const app = await startApp(fileURLToPath(new URL("./apps/client-notls/", import.meta.url)), { stdout: !!process.env.MQTTC_TRACE });
	try {
		assert.equal(await app.call("create", "nobackup", "127.0.0.1", env.broker.port, null, { backup: ["127.0.0.1:1884"] }), false);
		assert.match(app.output, /mqttc: create: backup needs mqttc\/failover: include mqttc's manifest_failover.json/);
		assert.ok(!app.sources.has("mqttc/failover"), "not in a plain app");
		// without backup the same app connects to its one address
		assert.equal(await app.call("create", "plain", "127.0.0.1", env.broker.port, null, null), true);
		await app.call("call", "plain", "auth", "plain");
		await app.call("call", "plain", "connect");
		await app.waitFor(/EVT plain \{"event":"conack"/, 5000);
		await app.call("call", "plain", "close");
	}
	finally {
		await app.stop();
	}
});

