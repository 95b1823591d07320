/*
 * Test driver app: the test (Node) creates mqttc clients and calls their methods through
 * the host's app.call; every event is traced as one line `EVT <name> <json>` so the test
 * can wait for it. Binary payloads travel as {hex}.
 */
import mqtt from "mqttc";
import Timer from "timer";
import Modules from "modules";
import type { TlsModule } from "mqttc/types";

type Client = NonNullable<ReturnType<typeof mqtt.create>>;

class Driver {
	clients = new Map<string, Client>();
	quiet = new Set<string>();   // clients whose recv events are counted, not traced
	counts = new Map<string, Record<string, number>>();
	/** Calls a handler makes when it gets an event: client -> event -> [method, ...args]. */
	reactions = new Map<string, Map<string, unknown[][]>>();
	/** Handlers running now; an event delivered while one runs is nested. */
	depth = 0;
}
const driver = new Driver();

function encode(value: unknown): unknown {
	if (value instanceof ArrayBuffer) {
		const bytes = new Uint8Array(value);
		let hex = "";
		for (let i = 0; i < bytes.length; i++) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
		return { hex };
	}
	return value;
}

function decode(value: unknown): unknown {
	if (value && typeof value === "object" && "hex" in (value as object)) {
		const hex = (value as { hex: string }).hex;
		const out = new Uint8Array(hex.length >> 1);
		for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
		return out.buffer;
	}
	if (value && typeof value === "object" && "repeat" in (value as object)) {
		const { repeat, count } = value as { repeat: string; count: number };
		return repeat.repeat(count);
	}
	return value;
}

/** A resolver in the shape of ECMA-419's (`new Resolver(options)`, `resolve({host,
 * onResolved, onError})`), over a table: what `opts.io.dns = {table}` stands for. */
class TableResolver {
	table: Record<string, string>;
	constructor(options: { table: Record<string, string> }) {
		this.table = options.table;
	}
	resolve(request: { host: string; onResolved(host: string, address: string): void; onError(): void }): void {
		Timer.set(() => {
			const address = this.table[request.host];
			if (address) request.onResolved(request.host, address);
			else request.onError();
		}, 1);
	}
	close(): void {}
}

/** opts as JSON can carry them, with `io.dns: {table}` made a resolver entry. */
function options(opts: unknown): unknown {
	const io = (opts as { io?: { dns?: { table?: object } } } | null)?.io;
	if (!io?.dns?.table) return opts;
	return { ...(opts as object), io: { ...io, dns: { io: TableResolver, table: io.dns.table } } };
}

/** Creates client `name`; returns whether create() gave a client. */
export function create(name: string, host: string, port: number, ssl?: unknown, opts?: unknown): boolean {
	const client = mqtt.create(null, host, port, decode(ssl), options(opts));
	if (!client) return false;
	driver.clients.set(name, client);
	driver.counts.set(name, {});
	client.on((c: unknown, event: string, data: unknown, payload: unknown, metas: unknown) => {
		if (driver.depth) trace(`NESTED ${name} ${event}\n`);
		driver.depth++;
		try {
			const counts = driver.counts.get(name)!;
			counts[event] = (counts[event] ?? 0) + 1;
			if (event === "recv" && driver.quiet.has(name)) return;
			trace(`EVT ${name} ${JSON.stringify({ event, data: encode(data), payload: encode(payload), metas, same: c === client })}\n`);
			for (const [method, ...args] of driver.reactions.get(name)?.get(event) ?? []) marked(name, method as string, args);
		}
		finally {
			driver.depth--;
		}
	});
	return true;
}

/** Calls a method and traces `RET <client> <method> <result>` the moment it returns, so a
 * test can tell whether an event came before or after the call returned. */
function marked(name: string, method: string, args: unknown[]): unknown {
	const client = driver.clients.get(name) as unknown as Record<string, (...a: unknown[]) => unknown>;
	if (!client) throw new Error(`no client ${name}`);
	const result = client[method](...args.map(decode));
	trace(`RET ${name} ${method} ${JSON.stringify(result ?? null)}\n`);
	return result === undefined ? null : result;
}

/** Calls several methods of a client in one turn, each traced as it returns; returns the results. */
export function sequence(name: string, calls: unknown[][]): unknown[] {
	return calls.map(([method, ...args]) => marked(name, method as string, args));
}

/** From now on, when client `name` gets `event`, its handler calls `method(...args)`. */
export function react(name: string, event: string, method: string, ...args: unknown[]): void {
	let byEvent = driver.reactions.get(name);
	if (!byEvent) driver.reactions.set(name, byEvent = new Map());
	const list = byEvent.get(event) ?? [];
	list.push([method, ...args]);
	byEvent.set(event, list);
}

/** Calls a client method; arguments {hex} become ArrayBuffers. */
export function call(name: string, method: string, ...args: unknown[]): unknown {
	const client = driver.clients.get(name) as unknown as Record<string, (...a: unknown[]) => unknown>;
	if (!client) throw new Error(`no client ${name}`);
	const result = client[method](...args.map(decode));
	return result === undefined ? null : result;
}

/** Publishes `count` QoS `qos` messages "<prefix><n>" on `topic`; returns the ids (null for refused). */
export function burst(name: string, topic: string, prefix: string, count: number, qos: number): (number | null)[] {
	const client = driver.clients.get(name)!;
	const ids: (number | null)[] = [];
	for (let i = 0; i < count; i++) ids.push(client.publish(topic, prefix + i, qos));
	return ids;
}

/** Publishes `text` as a Uint8Array at `qos`, then overwrites that buffer with "X"s, as an
 * app reusing its buffer would; returns the id. */
export function publishThenReuse(name: string, topic: string, text: string, qos: number): number | null {
	const client = driver.clients.get(name)!;
	const bytes = new Uint8Array(ArrayBuffer.fromString(text));
	const id = client.publish(topic, bytes, qos);
	bytes.fill(0x58);
	return id;
}

/** Publishes the bytes "view0", "view1", "view2!", "view3" at `qos` as the kinds of payload
 * an app may hand over: a Uint8Array that is a window into a larger buffer, a DataView, an Int16Array and
 * an ArrayBuffer; returns the ids. */
export function publishViews(name: string, topic: string, qos: number): (number | null)[] {
	const client = driver.clients.get(name)!;
	const around = new Uint8Array(ArrayBuffer.fromString("XXview0XX"));
	const view = new DataView(ArrayBuffer.fromString("Yview1Y"), 1, 5);
	const words = new Int16Array(ArrayBuffer.fromString("view2!"));   // 3 words
	return [
		client.publish(topic, around.subarray(2, 7), qos),
		client.publish(topic, view, qos),
		client.publish(topic, words.subarray(0, 3), qos),
		client.publish(topic, ArrayBuffer.fromString("view3"), qos),
	];
}

/** Stops tracing recv events of a client (high-volume tests count them instead). */
export function quiet(name: string): void {
	driver.quiet.add(name);
}

export function counts(name: string): Record<string, number> {
	return driver.counts.get(name) ?? {};
}

export function constants() {
	return { DISCONNECT: mqtt.STATE_DISCONNECT, SCONNECT: mqtt.STATE_SCONNECT, MQTT: mqtt.STATE_MQTT, READY: mqtt.STATE_READY };
}

/*
 * Soak: client `pub` publishes messages "s<index>" (even index QoS 1, odd QoS 2) from a
 * timer, `batch` per tick, retrying a refused publish on the next tick; client `sub` counts
 * what arrives per index. Everything is tallied in fixed typed arrays.
 */

class Soak {
	total = 0;
	next = 0;
	received = new Uint8Array(0);
	lost = new Uint8Array(0);
	accepted = new Uint8Array(0);
	/** Per index: message_id * 2 + dup + 1 of its first delivery (0: none yet). */
	firstDelivery = new Uint32Array(0);
	/** QoS 2 messages delivered again, at most 1,000: [index, first message_id, first dup,
	 * message_id again, dup again], for the test to tell whose the duplicate is. */
	qos2Duplicates: number[][] = [];
	sentCount = 0;
	refused = 0;
	idToIndex = new Map<number, number>();
	timer: Timer | undefined;
}
const soak = new Soak();

export function soakStart(pub: string, sub: string, topic: string, total: number, batch: number, intervalMs: number): boolean {
	const publisher = driver.clients.get(pub);
	const subscriber = driver.clients.get(sub);
	if (!publisher || !subscriber) return false;
	soak.total = total;
	soak.received = new Uint8Array(total);
	soak.lost = new Uint8Array(total);
	soak.accepted = new Uint8Array(total);
	soak.firstDelivery = new Uint32Array(total);
	driver.quiet.add(sub);
	subscriber.on((_c, event, _data, payload, metas) => {
		if (event === "recv" && typeof payload === "string" && payload[0] === "s") {
			const index = parseInt(payload.slice(1), 10);
			if (!(index >= 0 && index < total)) return;
			const { message_id, dup } = metas as { message_id: number; dup: number };
			if (soak.received[index] === 0) soak.firstDelivery[index] = message_id * 2 + dup + 1;
			else if ((index & 1) && soak.qos2Duplicates.length < 1000) {
				const first = soak.firstDelivery[index] - 1;
				soak.qos2Duplicates.push([index, first >> 1, first & 1, message_id, dup]);
			}
			if (soak.received[index] < 255) soak.received[index]++;
		}
		else if (event !== "recv") trace(`EVT ${sub} ${JSON.stringify({ event, data: _data, payload })}\n`);
	});
	publisher.on((_c, event, data, payload, metas) => {
		if (event === "sent") {
			soak.sentCount++;
			soak.idToIndex.delete(data as number);
		}
		else if (event === "error" && data === "tx" && metas && (metas as { message_id?: number }).message_id) {
			const id = (metas as { message_id: number }).message_id;
			const index = soak.idToIndex.get(id);
			if (index !== undefined) soak.lost[index] = 1;
			soak.idToIndex.delete(id);
		}
		else if (event === "error" && data === "tx") soak.refused++;
		else trace(`EVT ${pub} ${JSON.stringify({ event, data, payload })}\n`);
	});
	soak.timer = Timer.repeat(() => {
		for (let k = 0; k < batch && soak.next < total; k++) {
			const index = soak.next;
			const id = publisher.publish(topic, `s${index}`, index & 1 ? 2 : 1);
			if (id === null) break;            // outbox full or offline: try again next tick
			soak.idToIndex.set(id, index);
			soak.accepted[index] = 1;
			soak.next++;
		}
		if (soak.next >= total && soak.timer) {
			Timer.clear(soak.timer);
			soak.timer = undefined;
		}
	}, intervalMs);
	return true;
}

export function soakReport() {
	let received = 0, missing = 0, lost = 0, duplicatesQos1 = 0, duplicatesQos2 = 0;
	const missingSample: number[] = [];
	for (let i = 0; i < soak.total; i++) {
		if (soak.received[i]) received++;
		if (soak.lost[i]) lost++;
		if (soak.received[i] > 1) {
			if (i & 1) duplicatesQos2++;
			else duplicatesQos1++;
		}
		if (soak.accepted[i] && !soak.received[i] && !soak.lost[i]) {
			missing++;
			if (missingSample.length < 10) missingSample.push(i);
		}
	}
	return {
		total: soak.total, published: soak.next, sent: soak.sentCount, received, lost, missing, missingSample,
		duplicatesQos1, duplicatesQos2, qos2Duplicates: soak.qos2Duplicates, refused: soak.refused, awaitingAck: soak.idToIndex.size,
	};
}

/** What mqttc/tls makes of an `ssl` table, as create() runs it: the reason it refuses, or
 * the SecureSocket dictionary with its buffers as {hex}; `ms` is the time it took. */
export function tlsSettings(ssl: unknown): unknown {
	const { tlsSettings } = Modules.importNow("mqttc/tls") as TlsModule;
	const started = Date.now();
	const settings = tlsSettings(decode(ssl) as Parameters<typeof tlsSettings>[0]);
	const ms = Date.now() - started;
	if (typeof settings === "string") return { reason: settings, ms };
	const { certificate, clientKey, clientCertificates } = settings.secure;
	return {
		ms,
		secure: { ...settings.secure, certificate: encode(certificate), clientKey: encode(clientKey), clientCertificates: clientCertificates?.map(encode) },
		authorities: settings.authorities.map(encode),
	};
}
