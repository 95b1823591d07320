/*
 * The link to the broker: the socket (a plain Moddable Socket, or what a transport module
 * opens), the writer and the decoder on it, CONNECT and its deadline, the keepalive tick,
 * the graceful disconnect's linger, and what happens when the link is lost: events, the
 * outbox when resend is off, the next attempt (failover, backoff). The API (mqttc/client)
 * and the packet handling (mqttc/inbound) hold it; feature modules plug in through its
 * hooks: `transport` (mqttc/tls), `failover`, `opening` (mqttc/open), `tracer` (mqttc/debug).
 *
 * Every socket and timer callback is wrapped so that no exception escapes to the host: a
 * fault becomes an `error` event and a `disconnect`, then autoreconn takes over.
 * States (mqtt.STATE_*): 0 DISCONNECT, 1 SCONNECT, 2 MQTT, 3 READY. Nothing at module level.
 */

import { Socket } from "socket";
import Timer from "timer";
import { encodeConnect, encodeEmpty, type WillMessage } from "mqttc/packet";
import type { Decoder } from "mqttc/decoder";
import type { OutboxEntry } from "mqttc/outbox";
import type { Session } from "mqttc/session";
import { Writer } from "mqttc/writer";
import type { EventQueue } from "mqttc/events";
import type { Inbound } from "mqttc/inbound";
import type { BrokerAddress, ErrorKind, FailoverRing, LinkSocket, MqttEvent, Tracer, Transport } from "mqttc/types";

/** Keepalive: PINGREQ after 3 of the 4 ticks per keepalive without sending or hearing; the
 * broker is dead 2 ticks after PINGREQ without its PINGRESP or any byte (LuatOS's 3/4). */
const TICKS = 4;

/** open()'s state (mqttc/open): the socket opens without CONNECT until connect(). */
export interface Opening {
	linked: boolean;
	connected(link: Link): void;
	connect(link: Link): boolean;
}

export class Link {
	declare address: BrokerAddress;
	declare connTimeout: number;
	declare resend: boolean;
	declare events: EventQueue;
	declare session: Session;
	declare decoder: Decoder | undefined;
	/** What the data read from the socket is fed to: the decoder, or mqttc/debug's tap on it. */
	declare input: { feed(bytes: Uint8Array): unknown } | undefined;
	declare inbound: Inbound;
	// The hooks of the feature modules; absent, the core's own path runs.
	declare failover: FailoverRing | undefined;
	declare transport: Transport | undefined;
	declare opening: Opening | undefined;
	declare tracer: Tracer | undefined;

	// What CONNECT says (auth, keepalive, will)
	declare clientId: Uint8Array;
	declare username: Uint8Array | undefined;
	declare password: Uint8Array | undefined;
	declare cleanSession: boolean;
	declare keepalive: number;
	declare will: WillMessage | undefined;

	// Reconnect policy: period, and up to `reconnectMax` (> period) exponential backoff with jitter
	declare reconnect: boolean;
	declare reconnectPeriod: number;
	declare reconnectMax: number;
	declare attempts: number;

	declare status: number;
	declare socket: LinkSocket | undefined;
	declare writer: Writer | undefined;
	declare connTimer: Timer | undefined;
	declare tickTimer: Timer | undefined;
	declare reconnectTimer: Timer | undefined;
	declare lingerTimer: Timer | undefined;
	// Keepalive, in ticks: since the client last sent, since it last heard, since PINGREQ (-1: none out)
	declare idle: number;
	declare silent: number;
	declare ping: number;
	declare closed: boolean;
	declare stopped: boolean;              // disconnect() was called: no autoreconnect
	declare leaving: boolean;              // graceful disconnect in progress (see client.disconnect())
	declare byeSent: boolean;              // DISCONNECT handed to the writer
	declare reopen: boolean;               // connect() during a graceful disconnect: open when it ends

	constructor(address: BrokerAddress, connTimeout: number, resend: boolean, events: EventQueue, session: Session) {
		this.address = address;
		this.connTimeout = connTimeout;
		this.resend = resend;
		this.events = events;
		this.session = session;
		this.clientId = new Uint8Array(0);
		this.cleanSession = true;
		this.keepalive = 240;
		this.reconnect = false;
		this.reconnectPeriod = 3000;
		this.reconnectMax = this.attempts = this.status = this.idle = this.silent = 0;
		this.ping = -1;
		this.closed = this.stopped = this.leaving = this.byeSent = this.reopen = false;
	}

	// ---- Connection life cycle -----------------------------------------------------

	armConnTimer(): void {
		this.clearTimer("connTimer");
		this.connTimer = Timer.set(() => this.guard(() => this.lost("conack_timeout", "connect", "no CONNACK within conn_timeout")), this.connTimeout * 1000);
	}

	/** A new attempt from the app (connect(), open()): the failover round and transport restart. */
	start(): void {
		this.stopped = false;
		this.clearTimer("reconnectTimer");
		this.failover?.restart();
		this.transport?.restart();
		this.openSocket();
	}

	openSocket(): void {
		this.status = 1;
		this.decoder!.reset();
		this.armConnTimer();
		const { host, port } = this.failover ? this.failover.current : this.address;
		const transport = this.transport;
		if (this.tracer?.on) this.tracer.note(`connecting to ${host}:${port}${transport ? transport.label : ""}`);
		let socket: LinkSocket;
		try {
			// noDelay: MQTT packets are small and acknowledged one by one; Nagle's algorithm
			// would hold each for the peer's delayed ACK (about 40 ms per round trip).
			socket = transport ? transport.open(host, port) : new Socket({ host, port, noDelay: true } as { host: string; port: number }) as unknown as LinkSocket;
		}
		catch (e) {
			if (transport?.retry(undefined, this.noteFor())) return this.openSocket();
			// DNS or certificate errors thrown at construction take the path of a refused connection.
			const reason = transport ? transport.failure(undefined, e) : `cannot open connection: ${(e as Error).message}`;
			this.clearTimer("connTimer");
			this.connTimer = Timer.set(() => this.guard(() => this.lost("connect", "connect", reason)), 0);
			return;
		}
		this.socket = socket;
		this.writer = new Writer(this.tracer ? this.tracer.tap(socket) : socket, (id) => this.events.emit("sent", id));
		socket.callback = (message: number) => {
			if (this.socket !== socket) return;
			// No callback runs inside an API call: this undoes the count of a call that ended
			// by an exception (EventQueue.calls), so its events cannot wait forever.
			this.events.calls = 0;
			try {
				if (message === 2) {                // data, the per-message case: no call more
					this.silent = 0;
					if (this.ping >= 0) this.ping = 0;
					this.input?.feed(new Uint8Array(socket.read(ArrayBuffer)));
				}
				else this.socketEvent(message);
			}
			catch (e) {
				this.internalError(e);
			}
		};
	}

	socketEvent(message: number): void {
		if (message === 1) {                     // connected
			if (this.opening !== undefined) this.opening.connected(this);
			else this.sendConnect();
			return;
		}
		if (message === 3) return this.writer?.flush();   // room to write
		if (this.leaving) return this.lost("user");      // the broker's answer to DISCONNECT
		const early = this.status !== 3 && !this.opening?.linked;
		if (message === -1) {
			if (early) this.lost("connect", "connect", "connection closed by the broker before CONNACK");
			else this.lost("peer");
		}
		else if (early) {                        // -2 before CONNACK
			const transport = this.transport;
			if (this.status === 1 && transport?.retry(this.socket, this.noteFor())) {
				const socket = this.socket;
				this.socket = this.writer = undefined;
				try { socket?.close(); } catch { /* already gone */ }
				this.clearTimer("connTimer");
				this.openSocket();
				return;
			}
			this.lost("connect", "connect", this.status !== 1 ? "socket error before CONNACK" : transport ? transport.failure(this.socket) : "connection failed");
		}
		else this.lost("network", "other", "socket error");
	}

	sendConnect(): void {
		this.status = 2;
		this.sendPacket(encodeConnect(this.clientId, this.username, this.password, this.cleanSession, this.keepalive, this.will));
	}

	/** CONNACK accepted: READY, and the keepalive ticks every keepalive/4. The backoff is not
	 * reset here: a broker that accepts and then drops the connection would otherwise be
	 * hammered at the base period forever (reset in tick()). */
	established(): void {
		this.clearTimer("connTimer");
		this.status = 3;
		this.idle = this.silent = 0;
		this.ping = -1;
		this.tickTimer = Timer.repeat(() => this.guard(() => this.tick()), this.keepalive * 1000 / TICKS);
	}

	/**
	 * The connection is over, for `reason` (the `disconnect` event's data). Reports the error
	 * first when there is one, settles what can no longer be sent, and arranges the next
	 * attempt when autoreconn is on.
	 */
	lost(reason: string, kind?: ErrorKind, detail?: string | number): void {
		if (this.status === 0 && !this.socket) return;   // nothing open
		this.leaving = this.byeSent = false;
		const established = this.status === 3;
		this.clearTimer("connTimer");
		this.clearTimer("tickTimer");
		this.clearTimer("lingerTimer");
		const socket = this.socket;
		this.socket = undefined;
		if (socket) try { socket.close(); } catch { /* already gone */ }
		this.decoder?.reset();                // ignore whatever else arrived with the fatal packet
		const unsent = this.writer ? this.writer.drop() : [];
		this.writer = undefined;
		this.status = 0;
		const opening = this.opening;
		this.opening = undefined;
		this.inbound.acks?.clear();           // acks belong to this connection; a resumed session redelivers
		if (this.tracer?.on) this.tracer.note(`connection lost: ${reason}${detail !== undefined ? " (" + detail + ")" : ""}`);
		if (kind) this.emit("error", kind, detail);
		// QoS 0 messages that never reached the socket: say so rather than drop them silently.
		for (const id of unsent) this.emit("error", "tx", "message lost: connection closed before it was sent", { message_id: id });
		if (!this.resend) this.abandonOutbox();
		this.emit("disconnect", reason);
		if (this.reopen) {
			this.reopen = false;
			this.failover?.restart();
			this.transport?.restart();
			this.openSocket();
			return;
		}
		if (opening || this.stopped || this.closed || this.status !== 0) return;   // a failed open() is not retried; or the handler reconnected
		// Failover: the next address at once while the round lasts (also for connect() without
		// autoreconn); the policy's delay between rounds. One address: every loss ends a round.
		if ((this.reconnect || !established) && this.failover !== undefined && this.failover.failed(established)) return this.scheduleReconnect(true);
		if (this.reconnect) this.scheduleReconnect(false);
	}

	/** Graceful disconnect: DISCONNECT follows everything published before disconnect()
	 * (the writer keeps order; outbox entries held back by the inflight limit go first). */
	sayGoodbye(): void {
		if (this.leaving && !this.byeSent && this.session.outbox.queued === 0) this.sendDisconnect();
	}

	/** DISCONNECT to the socket, once per connection. */
	sendDisconnect(): void {
		this.byeSent = true;
		this.sendPacket(encodeEmpty(14));
	}

	/** The graceful disconnect ran out of time: send DISCONNECT now if no packet is half
	 * written (what had not started is reported lost), then close. */
	lingerExpired(): void {
		this.lingerTimer = undefined;
		const writer = this.writer;
		if (!this.byeSent && writer) {
			writer.discardPending();
			if (writer.idle) this.sendDisconnect();
		}
		this.lost("user");
	}

	/** resend off (LuatOS behaviour): unacknowledged messages are reported, not kept. */
	abandonOutbox(): void {
		for (const entry of this.session.outbox.clear()) {
			// A QoS 2 message the broker acknowledged with PUBREC (RELEASED) is delivered, as LuatOS counts it.
			if (entry.state === 2) this.emit("sent", entry.id);
			else this.emit("error", "tx", "message lost: connection closed before it was acknowledged", { message_id: entry.id });
		}
	}

	/** The next attempt: at once (the next address of a failover round) or after the policy's delay. */
	scheduleReconnect(immediate: boolean): void {
		let delay = immediate ? 0 : this.reconnectPeriod;
		if (!immediate) {
			if (this.reconnectMax) {
				delay = Math.min(this.reconnectMax, delay * 2 ** Math.min(this.attempts, 20));
				delay = delay / 2 + Math.random() * delay / 2;     // jitter: spread clients out after an outage
			}
			this.attempts++;
		}
		this.clearTimer("reconnectTimer");
		if (this.tracer?.on) this.tracer.note(`reconnecting in ${Math.round(delay)} ms`);
		this.reconnectTimer = Timer.set(() => this.guard(() => {
			this.reconnectTimer = undefined;
			if (!this.closed && !this.stopped && this.status === 0) {
				this.transport?.restart();
				this.openSocket();
			}
		}), delay);
	}

	/** The keepalive tick, every keepalive/4 while READY. */
	tick(): void {
		if (this.leaving) return;             // nothing may follow DISCONNECT; the linger bounds the wait
		this.attempts = 0;                     // the connection survived a tick: back to the base period
		this.idle++;
		this.silent++;
		if (this.ping >= 0) {
			if (++this.ping >= 2) this.lost("ping_timeout", "other", `no PINGRESP within ${this.keepalive / 2} s`);
		}
		else if (this.idle >= 3 || this.silent >= 3) {
			this.ping = 0;
			this.sendPacket(encodeEmpty(12));   // PINGREQ
		}
	}

	// ---- Outgoing ------------------------------------------------------------------

	/** Sends what the inflight limit allows from the outbox. */
	pump(): void {
		if (this.status !== 3) return;
		const outbox = this.session.outbox;
		for (let entry: OutboxEntry | undefined; outbox.queued !== 0 && (entry = outbox.next());)
			if (!this.sendEntry(entry)) return;
	}

	/** An outbox entry's PUBLISH to the socket; false when the socket failed (connection lost). */
	sendEntry(entry: OutboxEntry): boolean {
		const writer = this.writer;
		if (writer === undefined) return false;
		const failure = writer.sendPublish(entry.first, entry.field, entry.id, entry.payload, 0);
		if (failure !== true && failure !== false) {
			this.writeFailed(failure);
			return false;
		}
		this.idle = 0;
		return true;
	}

	/** Queues a packet on the socket; false when the socket failed (connection then lost). */
	sendPacket(packet: Uint8Array): boolean {
		const writer = this.writer;
		if (writer === undefined) return false;
		const failure = writer.send(packet, 0);
		if (failure !== undefined) {
			this.writeFailed(failure);
			return false;
		}
		this.idle = 0;
		return true;
	}

	/** An acknowledgement for `id`, straight to the socket when it has room. */
	sendAck(type: number, id: number): void {
		const writer = this.writer;
		if (writer === undefined) return;
		const failure = writer.sendAck(type, id);
		if (failure !== undefined) this.writeFailed(failure);
		else this.idle = 0;
	}

	/** The socket refused a write: the connection is lost. On the Linux simulator a refused
	 * connect is reported as connected and the first write (CONNECT) throws: before CONNACK
	 * every failure is a failure to connect. */
	writeFailed(e: unknown): void {
		if (this.status !== 3) this.lost("connect", "connect", `socket write failed before CONNACK: ${(e as Error).message}`);
		else this.lost("tx", "tx", `socket write failed: ${(e as Error).message}`);
	}

	// ---- Plumbing ------------------------------------------------------------------

	emit(event: MqttEvent, data?: unknown, payload?: unknown, metas?: unknown): void {
		this.events.emit(event, data, payload, metas);
	}

	/** A line for the debug trace, when it is on (mqttc/debug); decisions no packet shows. */
	note(text: string): void {
		if (this.tracer?.on) this.tracer.note(text);
	}

	/** What a transport traces with: note() while the tracer is on. */
	private noteFor(): ((text: string) => void) | undefined {
		return this.tracer?.on ? (text: string) => this.note(text) : undefined;
	}

	/** Runs a timer callback body so that nothing escapes to the host. */
	guard(body: () => void): void {
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
	internalError(e: unknown): void {
		try {
			this.lost("protocol", "other", `internal error: ${(e as Error)?.message ?? e}`);
		}
		catch {
			trace(`mqttc: internal error: ${(e as Error)?.message ?? e}\n`);
		}
	}

	clearTimer(name: "connTimer" | "tickTimer" | "reconnectTimer" | "lingerTimer"): void {
		const timer = this[name];
		if (timer) {
			Timer.clear(timer);
			this[name] = undefined;
		}
	}
}
