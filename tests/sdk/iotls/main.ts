/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenario 11b): MQTT over TLS over the SDK's
 * ECMA-419 sockets (`opts.io` with `ssl`, mqttc's manifest_io_tls.json: the SDK's
 * `embedded:io/socket/tcp/tls`, TLSSocket, on `embedded:io/socket/tcp`). One client after
 * the other, each ssl {server_cert: <CA PEM>}:
 *   cbc        127.0.0.1:port, io: true (mosquitto picks an AES-CBC suite with HMAC-SHA256
 *              from the SDK's offer: a TLS record costs up to 69 bytes more than its data):
 *              subscribe QoS 2, publish QoS 0, 1, 2 and one 10,000-byte QoS 1 message
 *              (through rxSize 4096 it comes back in pieces); once all four are back and
 *              `sent`, disconnect()
 *   gcm        the same on gcmPort, a listener that offers only ECDHE-RSA-AES128-GCM-SHA256
 *              (29 bytes a record)
 *   localhost  the host name `localhost` (certificate SAN DNS:localhost, SNI) through
 *              opts.io.dns (a resolver of our own), io.socket the SDK's TLSSocket on a TCP
 *              subclass that counts its callbacks: one QoS 1 round trip, then disconnect()
 *   wrong-ca   127.0.0.1:port with a CA that did not sign the broker's certificate, io: true:
 *              must fail (error connect, disconnect connect), not connect
 * Each client has 20 s; then it is closed. The CAs arrive through the config as the base64
 * bodies of PEM certificates. Trace lines: "<label> <event> ...", "<label> done recv <n>
 * bytes <n> sent <n>", "<label> socket onWritable ...", "<label> end <why>", then "DONE".
 */
import mqtt from "mqttc";
import config from "mc/config";
import Modules from "modules";
import Timer from "timer";
import { countingTCP, countsLine, snapshot, type Counted } from "sdkcheck/counting-tcp";

const settings = config as unknown as { host: string; port: number | string; gcmPort: number | string; ca: string; wrong: string; topic: string; id: string };
const BIG = 10000;

const pem = (body: string): string => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
/** mqtt.create's opts with `io`, which the typings of create() do not list (yet). */
const options = (o: Record<string, unknown>) => o as unknown as Parameters<typeof mqtt.create>[4];

type SocketClass = new (options: Record<string, unknown>) => object;
const TCP = Modules.importNow("embedded:io/socket/tcp") as unknown as SocketClass;
const TLSSocket = Modules.importNow("embedded:io/socket/tcp/tls") as unknown as SocketClass;

/** The SDK's TCP, counting its callbacks (and the counts onWritable gives). */
const counted: Counted = { writable: 0, readable: 0, error: 0, counts: new Map<number, number>() };
const CountingTCP = countingTCP(TCP, counted);

/** An ECMA-419 resolver of our own (opts.io.dns): `localhost` only. */
class TableResolver {
	constructor(_options: Record<string, unknown>) {}
	resolve({ host, onResolved, onError }: { host: string; onResolved: (host: string, address: string) => void; onError: (host: string) => void }): void {
		Timer.set(() => host === "localhost" ? onResolved(host, "127.0.0.1") : onError(host), 1);
	}
	close(): void {}
}

interface Step {
	label: string;
	host: string;
	port: number;
	ca: string;
	/** QoS 0/1/2 and the 10 KB message, else one QoS 1 round trip */
	big?: boolean;
	/** io.socket TLSSocket on CountingTCP, io.dns TableResolver */
	counted?: boolean;
}

function run(step: Step, then: () => void): void {
	const t0 = Date.now();
	const { label } = step;
	const topic = `${settings.topic}/${label}`;
	const io = step.counted ? { socket: { io: TLSSocket, TCP: { io: CountingTCP } }, dns: { io: TableResolver } } : true;
	const client = mqtt.create(null, step.host, step.port, { server_cert: pem(step.ca) }, options({ io, rxSize: 4096, conn_timeout: 15 }));
	if (!client) {
		trace(`${label} create refused\n${label} end create refused\n`);
		return then();
	}
	client.auth(`${settings.id}-${label}`);
	let received = 0, bytes = 0, sent = 0, expected = step.big ? 4 : 1, ended = false;
	const before = snapshot(counted);
	const end = (why: string) => {
		if (ended) return;
		ended = true;
		Timer.clear(guard);
		if (step.counted) {
			trace(countsLine(label, counted, before));
		}
		trace(`${label} end ${why}\n`);
		Timer.set(() => {
			client.close();
			then();
		}, 100);
	};
	const check = () => {
		if (received < expected || sent < expected) return;
		trace(`${label} done recv ${received} bytes ${bytes} sent ${sent}\n`);
		client.disconnect();
	};
	client.on((c, event, data, payload, metas) => {
		const ms = Date.now() - t0;
		if (event === "conack") {
			trace(`${label} conack ${ms}\n`);
			c.subscribe(topic, 2);
		}
		else if (event === "suback") {
			trace(`${label} suback ${(metas as { codes: number[] }).codes.join(",")}\n`);
			if (step.big) {
				for (const qos of [0, 1, 2] as const) c.publish(topic, `small ${qos}`, qos);
				c.publish(topic, "z".repeat(BIG), 1);
			}
			else c.publish(topic, `hello ${step.host}`, 1);
		}
		else if (event === "sent") {
			sent++;
			trace(`${label} sent ${data}\n`);
			check();
		}
		else if (event === "recv") {
			const m = metas as { qos: number; offset?: number };
			const length = typeof payload === "string" ? payload.length : (payload as ArrayBuffer).byteLength;
			bytes += length;
			if (m.offset === undefined || m.offset + length === BIG) received++;
			trace(`${label} recv ${m.qos} ${length} ${m.offset ?? "-"}\n`);
			check();
		}
		else if (event === "error") trace(`${label} error ${data} ${payload} ${ms}\n`);
		else if (event === "disconnect") {
			trace(`${label} disconnect ${data} ${ms}\n`);
			end(`disconnect ${data}`);
		}
	});
	const guard = Timer.set(() => end("guard: nothing ended it within 20 s"), 20000);
	client.connect();
}

export default function main(): void {
	const host = settings.host, port = Number(settings.port);
	const steps: Step[] = [
		{ label: "cbc", host, port, ca: settings.ca, big: true },
		{ label: "gcm", host, port: Number(settings.gcmPort), ca: settings.ca, big: true },
		{ label: "localhost", host: "localhost", port, ca: settings.ca, counted: true },
		{ label: "wrong-ca", host, port, ca: settings.wrong },
	];
	const next = (i: number): void => {
		if (i === steps.length) return void trace("DONE\n");
		run(steps[i], () => next(i + 1));
	};
	next(0);
}
