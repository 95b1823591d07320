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
import { encodeConnect, encodeEmpty, type ConnectFields } from "mqttc/packet";
import type { Decoder } from "mqttc/decoder";
import type { OutboxEntry } from "mqttc/outbox";
import type { Session } from "mqttc/session";
import { Writer } from "mqttc/writer";
import { Retry } from "mqttc/retry";
import { Linger } from "mqttc/linger";
import type { EventQueue } from "mqttc/events";
import type { Inbound } from "mqttc/inbound";
import type { BrokerAddress, ErrorKind, FailoverRing, LinkSocket, MqttEvent, Opening, Tracer, Transport } from "mqttc/types";

/** Keepalive: PINGREQ after 3 of the 4 ticks per keepalive without sending or hearing; the
 * broker is dead 2 ticks after PINGREQ without its PINGRESP or any byte (LuatOS's 3/4). */
const TICKS = 4;

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

	/** What CONNECT says (auth, keepalive, will). */
	declare hello: ConnectFields;

	/** autoreconn: when the next attempt comes. */
	declare retry: Retry;
	/** disconnect(): the graceful disconnect. */
	declare linger: Linger;

	declare status: number;
	declare socket: LinkSocket | undefined;
	declare writer: Writer | undefined;
	declare connTimer: Timer | undefined;  // CONNACK deadline (conn_timeout)
	declare tickTimer: Timer | undefined;  // keepalive, every keepalive/4 while READY
	// Keepalive, in ticks: since the client last heard, since PINGREQ (-1: none out); since it
	// last sent: writer.sinceWrite
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
		this.hello = { clientId: new Uint8Array(0), cleanSession: true, keepalive: 240 };
		this.retry = new Retry();
		this.linger = new Linger(this);
		this.status = this.silent = 0;
		this.ping = -1;
		this.closed = this.stopped = this.leaving = this.byeSent = this.reopen = false;
	}


	armConnTimer(): void {
		this.clearTimer("connTimer");
		this.connTimer = Timer.set(() => this.guard(() => this.lost("conack_timeout", "connect", "no CONNACK within conn_timeout")), this.connTimeout * 1000);
	}

	/** A new attempt from the app (connect(), open()): the failover round and transport restart. */
	start(): true {
		this.stopped = false;
		this.retry.cancel();
		this.failover?.restart();
		this.transport?.restart();
		this.openSocket();
		return true;
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
			if (transport?.retry(undefined, this)) return this.openSocket();
			// DNS or certificate errors thrown at construction take the path of a refused connection.
			const reason = transport ? transport.failure(undefined, e) : `cannot open connection: ${(e as Error).message}`;
			this.clearTimer("connTimer");
			this.connTimer = Timer.set(() => this.guard(() => this.lost("connect", "connect", reason)), 0);
			return;
		}
		this.socket = socket;
		this.writer = new Writer(this.tracer ? this.tracer.tap(socket) : socket, (id) => this.events.emit("sent", id), (e) => this.writeFailed(e));
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
			if (this.status === 1 && transport?.retry(this.socket, this)) {
				const socket = this.socket;
				this.socket = this.writer = undefined;
				try { socket?.close(); } catch { /* already gone */ }
				this.clearTimer("connTimer");
				this.openSocket();
				return;
			}
			this.lost("connect", "connect", this.status !== 1 ? "socket error before CONNACK" : transport ? transport.failure(this.socket) : "connection failed");
		}
		else this.lost("network", "other", this.transport?.broken?.(this.socket) ?? "socket error");
	}

	sendConnect(): void {
		this.status = 2;
		this.writer?.packet(encodeConnect(this.hello));
	}

	/** CONNACK accepted: READY, and the keepalive ticks every keepalive/4. The backoff is not
	 * reset here: a broker that accepts and then drops the connection would otherwise be
	 * hammered at the base period forever (reset in tick()). */
	established(): void {
		this.clearTimer("connTimer");
		this.status = 3;
		this.silent = 0;
		this.ping = -1;
		this.tickTimer = Timer.repeat(() => this.guard(() => this.tick()), this.hello.keepalive * 1000 / TICKS);
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
		this.linger.cancel();
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
		if (!this.resend) this.inbound.abandon();
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
		const retry = this.retry;
		if ((retry.enabled || !established) && this.failover !== undefined && this.failover.failed(established)) return retry.schedule(this, true);
		if (retry.enabled) retry.schedule(this, false);
	}

	/** The keepalive tick, every keepalive/4 while READY. */
	tick(): void {
		if (this.leaving) return;             // nothing may follow DISCONNECT; the linger bounds the wait
		this.retry.attempts = 0;               // the connection survived a tick: back to the base period
		const writer = this.writer!;
		writer.sinceWrite++;
		this.silent++;
		if (this.ping >= 0) {
			if (++this.ping >= 2) this.lost("ping_timeout", "other", `no PINGRESP within ${this.hello.keepalive / 2} s`);
		}
		else if (writer.sinceWrite >= 3 || this.silent >= 3) {
			this.ping = 0;
			writer.packet(encodeEmpty(12));   // PINGREQ
		}
	}


	/** Sends what the inflight limit allows from the outbox. */
	pump(): void {
		const writer = this.writer;
		if (this.status !== 3 || writer === undefined) return;
		const outbox = this.session.outbox;
		for (let entry: OutboxEntry | undefined; outbox.queued !== 0 && (entry = outbox.next());)
			if (!writer.entry(entry)) return;
	}

	/** The socket refused a write: the connection is lost. On the Linux simulator a refused
	 * connect is reported as connected and the first write (CONNECT) throws: before CONNACK
	 * every failure is a failure to connect. */
	writeFailed(e: unknown): void {
		if (this.status !== 3) this.lost("connect", "connect", `socket write failed before CONNACK: ${(e as Error).message}`);
		else this.lost("tx", "tx", `socket write failed: ${(e as Error).message}`);
	}


	emit(event: MqttEvent, data?: unknown, payload?: unknown, metas?: unknown): void {
		this.events.emit(event, data, payload, metas);
	}

	/** A line for the debug trace, when it is on (mqttc/debug): decisions no packet shows. */
	note(text: string): void {
		this.tracer?.note(text);
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

	clearTimer(name: "connTimer" | "tickTimer"): void {
		if (this[name]) Timer.clear(this[name]);
		this[name] = undefined;
	}
}
