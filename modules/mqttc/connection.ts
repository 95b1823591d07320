/*
 * The link to the broker, the part of an mqttc client that is not the LuatOS API: the
 * Moddable Socket or SecureSocket (and the next CA of a bundle when TLS fails), the writer
 * and the decoder on it, CONNECT and its deadline, the keepalive tick, the graceful
 * disconnect's linger, and what happens when the link is lost: events, the outbox when
 * resend is off, the next attempt (failover, backoff). MqttClient (mqttc/client) extends it
 * with the API and the handling of what the broker sends: one object in two files, so that
 * no message pays a call to cross from one part to the other.
 *
 * Every socket and timer callback is wrapped so that no exception escapes to the host: a
 * fault becomes an `error` event and a `disconnect`, then autoreconn takes over.
 * Nothing lives at module level.
 */

import { Socket } from "socket";
import Timer from "timer";
import Modules from "modules";
import { PINGREQ, DISCONNECT, DUP_FLAG, PACKET_NAMES, encodeConnect, encodeEmpty, type WillMessage } from "mqttc/packet";
import type { Decoder } from "mqttc/decoder";
import { RELEASED, type OutboxEntry } from "mqttc/outbox";
import { Session } from "mqttc/session";
import { Keepalive, TICKS, DEAD_AFTER_TICKS, PING, DEAD } from "mqttc/keepalive";
import { Writer } from "mqttc/writer";
import { EventQueue } from "mqttc/events";
import { textOf } from "mqttc/utf8";
import type { BrokerAddress, CreateOptions, DeferredAcks, ErrorKind, FailoverRing, MqttEvent, TlsSettings } from "mqttc/types";

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
	/** Publish topics whose checked, encoded form is kept (the cache is emptied when full). */
	topicCache: 8,
	/** Milliseconds disconnect() waits for queued packets to leave, DISCONNECT to go out and
	 * the broker to close the connection, before closing it anyway. */
	lingerMs: 2000,
});


type Transport = {
	callback: (message: number, value?: number) => void;
	read(type: typeof ArrayBuffer): ArrayBuffer;
	write(...data: (ArrayBuffer | ArrayBufferView)[]): number | void;
	close(): void;
};

export abstract class Connection {
	// Fixed at create()
	protected address: BrokerAddress;      // create()'s host and port
	protected failover: FailoverRing | undefined;   // opts.backup (mqttc/failover): the address now, and the others to try
	protected tls: TlsSettings | undefined;
	protected authority = 0;               // which CA of a bundle this connection trusts
	protected authoritiesTried = 0;        // CAs of the bundle that failed in this attempt
	protected connTimeout: number;
	protected resend: boolean;
	protected decoder: Decoder | undefined;
	protected session: Session;
	protected outbox: Session["outbox"];

	// What CONNECT says (auth, keepalive, will)
	protected clientId: Uint8Array = new Uint8Array(0);
	protected username: Uint8Array | undefined;
	protected password: Uint8Array | undefined;
	protected cleanSession = true;
	protected keepaliveSeconds: number = DEFAULTS.keepalive;
	protected willMessage: WillMessage | undefined;
	protected events = new EventQueue(this);
	protected debugging = false;

	// Reconnect policy
	protected reconnect = false;
	protected reconnectPeriod: number = DEFAULTS.reconnectPeriod;
	protected reconnectMax = 0;            // > period: exponential backoff with jitter up to this
	protected attempts = 0;

	// The link
	protected status = STATE_DISCONNECT;
	protected socket: Transport | undefined;
	protected writer: Writer | undefined;
	protected connTimer: Timer | undefined;
	protected tickTimer: Timer | undefined;
	protected reconnectTimer: Timer | undefined;
	protected lingerTimer: Timer | undefined;
	protected liveness = new Keepalive();
	protected closed = false;
	protected stopped = false;             // disconnect() was called: no autoreconnect
	protected leaving = false;             // graceful disconnect in progress (see disconnect())
	protected byeSent = false;             // DISCONNECT handed to the writer
	protected reopen = false;              // connect() during a graceful disconnect: open when it ends
	protected openOnly = false;            // open() was called: no CONNECT until connect()
	protected linked = false;              // open() succeeded: the socket is up, CONNECT not sent
	/** manual_ack (mqttc/acks): QoS 1/2 messages delivered on this connection and awaiting
	 * ack(); a new connection starts without (the broker sends them again). */
	protected acks: DeferredAcks | undefined;

	constructor(address: BrokerAddress, failover: FailoverRing | undefined, tls: TlsSettings | undefined, options: CreateOptions) {
		this.address = address;
		this.failover = failover;
		this.tls = tls;
		this.connTimeout = options.conn_timeout ?? DEFAULTS.connTimeout;
		this.resend = options.resend !== false;
		this.session = new Session(options.outbox ?? DEFAULTS.outbox, options.inflight ?? DEFAULTS.inflight, DEFAULTS.qos2Window);
		this.outbox = this.session.outbox;
	}

	// ---- Connection life cycle -----------------------------------------------------

	protected armConnTimer(): void {
		this.clearTimer("connTimer");
		this.connTimer = Timer.set(() => this.guard(() => this.lost("conack_timeout", "connect", "no CONNACK within conn_timeout")), this.connTimeout * 1000);
	}

	protected openSocket(): void {
		this.status = STATE_SCONNECT;
		this.decoder!.reset();
		this.armConnTimer();
		let socket: Transport;
		try {
			// noDelay: MQTT packets are small and acknowledged one by one; Nagle's algorithm
			// would hold each for the peer's delayed ACK (about 40 ms per round trip).
			const { host, port } = this.failover ? this.failover.current : this.address;
			const dictionary: Record<string, unknown> = { host, port, noDelay: true };
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
			// No callback runs inside an API call: this undoes the count of a call that ended
			// by an exception (EventQueue.calls), so its events cannot wait forever.
			this.events.calls = 0;
			try {
				if (message === 2) {                // data, the per-message case: no call more
					const liveness = this.liveness;
					liveness.silent = 0;              // Keepalive.heard(), inlined
					if (liveness.ping >= 0) liveness.ping = 0;
					this.decoder?.feed(new Uint8Array(socket.read(ArrayBuffer)));
				}
				else this.socketEvent(message);
			}
			catch (e) {
				this.internalError(e);
			}
		};
		if (this.debugging) {
			const { host, port } = this.failover ? this.failover.current : this.address;
			this.trace(`connecting to ${host}:${port}${this.tls ? " (TLS)" : ""}`);
		}
	}

	protected socketEvent(message: number): void {
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
		case 3: // room to write
			this.writer?.flush();
			break;
		case -1:
			if (this.leaving) this.lost("user");        // the broker's answer to DISCONNECT
			else if (this.status !== STATE_READY && !this.linked) this.lost("connect", "connect", "connection closed by the broker before CONNACK");
			else this.lost("peer");
			break;
		default: // -2
			if (this.leaving) this.lost("user");
			else if (this.status === STATE_SCONNECT && !this.linked) {
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
			else if (this.status === STATE_MQTT) this.lost("connect", "connect", "socket error before CONNACK" + failureDetail(this.socket));
			else this.lost("network", "other", "socket error");
			break;
		}
	}

	protected sendConnect(): void {
		this.status = STATE_MQTT;
		const fields = {
			clientId: this.clientId, username: this.username, password: this.password,
			cleanSession: this.cleanSession, keepalive: this.keepaliveSeconds, will: this.willMessage,
		};
		if (this.debugging) this.trace(`> CONNECT client_id=${textOf(this.clientId, 0, this.clientId.length)} clean=${this.cleanSession} keepalive=${this.keepaliveSeconds}${this.username ? " username=" + textOf(this.username, 0, this.username.length) : ""}${this.password ? " password=***" : ""}${this.willMessage ? " will" : ""}`);
		this.sendPacket(encodeConnect(fields));
	}

	/**
	 * The connection is over, for `reason` (the `disconnect` event's data). Reports the error
	 * first when there is one, settles what can no longer be sent, and arranges the next
	 * attempt when autoreconn is on.
	 */
	protected lost(reason: string, kind?: ErrorKind, detail?: string | number): void {
		if (this.status === STATE_DISCONNECT && !this.socket) return;   // nothing open
		this.leaving = this.byeSent = false;
		const established = this.status === STATE_READY;
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
		const openOnly = this.openOnly;
		this.openOnly = this.linked = false;
		this.acks?.clear();                   // acks belong to this connection; a resumed session redelivers
		if (this.debugging) this.trace(`connection lost: ${reason}${detail !== undefined ? " (" + detail + ")" : ""}`);
		if (kind) this.emit("error", kind, detail);
		// QoS 0 messages that never reached the socket: say so rather than drop them silently.
		for (const id of unsent) this.emit("error", "tx", "message lost: connection closed before it was sent", { message_id: id });
		if (!this.resend) this.abandonOutbox();
		this.emit("disconnect", reason);
		if (this.reopen) {
			this.reopen = false;
			this.failover?.restart();
			this.openSocket();
			return;
		}
		if (openOnly || this.stopped || this.closed || this.status !== STATE_DISCONNECT) return;   // a failed open() is not retried; or the handler reconnected
		// Failover: the next address at once while the round lasts (also for connect() without
		// autoreconn); the policy's delay between rounds. One address: every loss ends a round.
		if ((this.reconnect || !established) && this.failover !== undefined && this.failover.failed(established)) return this.scheduleReconnect(true);
		if (this.reconnect) this.scheduleReconnect(false);
	}

	/** Graceful disconnect: DISCONNECT follows everything published before disconnect()
	 * (the writer keeps order; outbox entries held back by the inflight limit go first). */
	protected sayGoodbye(): void {
		if (!this.leaving || this.byeSent || this.outbox.queued !== 0) return;
		this.sendDisconnect();
	}

	/** DISCONNECT to the socket, once per connection. */
	protected sendDisconnect(): void {
		this.byeSent = true;
		if (this.debugging) this.trace("> DISCONNECT");
		this.sendPacket(encodeEmpty(DISCONNECT));
	}

	/** The graceful disconnect ran out of time: send DISCONNECT now if no packet is half
	 * written (what had not started is reported lost), then close. */
	protected lingerExpired(): void {
		this.lingerTimer = undefined;
		const writer = this.writer;
		if (!this.byeSent && writer) {
			writer.discardPending();
			if (writer.idle) this.sendDisconnect();
		}
		this.lost("user");
	}

	/** resend off (LuatOS behaviour): unacknowledged messages are reported, not kept. */
	protected abandonOutbox(): void {
		for (const entry of this.outbox.clear()) {
			// A QoS 2 message the broker acknowledged with PUBREC is delivered, as LuatOS counts it.
			if (entry.state === RELEASED) this.emit("sent", entry.id);
			else this.emit("error", "tx", "message lost: connection closed before it was acknowledged", { message_id: entry.id });
		}
	}

	/** The next attempt: at once (the next address of a failover round) or after the policy's delay. */
	protected scheduleReconnect(immediate: boolean): void {
		let delay = this.reconnectPeriod;
		if (immediate) delay = 0;
		else if (this.reconnectMax) {
			delay = Math.min(this.reconnectMax, this.reconnectPeriod * 2 ** Math.min(this.attempts, 20));
			delay = delay / 2 + Math.random() * delay / 2;     // jitter: spread clients out after an outage
		}
		if (!immediate) this.attempts++;
		this.clearTimer("reconnectTimer");
		if (this.debugging) this.trace(`reconnecting in ${Math.round(delay)} ms`);
		this.reconnectTimer = Timer.set(() => this.guard(() => {
			this.reconnectTimer = undefined;
			if (!this.closed && !this.stopped && this.status === STATE_DISCONNECT) this.openSocket();
		}), delay);
	}

	/** The keepalive tick, every keepalive/4 while READY. */
	protected tick(): void {
		if (this.leaving) return;             // nothing may follow DISCONNECT; the linger bounds the wait
		this.attempts = 0;                     // the connection survived a tick: back to the base period
		const action = this.liveness.tick();
		if (action === DEAD) this.lost("ping_timeout", "other", `no PINGRESP within ${this.keepaliveSeconds * DEAD_AFTER_TICKS / TICKS} s`);
		else if (action === PING) {
			if (this.debugging) this.trace("> PINGREQ");
			this.sendPacket(encodeEmpty(PINGREQ));
		}
	}

	// ---- Outgoing ------------------------------------------------------------------

	/** Sends what the inflight limit allows from the outbox. */
	protected pump(): void {
		if (this.status !== STATE_READY) return;
		const outbox = this.outbox;
		for (let entry: OutboxEntry | undefined; outbox.queued !== 0 && (entry = outbox.next());)
			if (!this.sendEntry(entry)) return;
	}

	/** An outbox entry's PUBLISH to the socket; false when the socket failed (connection lost). */
	protected sendEntry(entry: OutboxEntry): boolean {
		const writer = this.writer;
		if (writer === undefined) return false;
		if (this.debugging) {
			const field = entry.field;
			this.trace(`> PUBLISH id=${entry.id} qos=${(entry.first >> 1) & 3}${entry.first & DUP_FLAG ? " dup" : ""} topic=${textOf(field, 2, field.length)} bytes=${entry.payload.byteLength}`);
		}
		const failure = writer.sendPublish(entry.first, entry.field, entry.id, entry.payload, 0);
		if (failure !== true && failure !== false) {
			this.writeFailed(failure);
			return false;
		}
		this.liveness.idle = 0;
		return true;
	}

	/** Queues a packet on the socket; false when the socket failed (connection then lost). */
	protected sendPacket(packet: Uint8Array): boolean {
		const writer = this.writer;
		if (writer === undefined) return false;
		const failure = writer.send(packet, 0);
		if (failure !== undefined) {
			this.writeFailed(failure);
			return false;
		}
		this.liveness.idle = 0;
		return true;
	}

	/** An acknowledgement for `id`, straight to the socket when it has room. */
	protected sendAck(type: number, id: number): void {
		const writer = this.writer;
		if (writer === undefined) return;
		if (this.debugging) this.trace(`> ${PACKET_NAMES[type]} id=${id}`);
		const failure = writer.sendAck(type, id);
		if (failure !== undefined) this.writeFailed(failure);
		else this.liveness.idle = 0;
	}

	/** The socket refused a write: the connection is lost. On the Linux simulator a refused
	 * connect is reported as connected and the first write (CONNECT) throws: before CONNACK
	 * every failure is a failure to connect. */
	protected writeFailed(e: unknown): void {
		if (this.status !== STATE_READY) this.lost("connect", "connect", `socket write failed before CONNACK: ${(e as Error).message}`);
		else this.lost("tx", "tx", `socket write failed: ${(e as Error).message}`);
	}

	/** Moves to the next CA of a bundle; false once every one failed in this attempt. */
	protected nextAuthority(): boolean {
		const count = this.tls?.authorities.length ?? 0;
		if (count < 2) return false;
		this.authority = (this.authority + 1) % count;
		return ++this.authoritiesTried < count;
	}

	// ---- Plumbing ------------------------------------------------------------------

	protected emit(event: MqttEvent, data?: unknown, payload?: unknown, metas?: unknown): void {
		this.events.emit(event, data, payload, metas);
	}

	/** Runs a timer callback body so that nothing escapes to the host. */
	protected guard(body: () => void): void {
		this.events.calls = 0;                // as in the socket callback: no API call is in progress
		try {
			body();
		}
		catch (e) {
			this.internalError(e);
		}
	}

	/** An exception escaped the client's own code in a callback: the connection is dropped,
	 * reported, and nothing reaches the host. */
	protected internalError(e: unknown): void {
		try {
			this.lost("protocol", "other", `internal error: ${(e as Error)?.message ?? e}`);
		}
		catch {
			trace(`mqttc: internal error: ${(e as Error)?.message ?? e}\n`);
		}
	}

	protected clearTimer(name: "connTimer" | "tickTimer" | "reconnectTimer" | "lingerTimer"): void {
		const timer = this[name];
		if (timer) {
			Timer.clear(timer);
			this[name] = undefined;
		}
	}

	/** Returns null after tracing why a call was refused (debug on). */
	protected refuse(reason: string): null {
		if (this.debugging) this.trace(`refused: ${reason}`);
		return null;
	}

	/** Callers on per-packet paths test `this.debugging` first, so that no string is built
	 * for a trace nobody asked for. */
	protected trace(text: string): void {
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
