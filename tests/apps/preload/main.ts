/*
 * Preload emulation app: the mqttc modules are "preloaded" (romify freezes everything they
 * can reach, see rom.ts) before any client exists; then tests/preload.test.mjs drives
 * clients through app.call against a real mosquitto. Events are traced one per line as
 * `EVT <name> <json>`, as tests/apps/client does.
 */
import { romify, changedBindings, isPreloaded, type RomReport } from "rom";   // first: sees the globals before mqttc
import * as mqttcEntry from "mqttc";
import * as acks from "mqttc/acks";
import * as client from "mqttc/client";
import * as decoder from "mqttc/decoder";
import * as events from "mqttc/events";
import * as failover from "mqttc/failover";
import * as debug from "mqttc/debug";
import * as inbound from "mqttc/inbound";
import * as link from "mqttc/link";
import * as linger from "mqttc/linger";
import * as open from "mqttc/open";
import * as pem from "mqttc/pem";
import * as retry from "mqttc/retry";
import * as keys from "mqttc/keys";
import * as outbox from "mqttc/outbox";
import * as packet from "mqttc/packet";
import * as session from "mqttc/session";
import * as stream from "mqttc/stream";
import * as tls from "mqttc/tls";
import * as fields from "mqttc/fields";
import * as types from "mqttc/types";
import * as utf8 from "mqttc/utf8";
import * as writer from "mqttc/writer";
import * as store from "mqttc/store";
import * as stored from "mqttc/stored";
import * as storelog from "mqttc/storelog";
import * as ws from "mqttc/ws";
import * as wssocket from "mqttc/wssocket";
import * as wsframe from "mqttc/wsframe";
import * as io from "mqttc/io";
import Store from "mqttc/store";
import * as fixture from "fixture/mutable";
import mqtt from "mqttc";

const namespaces: Record<string, object> = {
	"mqttc": mqttcEntry, "mqttc/acks": acks, "mqttc/client": client, "mqttc/debug": debug, "mqttc/decoder": decoder, "mqttc/events": events, "mqttc/failover": failover, "mqttc/inbound": inbound, "mqttc/keys": keys, "mqttc/link": link, "mqttc/linger": linger, "mqttc/open": open, "mqttc/pem": pem, "mqttc/retry": retry, "mqttc/outbox": outbox,
	"mqttc/packet": packet, "mqttc/session": session, "mqttc/stream": stream, "mqttc/tls": tls, "mqttc/fields": fields, "mqttc/types": types,
	"mqttc/utf8": utf8, "mqttc/writer": writer, "mqttc/store": store, "mqttc/stored": stored, "mqttc/storelog": storelog, "mqttc/ws": ws, "mqttc/wssocket": wssocket, "mqttc/wsframe": wsframe, "mqttc/io": io,
};
const rom: RomReport = romify({ ...namespaces, "fixture/mutable": fixture });

type Client = NonNullable<ReturnType<typeof mqtt.create>>;
const clients = new Map<string, Client>();

function encode(value: unknown): unknown {
	if (value instanceof ArrayBuffer) return { bytes: value.byteLength, text: String.fromArrayBuffer(value) };
	return value;
}

/** A durable session made after the freeze: a QoS 1 message accepted without a broker,
 * then what a second Store finds on storage. */
export function storeRoundTrip(): { id: number | null; restored: number[] } {
	const first = new Store("rom");
	first.drop();
	const client = mqtt.create(null, "127.0.0.1", 1, false, { store: first })!;
	const id = client.publish("rom/topic", "kept", 1);
	client.close();
	return { id, restored: new Store("rom").restored };
}

/** What romify froze and refused. */
export function report(): RomReport & { mqttc: string[] } {
	return { ...rom, mqttc: Object.keys(namespaces) };
}

/** Exported bindings of the mqttc modules that changed since they were "preloaded". */
export function changed(): string[] {
	return changedBindings(namespaces);
}

/** Self-test of the emulation: writes and JSON.stringify on preloaded state must throw. */
export function probe(): Record<string, string> {
	const attempt = (body: () => unknown): string => {
		try {
			body();
			return "no error";
		}
		catch (e) {
			return `${(e as Error).name}: ${(e as Error).message}`;
		}
	};
	return {
		defaultsFrozen: String(isPreloaded(packet.PACKET_NAMES) && Object.isFrozen(packet.PACKET_NAMES)),
		writeDefaults: attempt(() => { (packet.PACKET_NAMES as string[])[3] = "X"; }),
		writeExport: attempt(() => { (mqtt as unknown as { STATE_READY: number }).STATE_READY = 9; }),
		addToPrototype: attempt(() => { (client.MqttClient.prototype as unknown as Record<string, unknown>).extra = 1; }),
		writeStatic: attempt(() => { (failover.default as unknown as Record<string, unknown>).ring = null; }),
		stringifyPreloaded: attempt(() => JSON.stringify({ names: packet.PACKET_NAMES })),
		stringifyRuntime: attempt(() => JSON.stringify({ fresh: [1, 2] })),
		fixtureCounter: attempt(() => fixture.next()),
		fixtureStaticSet: attempt(() => fixture.Registry.instances.add(new fixture.Registry())),
	};
}

export function create(name: string, host: string, port: number, ssl?: unknown, opts?: unknown): boolean {
	const c = mqtt.create(null, host, port, ssl ?? undefined, opts ?? undefined);
	if (!c) return false;
	clients.set(name, c);
	c.on((self, event, data, payload, metas) => {
		trace(`EVT ${name} ${JSON.stringify({ event, data: encode(data), payload: encode(payload), metas, same: self === c })}\n`);
	});
	return true;
}

export function call(name: string, method: string, ...args: unknown[]): unknown {
	const c = clients.get(name) as unknown as Record<string, (...a: unknown[]) => unknown> | undefined;
	if (!c) throw new Error(`no client ${name}`);
	return c[method](...args);
}

export default function main(): void {
	trace(`preload: ${rom.modules.length} modules, ${rom.frozen} objects frozen, ${rom.violations.length} violations\n`);
}
