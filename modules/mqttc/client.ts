/*
 * The mqttc client: the LuatOS mqtt client object on a Moddable Socket or SecureSocket.
 *
 * One instance holds everything of one connection to one broker: the receive buffer
 * (allocated once, in create), the outbox, the subscriptions and three timers (CONNACK
 * deadline, keepalive tick, reconnect). Nothing lives at module level.
 *
 * Every socket and timer callback is wrapped so that no exception escapes to the host: a
 * fault becomes an `error` event and a `disconnect`, then autoreconn takes over.
 */

import { Socket } from "socket";
import Timer from "timer";
import Modules from "modules";
import {
	CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGREQ, PINGRESP,
	DISCONNECT, PACKET_NAMES, encodeConnect, encodePublish, encodeAck, encodeSubscribe,
	encodeUnsubscribe, encodeEmpty, type WillMessage,
} from "mqttc/packet";
import { Decoder, MIN_RX_SIZE, type Packet, type PublishPacket } from "mqttc/decoder";
import { Outbox, SENT, RELEASED, type OutboxEntry } from "mqttc/outbox";
import { Writer } from "mqttc/writer";
import { fieldBytes, topicNameBytes, topicFilterBytes } from "mqttc/topic";
import { toBytes, isUtf8, fromUtf8 } from "mqttc/utf8";
import { tlsSettings, type TlsSettings } from "mqttc/tls";
import type { CreateOptions, EventCallback, Payload, SslOptions, ErrorKind, MqttEvent, RecvMetas, SubackMetas } from "mqttc/types";

export const STATE_DISCONNECT = 0;
export const STATE_SCONNECT = 1;
export const STATE_MQTT = 2;
export const STATE_READY = 3;

/** Defaults and bounds, all documented in the README. */
export const DEFAULTS = Object.freeze({
	rxSize: 32768,
	connTimeout: 30,
	keepalive: 240,
	minKeepalive: 15,
	maxKeepalive: 600,
	reconnectPeriod: 3000,
	outbox: 16384,
	inflight: 10,
	/** Bytes of QoS 0 and control packets that may wait for socket space. */
	queueLimit: 16384,
	/** Subscribe/unsubscribe requests that may await their acknowledgement. */
	pendingLimit: 16,
	/** QoS 2 message ids remembered between PUBREC and PUBREL (exactly-once window). */
	qos2Window: 64,
	/** Topics per SUBSCRIBE when subscriptions are restored after a reconnect. */
	resubscribeBatch: 8,
	/** Milliseconds disconnect() waits for queued packets to leave before closing. */
	lingerMs: 2000,
	/** QoS 1/2 messages that may await ack() at once with manual_ack: true. */
	manualAck: 32,
});

/** Keepalive ticks per keepalive interval: PINGREQ after 3 idle ticks, dead after 2 more. */
const TICKS = 4;
const PING_AFTER_TICKS = 3;
const DEAD_AFTER_TICKS = 2;

interface PendingRequest {
	id: number;
	subscribe: boolean;
	topics: string[];
	packet: Uint8Array;
}

type Transport = {
	callback: (message: number, value?: number) => void;
	read(type: typeof ArrayBuffer): ArrayBuffer;
	write(...data: (ArrayBuffer | ArrayBufferView)[]): number | void;
	close(): void;
};

export class MqttClient {
	// Fixed at create()
	private host: string;
	private port: number;
	private tls: TlsSettings | undefined;
	private authority = 0;                 // which CA of a bundle this connection trusts
	private authoritiesTried = 0;          // CAs of the bundle that failed in this attempt
	private connTimeout: number;
	private binary: boolean;
	private chunked: boolean;
	private resend: boolean;
	private queueLimit: number;
	private manualAck: number;             // 0: acknowledge after recv; else how many may await ack()
	private decoder: Decoder | undefined;
	private outbox: Outbox;

	// Session settings (auth, keepalive, will)
	private clientId: Uint8Array = new Uint8Array(0);
	private username: Uint8Array | undefined;
	private password: Uint8Array | undefined;
	private cleanSession = true;
	private keepaliveSeconds: number = DEFAULTS.keepalive;
	private willMessage: WillMessage | undefined;
	private handler: EventCallback | undefined;
	private debugging = false;

	// Reconnect policy
	private reconnect = false;
	private reconnectPeriod: number = DEFAULTS.reconnectPeriod;
	private reconnectMax = 0;              // > period: exponential backoff with jitter up to this
	private attempts = 0;

	// Connection
	private status = STATE_DISCONNECT;
	private socket: Transport | undefined;
	private writer: Writer | undefined;
	private connTimer: Timer | undefined;
	private tickTimer: Timer | undefined;
	private reconnectTimer: Timer | undefined;
	private lingerTimer: Timer | undefined;
	private idleTicks = 0;                 // ticks since the client last sent
	private silentTicks = 0;               // ticks since the client last received
	private pingTicks = -1;                // ticks since PINGREQ went out, -1: none outstanding
	private closed = false;
	private openOnly = false;              // open() was called: no CONNECT until connect()
	private linked = false;                // open() succeeded: the socket is up, CONNECT not sent
	private stopped = false;               // disconnect() was called: no autoreconnect
	private nextId = 0;

	// Session state
	private pending: PendingRequest[] = [];
	private subscriptions = new Map<string, number>();
	private qos2Ids: number[] = [];         // received QoS 2 ids awaiting PUBREL
	private qos2Overflow = false;
	private awaitingAck: number[] = [];    // manual_ack: delivered QoS 1/2 messages, id * 4 + qos

	constructor(host: string, port: number, tls: TlsSettings | undefined, options: CreateOptions) {
		this.host = host;
		this.port = port;
		this.tls = tls;
		this.connTimeout = options.conn_timeout ?? DEFAULTS.connTimeout;
		this.binary = options.binary === true;
		this.chunked = options.oversize !== "skip";
		this.resend = options.resend !== false;
		this.queueLimit = options.queue ?? DEFAULTS.queueLimit;
		const manual = options.manual_ack;
		this.manualAck = manual === true ? DEFAULTS.manualAck : typeof manual === "number" ? manual : 0;
		this.outbox = new Outbox(options.outbox ?? DEFAULTS.outbox, options.inflight ?? DEFAULTS.inflight);
		this.decoder = new Decoder(options.rxSize ?? DEFAULTS.rxSize, {
			packet: (packet) => this.received(packet),
			part: (packet, chunk, offset) => this.receivedPart(packet, chunk, offset),
			fault: (reason) => this.lost("protocol", "other", reason),
		});
	}

	/** Validates create() arguments; returns a client or a reason. */
	static create(host: unknown, port: unknown, ssl: unknown, opts: unknown): MqttClient | string {
		if (typeof host !== "string" || !host.length) return "host must be a non-empty string";
		if (typeof port !== "number" || !(port >= 1 && port <= 65535) || (port | 0) !== port) return "port must be 1..65535";
		const options = (opts ?? {}) as CreateOptions;
		if (typeof options !== "object") return "opts must be a table";
		const rxSize = options.rxSize ?? DEFAULTS.rxSize;
		if (typeof rxSize !== "number" || !(rxSize >= MIN_RX_SIZE && rxSize <= 16777216)) return `rxSize must be ${MIN_RX_SIZE}..16777216`;
		const timeout = options.conn_timeout ?? DEFAULTS.connTimeout;
		if (typeof timeout !== "number" || !(timeout > 0 && timeout <= 3600)) return "conn_timeout must be 1..3600 seconds";
		for (const key of ["outbox", "queue"] as const) {
			const value = options[key];
			if (value !== undefined && (typeof value !== "number" || !(value >= 0))) return `${key} must be a byte count`;
		}
		const inflight = options.inflight ?? DEFAULTS.inflight;
		if (typeof inflight !== "number" || !(inflight >= 1 && inflight <= 65535)) return "inflight must be 1..65535";
		if (options.oversize !== undefined && options.oversize !== "chunk" && options.oversize !== "skip") return "oversize must be \"chunk\" or \"skip\"";
		const manual = options.manual_ack;
		if (manual !== undefined && typeof manual !== "boolean" && (typeof manual !== "number" || !(manual >= 1 && manual <= 65535) || (manual | 0) !== manual)) return "manual_ack must be a boolean or 1..65535";
		let tls: TlsSettings | undefined;
		if (ssl !== undefined && ssl !== null && ssl !== false) {
			if (!Modules.has("securesocket")) return "TLS needs the securesocket module: include mqttc's manifest_tls.json";
			const settings = tlsSettings(ssl as true | SslOptions);
			if (typeof settings === "string") return settings;
			tls = settings;
		}
		return new MqttClient(host, port, tls, options);
	}

	// ---- The LuatOS API ------------------------------------------------------------

	auth(clientId?: unknown, username?: unknown, password?: unknown, cleanSession: unknown = true): true | null {
		if (this.closed) return null;
		let id: Uint8Array = new Uint8Array(0);
		if (clientId !== undefined && clientId !== null && clientId !== "") {
			const bytes = fieldBytes(clientId, "client_id");
			if (typeof bytes === "string") return this.refuse(bytes);
			id = bytes;
		}
		let user: Uint8Array | undefined;
		if (username !== undefined && username !== null && username !== "") {
			const bytes = fieldBytes(username, "username");
			if (typeof bytes === "string") return this.refuse(bytes);
			user = bytes;
		}
		let pass: Uint8Array | undefined;
		if (password !== undefined && password !== null && password !== "") {
			const bytes = typeof password === "string" ? fieldBytes(password, "password") : toBytes(password as Payload);
			if (bytes === undefined || typeof bytes === "string") return this.refuse(bytes ?? "password must be a string or bytes");
			if (bytes.length > 65535) return this.refuse("password longer than 65535 bytes");
			pass = bytes;
		}
		if (typeof cleanSession !== "boolean") return this.refuse("cleanSession must be a boolean");
		this.clientId = id;
		this.username = user;
		this.password = pass;
		// A broker-assigned id only exists for a clean session [MQTT-3.1.3-7].
		this.cleanSession = id.length === 0 ? true : cleanSession;
		return true;
	}

	keepalive(seconds?: unknown): void {
		if (this.closed) return;
		let value = typeof seconds === "number" && seconds === seconds ? Math.round(seconds) : DEFAULTS.keepalive;
		value = Math.min(DEFAULTS.maxKeepalive, Math.max(DEFAULTS.minKeepalive, value));
		this.keepaliveSeconds = value;
	}

	on(callback: EventCallback): void {
		if (this.closed) return;
		if (typeof callback === "function") this.handler = callback;
	}

	will(topic: unknown, payload: unknown = "", qos: unknown = 0, retain: unknown = 0): boolean {
		if (this.closed) return false;
		const topicBytes = topicNameBytes(topic);
		if (typeof topicBytes === "string") return this.refuse(topicBytes) ?? false;
		const body = toBytes(payload as Payload);
		if (!body || body.length > 65535) return this.refuse("will payload must be a string or bytes of at most 65535") ?? false;
		const q = qosOf(qos);
		if (q < 0) return this.refuse("will qos must be 0, 1 or 2") ?? false;
		this.willMessage = { topic: topicBytes, payload: body.slice(), qos: q, retain: flagOf(retain) };
		return true;
	}

	debug(on: unknown): void {
		this.debugging = !!on;
	}

	connect(): boolean {
		if (this.closed || this.lingerTimer) return false;
		if (this.openOnly) {
			// after open(): CONNECT goes now on the open socket, or as soon as it connects
			this.openOnly = false;
			this.stopped = false;
			if (this.linked) {
				this.linked = false;
				this.armConnTimer();
				this.sendConnect();
			}
			return true;
		}
		if (this.status !== STATE_DISCONNECT) return false;
		this.stopped = false;
		this.clearTimer("reconnectTimer");
		this.openSocket();
		return true;
	}

	/**
	 * Opens the TCP/TLS connection without sending CONNECT: `open` event once it is up
	 * (state stays STATE_SCONNECT), `error` "connect" + `disconnect` "connect" when it
	 * cannot be opened within conn_timeout. connect() then sends CONNECT on it. A failed
	 * open() is not retried by autoreconn. false when not disconnected. (The Linux
	 * simulator's socket reports a refused connect as connected: there connect() fails.)
	 */
	open(): boolean {
		if (this.closed || this.status !== STATE_DISCONNECT || this.lingerTimer) return false;
		this.stopped = false;
		this.clearTimer("reconnectTimer");
		this.openOnly = true;
		this.openSocket();
		return true;
	}

	/**
	 * manual_ack: acknowledges a QoS 1/2 message delivered by `recv` (PUBACK, or PUBREC for
	 * QoS 2). true when `message_id` awaited its acknowledgement; false otherwise (unknown or
	 * already acknowledged, or the connection it came on is gone: the broker delivers it
	 * again on a resumed session, with dup = 1).
	 */
	ack(messageId: unknown): boolean {
		if (this.closed || typeof messageId !== "number") return false;
		const list = this.awaitingAck;
		for (let i = 0; i < list.length; i++) {
			if (list[i] >> 2 !== messageId) continue;
			const qos = list[i] & 3;
			list.splice(i, 1);
			this.acknowledgePublish(messageId, qos);
			return true;
		}
		return false;
	}

	disconnect(): boolean {
		if (this.closed) return false;
		this.stopped = true;
		this.clearTimer("reconnectTimer");
		if (this.status === STATE_DISCONNECT) return false;
		if (this.status === STATE_READY && this.writer && this.socket) {
			this.sendPacket(encodeEmpty(DISCONNECT));
			if (!this.writer.idle) {
				// Let queued packets and the DISCONNECT leave before closing, for a bounded time.
				this.lingerTimer = Timer.set(() => this.guard(() => this.lost("user")), DEFAULTS.lingerMs);
				this.status = STATE_DISCONNECT;   // nothing more is accepted; the socket closes when drained
				return true;
			}
		}
		this.lost("user");
		return true;
	}

	autoreconn(enable: unknown, period: unknown = DEFAULTS.reconnectPeriod, max: unknown = 0): void {
		if (this.closed) return;
		this.reconnect = !!enable;
		this.reconnectPeriod = typeof period === "number" && period >= 100 ? period : DEFAULTS.reconnectPeriod;
		this.reconnectMax = typeof max === "number" && max > this.reconnectPeriod ? max : 0;
		if (!this.reconnect) this.clearTimer("reconnectTimer");
	}

	publish(topic: unknown, data: unknown, qos: unknown = 0, retain: unknown = 0): number | null {
		if (this.closed) return null;
		const topicBytes = topicNameBytes(topic);
		if (typeof topicBytes === "string") return this.refuse(topicBytes);
		const payload = data === undefined || data === null ? new Uint8Array(0) : toBytes(data as Payload);
		if (!payload) return this.refuse("data must be a string or bytes");
		const q = qosOf(qos);
		if (q < 0) return this.refuse("qos must be 0, 1 or 2");
		const id = this.allocateId();
		if (!id) return this.refuse("no free message id");
		const packet = encodePublish(topicBytes, payload, q, flagOf(retain), false, id);
		if (q === 0) {
			if (this.status !== STATE_READY) return this.refuse("not connected");
			if (this.writer!.queued && this.writer!.queued + packet.length > this.queueLimit) {
				this.emit("error", "tx", `send queue full (${this.queueLimit} bytes)`);
				return null;
			}
			if (this.debugging) this.trace(`> PUBLISH id=${id} qos=0 topic=${topic} bytes=${payload.length}`);
			if (!this.sendPacket(packet, id)) return null;
			return id;
		}
		if (!this.resend && this.status !== STATE_READY) return this.refuse("not connected (resend is off)");
		if (!this.outbox.fits(packet.length)) {
			this.emit("error", "tx", `outbox full (${this.outbox.limit} bytes)`);
			return null;
		}
		this.outbox.add(id, q, packet);
		if (this.debugging) this.trace(`= PUBLISH id=${id} qos=${q} topic=${topic} bytes=${payload.length} queued`);
		this.pump();
		return id;
	}

	subscribe(topic: unknown, qos: unknown = 0): number | null {
		if (this.closed) return null;
		const topics: string[] = [];
		const levels: number[] = [];
		if (typeof topic === "string") {
			topics.push(topic);
			levels.push(qosOf(qos));
		}
		else if (topic && typeof topic === "object") {
			for (const name in topic as Record<string, unknown>) {
				topics.push(name);
				levels.push(qosOf((topic as Record<string, unknown>)[name]));
			}
		}
		if (!topics.length) return this.refuse("subscribe needs a topic or a table of topics");
		const filters: Uint8Array[] = [];
		for (let i = 0; i < topics.length; i++) {
			const bytes = topicFilterBytes(topics[i]);
			if (typeof bytes === "string") return this.refuse(`${bytes}: ${topics[i]}`);
			if (levels[i] < 0) return this.refuse(`qos must be 0, 1 or 2: ${topics[i]}`);
			filters.push(bytes);
		}
		if (this.status !== STATE_READY) return this.refuse("not connected");
		if (this.pending.length >= DEFAULTS.pendingLimit) return this.refuse("too many requests awaiting acknowledgement");
		const id = this.allocateId();
		if (!id) return this.refuse("no free message id");
		for (let i = 0; i < topics.length; i++) this.subscriptions.set(topics[i], levels[i]);
		return this.request(id, true, topics, encodeSubscribe(id, filters, levels));
	}

	unsubscribe(topic: unknown): number | null {
		if (this.closed) return null;
		const topics = typeof topic === "string" ? [topic] : Array.isArray(topic) ? topic.slice() : [];
		if (!topics.length) return this.refuse("unsubscribe needs a topic or a list of topics");
		const filters: Uint8Array[] = [];
		for (const name of topics) {
			const bytes = topicFilterBytes(name);
			if (typeof bytes === "string") return this.refuse(`${bytes}: ${name}`);
			filters.push(bytes);
		}
		if (this.status !== STATE_READY) return this.refuse("not connected");
		if (this.pending.length >= DEFAULTS.pendingLimit) return this.refuse("too many requests awaiting acknowledgement");
		const id = this.allocateId();
		if (!id) return this.refuse("no free message id");
		for (const name of topics) this.subscriptions.delete(name);
		return this.request(id, false, topics as string[], encodeUnsubscribe(id, filters));
	}

	ready(): boolean {
		return !this.closed && this.status === STATE_READY;
	}

	state(): number {
		return this.status;
	}

	close(): void {
		if (this.closed) return;
		this.stopped = true;
		if (this.status === STATE_READY) this.sendPacket(encodeEmpty(DISCONNECT));
		this.handler = undefined;            // close() is silent: no events after it
		this.lost("user");
		this.clearTimer("reconnectTimer");
		this.closed = true;
		this.outbox.clear();
		this.pending = [];
		this.subscriptions.clear();
		this.qos2Ids = [];
		this.awaitingAck.length = 0;
		this.decoder = undefined;             // frees the receive buffer
		this.willMessage = undefined;
	}

	// ---- Connection life cycle -----------------------------------------------------

	private armConnTimer(): void {
		this.clearTimer("connTimer");
		this.connTimer = Timer.set(() => this.guard(() => this.lost("conack_timeout", "connect", "no CONNACK within conn_timeout")), this.connTimeout * 1000);
	}

	private openSocket(): void {
		this.status = STATE_SCONNECT;
		this.decoder!.reset();
		this.armConnTimer();
		let socket: Transport;
		try {
			// noDelay: MQTT packets are small and acknowledged one by one; Nagle's algorithm
			// would hold each for the peer's delayed ACK (about 40 ms per round trip).
			const dictionary: Record<string, unknown> = { host: this.host, port: this.port, noDelay: true };
			if (this.tls) {
				const secure = { ...this.tls.secure };
				const authorities = this.tls.authorities;
				if (authorities.length > 1) secure.certificate = authorities[this.authority % authorities.length];
				dictionary.secure = secure;
				const SecureSocket = Modules.importNow("securesocket") as new (dictionary: object) => Transport;
				socket = new SecureSocket(dictionary);
			}
			else socket = new Socket(dictionary as { host: string; port: number }) as unknown as Transport;
		}
		catch (e) {
			// SecureSocket throws at construction for e.g. an expired CA: try the bundle's next one.
			if (this.tls && this.nextAuthority()) return this.openSocket();
			// DNS or certificate errors thrown at construction take the same path as a refused connection.
			const reason = `cannot open connection: ${(e as Error).message}`;
			this.clearTimer("connTimer");
			this.connTimer = Timer.set(() => this.guard(() => this.lost("connect", "connect", reason)), 0);
			return;
		}
		this.socket = socket;
		this.writer = new Writer(socket, (id) => this.emit("sent", id));
		socket.callback = (message: number) => {
			if (this.socket !== socket) return;
			this.guard(() => this.socketEvent(message));
		};
		if (this.debugging) this.trace(`connecting to ${this.host}:${this.port}${this.tls ? " (TLS)" : ""}`);
	}

	private socketEvent(message: number): void {
		switch (message) {
		case 1: // connected
			if (this.openOnly) {
				// open(): the link is up; CONNECT waits for connect(), no deadline meanwhile
				this.clearTimer("connTimer");
				this.linked = true;
				this.emit("open");
				break;
			}
			this.sendConnect();
			break;
		case 2: { // data
			const socket = this.socket!;
			const bytes = new Uint8Array(socket.read(ArrayBuffer));
			this.silentTicks = 0;
			if (this.pingTicks >= 0) this.pingTicks = 0;
			this.decoder?.feed(bytes);
			break;
		}
		case 3: // room to write
			this.writer?.flush();
			if (this.lingerTimer && this.writer?.idle) this.lost("user");
			break;
		case -1:
			this.lost("peer", this.status === STATE_READY || this.linked ? undefined : "connect", "connection closed by the broker");
			break;
		default: // -2
			if (this.status === STATE_SCONNECT && !this.linked) {
				const detail = failureDetail(this.socket);
				if (this.tls && this.nextAuthority()) {
					// Moddable trusts one CA per connection: try the bundle's next one at once.
					if (this.debugging) this.trace(`TLS connection failed${detail}; trying CA ${this.authority + 1} of ${this.tls.authorities.length}`);
					const socket = this.socket;
					this.socket = undefined;
					this.writer = undefined;
					try { socket?.close(); } catch { /* already gone */ }
					this.clearTimer("connTimer");
					this.openSocket();
					break;
				}
				this.lost("connect", "connect", (this.tls ? "TLS connection failed (refused, handshake or certificate)" : "connection failed") + detail);
			}
			else this.lost("network", "other", "socket error");
			break;
		}
	}

	private sendConnect(): void {
		this.status = STATE_MQTT;
		const fields = {
			clientId: this.clientId, username: this.username, password: this.password,
			cleanSession: this.cleanSession, keepalive: this.keepaliveSeconds, will: this.willMessage,
		};
		if (this.debugging) this.trace(`> CONNECT client_id=${fromUtf8(this.clientId, 0, this.clientId.length)} clean=${this.cleanSession} keepalive=${this.keepaliveSeconds}${this.username ? " username=" + fromUtf8(this.username, 0, this.username.length) : ""}${this.password ? " password=***" : ""}${this.willMessage ? " will" : ""}`);
		this.sendPacket(encodeConnect(fields));
	}

	/**
	 * The connection is over, for `reason` (the `disconnect` event's data). Reports the error
	 * first when there is one, settles what can no longer be sent, and arranges the next
	 * attempt when autoreconn is on.
	 */
	private lost(reason: string, kind?: ErrorKind, detail?: string | number): void {
		if (this.status === STATE_DISCONNECT && !this.socket) return;   // nothing open
		this.authoritiesTried = 0;
		this.clearTimer("connTimer");
		this.clearTimer("tickTimer");
		this.clearTimer("lingerTimer");
		const socket = this.socket;
		this.socket = undefined;
		if (socket) try { socket.close(); } catch { /* already gone */ }
		this.decoder?.reset();                // ignore whatever else arrived with the fatal packet
		const unsent = this.writer ? this.writer.drop() : [];
		this.writer = undefined;
		this.status = STATE_DISCONNECT;
		this.pingTicks = -1;
		const openOnly = this.openOnly;
		this.openOnly = this.linked = false;
		this.awaitingAck.length = 0;          // acks belong to this connection; a resumed session redelivers
		if (this.debugging) this.trace(`connection lost: ${reason}${detail !== undefined ? " (" + detail + ")" : ""}`);
		if (kind) this.emit("error", kind, detail);
		// QoS 0 messages that never reached the socket: say so rather than drop them silently.
		for (const id of unsent) this.emit("error", "tx", "message lost: connection closed before it was sent", { message_id: id });
		if (!this.resend) this.abandonOutbox();
		this.emit("disconnect", reason);
		if (this.reconnect && !this.stopped && !this.closed && !openOnly) this.scheduleReconnect();
	}

	/** resend off (LuatOS behaviour): unacknowledged messages are reported, not kept. */
	private abandonOutbox(): void {
		for (const entry of this.outbox.clear()) {
			// A QoS 2 message the broker acknowledged with PUBREC is delivered, as LuatOS counts it.
			if (entry.state === RELEASED) this.emit("sent", entry.id);
			else this.emit("error", "tx", "message lost: connection closed before it was acknowledged", { message_id: entry.id });
		}
	}

	private scheduleReconnect(): void {
		let delay = this.reconnectPeriod;
		if (this.reconnectMax) {
			delay = Math.min(this.reconnectMax, this.reconnectPeriod * 2 ** Math.min(this.attempts, 20));
			delay = delay / 2 + Math.random() * delay / 2;     // jitter: spread clients out after an outage
		}
		this.attempts++;
		this.clearTimer("reconnectTimer");
		if (this.debugging) this.trace(`reconnecting in ${Math.round(delay)} ms`);
		this.reconnectTimer = Timer.set(() => this.guard(() => {
			this.reconnectTimer = undefined;
			if (!this.closed && !this.stopped && this.status === STATE_DISCONNECT) this.openSocket();
		}), delay);
	}

	/** The keepalive tick, every keepalive/4 while READY. */
	private tick(): void {
		this.idleTicks++;
		this.silentTicks++;
		if (this.pingTicks >= 0) {
			if (++this.pingTicks >= DEAD_AFTER_TICKS) {
				this.lost("ping_timeout", "other", `no PINGRESP within ${this.keepaliveSeconds * DEAD_AFTER_TICKS / TICKS} s`);
			}
			return;
		}
		if (this.idleTicks >= PING_AFTER_TICKS || this.silentTicks >= PING_AFTER_TICKS) {
			this.pingTicks = 0;
			this.trace("> PINGREQ");
			this.sendPacket(encodeEmpty(PINGREQ));
		}
	}

	// ---- Incoming packets ----------------------------------------------------------

	private received(packet: Packet): void {
		if (this.debugging && packet.type !== PUBLISH) this.trace(`< ${PACKET_NAMES[packet.type]}${"id" in packet ? " id=" + packet.id : ""}`);
		if (this.status !== STATE_READY) {
			if (packet.type !== CONNACK) return this.lost("protocol", "other", `${PACKET_NAMES[packet.type]} before CONNACK`);
			return this.connack(packet.sessionPresent, packet.code);
		}
		switch (packet.type) {
		case PUBLISH:
			return this.receivedPublish(packet);
		case PUBACK:
		case PUBREC:
		case PUBCOMP:
			return this.acknowledged(packet.type, packet.id);
		case PUBREL: {
			const index = this.qos2Ids.indexOf(packet.id);
			if (index >= 0) this.qos2Ids.splice(index, 1);
			this.sendPacket(encodeAck(PUBCOMP, packet.id));
			return;
		}
		case UNSUBACK: {
			if (!this.settle(packet.id, false)) return;
			return this.emit("unsuback", packet.id);
		}
		case SUBACK: {
			const request = this.settle(packet.id, true);
			if (!request) return;
			const codes = packet.codes;
			if (codes.length !== request.topics.length) return this.lost("protocol", "other", `SUBACK with ${codes.length} codes for ${request.topics.length} topics`);
			for (let i = 0; i < codes.length; i++) if (codes[i] === 0x80) this.subscriptions.delete(request.topics[i]);
			const granted = codes.every((code) => code !== 0x80);
			const metas: SubackMetas = { message_id: packet.id, topics: request.topics, codes };
			return this.emit("suback", granted, codes[0], metas);
		}
		case PINGRESP:
			this.pingTicks = -1;
			return this.emit("pong");
		default:
			return this.lost("protocol", "other", `unexpected ${PACKET_NAMES[packet.type]} from the broker`);
		}
	}

	/** Takes the request a SUBACK/UNSUBACK answers out of the pending list; a reply to
	 * nothing is a protocol violation. */
	private settle(id: number, subscribe: boolean): PendingRequest | undefined {
		const index = this.pending.findIndex((p) => p.id === id && p.subscribe === subscribe);
		if (index < 0) {
			this.lost("protocol", "other", `${subscribe ? "SUBACK" : "UNSUBACK"} for unknown id ${id}`);
			return undefined;
		}
		return this.pending.splice(index, 1)[0];
	}

	private connack(sessionPresent: boolean, code: number): void {
		this.clearTimer("connTimer");
		if (code !== 0) {
			if (this.debugging) this.trace(`< CONNACK refused code=${code}`);
			this.emit("error", "conack", code);
			return this.lost("refused");
		}
		this.status = STATE_READY;
		this.attempts = 0;
		this.idleTicks = this.silentTicks = 0;
		this.pingTicks = -1;
		this.tickTimer = Timer.repeat(() => this.guard(() => this.tick()), this.keepaliveSeconds * 1000 / TICKS);
		const resume = sessionPresent && !this.cleanSession;
		if (this.debugging) this.trace(`< CONNACK session_present=${sessionPresent}`);
		if (!resume) this.qos2Ids = [];
		// What the broker still expects from us goes first, in its original order.
		for (const entry of this.outbox.reconnected(resume)) {
			if (!resume) {                     // RELEASED without the session: the broker had it
				this.outbox.remove(entry);
				this.emit("sent", entry.id);
				continue;
			}
			this.sendPacket(entry.state === SENT ? entry.packet : encodeAck(PUBREL, entry.id));
		}
		if (resume) for (const request of this.pending) this.sendPacket(request.packet);
		else this.restoreSubscriptions();
		this.pump();
		this.emit("conack");
	}

	/** Without the broker's session, subscribe again to everything the app subscribed to. */
	private restoreSubscriptions(): void {
		this.pending = [];
		let topics: string[] = [];
		const flush = (): void => {
			if (!topics.length) return;
			const id = this.allocateId();
			const filters = topics.map((t) => topicFilterBytes(t) as Uint8Array);
			const levels = topics.map((t) => this.subscriptions.get(t)!);
			this.request(id, true, topics, encodeSubscribe(id, filters, levels));
			topics = [];
		};
		for (const topic of this.subscriptions.keys()) {
			topics.push(topic);
			if (topics.length === DEFAULTS.resubscribeBatch) flush();
		}
		flush();
	}

	private acknowledged(type: number, id: number): void {
		const entry = this.outbox.find(id);
		const expected = type === PUBREC || (type === PUBACK) ? SENT : RELEASED;
		if (!entry || entry.state !== expected || (type === PUBACK) !== (entry.qos === 1)) {
			// A PUBREC repeated for a message already released is answered again [MQTT-4.3.3].
			if (type === PUBREC && entry && entry.state === RELEASED) return void this.sendPacket(encodeAck(PUBREL, id));
			return this.lost("protocol", "other", `${PACKET_NAMES[type]} for ${entry ? "a message in another state" : "unknown id " + id}`);
		}
		if (type === PUBREC) {
			this.sendPacket(this.outbox.release(entry));
			return;
		}
		this.outbox.remove(entry);
		this.emit("sent", id);
		this.pump();
	}

	private receivedPublish(packet: PublishPacket): void {
		if (this.debugging) this.trace(`< PUBLISH id=${packet.id} qos=${packet.qos} topic=${packet.topic} bytes=${packet.total}${packet.dup ? " dup" : ""}`);
		if (this.duplicateQos2(packet) || this.awaiting(packet)) return;
		const payload = packet.payload!;
		let data: string | ArrayBuffer;
		if (!this.binary && isUtf8(payload, 0, payload.length, true)) data = fromUtf8(payload, 0, payload.length);
		else data = payload.slice().buffer;    // binary wanted, or not text: bytes, never mangled
		const deferred = this.deferAck(packet);
		this.emit("recv", packet.topic, data, recvMetas(packet));
		if (!deferred) this.acknowledgePublish(packet.id, packet.qos);
	}

	/** manual_ack: a QoS 1/2 message whose ack() is still awaited arrived again: delivered already. */
	private awaiting(packet: PublishPacket): boolean {
		return this.manualAck > 0 && packet.qos > 0 && this.awaitingAck.indexOf(packet.id * 4 + packet.qos) >= 0;
	}

	/** manual_ack: true when the app acknowledges this message with ack(); within the bound only. */
	private deferAck(packet: PublishPacket): boolean {
		if (!this.manualAck || packet.qos === 0) return false;
		if (this.awaitingAck.length >= this.manualAck) {
			this.emit("error", "other", `more than ${this.manualAck} messages await ack(): acknowledged at once`, { message_id: packet.id });
			return false;
		}
		this.awaitingAck.push(packet.id * 4 + packet.qos);
		return true;
	}

	/** A piece of a PUBLISH larger than rxSize. */
	private receivedPart(packet: PublishPacket, chunk: Uint8Array, offset: number): void {
		if (offset === 0) {
			if (this.debugging) this.trace(`< PUBLISH id=${packet.id} qos=${packet.qos} topic=${packet.topic} bytes=${packet.total} (larger than rxSize)`);
			if (this.duplicateQos2(packet) || this.awaiting(packet)) {
				packet.id = -packet.id;           // mark the parts still to come: deliver and acknowledge nothing
				return;
			}
			if (!this.chunked || packet.topic === undefined) {
				const why = packet.topic === undefined ? "topic longer than rxSize" : "skipped (oversize: \"skip\")";
				this.emit("error", "other", `message of ${packet.total} bytes on ${packet.topic ?? "?"} larger than rxSize ${this.decoder!.buffer.length}: ${why}`, { topic: packet.topic, total: packet.total, message_id: packet.id });
			}
		}
		if (packet.id < 0) return;
		const last = offset + chunk.length === packet.total;
		let deferred = false;
		if (this.chunked && packet.topic !== undefined) {
			const metas = recvMetas(packet);
			metas.offset = offset;
			metas.total = packet.total;
			deferred = last && this.deferAck(packet);
			this.emit("recv", packet.topic, this.binary ? chunk.slice().buffer : chunkText(chunk), metas);
		}
		if (last && !deferred) this.acknowledgePublish(packet.id, packet.qos);
	}

	/** QoS 2 exactly once: a PUBLISH whose id awaits PUBREL was delivered already; answer it again. */
	private duplicateQos2(packet: PublishPacket): boolean {
		if (packet.qos !== 2 || this.qos2Ids.indexOf(packet.id) < 0) return false;
		if (this.debugging) this.trace(`  duplicate QoS 2 id=${packet.id}: not delivered again`);
		this.sendPacket(encodeAck(PUBREC, packet.id));
		return true;
	}

	/** After the app has the whole message: PUBACK (QoS 1), or PUBREC (QoS 2) and remember
	 * its id until PUBREL, within a bounded window. */
	private acknowledgePublish(id: number, qos: number): void {
		if (qos === 1) this.sendPacket(encodeAck(PUBACK, id));
		if (qos !== 2) return;
		if (this.qos2Ids.length >= DEFAULTS.qos2Window) {
			this.qos2Ids.shift();
			if (!this.qos2Overflow) this.emit("error", "other", `more than ${DEFAULTS.qos2Window} QoS 2 messages awaiting PUBREL: duplicates can no longer be detected`);
			this.qos2Overflow = true;
		}
		this.qos2Ids.push(id);
		this.sendPacket(encodeAck(PUBREC, id));
	}

	// ---- Outgoing ------------------------------------------------------------------

	/** Sends what the inflight limit allows from the outbox. */
	private pump(): void {
		if (this.status !== STATE_READY) return;
		for (let entry: OutboxEntry | undefined; (entry = this.outbox.next());) {
			if (this.debugging) this.trace(`> PUBLISH id=${entry.id} qos=${entry.qos}`);
			if (!this.sendPacket(entry.packet)) return;
		}
	}

	private request(id: number, subscribe: boolean, topics: string[], packet: Uint8Array): number | null {
		this.pending.push({ id, subscribe, topics, packet });
		if (this.debugging) this.trace(`> ${subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE"} id=${id} ${topics.join(",")}`);
		return this.sendPacket(packet) ? id : null;
	}

	/** Queues a packet on the socket; false when the socket failed (connection then lost). */
	private sendPacket(packet: Uint8Array, tag = 0): boolean {
		const writer = this.writer;
		if (!writer) return false;
		try {
			writer.send(packet, tag);
			this.idleTicks = 0;
			return true;
		}
		catch (e) {
			this.lost("tx", "tx", `socket write failed: ${(e as Error).message}`);
			return false;
		}
	}

	/** Moves to the next CA of a bundle; false once every one failed in this attempt. */
	private nextAuthority(): boolean {
		const count = this.tls?.authorities.length ?? 0;
		if (count < 2) return false;
		this.authority = (this.authority + 1) % count;
		return ++this.authoritiesTried < count;
	}

	/** The next packet id (1..65535) not used by a message or request awaiting its ack. */
	private allocateId(): number {
		for (let tries = 0; tries < 65535; tries++) {
			this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
			const id = this.nextId;
			if (!this.outbox.has(id) && !this.pending.some((p) => p.id === id)) return id;
		}
		return 0;
	}

	// ---- Plumbing ------------------------------------------------------------------

	private emit(event: MqttEvent, data?: unknown, payload?: unknown, metas?: unknown): void {
		const handler = this.handler;
		if (!handler) return;
		try {
			handler(this, event, data, payload, metas);
		}
		catch (e) {
			// An app bug must not take the connection down with it, nor stay invisible.
			trace(`mqttc: the "${event}" handler threw: ${(e as Error)?.message ?? e}\n`);
		}
	}

	/** Runs a callback body so that nothing escapes to the host. */
	private guard(body: () => void): void {
		try {
			body();
		}
		catch (e) {
			try {
				this.lost("protocol", "other", `internal error: ${(e as Error)?.message ?? e}`);
			}
			catch {
				trace(`mqttc: internal error: ${(e as Error)?.message ?? e}\n`);
			}
		}
	}

	private clearTimer(name: "connTimer" | "tickTimer" | "reconnectTimer" | "lingerTimer"): void {
		const timer = this[name];
		if (timer) {
			Timer.clear(timer);
			this[name] = undefined;
		}
	}

	/** Returns null after tracing why a call was refused (debug on). */
	private refuse(reason: string): null {
		if (this.debugging) this.trace(`refused: ${reason}`);
		return null;
	}

	/** Callers on per-packet paths test `this.debugging` first, so that no string is built
	 * for a trace nobody asked for. */
	private trace(text: string): void {
		if (this.debugging) trace(`mqttc: ${text}\n`);
	}
}

/**
 * Why a connection failed, when the host can tell: the desktop XS host exposes the TLS or
 * TCP error as `socket.lastError`; a device reports only -2, and this returns "".
 */
function failureDetail(socket: unknown): string {
	const error = (socket as { lastError?: { code?: string; message?: string } } | undefined)?.lastError;
	if (!error?.message) return "";
	const code = error.code ?? "";
	const kind = /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND)$/.test(code) ? "connection refused"
		: /CERT|UNABLE_TO|SELF_SIGNED|ALTNAME/.test(code) ? "certificate rejected" : "handshake failed";
	return `: ${kind} (${code} ${error.message})`;
}

/** 0, 1 or 2 from a number (LuatOS passes integers), or -1. */
function qosOf(value: unknown): number {
	return value === 0 || value === 1 || value === 2 ? value : -1;
}

/** LuatOS flags are 0/1 numbers or booleans. */
function flagOf(value: unknown): boolean {
	return value === true || value === 1;
}

/** The `recv` metadata of a PUBLISH, as LuatOS gives it (flags as 0/1). */
function recvMetas(packet: PublishPacket): RecvMetas {
	return { message_id: packet.id, qos: packet.qos as RecvMetas["qos"], retain: packet.retain ? 1 : 0, dup: packet.dup ? 1 : 0 };
}

/** A chunk of a large message as text when it is UTF-8, else as bytes. */
function chunkText(chunk: Uint8Array): string | ArrayBuffer {
	return isUtf8(chunk, 0, chunk.length, true) ? fromUtf8(chunk, 0, chunk.length) : chunk.slice().buffer;
}

