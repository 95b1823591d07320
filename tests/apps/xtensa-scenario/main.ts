/*
 * Scenarios for the Xtensa host (tests/xtensa.test.mjs, tests/xtensa.bench.mjs): one app,
 * config.scenario picks what it does; every step is a trace line the test waits for.
 * As in the README's quick example, the API is called from inside the `conack`, `suback`
 * and `recv` handlers, the deepest stack an app gives the client.
 *
 *   roundtrip  subscribe (QoS 2) in conack, then publish QoS 0, 1, 2 to itself, one from
 *              each recv; "roundtrip done" once all three came back; "depth <event> N":
 *              the XS stack slots in use when the handler starts
 *   keepalive  keepalive `keepalive` s and nothing else: a "pong" per PINGRESP
 *   reconnect  autoreconn 1 s; "connected N" at each CONNACK (the test restarts the broker)
 *   listen     subscribe, then trace each message (the test publishes; with a small rxSize a
 *              large one arrives in chunks: "chunk offset/total"); at the `count`th message,
 *              the instructions per message since the first
 *   big        publish a `size`-byte QoS 1 message to itself (more than the socket's free
 *              space) and check every byte that comes back
 *   bench      publish `count` messages at QoS `qos` to a topic nobody reads and report the
 *              instructions of the publish() calls and of everything until the last `sent`
 *   backlog    QoS 1 with the inflight limit at 1 and two messages always waiting behind it
 *              (one more published from each `sent`), `count` in all: "backlog done N"
 */
import mqtt from "mqttc";
import config from "mc/config";
import Modules from "modules";

type Settings = { host: string; port: number; scenario: string; topic: string; keepalive: number; rxSize: number; size: number; count: number; qos: number };
const settings = config as unknown as Settings;

type XtensaModule = { instructions(): number; stackDepth(): number };
/** What only the Xtensa host measures; zeros elsewhere. */
function xtensa(): XtensaModule {
	return Modules.has("xtensa") ? Modules.importNow("xtensa") as XtensaModule : { instructions: () => 0, stackDepth: () => 0 };
}
function instructions(): number {
	return xtensa().instructions();
}

/** The middle value: a publish() call without the garbage collection that may fall in one. */
function median(values: number[]): number {
	const sorted = values.slice().sort((a, b) => a - b);
	return sorted[sorted.length >> 1] ?? 0;
}

function pattern(size: number): Uint8Array {
	const bytes = new Uint8Array(size);
	for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) & 0xFF;
	return bytes;
}

export default function main(): void {
	const scenario = settings.scenario;
	const topic = settings.topic;
	const client = mqtt.create(null, settings.host, Number(settings.port), false, { rxSize: Number(settings.rxSize), conn_timeout: 10, binary: scenario === "big", ...(scenario === "backlog" ? { inflight: 1 } : {}) });
	if (!client) {
		trace("xtensa: invalid settings\n");
		return;
	}
	client.auth(`xtensa-${scenario}-${Math.floor(Math.random() * 1e6)}`);
	client.keepalive(Number(settings.keepalive));
	if (scenario === "reconnect") client.autoreconn(true, 1000);
	let connections = 0;
	let pongs = 0;
	let received = 0;
	let bigBytes = 0;
	// each: instructions of every publish() call (the mean includes any garbage collection)
	const bench = { sent: 0, start: 0, calls: 0, each: [] as number[] };
	const qosOrder = [0, 1, 2];
	client.on((_c: unknown, event: string, data: any, payload: any, metas: any) => {
		if (scenario === "roundtrip" && (event === "conack" || event === "recv")) trace(`depth ${event} ${xtensa().stackDepth()}\n`);
		switch (event) {
		case "conack":
			connections++;
			trace(`connected ${connections}\n`);
			if (scenario === "roundtrip" || scenario === "listen" || scenario === "big") client.subscribe(topic, 2);
			else if (scenario === "reconnect") client.subscribe(topic, 1);
			else if (scenario === "backlog") for (let i = 0; i < 3; i++) client.publish(topic, "backlog", 1);
			else if (scenario === "bench") {
				const count = Number(settings.count);
				const qos = Number(settings.qos);
				const text = "x".repeat(16);
				bench.start = instructions();
				for (let i = 0; i < count; i++) {
					const before = instructions();
					client.publish(topic, text, qos);
					const spent = instructions() - before;
					bench.calls += spent;
					bench.each[i] = spent;
				}
				if (qos === 0) {
					const total = Math.round((instructions() - bench.start) / count);
					trace(`bench qos=0 count=${count} publish=${Math.round(bench.calls / count)} median=${median(bench.each)} total=${total}\n`);
				}
			}
			break;
		case "suback":
			trace(`subscribed ${payload}\n`);
			if (scenario === "roundtrip") client.publish(topic, "qos 0", 0);
			else if (scenario === "big") {
				trace(`big publish ${settings.size} bytes\n`);
				client.publish(topic, pattern(Number(settings.size)).buffer, 1);
			}
			break;
		case "recv":
			received++;
			if (scenario === "roundtrip") {
				trace(`recv qos=${metas.qos} ${payload}\n`);
				const next = qosOrder.indexOf(metas.qos) + 1;
				if (next < qosOrder.length) client.publish(topic, `qos ${qosOrder[next]}`, qosOrder[next]);
				else {
					trace("roundtrip done\n");
					client.disconnect();
				}
			}
			else if (scenario === "listen") {
				if (received === 1) bench.start = instructions();
				else if (received === Number(settings.count)) trace(`bench-recv qos=${metas.qos} count=${received} perMessage=${Math.round((instructions() - bench.start) / (received - 1))}\n`);
				if (metas.total !== undefined) trace(`chunk ${metas.offset}/${metas.total} ${typeof payload === "string" ? payload.length : payload.byteLength}\n`);
				else trace(`recv ${received} qos=${metas.qos} ${String(payload).length} bytes\n`);
			}
			else if (scenario === "big") {
				const bytes = new Uint8Array(payload as ArrayBuffer);
				const expected = pattern(bytes.length);
				let same = true;
				for (let i = 0; i < bytes.length; i++) if (bytes[i] !== expected[i]) { same = false; break; }
				const offset = metas.offset ?? 0;
				bigBytes += bytes.length;
				trace(`big recv ${offset}+${bytes.length} ${same ? "ok" : "corrupt"}\n`);
				if (bigBytes >= Number(settings.size)) {
					trace(`big done ${bigBytes}\n`);
					client.disconnect();
				}
			}
			else if (scenario === "reconnect") trace(`recv ${payload}\n`);
			break;
		case "sent":
			if (scenario === "backlog") {
				if (++bench.sent + 2 < Number(settings.count)) client.publish(topic, "backlog", 1);
				else if (bench.sent === Number(settings.count)) {
					trace(`backlog done ${bench.sent}\n`);
					client.disconnect();
				}
			}
			else if (scenario === "bench" && ++bench.sent === Number(settings.count)) {
				const total = Math.round((instructions() - bench.start) / bench.sent);
				trace(`bench qos=${settings.qos} count=${settings.count} publish=${Math.round(bench.calls / bench.sent)} median=${median(bench.each)} total=${total}\n`);
			}
			break;
		case "pong":
			pongs++;
			trace(`pong ${pongs}\n`);
			break;
		case "error":
			trace(`error ${data} ${payload ?? ""}\n`);
			break;
		case "disconnect":
			trace(`disconnected ${data}\n`);
			break;
		}
	});
	client.connect();
}
