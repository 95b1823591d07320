/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenario 7): failover to a backup broker.
 * create() names broker A, opts.backup names B, autoreconn(true, 500). On A the app
 * subscribes to its topic at QoS 1, then publishes QoS 1 messages "m<n>" every 200 ms
 * (30 in all) to that topic, and one more from its disconnect handler (offline). The driver
 * stops A (SIGSTOP) after m5, so that m6 and m7 are in flight unacknowledged, then kills
 * it (SIGKILL). The client must get
 * conack again (from B, which the driver tells by the broker that sees the messages), its
 * subscription restored there (the app receives its own messages back after the second
 * conack), and every id publish() returned settled: `sent` or `error` with its message_id.
 * Trace lines: "conack <n>", "suback <n> <granted>", "publish m<n> id <id>", "sent <id>",
 * "lost <id> <reason>", "recv <conacks> <payload>", "disconnect event <reason>", then
 * "unsettled <ids>" and DONE.
 */
import mqtt from "mqttc";
import config from "mc/config";
import Timer from "timer";

const settings = config as unknown as { host: string; port: number | string; backupPort: number | string; topic: string; id: string };
const MESSAGES = 30;
const PERIOD_MS = 200;

export default function main(): void {
	const client = mqtt.create(null, settings.host, Number(settings.port), false,
		{ rxSize: 4096, conn_timeout: 5, backup: [`${settings.host}:${settings.backupPort}`] });
	if (!client) {
		trace("FATAL create refused\nDONE\n");
		return;
	}
	client.auth(settings.id);
	client.autoreconn(true, 500);
	let conacks = 0;
	let published = 0;
	const unsettled = new Set<number>();
	let finishing = false;
	const finish = (why: string) => {
		if (finishing) return;
		finishing = true;
		trace(`unsettled ${[...unsettled].join(",") || "none"} (${why})\n`);
		client.close();
		trace("DONE\n");
	};
	const publishNext = () => {
		if (published >= MESSAGES) return;
		published++;
		const id = client.publish(settings.topic, `m${published}`, 1);
		trace(`publish m${published} id ${id}\n`);
		if (typeof id === "number") unsettled.add(id);
		if (published === MESSAGES) Timer.set(() => finish("after the last publish"), 6000);
	};
	client.on((_c, event, data, payload, metas) => {
		switch (event) {
		case "conack":
			conacks++;
			trace(`conack ${conacks}\n`);
			if (conacks === 1) client.subscribe(settings.topic, 1);
			break;
		case "suback":
			trace(`suback ${conacks} ${payload}\n`);
			if (conacks === 1 && published === 0) Timer.repeat((timer) => {
				publishNext();
				if (published >= MESSAGES) Timer.clear(timer);
			}, PERIOD_MS);
			break;
		case "recv":
			trace(`recv ${conacks} ${payload}\n`);
			break;
		case "sent":
			trace(`sent ${data}\n`);
			unsettled.delete(data as number);
			break;
		case "error": {
			const id = metas?.message_id;
			trace(`error ${data} ${payload ?? ""}${id !== undefined ? ` message_id ${id}` : ""}\n`);
			if (id !== undefined) {
				trace(`lost ${id} ${data}\n`);
				unsettled.delete(id);
			}
			break;
		}
		case "disconnect":
			trace(`disconnect event ${data}\n`);
			publishNext();                 // while offline: kept in the outbox, sent after the switch
			break;
		}
	});
	Timer.set(() => finish("timeout"), 30000);
	client.connect();
}
