/*
 * Typings of mqttc for app authors: the public API of `import mqtt from "mqttc"`.
 *
 * They describe what modules/mqttc.ts and modules/mqttc/client.ts accept and emit, more
 * precisely than the sources (which take `unknown` arguments because LuatOS scripts pass
 * anything): tests/typings.test.mjs checks that the sources conform to them and that every
 * event name and disconnect reason the client emits is declared here.
 *
 * How an app uses them: mqttc's manifest.json adds this file to the `types` of the
 * tsconfig that mcconfig generates, so an app that includes mqttc's manifest gets them with
 * no step of its own. An editor that does not run mcconfig needs them in the app's own
 * tsconfig.json ("types" or "files"); see README.md, "mqttc in a Moddable app".
 */

declare module "mqttc" {
	/** Bytes an app may hand over: a string (sent as UTF-8) or any buffer. */
	export type Payload = string | ArrayBuffer | ArrayBufferView;

	/** MQTT quality of service. */
	export type QoS = 0 | 1 | 2;

	/** LuatOS flags are 0/1 numbers or booleans. */
	export type Flag = 0 | 1 | boolean;

	/** What `client.state()` returns: one of mqtt.STATE_*. */
	export type State = 0 | 1 | 2 | 3;

	/** Certificates and keys: PEM text (a CA bundle may hold several) or DER bytes. */
	export type Certificate = string | ArrayBuffer | ArrayBufferView;

	/** The `ssl` argument of `mqtt.create` as a table. Needs mqttc's manifest_tls.json. */
	export interface SslOptions {
		/** CA certificate(s) that must sign the server's certificate. */
		server_cert?: Certificate;
		/** The device certificate, for mutual TLS. */
		client_cert?: Certificate;
		/** The device private key (RSA): PEM "PRIVATE KEY", "RSA PRIVATE KEY" or "ENCRYPTED
		 * PRIVATE KEY" (then with client_password), or DER of these. */
		client_key?: Certificate;
		/** Pass phrase of an encrypted client_key (openssl's PBES2 PKCS#8, or traditional PEM
		 * with AES-CBC or DES-EDE3-CBC), decrypted once in create(); ignored for an unencrypted
		 * key. A wrong or missing one makes create() return null. */
		client_password?: string;
		/** 0 no verification, 1 optional, 2 required (default). */
		verify?: 0 | 1 | 2;
		/** ALPN protocol name(s), e.g. "mqtt" for AWS IoT on port 443. */
		alpn?: string | string[];
		/** Server name for SNI and the hostname check when it differs from `host`. */
		server_name?: string;
	}

	/** The `opts` argument of `mqtt.create`. */
	export interface CreateOptions {
		/** Size of the one receive buffer in bytes (default 32768, minimum 256). A PUBLISH
		 * larger than this is delivered in pieces (or skipped, see `oversize`). */
		rxSize?: number;
		/** Seconds from connect() until CONNACK must have arrived (default 30, 1..3600). */
		conn_timeout?: number;
		/** Accepted for LuatOS compatibility; the host's resolver decides the address family. */
		ipv6?: boolean;
		/** Deliver `recv` payloads as ArrayBuffer instead of string (default false). */
		binary?: boolean;
		/** Byte bound of the outbox of unacknowledged QoS 1/2 messages (default 16384; 0 keeps none). */
		outbox?: number;
		/** Keep unacknowledged QoS 1/2 messages across reconnects and resend them (default
		 * true); false is the LuatOS behaviour: they are reported lost when the connection drops. */
		resend?: boolean;
		/** Byte bound of QoS 0 and control packets waiting for socket space (default 16384). */
		queue?: number;
		/** How many QoS 1/2 messages may await their acknowledgement at once (default 10). */
		inflight?: number;
		/** A PUBLISH larger than rxSize: "chunk" (deliver in pieces, default) or "skip". */
		oversize?: "chunk" | "skip";
		/**
		 * Further broker addresses (e.g. the other nodes of a cluster): "host", "host:port" or
		 * {host, port}; the port defaults to create()'s; at most 8. When a connection fails or
		 * drops, the next address is tried at once until each was tried once (a round); the
		 * autoreconn delay (or backoff) applies between rounds. Same TLS settings for all.
		 */
		backup?: ReadonlyArray<string | { host: string; port?: number }>;
		/**
		 * Deferred acknowledgement: the app acknowledges each QoS 1/2 message itself with
		 * `client.ack(metas.message_id)` after `recv` (e.g. once it is on flash), so that the
		 * broker keeps what the app has not yet taken. true: at most 32 may await `ack()` at
		 * once; a number 1..65535 sets that bound. Beyond it a message is acknowledged at once,
		 * as without the option, after an `error` event "other" with its `message_id`.
		 * A message delivered in pieces (larger than rxSize) awaits `ack()` after its last piece.
		 * Messages still awaiting `ack()` when the connection drops are not acknowledged; on a
		 * resumed session the broker delivers them again (dup = 1). A duplicate of a message
		 * that still awaits `ack()` is not delivered again.
		 */
		manual_ack?: boolean | number;
		/**
		 * A durable session (include mqttc's manifest_store.json): `new Store(name)` of
		 * "mqttc/store". The QoS 1/2 messages publish() accepted, their PUBREL state and the
		 * received QoS 2 ids awaiting PUBREL are on storage before the call (or the PUBREC)
		 * returns, and come back after a reboot. One client uses a store at a time.
		 */
		store?: SessionStore;
		/**
		 * MQTT over WebSocket (include mqttc's manifest_ws.json): true (path "/mqtt") or
		 * {path}; the upgrade asks for the subprotocol "mqtt" and must get it. With `ssl` it
		 * runs over TLS (wss). Frames are masked with a random key per frame.
		 */
		websocket?: boolean | WsOptions;
		/**
		 * MQTT over the ECMA-419 TCP socket instead of the classic Socket (include mqttc's
		 * manifest_io.json; with `ssl`, manifest_io_tls.json: the SDK's TLSSocket): true, or
		 * {socket, dns} (a host provider's entries). A host name is resolved by `dns`, else by
		 * the SDK's `net` module.
		 */
		io?: boolean | IoOptions;
	}

	/** An ECMA-419 host provider entry: the constructor in `io`, the rest its options. */
	export interface IoSocketEntry {
		io: new (options: Record<string, unknown>) => any;
		[option: string]: unknown;
	}

	/** `opts.io` as a table. */
	export interface IoOptions {
		/** The socket (default `embedded:io/socket/tcp`, with `ssl` `embedded:io/socket/tcp/tls`). */
		socket?: IoSocketEntry;
		/** A resolver for host names (an ECMA-419 DNS resolver entry). */
		dns?: IoSocketEntry;
	}

	/** `opts.websocket` as a table. */
	export interface WsOptions {
		/** The HTTP path of the upgrade (default "/mqtt"; RabbitMQ's web_mqtt: "/ws"). */
		path?: string;
	}

	/** A durable session store as the app sees it (mqttc/store's Store). */
	export interface SessionStore {
		/** Ids of the messages restored from storage, in publish order; each gets `sent`
		 * once the broker has it. */
		restored: number[];
		/** Received QoS 2 ids restored, awaiting PUBREL: not delivered again. */
		received: number[];
		/** Bytes of the file that could not be read (a record torn by a power cut, or not a
		 * store at all) and were dropped. */
		unreadable: number;
		/** Erases what is stored (outgoing messages and received QoS 2 ids); before create()
		 * or after close() only (else it throws). */
		drop(): void;
	}

	/** Metadata of a `recv` event. */
	export interface RecvMetas {
		/** The packet id (0 for QoS 0). */
		message_id: number;
		qos: QoS;
		retain: 0 | 1;
		dup: 0 | 1;
		/** Only for a message delivered in pieces: where this piece starts. */
		offset?: number;
		/** Only for a message delivered in pieces: the whole payload length. */
		total?: number;
	}

	/** Metadata of a `suback` event: one entry per topic of the SUBSCRIBE, in request order. */
	export interface SubackMetas {
		message_id: number;
		topics: string[];
		/** Granted QoS (0..2) or 0x80 (refused) for each topic. */
		codes: number[];
	}

	/** Metadata of a `sent` event; present only when a broker without QoS 2 (RabbitMQ)
	 * acknowledged a QoS 2 message with PUBACK: delivered at QoS 1 (at least once). */
	export interface SentMetas {
		message_id: number;
		qos: 1;
		downgraded: true;
	}

	/** Extra detail of some `error` events. */
	export interface ErrorInfo {
		/** The message that was lost (kind "tx") or skipped (kind "other"). */
		message_id?: number;
		/** The topic of a message larger than rxSize. */
		topic?: string;
		/** The length of a message larger than rxSize. */
		total?: number;
	}

	export type MqttEvent = "open" | "conack" | "suback" | "unsuback" | "recv" | "sent" | "disconnect" | "pong" | "error";

	/** `error` kinds, as LuatOS names them. */
	export type ErrorKind = "connect" | "tx" | "conack" | "other";

	/** Why the connection ended: the `disconnect` event's data. */
	export type DisconnectReason =
		| "user"            // disconnect() or close()
		| "peer"            // the broker closed the connection
		| "connect"         // the connection could not be opened
		| "network"         // socket error while connected
		| "protocol"        // the broker broke the protocol (or an internal error)
		| "tx"              // a write to the socket failed
		| "refused"         // CONNACK with a non-zero return code
		| "conack_timeout"  // no CONNACK within conn_timeout
		| "ping_timeout";   // no PINGRESP in time

	/**
	 * The arguments of the event callback, one tuple per event: (client, event, data,
	 * payload, metas). Switching on `event` narrows the others.
	 */
	export type EventArguments =
		| [client: MqttClient, event: "open", data: undefined, payload: undefined, metas: undefined]
		| [client: MqttClient, event: "conack", data: undefined, payload: undefined, metas: undefined]
		| [client: MqttClient, event: "suback", granted: boolean, code: number, metas: SubackMetas]
		| [client: MqttClient, event: "unsuback", message_id: number, payload: undefined, metas: undefined]
		| [client: MqttClient, event: "recv", topic: string, payload: string | ArrayBuffer, metas: RecvMetas]
		| [client: MqttClient, event: "sent", message_id: number, payload: undefined, metas: SentMetas | undefined]
		| [client: MqttClient, event: "disconnect", reason: DisconnectReason, payload: undefined, metas: undefined]
		| [client: MqttClient, event: "pong", data: undefined, payload: undefined, metas: undefined]
		| [client: MqttClient, event: "error", kind: "conack", code: number, metas: undefined]
		| [client: MqttClient, event: "error", kind: Exclude<ErrorKind, "conack">, detail: string, info: ErrorInfo | undefined];

	type DropLast<T extends unknown[]> = T extends [...infer Head, unknown] ? Head : never;

	/** The event callback with all five parameters. */
	export type EventCallback = (...args: EventArguments) => void;

	export interface MqttClient {
		/**
		 * Client id, user name, password and clean session for the next CONNECT. An empty
		 * client id asks the broker for one (clean session only). true, or null when refused.
		 */
		auth(client_id?: string | null, username?: string | null, password?: Payload | null, cleanSession?: boolean): true | null;
		/** Keepalive in seconds (default 240, clamped to 15..600). */
		keepalive(seconds?: number): void;
		/**
		 * The one event callback (a second call replaces it). Switching on `event` narrows
		 * the other parameters; a callback may take fewer than five.
		 */
		on(callback: (...args: EventArguments) => void): void;
		on(callback: (...args: DropLast<EventArguments>) => void): void;
		on(callback: (...args: DropLast<DropLast<EventArguments>>) => void): void;
		on(callback: (...args: DropLast<DropLast<DropLast<EventArguments>>>) => void): void;
		on(callback: (client: MqttClient) => void): void;
		/** The last will for the next CONNECT; false when refused. */
		will(topic: string, payload?: Payload, qos?: QoS, retain?: Flag): boolean;
		/** Traces the client's protocol steps (and why a call was refused). */
		debug(on: boolean): void;
		/** Starts connecting; false when already connecting or connected. */
		connect(): boolean;
		/**
		 * Opens the TCP/TLS connection without sending CONNECT: `open` event once it is up
		 * (state() stays STATE_SCONNECT), or `error` "connect" then `disconnect` "connect"
		 * when it cannot be opened within conn_timeout. connect() then sends CONNECT on it
		 * (and starts a new conn_timeout for CONNACK). autoreconn does not retry a failed
		 * open(). false when not disconnected. On the Linux simulator the SDK's socket reports
		 * a refused connection as connected (it fails the first write): there `open` comes
		 * and connect() then fails with `error` "connect"; on lwIP (ESP32) it is an error at once.
		 */
		open(): boolean;
		/**
		 * With `manual_ack`: acknowledges the QoS 1/2 message `message_id` delivered by
		 * `recv` (PUBACK, or PUBREC for QoS 2). true when it awaited its acknowledgement;
		 * false when unknown, already acknowledged, or its connection is gone.
		 */
		ack(message_id: number): boolean;
		/** Sends DISCONNECT and closes; no automatic reconnect after it. false when not connected. */
		disconnect(): boolean;
		/** Reconnect after `period` ms (default 3000, at least 100); with `max` > period,
		 * exponential backoff with jitter up to `max` ms, back to `period` once a connection
		 * has lasted one keepalive tick (keepalive/4), not merely reached CONNACK. */
		autoreconn(enable: boolean, period?: number, max?: number): void;
		/** Publishes; the message id (also for QoS 0, reported by `sent`), or null when refused. */
		publish(topic: string, data?: Payload | null, qos?: QoS, retain?: Flag): number | null;
		/** Subscribes to one filter, or to a table filter -> QoS; the message id or null. */
		subscribe(topic: string, qos?: QoS): number | null;
		subscribe(topics: Readonly<Record<string, QoS>>): number | null;
		/** Unsubscribes from one filter or a list; the message id or null. */
		unsubscribe(topic: string | readonly string[]): number | null;
		/** Connected and CONNACK received. */
		ready(): boolean;
		/** One of mqtt.STATE_*. */
		state(): number;
		/** Disconnects, frees the buffers; every method is a no-op afterwards, no more events. */
		close(): void;
	}

	export interface Mqtt {
		/**
		 * A client for `host:port`, or null when an argument is invalid (the reason is
		 * traced). `adapter` is accepted for LuatOS compatibility and ignored. `ssl`: true
		 * for TLS with the device's CA store, or a table; needs manifest_tls.json.
		 */
		create(adapter: unknown, host: string, port: number, ssl?: boolean | SslOptions | null, opts?: CreateOptions | null): MqttClient | null;
		readonly STATE_DISCONNECT: 0;
		readonly STATE_SCONNECT: 1;
		readonly STATE_MQTT: 2;
		readonly STATE_READY: 3;
	}

	const mqtt: Mqtt;
	export default mqtt;
}

declare module "mqttc/store" {
	import type { SessionStore } from "mqttc";
	export interface StoreOptions {
		/** Bound of the store's file, bytes (4096..16777216, default 32768); it holds messages
		 * up to half of it, each counted as 10 + 2 + topic + payload bytes. */
		size?: number;
	}
	/** The durable session's file, `<config.file.root><name>.mq`, read when made. Throws a
	 * RangeError for a bad name (1..24 of A-Z a-z 0-9 _ -) or size. */
	export default class Store implements SessionStore {
		constructor(name: string, options?: StoreOptions);
		restored: number[];
		received: number[];
		unreadable: number;
		drop(): void;
	}
}
