/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenario 8): the backoff is not reset by a
 * connection that dies right after CONNACK. The driver's server accepts, answers CONNACK
 * and closes at once; with autoreconn(true, 200, 4000) the delays must keep growing, so
 * the driver counts far fewer than seconds * 1000 / 200 connections. Traces "conack <n>"
 * and "disconnect event <reason>" per connection, then DONE after `seconds`.
 */
import mqtt from "mqttc";
import config from "mc/config";
import Timer from "timer";

const settings = config as unknown as { host: string; port: number | string; seconds: number | string; id: string };

export default function main(): void {
	const client = mqtt.create(null, settings.host, Number(settings.port), false, { rxSize: 1024, conn_timeout: 5 });
	if (!client) {
		trace("FATAL create refused\nDONE\n");
		return;
	}
	client.auth(settings.id);
	client.autoreconn(true, 200, 4000);
	let conacks = 0;
	client.on((_c, event, data, payload) => {
		switch (event) {
		case "conack":
			trace(`conack ${++conacks}\n`);
			break;
		case "disconnect":
			trace(`disconnect event ${data}\n`);
			break;
		case "error":
			trace(`error ${data} ${payload ?? ""}\n`);
			break;
		}
	});
	Timer.set(() => {
		trace(`conacks ${conacks}\n`);
		client.close();
		trace("DONE\n");
	}, Number(settings.seconds) * 1000);
	client.connect();
}
