/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenario 11): MQTT over the SDK's ECMA-419 TCP
 * socket (`opts.io`, mqttc's manifest_io.json) instead of the classic Socket.
 *
 * First two probes of the bare socket, to record what the simulator's `embedded:io/socket/tcp`
 * does (traced, not judged here):
 *   probe refused  a socket to `refused` (a closed port): which callbacks come, in order
 *   probe peer     a socket to the broker: the first onWritable's count, write() of more than
 *                  that (what it throws), then a packet mosquitto refuses (it closes): how the
 *                  peer's close is reported
 * Then the MQTT clients:
 *   c1  create(null, host, refused, false, {io: true, rxSize: 4096, backup: [host:port]}):
 *       the refused port fails (error, disconnect), the backup answers (conack); subscribe at
 *       QoS 2, publish QoS 0, 1, 2 and one 10,000-byte QoS 1 message (more than rxSize: it
 *       comes back in pieces); once all four are back and all four `sent`, disconnect()
 * Then clients by host name, with io.socket a subclass of the SDK's TCP that counts its
 * callbacks (and the counts onWritable gives), each one QoS 1 round trip, then disconnect():
 *   net-localhost  `localhost` through the SDK's net module (Net.resolve)
 *   net-alias      the config's `alias` (a name /etc/hosts maps to 127.0.0.1, found by the
 *                  driver; none: no step) through Net.resolve
 *   dns-localhost  `localhost` through opts.io.dns, an ECMA-419 resolver of our own
 *                  (TableResolver); keepalive 15 s: after the round trip it waits for a
 *                  `pong` (PINGREQ after 3 idle keepalive/4 ticks), then disconnect()
 * Trace lines: "probe <name> <callback> <ms> [<detail>]", "probe <name> end ...",
 * "c1 <event> ...", "c1 done recv <n> bytes <n> sent <n>", "<label> <event> ...",
 * "<label> socket onWritable <n> (<count> x<n>, ...) onReadable <n> onError <n>",
 * "<label> finish <why>", "dns ...", then "DONE".
 */
import mqtt from "mqttc";
import config from "mc/config";
import Modules from "modules";
import Timer from "timer";
import { countingTCP, countsLine, snapshot, type Counted } from "sdkcheck/counting-tcp";

const settings = config as unknown as { host: string; port: number | string; refused: number | string; topic: string; id: string; alias: string };
const BIG = 10000;
const port = Number(settings.port);

type Socket = { read(): ArrayBuffer | undefined; write(buffer: ArrayBufferView | ArrayBuffer): number | undefined; close(): void };
type SocketClass = new (options: Record<string, unknown>) => Socket;
const TCP = Modules.importNow("embedded:io/socket/tcp") as unknown as SocketClass;

/** A bare ECMA-419 socket to `port`, its callbacks traced; `then` after `ms`, the socket closed. */
function probe(name: string, to: number, ms: number, onWritable: (socket: Socket, count: number) => void, then: () => void): void {
	const t0 = Date.now();
	const counts = { writable: 0, readable: 0, error: 0, bytes: 0 };
	let socket: Socket | undefined;
	try {
		socket = new TCP({
			address: settings.host, port: to,
			onWritable(count: number) {
				counts.writable++;
				trace(`probe ${name} onWritable ${Date.now() - t0} ${count}\n`);
				onWritable(this as unknown as Socket, count);
			},
			onReadable(count: number) {
				counts.readable++;
				const data = (this as unknown as Socket).read();
				counts.bytes += data ? data.byteLength : 0;
				trace(`probe ${name} onReadable ${Date.now() - t0} ${count} read ${data ? data.byteLength : "undefined"}\n`);
			},
			onError() {
				counts.error++;
				trace(`probe ${name} onError ${Date.now() - t0}\n`);
			},
		});
	}
	catch (e) {
		trace(`probe ${name} constructor threw ${(e as Error).message}\n`);
	}
	Timer.set(() => {
		trace(`probe ${name} end onWritable ${counts.writable} onReadable ${counts.readable} (${counts.bytes} bytes) onError ${counts.error}\n`);
		try { socket?.close(); } catch (e) { trace(`probe ${name} close threw ${(e as Error).message}\n`); }
		then();
	}, ms);
}

function probes(then: () => void): void {
	probe("refused", Number(settings.refused), 1000, () => {}, () => {
		let wrote = false;
		probe("peer", port, 1500, (socket, count) => {
			if (wrote) return;
			wrote = true;
			try {
				socket.write(new Uint8Array(count + 1));
				trace(`probe peer write ${count + 1} took it\n`);
			}
			catch (e) {
				trace(`probe peer write ${count + 1} threw ${(e as Error).message}\n`);
			}
			// reserved packet type 15 as the first packet: mosquitto closes the connection
			const left = socket.write(Uint8Array.of(0xF0, 0x00));
			trace(`probe peer write 2 returned ${left}\n`);
		}, then);
	});
}

/** mqtt.create's opts with `io`, which the typings of create() do not list (yet). */
const options = (o: Record<string, unknown>) => o as unknown as Parameters<typeof mqtt.create>[4];

function first(then: () => void): void {
	const t0 = Date.now();
	const client = mqtt.create(null, settings.host, Number(settings.refused), false,
		options({ io: true, rxSize: 4096, conn_timeout: 10, backup: [`${settings.host}:${port}`] }));
	if (!client) {
		trace("c1 create refused\n");
		return then();
	}
	client.auth(`${settings.id}-1`);
	let received = 0, bytes = 0, sent = 0, ended = false;
	const check = () => {
		if (ended || received < 4 || sent < 4) return;
		ended = true;
		trace(`c1 done recv ${received} bytes ${bytes} sent ${sent}\n`);
		client.disconnect();
	};
	client.on((c, event, data, payload, metas) => {
		const ms = Date.now() - t0;
		if (event === "conack") {
			trace(`c1 conack ${ms}\n`);
			c.subscribe(settings.topic, 2);
		}
		else if (event === "suback") {
			trace(`c1 suback ${(metas as { codes: number[] }).codes.join(",")}\n`);
			for (const qos of [0, 1, 2] as const) c.publish(settings.topic, `small ${qos}`, qos);
			c.publish(settings.topic, "z".repeat(BIG), 1);
		}
		else if (event === "sent") {
			sent++;
			trace(`c1 sent ${data}\n`);
			check();
		}
		else if (event === "recv") {
			const m = metas as { qos: number; offset?: number };
			const length = typeof payload === "string" ? payload.length : (payload as ArrayBuffer).byteLength;
			bytes += length;
			if (m.offset === undefined || m.offset + length === BIG) received++;
			trace(`c1 recv ${m.qos} ${length} ${m.offset ?? "-"}\n`);
			check();
		}
		else if (event === "error") trace(`c1 error ${data} ${payload} ${ms}\n`);
		else if (event === "disconnect") {
			trace(`c1 disconnect ${data} ${ms}\n`);
			if (data === "user") Timer.set(then, 100);
		}
	});
	client.connect();
}

/** The SDK's TCP, counting its callbacks (and the counts onWritable gives). */
const counted: Counted = { writable: 0, readable: 0, error: 0, counts: new Map<number, number>() };
const CountingTCP = countingTCP(TCP as unknown as new (options: Record<string, unknown>) => object, counted);

/** An ECMA-419 resolver of the app's own (opts.io.dns): `localhost` from its table, in a
 * turn of its own (as a real resolver answers), anything else refused. Traces its calls. */
class TableResolver {
	constructor(options: Record<string, unknown>) {
		trace(`dns constructed${options.io === TableResolver ? " with its entry" : ""}\n`);
	}
	resolve({ host, onResolved, onError }: { host: string; onResolved: (host: string, address: string) => void; onError: (host: string) => void }): void {
		trace(`dns resolve ${host}\n`);
		Timer.set(() => host === "localhost" ? onResolved(host, "127.0.0.1") : onError(host), 1);
	}
	close(): void {
		trace("dns close\n");
	}
}

interface NameStep {
	/** trace prefix and client id suffix */
	label: string;
	host: string;
	/** resolve through opts.io.dns (TableResolver) instead of the SDK's net module */
	dns?: boolean;
	/** after the round trip, wait for a PINGRESP (keepalive 15 s) */
	pong?: boolean;
}

/** One client by host name: a QoS 1 round trip (and a pong), then disconnect(); `then` once it ended. */
function byName(step: NameStep, then: () => void): void {
	const t0 = Date.now();
	const { label } = step;
	const topic = `${settings.topic}/${label}`;
	const io: Record<string, unknown> = { socket: { io: CountingTCP } };
	if (step.dns) io.dns = { io: TableResolver };
	const client = mqtt.create(null, step.host, port, false, options({ io, rxSize: 4096, conn_timeout: 10 }));
	if (!client) {
		trace(`${label} create refused\n`);
		return then();
	}
	client.auth(`${settings.id}-${label}`);
	if (step.pong) client.keepalive(15);
	const before = snapshot(counted);
	let sent = false, received = false, idleFrom = 0, ended = false, guard: Timer | undefined;
	const finish = (why: string) => {
		if (ended) return;
		ended = true;
		if (guard !== undefined) Timer.clear(guard);
		trace(countsLine(label, counted, before));
		trace(`${label} finish ${why}\n`);
		if (!client.disconnect()) {
			client.close();
			Timer.set(then, 100);
		}
	};
	client.on((c, event, data, payload, metas) => {
		const ms = Date.now() - t0;
		if (event === "conack") {
			trace(`${label} conack ${ms}\n`);
			c.subscribe(topic, 1);
		}
		else if (event === "suback") {
			trace(`${label} suback ${(metas as { codes: number[] }).codes.join(",")}\n`);
			c.publish(topic, `hello ${step.host}`, 1);
		}
		else if (event === "sent") {
			sent = true;
			trace(`${label} sent ${data}\n`);
		}
		else if (event === "recv") {
			received = true;
			trace(`${label} recv ${(metas as { qos: number }).qos} ${payload}\n`);
		}
		else if (event === "pong") {
			trace(`${label} pong ${ms} (${Date.now() - idleFrom} ms after the round trip)\n`);
			finish("pong");
		}
		else if (event === "error") trace(`${label} error ${data} ${payload} ${ms}\n`);
		else if (event === "disconnect") {
			trace(`${label} disconnect ${data} ${ms}\n`);
			if (!ended) finish(`disconnect ${data}`);
			else Timer.set(then, 100);
		}
		if ((event === "sent" || event === "recv") && sent && received && !idleFrom) {
			idleFrom = Date.now();
			if (step.pong) trace(`${label} round trip done, waiting for pong\n`);
			else finish("round trip");
		}
	});
	client.connect();
	guard = Timer.set(() => finish(step.pong ? "no pong within 25 s" : "no round trip within 25 s"), 25000);
}

/** The steps by name, one after the other, then DONE. */
function names(): void {
	const steps: NameStep[] = [
		{ label: "net-localhost", host: "localhost" },
		...(settings.alias ? [{ label: "net-alias", host: settings.alias }] : []),
		{ label: "dns-localhost", host: "localhost", dns: true, pong: true },
	];
	const next = (i: number): void => {
		if (i === steps.length) return void trace("DONE\n");
		byName(steps[i], () => next(i + 1));
	};
	next(0);
}

export default function main(): void {
	probes(() => first(names));
}
