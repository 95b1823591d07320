/*
 * Deliberate misuses of the mqttc API. Every line marked `// misuse` must fail to
 * type-check against typings/mqttc.d.ts, and no other line may (tests/typings.test.mjs).
 */
import mqtt from "mqttc";

const client = mqtt.create(null, "127.0.0.1", 1883)!;
mqtt.create(null, "127.0.0.1", "1883"); // misuse: port is a number
mqtt.create(null, "127.0.0.1", 1883, false, { rxSize: "4k" }); // misuse: rxSize is a number
mqtt.create(null, "127.0.0.1", 1883, false, { oversize: "drop" }); // misuse: "chunk" or "skip"
mqtt.create(null, "127.0.0.1", 1883, false, { keepalive: 60 }); // misuse: not a create option
mqtt.create(null, "127.0.0.1", 1883, { verify: 3 }); // misuse: verify is 0, 1 or 2
mqtt.STATE_READY = 0; // misuse: read-only
client.publish("t", "x", 3); // misuse: qos 0..2
client.publish("t", 42); // misuse: payload is a string or bytes
client.publish(["t"], "x"); // misuse: one topic
client.subscribe({ "a/b": 5 }); // misuse: qos 0..2
client.subscribe("a/b", 1, 2); // misuse: too many arguments
client.unsubscribe(7); // misuse: a topic or a list
client.keepalive("60"); // misuse: seconds are a number
client.autoreconn(true, "3s"); // misuse: period in ms
client.will("t", "x", 1, "yes"); // misuse: retain is 0/1/boolean
client.auth(42); // misuse: client id is a string
client.connect(true); // misuse: no arguments
const id: number = client.publish("t", "x"); // misuse: may be null
client.on((c, event, data) => {
	if (event === "recv") {
		const n: number = data; // misuse: the topic is a string
		void n;
	}
	if (event === "sent") {
		const s: string = data; // misuse: the message id is a number
		void s;
	}
	if (event === "bogus") return; // misuse: no such event
});
client.on((c, event, data, payload, metas) => {
	if (event === "recv") {
		const length: number = payload.length; // misuse: payload may be an ArrayBuffer
		void metas.message_id;
		void length;
	}
	if (event === "suback") void metas.qos; // misuse: SubackMetas has no qos
	if (event === "conack") void metas.qos; // misuse: conack has no metas
	if (event === "error" && data === "conack") {
		const detail: string = payload; // misuse: the CONNACK code is a number
		void detail;
	}
	if (event === "disconnect" && data === "timeout") return; // misuse: not a reason
});
client.on((c, event, data, payload, metas, extra) => void extra); // misuse: five parameters at most
client.on("recv", () => {}); // misuse: one callback for all events
client.nonexistent(); // misuse: no such method
client.ack("7"); // misuse: ack takes the numeric message_id
mqtt.create(null, "h", 1883, false, { manual_ack: "yes" }); // misuse: boolean or a count
mqtt.create(null, "h", 1883, false, { store: "meter" }); // misuse: a Store of mqttc/store, not its name
void id;
