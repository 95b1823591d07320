/*
 * mqttc: an MQTT 3.1.1 client for Moddable XS with the LuatOS `mqtt` API.
 *
 *   import mqtt from "mqttc";
 *   const client = mqtt.create(null, "broker.local", 1883);
 *
 * create() checks the arguments and builds a client from the core's parts: the event queue,
 * the session, the link and the packet handling. An option whose feature module the app did
 * not include (`ssl`: manifest_tls.json, `backup`: manifest_failover.json, `manual_ack`:
 * manifest_acks.json) makes it return null, with a reason naming the manifest to include.
 * The default export is frozen and holds no state, so the module can be preloaded.
 */

import Modules from "modules";
import { MqttClient } from "mqttc/client";
import { Link } from "mqttc/link";
import { Inbound, QOS2_WINDOW } from "mqttc/inbound";
import { Session } from "mqttc/session";
import { Outbox } from "mqttc/outbox";
import { EventQueue } from "mqttc/events";
import { Decoder, MIN_RX_SIZE } from "mqttc/decoder";
import type { AcksModule, CreateOptions, DeferredAcks, FailoverModule, FailoverRing, IoModule, SessionSource, SslOptions, TlsModule, Transport, WsModule } from "mqttc/types";

/**
 * A client for `host:port`, or null when an argument is invalid (the reason is traced).
 * `adapter` is accepted for LuatOS compatibility and ignored: a Moddable device has one
 * network interface.
 */
function create(adapter: unknown, host: unknown, port: unknown, ssl?: unknown, opts?: unknown): MqttClient | null {
	void adapter;
	const client = build(host, port, ssl, opts);
	if (typeof client === "string") {
		trace(`mqttc: create: ${client}\n`);
		return null;
	}
	return client;
}

/** A client, or the reason an argument is invalid. Defaults and bounds: README "Limits". */
function build(host: unknown, port: unknown, ssl: unknown, opts: unknown): MqttClient | string {
	if (typeof host !== "string" || !host.length) return "host must be a non-empty string";
	if (!isInteger(port, 1, 65535)) return "port must be 1..65535";
	const options = (opts ?? {}) as CreateOptions;
	if (typeof options !== "object") return "opts must be a table";
	const rxSize = options.rxSize ?? 32768;
	if (typeof rxSize !== "number" || !(rxSize >= MIN_RX_SIZE && rxSize <= 16777216)) return `rxSize must be ${MIN_RX_SIZE}..16777216`;
	const timeout = options.conn_timeout ?? 30;
	if (typeof timeout !== "number" || !(timeout > 0 && timeout <= 3600)) return "conn_timeout must be 1..3600 seconds";
	for (const key of ["outbox", "queue"] as const) {
		const value = options[key];
		if (value !== undefined && (typeof value !== "number" || !(value >= 0))) return `${key} must be a byte count`;
	}
	const inflight = options.inflight ?? 10;
	if (typeof inflight !== "number" || !(inflight >= 1 && inflight <= 65535)) return "inflight must be 1..65535";
	if (options.oversize !== undefined && options.oversize !== "chunk" && options.oversize !== "skip") return "oversize must be \"chunk\" or \"skip\"";
	let failover: FailoverRing | string | undefined;
	if (options.backup !== undefined && options.backup !== null) {
		const module = feature("mqttc/failover", "backup") as FailoverModule | string;
		failover = typeof module === "string" ? module : module.ring(host, port as number, options.backup);
		if (typeof failover === "string") return failover;
	}
	let acks: DeferredAcks | string | undefined;
	if (options.manual_ack !== undefined && options.manual_ack !== false) {
		const module = feature("mqttc/acks", "manual_ack") as AcksModule | string;
		acks = typeof module === "string" ? module : module.create(options.manual_ack);
		if (typeof acks === "string") return acks;
	}
	let transport: Transport | undefined;
	if (options.io !== undefined && options.io !== false) {
		// ECMA-419 (mqttc/io) takes `ssl` too: its TLS is another socket, not SecureSocket.
		const module = feature("mqttc/io", "io") as IoModule | string;
		const io = typeof module === "string" ? module : module.transport(options.io, ssl);
		if (typeof io === "string") return io;
		transport = io;
	}
	else if (ssl !== undefined && ssl !== null && ssl !== false) {
		if (!Modules.has("securesocket") || !Modules.has("mqttc/tls")) return "TLS needs the securesocket module and mqttc/tls: include mqttc's manifest_tls.json";
		// Only apps built with TLS carry (and load) it: the plain path imports none of it.
		const tls = Modules.importNow("mqttc/tls") as TlsModule;
		const settings = tls.tlsSettings(ssl as true | SslOptions);
		if (typeof settings === "string") return settings;
		transport = tls.transport(settings);
	}
	if (options.websocket !== undefined && options.websocket !== false) {
		const module = feature("mqttc/ws", "websocket") as WsModule | string;
		const ws = typeof module === "string" ? module : module.transport(options.websocket, transport);
		if (typeof ws === "string") return ws;
		transport = ws;
	}
	const store = options.store as SessionSource | undefined;
	if (store !== undefined && (store === null || typeof store.session !== "function")) return "store must be a Store of mqttc/store: include mqttc's manifest_store.json";
	const events = new EventQueue();
	const outboxLimit = options.outbox ?? 16384;
	const session = store === undefined ? new Session(new Outbox(outboxLimit, inflight), QOS2_WINDOW) : store.session(outboxLimit, inflight, QOS2_WINDOW, events);
	if (typeof session === "string") return session;
	const link = new Link({ host, port: port as number }, timeout, options.resend !== false, events, session);
	link.failover = failover as FailoverRing | undefined;
	link.transport = transport;
	const inbound = new Inbound(link, acks as DeferredAcks | undefined, options.binary === true, options.oversize !== "skip");
	link.inbound = inbound;
	link.decoder = link.input = new Decoder(rxSize, inbound, options.binary === true);
	const client = new MqttClient(link, inbound, options.queue ?? 16384);
	events.owner = client;
	return client;
}

/** A feature module's default export (the app included its manifest, `manifest_<name>.json`
 * of mqttc), or create()'s reason that names the manifest to include. */
function feature(name: string, option: string): unknown {
	return Modules.has(name) ? Modules.importNow(name) : `${option} needs ${name}: include mqttc's manifest_${name.slice(6)}.json`;
}

function isInteger(value: unknown, min: number, max: number): value is number {
	return typeof value === "number" && value >= min && value <= max && (value | 0) === value;
}

const mqtt = Object.freeze({
	create,
	STATE_DISCONNECT: 0 as const,
	STATE_SCONNECT: 1 as const,
	STATE_MQTT: 2 as const,
	STATE_READY: 3 as const,
});

export default mqtt;
export type { MqttClient };
