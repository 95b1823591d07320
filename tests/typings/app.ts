/*
 * An app written against typings/mqttc.d.ts that uses every method and every event.
 * It is only type-checked (tests/typings.test.mjs), never run. Strict mode, the tsconfig
 * mcconfig generates (target es2025, module preserve).
 */
import mqtt from "mqttc";
import Store from "mqttc/store";
import type {
	MqttClient, CreateOptions, SslOptions, RecvMetas, SubackMetas, ErrorInfo, ErrorKind,
	DisconnectReason, MqttEvent, EventCallback, Payload, QoS,
} from "mqttc";

const options: CreateOptions = {
	rxSize: 4096, conn_timeout: 10, ipv6: false, binary: false, outbox: 8192,
	resend: true, queue: 4096, inflight: 4, oversize: "chunk", manual_ack: 16,
};
const ssl: SslOptions = {
	server_cert: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n",
	client_cert: new Uint8Array(8), client_key: new ArrayBuffer(8), verify: 2,
	alpn: ["mqtt"], server_name: "broker.local",
};

const store = new Store("meter", { size: 65536 });
const restored: number = store.restored.length + store.received.length + store.unreadable;
if (restored > 100) store.drop();
const durable: MqttClient | null = mqtt.create(null, "127.0.0.1", 1883, false, { store });
void durable;
const plain: MqttClient | null = mqtt.create(null, "127.0.0.1", 1883);
const secure = mqtt.create(null, "broker.local", 8883, ssl, options);
const withCa = mqtt.create(undefined, "broker.local", 8883, true, null);
void withCa;
void secure;

function stateName(client: MqttClient): string {
	switch (client.state()) {
	case mqtt.STATE_DISCONNECT: return "disconnected";
	case mqtt.STATE_SCONNECT: return "connecting (TCP)";
	case mqtt.STATE_MQTT: return "connecting (MQTT)";
	case mqtt.STATE_READY: return "ready";
	default: return "?";
	}
}

function describe(metas: RecvMetas): string {
	const piece = metas.offset !== undefined ? ` piece at ${metas.offset} of ${metas.total ?? 0}` : "";
	return `id=${metas.message_id} qos=${metas.qos} retain=${metas.retain} dup=${metas.dup}${piece}`;
}

function granted(metas: SubackMetas): string {
	return metas.topics.map((topic, i) => `${topic}:${metas.codes[i]}`).join(",");
}

function failed(kind: ErrorKind, detail: string | number, info?: ErrorInfo): string {
	return `${kind} ${detail}${info?.message_id !== undefined ? ` (message ${info.message_id})` : ""}${info?.topic ?? ""}${info?.total ?? ""}`;
}

function bytesOf(payload: string | ArrayBuffer): number {
	return typeof payload === "string" ? payload.length : payload.byteLength;
}

const events: MqttEvent[] = [];
const reasons: DisconnectReason[] = [];

if (plain) {
	const client = plain;
	const id: true | null = client.auth("device-1", "user", "secret", true);
	client.auth("device-2", null, new Uint8Array([1, 2, 3]));
	client.auth();
	void id;
	client.keepalive(60);
	client.keepalive();
	const willOk: boolean = client.will("devices/1/status", "offline", 1, 1);
	client.will("devices/1/status", new Uint8Array(2), 0, false);
	void willOk;
	client.debug(true);
	client.autoreconn(true, 3000, 60000);
	client.autoreconn(false);

	// Every event, all five parameters, narrowed by the event name.
	client.on((c, event, data, payload, metas) => {
		events.push(event);
		switch (event) {
		case "open": {
			const none: undefined = data;
			void none;
			c.connect();
			break;
		}
		case "conack": {
			const none: undefined = data;
			void none;
			const sub: number | null = c.subscribe("devices/+/cmd", 1);
			const many: number | null = c.subscribe({ "a/b": 0, "c/#": 2 });
			void sub;
			void many;
			trace(`connected, ${stateName(c)}\n`);
			break;
		}
		case "suback": {
			const ok: boolean = data;
			const code: number = payload;
			trace(`suback ${ok} ${code} ${granted(metas)}\n`);
			break;
		}
		case "unsuback": {
			const messageId: number = data;
			trace(`unsuback ${messageId}\n`);
			break;
		}
		case "recv": {
			const topic: string = data;
			const body: string | ArrayBuffer = payload;
			trace(`recv ${topic} ${bytesOf(body)} bytes ${describe(metas)}\n`);
			const out: Payload = typeof body === "string" ? body.toUpperCase() : new Uint8Array(body);
			c.publish(`${topic}/echo`, out, metas.qos, 0);
			const acked: boolean = c.ack(metas.message_id);
			void acked;
			break;
		}
		case "sent": {
			const messageId: number = data;
			trace(`sent ${messageId}\n`);
			break;
		}
		case "disconnect": {
			reasons.push(data);
			trace(`disconnected: ${data}\n`);
			break;
		}
		case "pong":
			trace("pong\n");
			break;
		case "error":
			if (data === "conack") {
				const code: number = payload;
				trace(`refused with code ${code}\n`);
			}
			else {
				const detail: string = payload;
				trace(`error ${failed(data, detail, metas)}\n`);
			}
			break;
		}
	});

	// Callbacks may take fewer parameters.
	client.on((c, event, data, payload) => {
		if (event === "recv") trace(`${data}: ${bytesOf(payload)}\n`);
	});
	client.on((c, event, data) => {
		if (event === "sent") trace(`sent ${data + 1}\n`);
	});
	client.on((c, event) => trace(`${event} in state ${c.state()}\n`));
	client.on((c) => void c.ready());
	client.on(() => {});
	const callback: EventCallback = (c, event, data, payload, metas) => {
		if (event === "suback") trace(`${data} ${payload} ${metas.codes.length}\n`);
	};
	client.on(callback);

	const opening: boolean = client.open();
	void opening;
	const connecting: boolean = client.connect();
	void connecting;
	const topic = "devices/1/data";
	const qos: QoS = 2;
	const ids: (number | null)[] = [
		client.publish(topic, "text"),
		client.publish(topic, new ArrayBuffer(4), 1),
		client.publish(topic, new Uint8Array(4), qos, true),
		client.publish(topic, new DataView(new ArrayBuffer(2)), 0, 0),
		client.publish(topic, null),
		client.publish(topic),
	];
	void ids;
	const u1: number | null = client.unsubscribe("devices/+/cmd");
	const u2: number | null = client.unsubscribe(["a/b", "c/#"] as const);
	void u1;
	void u2;
	const ready: boolean = client.ready();
	const state: number = client.state();
	void ready;
	void state;
	const stopped: boolean = client.disconnect();
	void stopped;
	client.close();
}

export default function main(): void {
	trace(`${events.length} events, ${reasons.length} disconnects\n`);
}
