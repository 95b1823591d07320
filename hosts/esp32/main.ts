/*
 * mqttc on an ESP32 devkit. Wi-Fi comes first: the SDK's setup/network module joins the
 * network named by config.ssid/config.password (given to mcconfig, never stored here),
 * then main runs. It connects to config.host:config.port, subscribes to `<topic>/cmd`,
 * publishes a QoS 1 heartbeat to `<topic>/status` every `interval` ms and traces the round
 * trip of each one it gets back through `<topic>/echo`, plus anything sent to `<topic>/cmd`.
 *
 *   mcconfig -d -m -p esp32 ssid="my net" password="secret" host=192.168.1.10
 *
 * See README.md ("An ESP32 devkit") for what the serial log shows.
 */
import mqtt from "mqttc";
import Timer from "timer";
import config from "mc/config";

interface Settings {
	host: string;
	port: number | string;
	topic: string;
	interval: number | string;
	keepalive: number | string;
	rxSize: number | string;
	outbox: number | string;
	queue: number | string;
	inflight: number | string;
	ssid?: string;
}

export default function main(): void {
	const settings = config as unknown as Settings;
	if (!settings.host) {
		trace("esp32: no broker: build with host=<broker address> (and ssid=... password=...)\n");
		return;
	}
	const topic = settings.topic;
	const client = mqtt.create(null, settings.host, Number(settings.port), false, {
		rxSize: Number(settings.rxSize),
		outbox: Number(settings.outbox),
		queue: Number(settings.queue),
		inflight: Number(settings.inflight),
		conn_timeout: 15,
	});
	if (!client) {
		trace("esp32: invalid broker settings\n");
		return;
	}
	const run = { beat: 0, sentAt: 0, timer: undefined as Timer | undefined };
	client.auth(`mqttc-esp32-${Math.floor(Math.random() * 0xFFFFFF).toString(16)}`);
	client.keepalive(Number(settings.keepalive));
	client.will(`${topic}/status`, "offline", 1, 1);
	client.autoreconn(true, 2000, 60000);
	client.on((c, event, data, payload, metas) => {
		switch (event) {
		case "conack":
			trace(`esp32: connected to ${settings.host}:${settings.port}\n`);
			c.subscribe({ [`${topic}/cmd`]: 1, [`${topic}/echo`]: 0 });
			c.publish(`${topic}/status`, "online", 1, 1);
			break;
		case "suback":
			trace(`esp32: subscribed (granted ${metas.codes.join(",")})\n`);
			if (!run.timer) run.timer = Timer.repeat(() => {
				if (!c.ready()) return;
				run.beat++;
				run.sentAt = Date.now();
				c.publish(`${topic}/echo`, `beat ${run.beat}`, 1);
			}, Number(settings.interval));
			break;
		case "recv":
			if (data === `${topic}/echo`) trace(`esp32: round trip ${Date.now() - run.sentAt} ms for "${String(payload)}"\n`);
			else trace(`esp32: ${data}: ${typeof payload === "string" ? payload : `${payload.byteLength} bytes`}\n`);
			break;
		case "error":
			trace(`esp32: error ${data} ${payload ?? ""}\n`);
			break;
		case "disconnect":
			trace(`esp32: disconnected (${data}), reconnecting\n`);
			break;
		}
	});
	client.connect();
}
