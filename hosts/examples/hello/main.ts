/*
 * mqttc example: the LuatOS demo flow on Moddable. Connects to config.host:config.port,
 * subscribes to its topic, publishes `count` QoS 1 messages one after the other and
 * traces each message's round trip (publish → broker → back to us).
 *
 *   XS host:   node hosts/xs/run.mjs hosts/examples/hello host=127.0.0.1 port=1883
 *   simulator: mcconfig -d -m -p lin hosts/examples/hello/manifest.json
 */
import mqtt from "mqttc";
import config from "mc/config";

const settings = config as unknown as { host: string; port: number | string; topic: string; count: number | string };

export default function main(): void {
	const port = Number(settings.port);
	const count = Number(settings.count);
	const topic = settings.topic;
	const client = mqtt.create(null, settings.host, port, false, { rxSize: 4096, conn_timeout: 10 });
	if (!client) {
		trace("hello: invalid broker settings\n");
		return;
	}
	client.auth(`hello-${Math.floor(Math.random() * 1e6)}`);
	client.keepalive(60);
	client.autoreconn(true, 3000);
	const started = { at: 0, n: 0 };
	const next = (): void => {
		started.at = Date.now();
		client.publish(topic, `hello ${started.n}`, 1);
	};
	client.on((_c, event, data, payload) => {
		switch (event) {
		case "conack":
			trace(`hello: connected to ${settings.host}:${port}\n`);
			client.subscribe(topic, 1);
			break;
		case "suback":
			trace(`hello: subscribed to ${topic} (granted ${payload})\n`);
			next();
			break;
		case "recv":
			trace(`hello: round trip ${Date.now() - started.at} ms for "${payload}" on ${data}\n`);
			if (++started.n < count) next();
			else {
				trace(`hello: done, ${count} messages\n`);
				client.disconnect();
			}
			break;
		case "error":
			trace(`hello: error ${data} ${payload ?? ""}\n`);
			break;
		case "disconnect":
			trace(`hello: disconnected (${data})\n`);
			break;
		}
	});
	client.connect();
}
