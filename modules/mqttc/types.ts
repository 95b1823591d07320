/*
 * The public shapes of the mqttc API (the LuatOS `mqtt` client API in JavaScript form).
 * Types only: this module emits no code of its own, so it costs nothing in flash.
 */

import type { Link } from "mqttc/link";
import type { Session } from "mqttc/session";
import type { EventQueue } from "mqttc/events";

/** Bytes an app may hand over: a UTF-8 string or any buffer the socket can read. */
export type Payload = string | ArrayBuffer | ArrayBufferView;

/** The `ssl` argument of `mqtt.create`: false/undefined plain TCP, true TLS with the
 * device's CA store, or a table with certificates (PEM strings or DER bytes). */
export interface SslOptions {
	/** CA certificate(s) that must sign the server's certificate (PEM, may hold several, or DER). */
	server_cert?: string | ArrayBuffer | ArrayBufferView;
	/** The device certificate for mutual TLS (PEM or DER). */
	client_cert?: string | ArrayBuffer | ArrayBufferView;
	/** The device private key (PEM or DER; RSA; encrypted with client_password, or not). */
	client_key?: string | ArrayBuffer | ArrayBufferView;
	/** Pass phrase of an encrypted client_key (PBES2 PKCS#8 or traditional PEM), decrypted once in
	 * create() (mqttc/keys); ignored for an unencrypted key. */
	client_password?: string;
	/** 0 no verification, 1 optional (see README), 2 required (default). */
	verify?: 0 | 1 | 2;
	/** ALPN protocol name(s), e.g. "mqtt" for AWS IoT on port 443. */
	alpn?: string | string[];
	/** Server name for SNI and the hostname check when it differs from `host`. */
	server_name?: string;
}

export interface CreateOptions {
	/** Size of the one receive buffer, in bytes (default 32768, minimum 256). */
	rxSize?: number;
	/** Seconds from connect() until CONNACK must have arrived (default 30). */
	conn_timeout?: number;
	/** Accepted for LuatOS compatibility; the host's resolver decides the address family. */
	ipv6?: boolean;
	/** Deliver `recv` payloads as ArrayBuffer instead of string (default false). */
	binary?: boolean;
	/** Byte bound of the outbox of unacknowledged QoS 1/2 messages (0 disables keeping). */
	outbox?: number;
	/** Keep unacknowledged QoS 1/2 messages across reconnects and resend them (default true);
	 * false is the LuatOS behaviour: they are reported lost when the connection drops. */
	resend?: boolean;
	/** Byte bound of QoS 0 and control packets waiting for socket space. */
	queue?: number;
	/** How many QoS 1/2 messages may await their acknowledgement at once. */
	inflight?: number;
	/** What to do with a PUBLISH larger than rxSize: "chunk" (deliver in pieces) or "skip". */
	oversize?: "chunk" | "skip";
	/** Further broker addresses ("host", "host:port" or {host, port}; at most 8), tried in
	 * turn when a connection fails or drops (see mqttc/failover). */
	backup?: ReadonlyArray<string | { host: string; port?: number }>;
	/** true or 1..65535: the app acknowledges QoS 1/2 messages with client.ack(message_id)
	 * after `recv`; at most this many (true: 32) may await it, beyond that one is
	 * acknowledged at once with an `error` "other" event. */
	manual_ack?: boolean | number;
	/** A durable session: a `Store` of mqttc/store (manifest_store.json) that keeps the outbox
	 * and the received QoS 2 ids on storage, across reboots. */
	store?: SessionStore;
	/** MQTT over WebSocket (mqttc/ws, manifest_ws.json): true (path "/mqtt") or {path};
	 * with `ssl`, over TLS (wss). */
	websocket?: boolean | WsOptions;
	/** MQTT over the ECMA-419 socket (mqttc/io, manifest_io.json) instead of the classic one:
	 * true (`embedded:io/socket/tcp`) or {socket, dns} as the host provider's entries. */
	io?: boolean | IoOptions;
}

/** A durable session store as the app sees it (mqttc/store's Store). */
export interface SessionStore {
	/** Ids of the messages restored from storage, in publish order. */
	restored: number[];
	/** Received QoS 2 ids restored, awaiting PUBREL. */
	received: number[];
	/** Bytes of the file that could not be read and were dropped. */
	unreadable: number;
	/** Erases what is stored, before create(). */
	drop(): void;
}

/** What create() asks of the store besides: the session, its outbox restored from storage,
 * or why it cannot be made. */
export interface SessionSource extends SessionStore {
	session(outboxLimit: number, inflight: number, qos2Window: number, events: EventQueue): Session | string;
}

/** Metadata of a `recv` event. */
export interface RecvMetas {
	message_id: number;
	qos: 0 | 1 | 2;
	retain: 0 | 1;
	dup: 0 | 1;
	/** Present only for a message delivered in chunks: where this chunk starts. */
	offset?: number;
	/** Present only for a message delivered in chunks: the whole payload length. */
	total?: number;
}

/** Metadata of a `suback` event: one entry per topic of the SUBSCRIBE, in request order. */
export interface SubackMetas {
	message_id: number;
	topics: string[];
	/** Granted QoS (0..2) or 0x80 for each topic. */
	codes: number[];
}

/** Metadata of a `sent` event, present only when a QoS 2 message was acknowledged with
 * PUBACK by a broker without QoS 2 (RabbitMQ): delivered at most at QoS 1. */
export interface SentMetas {
	message_id: number;
	qos: 1;
	downgraded: true;
}

export type MqttEvent = "open" | "conack" | "suback" | "unsuback" | "recv" | "sent" | "disconnect" | "pong" | "error";

/** `error` kinds, as LuatOS names them. */
export type ErrorKind = "connect" | "tx" | "conack" | "other";

export type EventCallback = (client: any, event: MqttEvent, data?: any, payload?: any, metas?: any) => void;

/*
 * What mqttc/tls makes of the `ssl` argument. Declared here, not in mqttc/tls, because an app
 * built without TLS has no mqttc/tls module at all, not even for its types.
 */

/** A Moddable SecureSocket `secure` dictionary. */
export interface SecureDictionary {
	verify: boolean;
	/** Always false: the SDK's TLS keeps one resumable session per host name, shared by every
	 * connection, and a resumed handshake skips the certificate check. */
	cache: false;
	certificate?: ArrayBuffer;
	clientCertificates?: ArrayBuffer[];
	clientKey?: ArrayBuffer;
	applicationLayerProtocolNegotiation?: string | string[];
	serverName?: string;
	protocolVersion?: number;
}

export interface TlsSettings {
	secure: SecureDictionary;
	/** Every CA certificate given; a connection trusts one of them at a time (see client). */
	authorities: ArrayBuffer[];
}

/** Where to connect: the address of create(), or the current one of a failover ring. */
export interface BrokerAddress {
	host: string;
	port: number;
}

/** What the link asks of mqttc/failover (opts.backup); absent: one address, no ring. */
export interface FailoverRing {
	readonly current: BrokerAddress;
	restart(): void;
	failed(established: boolean): boolean;
}

/** mqttc/failover's default export, loaded with Modules.importNow only when opts.backup is set. */
export interface FailoverModule {
	ring(host: string, port: number, backup: unknown): FailoverRing | string;
}

/** What the client asks of mqttc/acks (opts.manual_ack): QoS 1/2 messages awaiting ack(). */
export interface DeferredAcks {
	/** How many may await ack() at once. */
	readonly limit: number;
	/** Whether message `id` (QoS 1/2) was delivered and awaits ack(): a resend is not delivered again. */
	awaits(qos: number, id: number): boolean;
	/** Records a delivered message until ack(); false when `limit` await already. */
	defer(qos: number, id: number): boolean;
	/** The QoS of message `id` awaiting ack(), taken off the list; 0 when none awaits. */
	take(id: number): number;
	/** The connection is gone: nothing awaits any more. */
	clear(): void;
}

/** mqttc/acks's default export, loaded with Modules.importNow only when manual_ack is set. */
export interface AcksModule {
	create(manual: unknown): DeferredAcks | string;
}

/*
 * The seams between the core (mqttc/link) and the feature modules that change how the link
 * is made or seen: transports (mqttc/tls), the packet tracer (mqttc/debug), open() (mqttc/open).
 */

/**
 * What the link reads and writes: the classic Moddable Socket's subset. `callback` gets 1
 * connected, 2 data, 3 room to write, -1 closed by the peer, -2 error. `read(ArrayBuffer)`
 * returns what arrived. `write(...parts)` takes buffers, views and numbers (a byte each)
 * all or nothing and throws when they do not fit (the writer's back-pressure depends on it);
 * with no argument it returns the free space.
 */
export interface LinkSocket {
	callback: (message: number, value?: number) => void;
	read(type: typeof ArrayBuffer): ArrayBuffer;
	write(...data: (ArrayBuffer | ArrayBufferView | number)[]): number | void;
	close(): void;
}

/** The part of a socket the writer (mqttc/writer) uses. */
export interface WritableSocket {
	write(...data: (ArrayBuffer | ArrayBufferView | number)[]): number | void;
}

/** A transport other than the plain Socket the core opens itself (mqttc/tls). Called only
 * while the link connects: the messages go straight to the socket it returned. */
export interface Transport {
	/** A socket to host:port; may throw (an expired CA, a bad name). */
	open(host: string, port: number): LinkSocket;
	/** A new attempt begins (connect(), a reconnect). */
	restart(): void;
	/** The attempt failed before the socket connected: true to open again at once (the
	 * next CA of a bundle), having said why through the link's note(). */
	retry(socket: LinkSocket | undefined, link: { note(text: string): void }): boolean;
	/** The `error` event's text for a failure before CONNACK (`error`: what was thrown). */
	failure(socket: LinkSocket | undefined, error?: unknown): string;
	/** Said in traces after the address: " (TLS)". */
	readonly label: string;
	/** Why an open connection ended with -2, when the transport knows (a WebSocket frame
	 * RFC 6455 forbids): the `error` event's text instead of "socket error". */
	broken?(socket: LinkSocket | undefined): string | undefined;
}

/** `opts.websocket` as a table (mqttc/ws). */
export interface WsOptions {
	/** The HTTP path of the upgrade (default "/mqtt"; RabbitMQ's web_mqtt: "/ws"). */
	path?: string;
}

/** An ECMA-419 constructor (a socket, a resolver): called with its options object. */
export type IoConstructor = new (options: Record<string, unknown>) => any;

/** An ECMA-419 host provider entry: the constructor in `io`, the rest its options (a TLS
 * socket's `TCP: {io: TCP}`, a resolver's `servers`). */
export interface IoSocketEntry {
	io: IoConstructor;
	[option: string]: unknown;
}

/** `opts.io` as a table (mqttc/io): what `device.network.mqtt` gives on a device. */
export interface IoOptions {
	/** The socket (default: `embedded:io/socket/tcp`, with `ssl` `embedded:io/socket/tcp/tls`). */
	socket?: IoSocketEntry;
	/** A resolver for host names (an ECMA-419 DNS resolver entry); without it the SDK's `net`
	 * module resolves them, when the app has it. */
	dns?: IoSocketEntry;
}

/** The default export of mqttc/iotls: TLS over the ECMA-419 socket (manifest_io_tls.json). */
export interface IoTlsModule {
	secure(ssl: unknown): SecureDictionary | string;
	socket(): IoSocketEntry | string;
	guard(tcp: IoSocketEntry, fail: (e: unknown) => void): IoSocketEntry;
}

/** The default export of mqttc/io. */
export interface IoModule {
	/** `ssl` as create() got it: TLS over the ECMA-419 TLS socket when set. */
	transport(options: true | IoOptions, ssl: unknown): Transport | string;
}

/** The default export of mqttc/ws. */
export interface WsModule {
	transport(options: true | WsOptions, inner: Transport | undefined): Transport | string;
}

/** The default export of mqttc/tls, which the client takes with Modules.importNow. */
export interface TlsModule {
	tlsSettings(ssl: true | SslOptions): TlsSettings | string;
	transport(settings: TlsSettings): Transport;
}

/** mqttc/debug: traces every packet both ways (a tap on the link's socket and data) and
 * what the link decides that no packet shows. */
export interface Tracer {
	/** Tracing on (debug(true)) or off; the taps stay and say nothing while off. */
	on: boolean;
	/** The socket the writer writes to, traced. */
	tap(socket: WritableSocket): WritableSocket;
	/** What the link feeds the bytes it reads to: `decoder`, traced. */
	input(decoder: { feed(bytes: Uint8Array): unknown }): { feed(bytes: Uint8Array): unknown };
	/** A line of its own ("mqttc: " + text). */
	note(text: string): void;
}

export interface DebugModule {
	tracer(): Tracer;
}

/** open()'s state (mqttc/open): the socket opens without CONNECT until connect(). */
export interface Opening {
	linked: boolean;
	connected(link: Link): void;
	connect(link: Link): boolean;
}

/** mqttc/open: the link's connect step split in two (AT+ECMTOPEN, then AT+ECMTCONN). */
export interface OpenModule {
	/** open() on a disconnected link: true when the socket is being opened. */
	open(link: Link): boolean;
}
