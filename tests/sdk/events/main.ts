/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenarios 1-3): when are events delivered?
 *
 * Every API call goes through `call()`, which records that a call is in progress, and the
 * handler counts its own depth. The handler itself calls the API (subscribe in conack,
 * publish in suback, publish + subscribe in recv, disconnect in recv), so an event
 * delivered from inside a call shows up as INSIDE_CALL and one delivered inside another
 * handler as NESTED. The driver compares the order of the "publish returned" / "sent" and
 * "disconnect returned" / "disconnect event" lines.
 */
import mqtt from "mqttc";
import config from "mc/config";
import Timer from "timer";

const settings = config as unknown as { host: string; port: number | string; topic: string };

export default function main(): void {
	const topic = settings.topic;
	const client = mqtt.create(null, settings.host, Number(settings.port), false, { rxSize: 4096, conn_timeout: 10 });
	if (!client) {
		trace("FATAL create refused\nDONE\n");
		return;
	}
	const state = { depth: 0, calling: "", disconnectReturned: false, done: false };
	const call = <T>(name: string, f: () => T): T => {
		const outer = state.calling;
		state.calling = name;
		try {
			return f();
		} finally {
			state.calling = outer;
		}
	};
	const finish = (why: string): void => {
		if (state.done) return;
		state.done = true;
		Timer.set(() => trace(`DONE ${why}\n`), 500);
	};
	client.auth(`sdkcheck-events-${Math.floor(Math.random() * 1e6)}`);
	client.on((_c, event, data, payload) => {
		state.depth++;
		try {
			if (state.depth > 1) trace(`NESTED ${event} at depth ${state.depth}\n`);
			if (state.calling) trace(`INSIDE_CALL ${event} during ${state.calling}()\n`);
			switch (event) {
			case "conack":
				trace("conack\n");
				call("subscribe", () => client.subscribe(topic, 1));
				break;
			case "suback": {
				trace("suback\n");
				const id = call("publish", () => client.publish(topic, "q0", 0));
				trace(`publish returned ${id} (qos 0)\n`);
				break;
			}
			case "sent":
				trace(`sent ${data}\n`);
				break;
			case "recv":
				trace(`recv ${payload}\n`);
				if (payload === "q0") {
					const id = call("publish", () => client.publish(topic, "q1", 1));
					trace(`publish returned ${id} (qos 1)\n`);
					call("subscribe", () => client.subscribe(`${topic}/more`, 0));
				} else if (payload === "q1") {
					const result = call("disconnect", () => client.disconnect());
					state.disconnectReturned = true;
					trace(`disconnect returned ${result}\n`);
				}
				break;
			case "disconnect":
				trace(`disconnect event ${data} after return: ${state.disconnectReturned}\n`);
				finish("disconnected");
				break;
			case "error":
				trace(`error ${data} ${payload ?? ""}\n`);
				break;
			}
		} finally {
			state.depth--;
		}
	});
	Timer.set(() => finish("timeout"), 15000);
	client.connect();
}
