/*
 * The mqttc client: the LuatOS mqtt client object. This file holds the API (create, auth,
 * publish, subscribe...) and what is done with each packet the broker sends (the client is
 * the decoder's sink: acknowledgements settle the outbox, messages become `recv` events).
 * The link itself (socket, timers, reconnecting) is mqttc/connection, which this class
 * extends; the session that survives reconnects is mqttc/session, the event queue
 * mqttc/events.
 *
 * One instance holds everything of one connection to one broker: the receive buffer
 * (allocated once, in create), the outbox, the subscriptions and four timers (CONNACK
 * deadline, keepalive tick, reconnect, linger). Nothing lives at module level.
 */

import Timer from "timer";
import Modules from "modules";
import {
	CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP,
	PACKET_NAMES, MAX_REMAINING_LENGTH, encodeSubscribe, encodeUnsubscribe,
} from "mqttc/packet";
import { Decoder, MIN_RX_SIZE, type DecoderSink, type Packet, type PublishPacket } from "mqttc/decoder";
import { SENT, RELEASED } from "mqttc/outbox";
import type { PendingRequest } from "mqttc/session";
import { TICKS } from "mqttc/keepalive";
import { fieldBytes, topicField, topicFilterBytes } from "mqttc/topic";
import { toBytes, textOf } from "mqttc/utf8";
import { Connection, DEFAULTS, STATE_DISCONNECT, STATE_SCONNECT, STATE_MQTT, STATE_READY } from "mqttc/connection";
import type { AcksModule, BrokerAddress, CreateOptions, DeferredAcks, EventCallback, FailoverModule, FailoverRing, Payload, SslOptions, RecvMetas, SubackMetas, SentMetas, TlsSettings, TlsModule } from "mqttc/types";

export { DEFAULTS, STATE_DISCONNECT, STATE_SCONNECT, STATE_MQTT, STATE_READY };

export class MqttClient extends Connection implements DecoderSink {
	private binary: boolean;
	private chunked: boolean;
	private queueLimit: number;
	/** Publish topics already checked: topic -> its field as it goes on the wire. */
	private topicFields = new Map<string, Uint8Array>();
	private qos2Overflow = false;          // reported once: the QoS 2 window overflowed

	constructor(address: BrokerAddress, failover: FailoverRing | undefined, tls: TlsSettings | undefined, options: CreateOptions, acks: DeferredAcks | undefined) {
		super(address, failover, tls, options);
		this.acks = acks;
		this.binary = options.binary === true;
		this.chunked = options.oversize !== "skip";
		this.queueLimit = options.queue ?? DEFAULTS.queueLimit;
		this.decoder = new Decoder(options.rxSize ?? DEFAULTS.rxSize, this, this.binary);
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
		let failover: FailoverRing | undefined;
		if (options.backup !== undefined && options.backup !== null) {
			const module = feature("mqttc/failover", "backup");
			const ring = typeof module === "string" ? module : (module as FailoverModule).ring(host, port, options.backup);
			if (typeof ring === "string") return ring;
			failover = ring;
		}
		let acks: DeferredAcks | undefined;
		if (options.manual_ack !== undefined && options.manual_ack !== false) {
			const module = feature("mqttc/acks", "manual_ack");
			const list = typeof module === "string" ? module : (module as AcksModule).create(options.manual_ack);
			if (typeof list === "string") return list;
			acks = list;
		}
		let tls: TlsSettings | undefined;
		if (ssl !== undefined && ssl !== null && ssl !== false) {
			if (!Modules.has("securesocket") || !Modules.has("mqttc/tls")) return "TLS needs the securesocket module and mqttc/tls: include mqttc's manifest_tls.json";
			// Only apps built with TLS carry (and load) it: the plain path imports none of it.
			const { tlsSettings } = Modules.importNow("mqttc/tls") as TlsModule;
			const settings = tlsSettings(ssl as true | SslOptions);
			if (typeof settings === "string") return settings;
			tls = settings;
		}
		return new MqttClient({ host, port }, failover, tls, options, acks);
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
		if (typeof callback === "function") this.events.handler = callback;
	}

	will(topic: unknown, payload: unknown = "", qos: unknown = 0, retain: unknown = 0): boolean {
		if (this.closed) return false;
		const field = topicField(topic);
		if (typeof field === "string") return this.refuse(field) ?? false;
		const topicBytes = field.subarray(2);
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
		if (this.closed) return false;
		if (this.openOnly) {
			// after open(): CONNECT goes now on the open socket, or as soon as it connects
			this.openOnly = false;
			this.stopped = false;
			if (!this.linked) return true;
			this.linked = false;
			this.events.enter();
			try {
				this.armConnTimer();
				this.sendConnect();
				return true;
			}
			finally {
				this.events.leave();
			}
		}
		if (this.leaving) {
			// The graceful disconnect in progress ends first; the new connection follows it.
			this.stopped = false;
			this.reopen = true;
			return true;
		}
		if (this.status !== STATE_DISCONNECT) return false;
		this.events.enter();
		try {
			this.stopped = false;
			this.clearTimer("reconnectTimer");
			this.failover?.restart();
			this.openSocket();
			return true;
		}
		finally {
			this.events.leave();
		}
	}

	/**
	 * Opens the TCP/TLS connection without sending CONNECT (for a modem front end's
	 * AT+ECMTOPEN): `open` event once it is up (state stays STATE_SCONNECT), `error`
	 * "connect" + `disconnect` "connect" when it cannot be opened within conn_timeout.
	 * connect() then sends CONNECT on it. A failed open() is not retried. false when not
	 * disconnected. (The Linux simulator's socket reports a refused connect as connected:
	 * there `open` comes, then `disconnect` "peer" at its next poll.)
	 */
	open(): boolean {
		if (this.closed || this.leaving || this.status !== STATE_DISCONNECT) return false;
		this.events.enter();
		try {
			this.stopped = false;
			this.clearTimer("reconnectTimer");
			this.openOnly = true;
			this.failover?.restart();
			this.openSocket();
			return true;
		}
		finally {
			this.events.leave();
		}
	}

	/**
	 * manual_ack: acknowledges a QoS 1/2 message delivered by `recv` (PUBACK, or PUBREC for
	 * QoS 2). true when `message_id` awaited its acknowledgement; false otherwise (unknown or
	 * already acknowledged, or the connection it came on is gone: the broker delivers it
	 * again on a resumed session, with dup = 1).
	 */
	ack(messageId: unknown): boolean {
		if (this.closed || typeof messageId !== "number" || this.acks === undefined) return false;
		const qos = this.acks.take(messageId);
		if (qos === 0) return false;
		this.events.enter();
		try {
			this.acknowledgePublish(qos, messageId);
		}
		finally {
			this.events.leave();
		}
		return true;
	}

	/**
	 * A graceful disconnect when READY: nothing more is accepted (state() reports
	 * DISCONNECT at once), packets already queued leave, then DISCONNECT, and the client
	 * keeps reading (acknowledgements settle the outbox as usual) until the broker closes
	 * the connection, within DEFAULTS.lingerMs. The `disconnect` event comes when it is over.
	 */
	disconnect(): boolean {
		if (this.closed || this.leaving) return false;
		this.reopen = false;
		this.stopped = true;
		this.clearTimer("reconnectTimer");
		if (this.status === STATE_DISCONNECT) return false;
		this.events.enter();
		try {
			if (this.status === STATE_READY && this.writer) {
				this.leaving = true;
				this.lingerTimer = Timer.set(() => this.guard(() => this.lingerExpired()), DEFAULTS.lingerMs);
				this.sayGoodbye();
			}
			else this.lost("user");
			return true;
		}
		finally {
			this.events.leave();
		}
	}

	autoreconn(enable: unknown, period: unknown = DEFAULTS.reconnectPeriod, max: unknown = 0): void {
		if (this.closed) return;
		this.reconnect = !!enable;
		this.reconnectPeriod = typeof period === "number" && period >= 100 ? period : DEFAULTS.reconnectPeriod;
		this.reconnectMax = typeof max === "number" && max > this.reconnectPeriod ? max : 0;
		if (!this.reconnect) this.clearTimer("reconnectTimer");
	}

	/**
	 * The hottest call, written for cost (XS meters every bytecode, a call and each of its
	 * parameters, tests/cost.bench.mjs): no default parameters, no helper per step, the
	 * cached topic field, and for QoS 0 the header, topic and payload in one socket write.
	 * Refusals raise no event, so the call is counted (events.calls) only around the part
	 * that may raise one; that part cannot throw (the socket write is caught), and a socket
	 * or timer callback resets the count should it ever have.
	 */
	publish(topic: unknown, data: unknown, qos?: unknown, retain?: unknown): number | null {
		if (this.closed) return null;
		let field = this.topicFields.get(topic as string);
		if (field === undefined) {
			const checked = topicField(topic);
			if (typeof checked === "string") return this.refuse(checked);
			if (this.topicFields.size >= DEFAULTS.topicCache) this.topicFields.clear();
			this.topicFields.set(topic as string, field = checked);
		}
		// A string's bytes stay an ArrayBuffer and a Uint8Array stays itself (the socket writes
		// either as it is: no view made); other views and buffers are seen as bytes.
		const payload: Uint8Array | ArrayBuffer | undefined = typeof data === "string" ? ArrayBuffer.fromString(data)
			: data instanceof Uint8Array ? data
			: data === undefined || data === null ? new ArrayBuffer(0) : toBytes(data as Payload);
		if (payload === undefined) return this.refuse("data must be a string or bytes");
		const q = qos === undefined || qos === 0 ? 0 : qos === 1 || qos === 2 ? qos : -1;
		if (q < 0) return this.refuse("qos must be 0, 1 or 2");
		if (payload.byteLength + field.length + 2 > MAX_REMAINING_LENGTH) return this.refuse("message larger than MQTT allows (256 MB)");
		const first = q === 0 ? PUBLISH << 4 : (PUBLISH << 4) | (q << 1);
		const flags = retain === 1 || retain === true ? first | 1 : first;
		const events = this.events;
		if (q === 0) {
			const writer = this.writer;
			if (writer === undefined || this.leaving || this.status !== STATE_READY) return this.refuse("not connected");
			if (writer.queued !== 0 && writer.queued + field.length + payload.byteLength + 5 > this.queueLimit) {
				events.enter();
				events.emit("error", "tx", `send queue full (${this.queueLimit} bytes)`);
				events.leave();
				return null;
			}
			const id = this.session.allocateId();
			if (id === 0) return this.refuse("no free message id");
			if (this.debugging) this.trace(`> PUBLISH id=${id} qos=0 topic=${topic} bytes=${payload.byteLength}`);
			events.calls++;
			const written = writer.sendPublish(flags, field, 0, payload, id);
			if (written === true) {
				this.liveness.idle = 0;
				events.leaveWith("sent", id);
				return id;
			}
			if (written !== false) this.writeFailed(written);
			events.leave();
			return written === false ? id : null;
		}
		if (this.leaving) return this.refuse("disconnecting");
		if (!this.resend && this.status !== STATE_READY) return this.refuse("not connected (resend is off)");
		const id = this.session.allocateId();
		if (id === 0) return this.refuse("no free message id");
		// The outbox keeps the payload until PUBACK/PUBCOMP: the app's buffer is copied (a
		// native slice), a string's bytes are already the client's own.
		const owned = typeof data === "string" ? payload : payload.slice(0);
		events.calls++;
		// Straight to the socket when nothing waits before it and the inflight limit has room
		// (what pump() would do, without its loop); otherwise it waits its turn.
		const outbox = this.outbox;
		const now = outbox.queued === 0 && outbox.inflight < outbox.inflightLimit && this.writer !== undefined && this.status === STATE_READY;
		const entry = outbox.add(id, flags, field, owned, now);
		if (entry === undefined) events.emit("error", "tx", `outbox full (${outbox.limit} bytes)`);
		else if (now) this.sendEntry(entry);
		else if (this.debugging) this.trace(`= PUBLISH id=${id} qos=${q} topic=${topic} bytes=${payload.byteLength} queued`);
		events.leave();
		return entry === undefined ? null : id;
	}

	subscribe(topic: unknown, qos: unknown = 0): number | null {
		if (this.closed) return null;
		this.events.enter();
		try {
			return this.subscribeNow(topic, qos);
		}
		finally {
			this.events.leave();
		}
	}

	private subscribeNow(topic: unknown, qos: unknown): number | null {
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
		if (!this.ready()) return this.refuse("not connected");
		if (this.session.pending.size >= DEFAULTS.pendingLimit) return this.refuse("too many requests awaiting acknowledgement");
		const id = this.session.allocateId();
		if (!id) return this.refuse("no free message id");
		for (let i = 0; i < topics.length; i++) this.session.subscriptions.set(topics[i], levels[i]);
		return this.request(id, true, topics, encodeSubscribe(id, filters, levels));
	}

	unsubscribe(topic: unknown): number | null {
		if (this.closed) return null;
		this.events.enter();
		try {
			return this.unsubscribeNow(topic);
		}
		finally {
			this.events.leave();
		}
	}

	private unsubscribeNow(topic: unknown): number | null {
		const topics = typeof topic === "string" ? [topic] : Array.isArray(topic) ? topic.slice() : [];
		if (!topics.length) return this.refuse("unsubscribe needs a topic or a list of topics");
		const filters: Uint8Array[] = [];
		for (const name of topics) {
			const bytes = topicFilterBytes(name);
			if (typeof bytes === "string") return this.refuse(`${bytes}: ${name}`);
			filters.push(bytes);
		}
		if (!this.ready()) return this.refuse("not connected");
		if (this.session.pending.size >= DEFAULTS.pendingLimit) return this.refuse("too many requests awaiting acknowledgement");
		const id = this.session.allocateId();
		if (!id) return this.refuse("no free message id");
		for (const name of topics) this.session.subscriptions.delete(name);
		return this.request(id, false, topics as string[], encodeUnsubscribe(id, filters));
	}

	ready(): boolean {
		return !this.closed && !this.leaving && this.status === STATE_READY;
	}

	state(): number {
		return this.leaving ? STATE_DISCONNECT : this.status;
	}

	close(): void {
		if (this.closed) return;
		this.stopped = true;
		this.reopen = false;
		this.events.silence();               // close() is silent: no events after it, not even those not yet delivered
		if (this.status === STATE_READY && !this.byeSent) this.sendDisconnect();
		this.lost("user");
		this.clearTimer("reconnectTimer");
		this.closed = true;
		this.session.clear();
		this.acks?.clear();
		this.decoder = undefined;             // frees the receive buffer
		this.willMessage = undefined;
	}

	// ---- Incoming packets (the decoder's sink: not for apps) -------------------------

	/** A protocol violation in what the broker sent. */
	protocolFault(reason: string): void {
		this.lost("protocol", "other", reason);
	}

	packetReceived(packet: Packet): void {
		// CONNACK is traced by connack(), with what it says.
		if (this.debugging && packet.type !== CONNACK) this.trace(`< ${PACKET_NAMES[packet.type]}${"id" in packet ? " id=" + packet.id : ""}`);
		if (this.status !== STATE_READY) {
			if (packet.type !== CONNACK) return this.lost("protocol", "other", `${PACKET_NAMES[packet.type]} before CONNACK`);
			return this.connack(packet.sessionPresent, packet.code);
		}
		switch (packet.type) {
		case SUBACK: {
			const request = this.settle(packet.id, true);
			if (!request) return;
			const codes = packet.codes;
			if (codes.length !== request.topics.length) return this.lost("protocol", "other", `SUBACK with ${codes.length} codes for ${request.topics.length} topics`);
			for (let i = 0; i < codes.length; i++) if (codes[i] === 0x80) this.session.subscriptions.delete(request.topics[i]);
			const granted = codes.every((code) => code !== 0x80);
			const metas: SubackMetas = { message_id: packet.id, topics: request.topics, codes };
			return this.emit("suback", granted, codes[0], metas);
		}
		case PINGRESP:
			this.liveness.ping = -1;
			return this.emit("pong");
		default:
			return this.lost("protocol", "other", `unexpected ${PACKET_NAMES[packet.type]} from the broker`);
		}
	}

	/** PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK. */
	ackReceived(type: number, id: number): void {
		if (this.debugging) this.trace(`< ${PACKET_NAMES[type]} id=${id}`);
		if (this.status !== STATE_READY) return this.lost("protocol", "other", `${PACKET_NAMES[type]} before CONNACK`);
		if (type === PUBACK || type === PUBCOMP) {
			// The message is delivered: the common case first, at the cost of one map lookup.
			const entry = this.outbox.byId.get(id);
			if (entry !== undefined && entry.state === (type === PUBACK ? SENT : RELEASED) && (type === PUBACK) === ((entry.first & 0x06) === 0x02)) {
				this.outbox.remove(entry);
				this.events.emit("sent", id);
				if (this.outbox.queued !== 0) this.pump();
				if (this.leaving) this.sayGoodbye();
				return;
			}
		}
		switch (type) {
		case PUBREL: {
			this.session.releaseQos2(id);
			this.sendAck(PUBCOMP, id);
			return;
		}
		case UNSUBACK:
			if (this.settle(id, false)) this.emit("unsuback", id);
			return;
		default:
			this.acknowledged(type, id);
		}
	}

	/** Takes the request a SUBACK/UNSUBACK answers out of the pending list; a reply to
	 * nothing is a protocol violation. */
	private settle(id: number, subscribe: boolean): PendingRequest | undefined {
		const request = this.session.settle(id, subscribe);
		if (!request) this.lost("protocol", "other", `${subscribe ? "SUBACK" : "UNSUBACK"} for unknown id ${id}`);
		return request;
	}

	private connack(sessionPresent: boolean, code: number): void {
		this.clearTimer("connTimer");
		if (code !== 0) {
			if (this.debugging) this.trace(`< CONNACK refused code=${code}`);
			this.emit("error", "conack", code);
			return this.lost("refused");
		}
		this.status = STATE_READY;
		// The backoff is not reset here: a broker that accepts and then drops the connection
		// would otherwise be hammered at the base period forever (reset in tick()).
		this.liveness.start();
		this.tickTimer = Timer.repeat(() => this.guard(() => this.tick()), this.keepaliveSeconds * 1000 / TICKS);
		const resume = sessionPresent && !this.cleanSession;
		if (this.debugging) this.trace(`< CONNACK session_present=${sessionPresent}`);
		if (!resume) this.session.forgetReceived();
		// What the broker still expects from us goes first, in its original order. PUBREL is
		// sent again even without the broker's session, as libmosquitto does: a broker answers
		// any PUBREL with PUBCOMP, which settles the message (`sent`).
		for (const entry of this.outbox.reconnected(resume)) {
			if (entry.state === SENT) this.sendEntry(entry);
			else this.sendAck(PUBREL, entry.id);
		}
		if (resume) for (const request of this.session.pending.values()) this.sendRequest(request);
		else this.restoreSubscriptions();
		this.pump();
		this.emit("conack");
	}

	/** Without the broker's session, subscribe again to everything the app subscribed to. */
	private restoreSubscriptions(): void {
		this.session.pending.clear();
		let topics: string[] = [];
		const flush = (): void => {
			if (!topics.length) return;
			const id = this.session.allocateId();
			const filters = topics.map((t) => topicFilterBytes(t) as Uint8Array);
			const levels = topics.map((t) => this.session.subscriptions.get(t)!);
			this.request(id, true, topics, encodeSubscribe(id, filters, levels));
			topics = [];
		};
		for (const topic of this.session.subscriptions.keys()) {
			topics.push(topic);
			if (topics.length === DEFAULTS.resubscribeBatch) flush();
		}
		flush();
	}

	/**
	 * PUBREC, and a PUBACK or PUBCOMP that ackReceived() did not settle. A PUBACK or PUBCOMP
	 * that settles nothing (an id never used, or already settled: brokers send such acks
	 * after restoring a session) is ignored, as libmosquitto does: closing the connection
	 * would cost a reconnect per stray ack, a loop with a broker that repeats it. A PUBREC
	 * for an unknown id is answered with PUBREL, so that the broker can finish its flow.
	 */
	private acknowledged(type: number, id: number): void {
		const entry = this.outbox.byId.get(id);
		const qos = entry === undefined ? 0 : (entry.first >> 1) & 3;
		if (type !== PUBREC) {
			if (qos !== 2 || type !== PUBACK || entry!.state !== SENT) {
				if (this.debugging) this.trace(`  ${PACKET_NAMES[type]} id=${id} settles nothing: ignored`);
				return;
			}
			// Brokers without QoS 2 (RabbitMQ) answer its PUBLISH with PUBACK: the broker has the
			// message at QoS 1. Settled once as a downgrade, never resent in a loop.
			if (this.debugging) this.trace(`  QoS 2 id=${id} acknowledged at QoS 1 (broker without QoS 2)`);
			this.outbox.remove(entry!);
			this.emit("sent", id, undefined, { message_id: id, qos: 1, downgraded: true } satisfies SentMetas);
			this.pump();
			if (this.leaving) this.sayGoodbye();
			return;
		}
		if (entry === undefined || entry.state === RELEASED) {
			// A PUBREC repeated for a message already released is answered again [MQTT-4.3.3];
			// one for an id we do not know is answered too (nothing of ours is settled by it).
			if (this.debugging && entry === undefined) this.trace(`  PUBREC id=${id} for an unknown id: answered with PUBREL`);
			return this.sendAck(PUBREL, id);
		}
		// A PUBREC for a QoS 1 message in flight, or for one not yet sent: the broker and we
		// disagree about a message we hold, and no answer can be right.
		if (entry.state !== SENT || qos !== 2) return this.lost("protocol", "other", "PUBREC for a message in another state");
		this.outbox.release(entry);
		this.sendAck(PUBREL, id);
	}

	/** A whole PUBLISH, its payload text or bytes already (see Decoder). */
	publishReceived(first: number, topic: string, id: number, payload: string | ArrayBuffer): void {
		const qos = (first >> 1) & 3;
		if (this.debugging) this.trace(`< PUBLISH id=${id} qos=${qos} topic=${topic}${first & 8 ? " dup" : ""}`);
		if (this.status !== STATE_READY) return this.lost("protocol", "other", "PUBLISH before CONNACK");
		if (qos === 0) {
			this.events.emit("recv", topic, payload, { message_id: 0, qos: 0, retain: first & 1, dup: (first >> 3) & 1 });
			return;
		}
		const acks = this.acks;
		if ((qos === 2 && this.duplicateQos2(id)) || (acks !== undefined && acks.awaits(qos, id))) return;
		const deferred = acks !== undefined && this.deferAck(acks, qos, id);
		this.events.emit("recv", topic, payload, { message_id: id, qos, retain: first & 1, dup: (first >> 3) & 1 });
		if (deferred) return;
		if (qos === 1) this.sendAck(PUBACK, id);     // after the app has the message
		else this.acknowledgePublish(2, id);
	}

	/** manual_ack: true when the app acknowledges this message with ack(); within the bound only. */
	private deferAck(acks: DeferredAcks, qos: number, id: number): boolean {
		if (qos === 0) return false;
		if (acks.defer(qos, id)) return true;
		this.emit("error", "other", `more than ${acks.limit} messages await ack(): acknowledged at once`, { message_id: id });
		return false;
	}

	/** A piece of a PUBLISH larger than rxSize. */
	partReceived(packet: PublishPacket, chunk: Uint8Array, offset: number): void {
		if (offset === 0) {
			if (this.debugging) this.trace(`< PUBLISH id=${packet.id} qos=${packet.qos} topic=${packet.topic} bytes=${packet.total} (larger than rxSize)`);
			if ((packet.qos === 2 && this.duplicateQos2(packet.id)) || (this.acks !== undefined && this.acks.awaits(packet.qos, packet.id))) {
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
			deferred = last && this.acks !== undefined && this.deferAck(this.acks, packet.qos, packet.id);
			this.emit("recv", packet.topic, this.binary ? chunk.slice().buffer : chunkText(chunk), metas);
		}
		if (last && !deferred) this.acknowledgePublish(packet.qos, packet.id);
	}

	/** QoS 2 exactly once: a PUBLISH whose id awaits PUBREL was delivered already; answer it again. */
	private duplicateQos2(id: number): boolean {
		if (!this.session.hasQos2(id)) return false;
		if (this.debugging) this.trace(`  duplicate QoS 2 id=${id}: not delivered again`);
		this.sendAck(PUBREC, id);
		return true;
	}

	/** After the app has the whole message: PUBACK (QoS 1), or PUBREC (QoS 2) and remember
	 * its id until PUBREL, within a bounded window. */
	private acknowledgePublish(qos: number, id: number): void {
		if (qos === 1) this.sendAck(PUBACK, id);
		if (qos !== 2) return;
		if (!this.session.rememberQos2(id) && !this.qos2Overflow) {
			this.qos2Overflow = true;
			this.emit("error", "other", `more than ${DEFAULTS.qos2Window} QoS 2 messages awaiting PUBREL: duplicates can no longer be detected`);
		}
		this.sendAck(PUBREC, id);
	}

	private request(id: number, subscribe: boolean, topics: string[], packet: Uint8Array): number | null {
		const request: PendingRequest = { id, subscribe, topics, packet };
		this.session.pending.set(id, request);
		return this.sendRequest(request) ? id : null;
	}

	/** A SUBSCRIBE or UNSUBSCRIBE to the socket (again, when a resumed session still awaits it). */
	private sendRequest(request: PendingRequest): boolean {
		if (this.debugging) this.trace(`> ${request.subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE"} id=${request.id} ${request.topics.join(",")}`);
		return this.sendPacket(request.packet);
	}
}

/** A feature module's default export (the app included its manifest, `manifest_<name>.json`
 * of mqttc), or create()'s reason that names the manifest to include. */
function feature(name: string, option: string): unknown {
	return Modules.has(name) ? Modules.importNow(name) : `${option} needs ${name}: include mqttc's manifest_${name.slice(6)}.json`;
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

/** A chunk of a large message as text when it is text, else as bytes. */
function chunkText(chunk: Uint8Array): string | ArrayBuffer {
	return textOf(chunk, 0, chunk.length) ?? chunk.slice().buffer;
}

