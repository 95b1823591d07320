/*
 * The durable session's test app: a device that publishes a numbered stream through a
 * store, as the power-cut campaign (tests/store.test.mjs) and the simulator's
 * kill-and-restart check (tests/sdk/store-kill-check.mjs) run it, life after life.
 *
 * Lines: "restored N received R unreadable U" at start; "accepted <life>:<seq> <id>" once
 * publish() returned the id (the message is on storage); "sent <id>"; "recv <topic>
 * <payload> <qos> <dup>"; "error <type> <text>"; "drained" once every restored message
 * is sent (mode "drain"); "stream done" once `count` messages are accepted and sent.
 * On the Xtensa host: "restore instructions N" (reading the store), "stream instructions N"
 * (from the first publish() to "stream done"), "publish instructions N over M" (per publish()
 * call, when one pump published at least 10); `nostore` makes the client without the store.
 * With `reopen`, once `count` are accepted: a second client on the store ("second client
 * refused"), close(), a new client ("reopened N": what it restored).
 * Modes: "stream" publishes `count` messages (QoS 1, 2, or "mix": even 1, odd 2);
 * "drain" publishes nothing; "recv" subscribes to `topic` at QoS 2.
 * `life` names the run in topics and payloads; 0 takes `Date.now()` instead (a build run
 * again and again, as the simulator's check does: mc/config is fixed at build time).
 */
import mqtt from "mqttc";
import Store from "mqttc/store";
import config from "mc/config";
import Modules from "modules";

interface StoreAppConfig {
	port: number; id: string; store: string; size: number; mode: string; life: number;
	count: number; qos: string | number; pad: number; inflight: number; drop?: boolean; topic?: string; reopen?: boolean; rxSize: number; nostore?: boolean;
}

export default function main(): void {
	const c = config as unknown as StoreAppConfig;
	const life = Number(c.life) || Date.now();       // mcconfig's key=value gives "0"
	let store: Store;
	try {
		const before = instructions();
		store = new Store(c.store, { size: c.size });
		if (before !== undefined) trace(`restore instructions ${instructions()! - before}\n`);
	}
	catch (e) {
		trace(`store error ${(e as Error).message}\n`);
		return;
	}
	trace(`restored ${store.restored.length} received ${store.received.length} unreadable ${store.unreadable}\n`);
	if (c.drop) store.drop();
	const client = mqtt.create(null, "127.0.0.1", c.port, false, { store: c.nostore ? undefined : store, inflight: c.inflight, rxSize: c.rxSize })!;
	client.auth(c.id, "", "", false);
	const waiting = new Set<number>(c.drop ? [] : store.restored);
	const pad = "x".repeat(c.pad);
	let next = 0;
	let started: number | undefined;
	let done = false;
	const pump = (): void => {
		const first = next;
		let spent = 0;
		while (c.mode === "stream" && next < c.count) {
			const qos = (c.qos === "mix" ? 1 + (next & 1) : Number(c.qos)) as 1 | 2;     // the typings' QoS (mcconfig's tsc)
			if (started === undefined) started = instructions();
			const topic = `stream/${life}`, payload = `${life}:${next}:${pad}`;
			const before = instructions();
			const id = client.publish(topic, payload, qos);
			if (before !== undefined) spent += instructions()! - before;
			if (id === null) break;         // store or outbox full: `sent` makes room
			trace(`accepted ${life}:${next} ${id}\n`);
			waiting.add(id);
			next++;
		}
		if (spent !== 0 && next - first >= 10) trace(`publish instructions ${Math.round(spent / (next - first))} over ${next - first}\n`);
		if (c.reopen && next === c.count && !done) {
			done = true;
			// One client at a time; close() leaves what is stored to the next one.
			const second = mqtt.create(null, "127.0.0.1", c.port, false, { store });
			trace(`second client ${second === null ? "refused" : "made"}\n`);
			client.close();
			const third = mqtt.create(null, "127.0.0.1", c.port, false, { store })!;
			trace(`reopened ${store.restored.length}\n`);
			third.close();
			return;
		}
		if (!done && waiting.size === 0 && (c.mode !== "stream" || next === c.count)) {
			done = true;
			trace(c.mode === "stream" ? "stream done\n" : "drained\n");
			if (started !== undefined) trace(`stream instructions ${instructions()! - started}\n`);
		}
	};
	client.on((_client: unknown, event: string, a?: unknown, b?: unknown, metas?: unknown) => {
		if (event === "conack") {
			trace("conack\n");
			if (c.mode === "recv") client.subscribe(c.topic ?? "inbox", 2);
			pump();
		}
		else if (event === "sent") {
			trace(`sent ${a}\n`);
			waiting.delete(a as number);
			pump();
		}
		else if (event === "recv") {
			const m = metas as { qos: number; dup: number };
			trace(`recv ${a} ${b} ${m.qos} ${m.dup}\n`);
		}
		else if (event === "error") trace(`error ${a} ${b}\n`);
		else if (event === "disconnect") trace(`disconnect ${a}\n`);
	});
	client.autoreconn(true, 200);
	client.connect();
	pump();          // accepted before the connection is up: they wait on storage
}

/** Guest instructions so far on the Xtensa host (its `xtensa` module), else undefined. */
function instructions(): number | undefined {
	return Modules.has("xtensa") ? (Modules.importNow("xtensa") as { instructions(): number }).instructions() : undefined;
}
