/*
 * The public shapes of the mqttc API (the LuatOS `mqtt` client API in JavaScript form).
 * Types only: this module emits no code of its own, so it costs nothing in flash.
 */

/** Bytes an app may hand over: a UTF-8 string or any buffer the socket can read. */
export type Payload = string | ArrayBuffer | ArrayBufferView;

/** The `ssl` argument of `mqtt.create`: false/undefined plain TCP, true TLS with the
 * device's CA store, or a table with certificates (PEM strings or DER bytes). */
export interface SslOptions {
	/** CA certificate(s) that must sign the server's certificate (PEM, may hold several, or DER). */
	server_cert?: string | ArrayBuffer | ArrayBufferView;
	/** The device certificate for mutual TLS (PEM or DER). */
	client_cert?: string | ArrayBuffer | ArrayBufferView;
	/** The device private key (PEM or DER, unencrypted). */
	client_key?: string | ArrayBuffer | ArrayBufferView;
	/** Pass phrase of an encrypted private key: not supported on Moddable; create() returns null. */
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
	/** true or 1..65535: the app acknowledges QoS 1/2 messages with client.ack(message_id)
	 * after `recv`; at most this many (true: 32) may await it, beyond that one is
	 * acknowledged at once with an `error` "other" event. */
	manual_ack?: boolean | number;
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

export type MqttEvent = "open" | "conack" | "suback" | "unsuback" | "recv" | "sent" | "disconnect" | "pong" | "error";

/** `error` kinds, as LuatOS names them. */
export type ErrorKind = "connect" | "tx" | "conack" | "other";

export type EventCallback = (client: any, event: MqttEvent, data?: any, payload?: any, metas?: any) => void;
