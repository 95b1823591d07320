/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenario 10): MQTT over WebSocket with the SDK's
 * Socket, crypt Digest (the upgrade's accept) and logical (masking). The app subscribes to
 * its topic at QoS 2, publishes QoS 0, 1 and 2 and one 10,000-byte QoS 1 message (more than
 * its 4 KB rxSize: it comes back in pieces), counts what comes back, then disconnects.
 * Trace lines: "conack", "recv <qos> <bytes> <offset>", "sent <id>", "error ...",
 * "disconnect <reason>", "DONE recv <n> bytes <n> sent <n>".
 */
import mqtt from "mqttc";
import config from "mc/config";

const settings = config as unknown as { host: string; port: number | string; path: string; topic: string };
const BIG = 10000;

export default function main(): void {
	const client = mqtt.create(null, settings.host, Number(settings.port), false, { rxSize: 4096, websocket: { path: settings.path } });
	if (!client) {
		trace("FATAL create refused\nDONE\n");
		return;
	}
	client.auth("sdkcheck-ws");
	let received = 0, bytes = 0, sent = 0;
	client.on((c, event, data, payload, metas) => {
		if (event === "conack") {
			trace("conack\n");
			c.subscribe(settings.topic, 2);
		}
		else if (event === "suback") {
			for (const qos of [0, 1, 2] as const) c.publish(settings.topic, `small ${qos}`, qos);
			c.publish(settings.topic, "z".repeat(BIG), 1);
		}
		else if (event === "sent") {
			sent++;
			trace(`sent ${data}\n`);
		}
		else if (event === "recv") {
			const m = metas as { qos: number; offset?: number };
			const length = typeof payload === "string" ? payload.length : (payload as ArrayBuffer).byteLength;
			bytes += length;
			if (m.offset === undefined || m.offset + length === BIG) received++;
			trace(`recv ${m.qos} ${length} ${m.offset ?? "-"}\n`);
			if (received === 4 && sent >= 2) {
				trace(`DONE recv ${received} bytes ${bytes} sent ${sent}\n`);
				c.disconnect();
			}
		}
		else if (event === "error") trace(`error ${data} ${payload}\n`);
		else if (event === "disconnect") trace(`disconnect ${data}\n`);
	});
	client.connect();
}
