/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenario 5): connect to a closed port. The app
 * must get `error` "connect" and `disconnect` "connect", whatever way the platform's socket
 * reports the refusal (the Linux simulator reports it as connected, then the first write
 * throws).
 */
import mqtt from "mqttc";
import config from "mc/config";
import Timer from "timer";

const settings = config as unknown as { host: string; port: number | string };

export default function main(): void {
	const client = mqtt.create(null, settings.host, Number(settings.port), false, { rxSize: 1024, conn_timeout: 5 });
	if (!client) {
		trace("FATAL create refused\nDONE\n");
		return;
	}
	client.auth("sdkcheck-refused");
	client.on((_c, event, data, payload) => {
		switch (event) {
		case "conack":
			trace("conack\n");
			break;
		case "disconnect":
			trace(`disconnect event ${data}\n`);
			Timer.set(() => trace("DONE\n"), 500);
			break;
		case "error":
			trace(`error ${data} ${payload ?? ""}\n`);
			break;
		}
	});
	Timer.set(() => trace("DONE timeout\n"), 10000);
	client.connect();
}
