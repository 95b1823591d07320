// Interop probe (not part of `npm test`): what mosquitto, Aedes and RabbitMQ do on the
// points where MQTT 3.1.1 brokers differ, observed through mqttc on the XS host. Prints the
// table docs/interop.md is made from.
//
//   node tests/interop.probe.mjs
import { createServer } from "node:net";
import { Aedes } from "aedes";
import { startBroker } from "./lib/broker.mjs";
import { startRabbit } from "./lib/rabbitmq.mjs";
import { startDriver, connected } from "./lib/driver.mjs";

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

async function startAedes() {
	const aedes = await Aedes.createBroker();
	const server = createServer(aedes.handle);
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	return { port: server.address().port, stop: async () => { await new Promise((r) => aedes.close(r)); server.close(); } };
}

let serial = 0;
async function probe(port) {
	const driver = await startDriver();
	const name = () => `p${++serial}`;
	const result = {};
	try {
		// QoS 2 subscription grant and QoS 2 publish acknowledgement
		const c = name();
		await connected(driver, c, port);
		await driver.call(c, "subscribe", "probe/q2", 2);
		result.qos2Grant = (await driver.waitEvent(c, "suback")).metas.codes[0];
		const id = await driver.call(c, "publish", "probe/q2", "x", 2);
		const sent = await driver.waitEvent(c, "sent", (e) => e.data === id);
		result.qos2Publish = sent.metas?.downgraded ? "PUBACK (settled as QoS 1)" : "PUBREC/PUBCOMP";
		result.qos2Inbound = (await driver.waitEvent(c, "recv")).metas.qos;
		// A dot in a topic
		await driver.call(c, "subscribe", "probe/d/#", 0);
		await driver.waitEvent(c, "suback");
		await driver.call(c, "publish", "probe/d/a.b", "dot", 0);
		result.dotTopic = (await driver.waitEvent(c, "recv", (e) => e.payload === "dot")).data;
		// Retained message to a wildcard subscription
		const r = await driver.call(c, "publish", "probe/ret/a", "kept", 1, 1);
		await driver.waitEvent(c, "sent", (e) => e.data === r);
		const w = name();
		await connected(driver, w, port);
		await driver.call(w, "subscribe", "probe/ret/#", 1);
		await driver.waitEvent(w, "suback");
		await pause(500);
		result.retainedWildcard = driver.seen(w, "recv").length > 0;
		await driver.call(c, "publish", "probe/ret/a", "", 1, 1);
		// Will of a client displaced by another with the same client id
		const watch = name();
		await connected(driver, watch, port);
		await driver.call(watch, "subscribe", "probe/will/#", 1);
		await driver.waitEvent(watch, "suback");
		const first = name();
		await driver.create(first, "127.0.0.1", port);
		await driver.call(first, "auth", "probe-takeover");
		await driver.call(first, "will", "probe/will/takeover", "displaced", 1);
		await driver.call(first, "connect");
		await driver.waitEvent(first, "conack");
		const second = name();
		await connected(driver, second, port, { id: "probe-takeover" });
		await driver.waitEvent(first, "disconnect");
		await pause(800);
		result.willOnTakeover = driver.seen(watch, "recv").some((e) => e.data === "probe/will/takeover");
		// Empty client id (clean session)
		const anon = name();
		await driver.create(anon, "127.0.0.1", port);
		await driver.call(anon, "auth", "");
		await driver.call(anon, "connect");
		for (let i = 0; i < 50 && !driver.seen(anon, "conack").length && !driver.seen(anon, "disconnect").length; i++) await pause(100);
		const refused = driver.seen(anon, "error").find((e) => e.data === "conack");
		result.emptyClientId = driver.seen(anon, "conack").length ? "accepted" : refused ? `refused, code ${refused.payload}` : "no answer";
	}
	finally {
		await driver.stop();
	}
	return result;
}

const brokers = [
	["mosquitto", startBroker],
	["Aedes", startAedes],
	["RabbitMQ", startRabbit],
];
const results = [];
for (const [label, start] of brokers) {
	const broker = await start();
	try {
		results.push([label, await probe(broker.port)]);
	}
	finally {
		await (broker.shutdown ?? broker.stop)();
	}
}
const keys = Object.keys(results[0][1]);
console.log(`| probe | ${results.map(([l]) => l).join(" | ")} |`);
console.log(`|---|${results.map(() => "---").join("|")}|`);
for (const key of keys) console.log(`| ${key} | ${results.map(([, r]) => JSON.stringify(r[key])).join(" | ")} |`);
