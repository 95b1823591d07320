/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenario 4): a graceful disconnect with packets
 * still queued. With a will set, publish 20 KB at QoS 0 and a QoS 1 message, then call
 * disconnect() at once. The driver checks on the broker's side that both messages arrived,
 * that the broker logged our DISCONNECT and that it published no will. DONE comes 5 s
 * after disconnect() so the client has had time to finish (the driver then ends mcsim,
 * which would make the broker publish the will if no DISCONNECT had arrived).
 */
import mqtt from "mqttc";
import config from "mc/config";
import Timer from "timer";

const settings = config as unknown as { host: string; port: number | string; topic: string; will: string; id: string };

export default function main(): void {
	const client = mqtt.create(null, settings.host, Number(settings.port), false, { rxSize: 4096, conn_timeout: 10 });
	if (!client) {
		trace("FATAL create refused\nDONE\n");
		return;
	}
	client.auth(settings.id);
	client.will(settings.will, "will", 0, 0);
	client.on((_c, event, data, payload) => {
		switch (event) {
		case "conack": {
			trace("conack\n");
			const big = client.publish(settings.topic, "A".repeat(20480), 0);
			const one = client.publish(settings.topic, "qos1", 1);
			const result = client.disconnect();
			trace(`published ${big} (20480 bytes, qos 0) and ${one} (qos 1), disconnect returned ${result}\n`);
			Timer.set(() => trace("DONE\n"), 5000);
			break;
		}
		case "sent":
			trace(`sent ${data}\n`);
			break;
		case "disconnect":
			trace(`disconnect event ${data}\n`);
			break;
		case "error":
			trace(`error ${data} ${payload ?? ""}\n`);
			break;
		}
	});
	Timer.set(() => trace("DONE timeout\n"), 20000);
	client.connect();
}
