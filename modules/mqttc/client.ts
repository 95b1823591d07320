/*
 * The mqttc client: the LuatOS mqtt client object (auth, will, keepalive, on, debug, connect,
 * open, disconnect, autoreconn, publish, subscribe, unsubscribe, ack, ready, state, close).
 * It checks what the app hands over and turns it into work for the parts it holds, which
 * mqttc.ts's create() made for this one connection to one broker: the link (mqttc/link:
 * socket, timers, writes), the session (mqttc/session: what survives a reconnect, the
 * outbox), the packet handling (mqttc/inbound) and the event queue (mqttc/events).
 */

import Modules from "modules";
import { encodeSubscribe, encodeUnsubscribe } from "mqttc/packet";
import type { Session } from "mqttc/session";
import type { EventQueue } from "mqttc/events";
import type { Link } from "mqttc/link";
import type { Inbound } from "mqttc/inbound";
import { authFields, filterFields, subscriptions, topicField, willMessage } from "mqttc/fields";
import { toBytes } from "mqttc/utf8";
import type { DebugModule, EventCallback, OpenModule, Payload } from "mqttc/types";

/** Subscribe/unsubscribe requests that may await their acknowledgement. */
const PENDING_LIMIT = 16;

export class MqttClient {
	private declare link: Link;
	private declare session: Session;
	private declare events: EventQueue;
	private declare inbound: Inbound;
	/** Bytes of QoS 0 and control packets that may wait for socket space. */
	private declare queueLimit: number;
	/** Publish topics already checked: topic -> its field as it goes on the wire (at most 8). */
	private declare topicFields: Map<string, Uint8Array>;

	constructor(link: Link, inbound: Inbound, queueLimit: number) {
		this.link = link;
		this.session = link.session;
		this.events = link.events;
		this.inbound = inbound;
		this.queueLimit = queueLimit;
		this.topicFields = new Map();
	}


	auth(clientId?: unknown, username?: unknown, password?: unknown, cleanSession: unknown = true): true | null {
		if (this.link.closed) return null;
		const bad = authFields(this.link.hello, clientId, username, password, cleanSession);
		return bad === undefined ? true : this.refuse(bad);
	}

	/** 15..600 seconds (default 240). */
	keepalive(seconds?: unknown): void {
		const value = typeof seconds === "number" && seconds === seconds ? Math.round(seconds) : 240;
		if (!this.link.closed) this.link.hello.keepalive = Math.min(600, Math.max(15, value));
	}

	on(callback: EventCallback): void {
		if (!this.link.closed && typeof callback === "function") this.events.handler = callback;
	}

	will(topic: unknown, payload: unknown = "", qos: unknown = 0, retain: unknown = 0): boolean {
		if (this.link.closed) return false;
		const will = willMessage(topic, payload, qos, retain);
		if (typeof will === "string") return this.refuse(will) ?? false;
		this.link.hello.will = will;
		return true;
	}

	/** Traces every packet both ways and each refusal (mqttc/debug: manifest_debug.json). */
	debug(on: unknown): void {
		const link = this.link;
		if (link.tracer === undefined && on && !link.closed) {
			if (!Modules.has("mqttc/debug")) return trace("mqttc: debug needs mqttc/debug: include mqttc's manifest_debug.json\n");
			link.tracer = (Modules.importNow("mqttc/debug") as DebugModule).tracer();
			link.writer?.tap(link.tracer);     // the open connection too
			link.input = link.tracer.input(link.decoder!);
		}
		if (link.tracer !== undefined) link.tracer.on = !!on;
	}


	connect(): boolean {
		const link = this.link;
		if (link.closed) return false;
		if (link.opening !== undefined) return this.call(() => link.opening!.connect(link));   // after open()
		if (link.leaving) {
			// The graceful disconnect in progress ends first; the new connection follows it.
			link.stopped = false;
			link.reopen = true;
			return true;
		}
		if (link.status !== 0) return false;
		return this.call(() => link.start());
	}

	/**
	 * Opens the TCP/TLS connection without sending CONNECT (a modem front end's AT+ECMTOPEN;
	 * mqttc/open, which manifest_at.json includes): `open` event once it is up, `error`
	 * "connect" + `disconnect` "connect" when it cannot be opened within conn_timeout.
	 * connect() then sends CONNECT on it. A failed open() is not retried. false when not
	 * disconnected, or without mqttc/open.
	 */
	open(): boolean {
		const link = this.link;
		if (link.closed || link.leaving || link.status !== 0) return false;
		if (!Modules.has("mqttc/open")) return this.refuse("open() needs mqttc/open: include mqttc's manifest_open.json") ?? false;
		return this.call(() => (Modules.importNow("mqttc/open") as OpenModule).open(link));
	}

	/**
	 * manual_ack (mqttc/acks): acknowledges a QoS 1/2 message delivered by `recv` (PUBACK, or
	 * PUBREC for QoS 2). true when `message_id` awaited its acknowledgement; false otherwise
	 * (unknown or already acknowledged, or the connection it came on is gone: the broker
	 * delivers it again on a resumed session, with dup = 1).
	 */
	ack(messageId: unknown): boolean {
		const acks = this.inbound.acks;
		if (this.link.closed || typeof messageId !== "number" || acks === undefined) return false;
		const qos = acks.take(messageId);
		return qos !== 0 && this.call(() => {
			this.inbound.acknowledge(qos, messageId);
			return true;
		});
	}

	/**
	 * A graceful disconnect when READY: nothing more is accepted (state() reports
	 * DISCONNECT at once), packets already queued leave, then DISCONNECT, and the client
	 * keeps reading (acknowledgements settle the outbox as usual) until the broker closes
	 * the connection, within 2 s (mqttc/linger). The `disconnect` event comes when it is over.
	 */
	disconnect(): boolean {
		const link = this.link;
		if (link.closed || link.leaving) return false;
		link.reopen = false;
		link.stopped = true;
		link.retry.cancel();
		if (link.status === 0) return false;
		return this.call(() => {
			if (link.status === 3 && link.writer) link.linger.begin();
			else link.lost("user");
			return true;
		});
	}

	/** Reconnect after `period` ms (at least 100, default 3000), or with `max` > period,
	 * exponential backoff with jitter up to `max`. */
	autoreconn(enable: unknown, period: unknown = 3000, max: unknown = 0): void {
		if (!this.link.closed) this.link.retry.configure(enable, period, max);
	}

	ready(): boolean {
		const link = this.link;
		return !link.closed && !link.leaving && link.status === 3;
	}

	state(): number {
		return this.link.leaving ? 0 : this.link.status;
	}

	close(): void {
		const link = this.link;
		if (link.closed) return;
		link.stopped = true;
		link.reopen = false;
		this.events.silence();               // close() is silent: no events after it, not even those not yet delivered
		if (link.status === 3 && !link.byeSent) link.linger.send();
		link.lost("user");
		link.retry.cancel();
		link.closed = true;
		this.session.clear();
		this.inbound.acks?.clear();
		link.decoder = link.input = undefined;   // frees the receive buffer
		link.hello.will = undefined;
	}


	/**
	 * The hottest call, written for cost (XS meters every bytecode, a call and each of its
	 * parameters, tests/cost.bench.mjs): no default parameters, no helper per step, the
	 * cached topic field, and for QoS 0 the header, topic and payload in one socket write.
	 * Refusals raise no event, so the call is counted (events.calls) only around the part
	 * that may raise one; that part cannot throw (the socket write is caught), and a socket
	 * or timer callback resets the count should it ever have. A QoS 0 message's `sent` waits
	 * in the event queue without the count (events.sent()).
	 */
	publish(topic: unknown, data: unknown, qos?: unknown, retain?: unknown): number | null {
		const link = this.link;
		let field = this.topicFields.get(topic as string);
		if (field === undefined) {
			const checked = topicField(topic);
			if (typeof checked === "string") return this.refuse(checked);
			if (this.topicFields.size >= 8) this.topicFields.clear();
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
		if (payload.byteLength + field.length > 268435453) return this.refuse("message larger than MQTT allows (256 MB)");
		const flags = (retain === 1 || retain === true ? 0x31 : 0x30) | (q << 1);   // PUBLISH, QoS, RETAIN
		const events = this.events;
		const writer = link.writer;
		if (q === 0) {
			if (writer === undefined || link.leaving || link.status !== 3) return this.refuse("not connected");
			if (writer.queued !== 0 && writer.queued + field.length + payload.byteLength + 5 > this.queueLimit) {
				events.enter();
				events.emit("error", "tx", `send queue full (${this.queueLimit} bytes)`);
				events.leave();
				return null;
			}
		}
		else if (link.closed || link.leaving) return this.refuse("disconnecting");
		else if (!link.resend && link.status !== 3) return this.refuse("not connected (resend is off)");
		// session.allocateId(), inline on the hottest path: with nothing awaiting an ack, the
		// next number is free.
		const session = this.session;
		const next = session.nextId >= 65535 ? 1 : session.nextId + 1;
		const id = session.outbox.byId.size === 0 && session.pending.size === 0 ? session.nextId = next : session.freeIdFrom(next);
		if (id === 0) return this.refuse("no free message id");
		if (q === 0) {
			// Sent, or queued (`sent` once it has gone: the writer reports the id), or the socket
			// failed: only then does the call raise events, so only then is it counted.
			const written = writer!.sendPublish(flags, field, 0, payload, id);
			if (written === true) {
				writer!.sinceWrite = 0;
				events.sent(id);
				return id;
			}
			if (written === false) return id;
			events.enter();
			link.writeFailed(written);
			events.leave();
			return null;
		}
		events.calls++;
		// The outbox keeps the payload until PUBACK/PUBCOMP: the app's bytes are copied with
		// ArrayBuffer.prototype.slice (one copy; XS runs a typed array's slice element by
		// element), a string's bytes are already the client's own.
		const owned = typeof data === "string" ? payload : payload instanceof ArrayBuffer ? payload.slice(0)
			: (payload.buffer as ArrayBuffer).slice(payload.byteOffset, payload.byteOffset + payload.byteLength);
		// Straight to the socket when nothing waits before it and the inflight limit has room
		// (what pump() would do, without its loop); otherwise it waits its turn.
		const outbox = session.outbox;
		const now = outbox.queued === 0 && outbox.inflight < outbox.inflightLimit && writer !== undefined && link.status === 3;
		const entry = outbox.add(id, flags, field, owned, now);
		if (entry === undefined) events.emit("error", "tx", outbox.full());
		else if (now) writer!.entry(entry);
		else if (link.tracer?.on) link.tracer.note(`= PUBLISH id=${id} qos=${q} topic=${topic} bytes=${payload.byteLength} queued`);
		events.leave();
		return entry === undefined ? null : id;
	}

	subscribe(topic: unknown, qos: unknown = 0): number | null {
		const [topics, levels] = subscriptions(topic, qos);
		return this.ask(true, topics, levels, "subscribe needs a topic or a table of topics");
	}

	unsubscribe(topic: unknown): number | null {
		const topics = typeof topic === "string" ? [topic] : Array.isArray(topic) ? topic.slice() : [];
		return this.ask(false, topics, undefined, "unsubscribe needs a topic or a list of topics");
	}

	/** SUBSCRIBE (with `levels`) or UNSUBSCRIBE for `topics`: the request's id, or null. */
	private ask(subscribe: boolean, topics: unknown[], levels: number[] | undefined, none: string): number | null {
		if (this.link.closed) return null;
		const filters = topics.length ? filterFields(topics, levels) : none;
		if (typeof filters === "string") return this.refuse(filters);
		const session = this.session;
		if (!this.ready()) return this.refuse("not connected");
		if (session.pending.size >= PENDING_LIMIT) return this.refuse("too many requests awaiting acknowledgement");
		const id = session.allocateId();
		if (!id) return this.refuse("no free message id");
		const names = topics as string[];
		for (let i = 0; i < names.length; i++) {
			if (levels) session.subscriptions.set(names[i], levels[i]);
			else session.subscriptions.delete(names[i]);
		}
		const packet = levels ? encodeSubscribe(id, filters, levels) : encodeUnsubscribe(id, filters);
		return this.call(() => this.inbound.request(id, subscribe, names, packet));
	}

	/** An API call that may raise events: they wait until it has returned (mqttc/events). */
	private call<T>(body: () => T): T {
		this.events.enter();
		try {
			return body();
		}
		finally {
			this.events.leave();
		}
	}

	/** Returns null after tracing why a call was refused (debug on). */
	private refuse(reason: string): null {
		this.link.note(`refused: ${reason}`);
		return null;
	}
}
