/*
 * mqttc-at/types: the shapes the AT engine and its dialects share. Types only.
 *
 * AtClient is the part of the mqttc client API (see modules/mqttc/types.ts and the
 * README) that the AT front end uses; any object with these methods will do, which is
 * how the unit tests drive the engine with a fake client.
 */

export type AtEventCallback = (client: any, event: string, data?: any, payload?: any, metas?: any) => void;

export interface AtClient {
	auth(client_id?: string, username?: string, password?: string, cleanSession?: boolean): true | null | boolean;
	keepalive(seconds: number): unknown;
	will(topic: string, payload: string | ArrayBuffer, qos?: number, retain?: number): boolean;
	on(cb: AtEventCallback): unknown;
	connect(): boolean;
	/** Opens TCP/TLS without CONNECT (mqttc open(): `open` event); optional for other clients. */
	open?(): boolean;
	/** Acknowledges a QoS 1/2 message (mqttc manual_ack); optional for other clients. */
	ack?(message_id: number): boolean;
	disconnect(): boolean;
	publish(topic: string, data: string | ArrayBuffer, qos?: number, retain?: number): number | null;
	subscribe(topic: string | Record<string, number>, qos?: number): number | null;
	unsubscribe(topic: string | string[]): number | null;
	ready(): boolean;
	state(): number;
	close(): void;
}

/** The `ssl` argument handed to mqtt.create. */
export type AtSsl = boolean | {server_cert?: string; client_cert?: string; client_key?: string; verify?: 0 | 1 | 2};

/** The `opts` handed to mqtt.create. */
export interface AtCreateOptions {
	rxSize?: number;
	conn_timeout?: number;
	binary?: boolean;
	oversize?: "chunk" | "skip";
	manual_ack?: boolean | number;
}

/** Makes a client; mqttc-at (the entry module) passes one built on mqtt.create. */
export type AtCreate = (host: string, port: number, ssl: AtSsl, opts: AtCreateOptions) => AtClient | null;

export interface AtEngineOptions {
	/**
	 * Hands bytes to the serial line: responses, echo, prompts and URCs. Returns how many
	 * bytes the transport took (the rest stays queued; call engine.writable() when it has
	 * room again), or nothing when it took them all.
	 */
	write(bytes: ArrayBuffer | string): number | void;
	/** Client factory; required for mqttc-at/engine, defaulted by the "mqttc-at" entry module. */
	create?: AtCreate;
	/** Longest command line in bytes, terminator excluded (default 2048, minimum 64). */
	lineMax?: number;
	/** Largest ECMTPUB data-mode payload in bytes (default 4096, minimum 16). */
	dataMax?: number;
	/** Bytes that may wait for the serial line (default 8192, at least 2560); 2048 of them
	 * are kept for echo, answers and final results. */
	txMax?: number;
	/** Bytes of received messages held while the serial queue is full (default 32768). */
	holdMax?: number;
	/** Timers for command timeouts; the "mqttc-at" entry module passes Moddable's Timer. */
	timer?: AtTimer;
	/** Receive buffer of each client (mqtt.create rxSize; default 4096). A larger PUBLISH is skipped. */
	rxSize?: number;
	/** Echo on at start (default true, like a modem after power-up). */
	echo?: boolean;
	/** The line ATI and AT+GMR print (default "mqttc-at <version>"). */
	version?: string;
}

/** One-shot timers: set(callback, ms) returns a handle for clear(). */
export interface AtTimer {
	set(callback: () => void, ms: number): unknown;
	clear(handle: unknown): void;
}

/** What the engine offers a dialect. */
export interface AtIo {
	/** Writes one response line (CRLF appended). */
	line(text: string): void;
	/** Writes an unsolicited result code made of parts (CRLF appended); held back in data mode. */
	urc(parts: (string | ArrayBuffer)[]): void;
	/**
	 * Writes a received message's URC when the serial queue has room, then acknowledges a
	 * QoS 1/2 one (client.ack(mid)); holds it in order until then. When it cannot be held
	 * either, writes the URC `<drop><count>` instead.
	 */
	message(client: AtClient, qos: number, mid: number, parts: (string | ArrayBuffer)[], drop: string): void;
	/** Calls `cb` once after `ms` (as a command of its own: events wait until it returns). */
	later(ms: number, cb: () => void): unknown;
	/** Cancels a later() call. */
	cancel(handle: unknown): void;
	/** Enters data mode after the current command: prompt "> ", then bytes until Ctrl-Z (data) or Esc (null). */
	dataMode(done: (data: ArrayBuffer | null) => void): void;
	/** Marks a command whose final result comes later (busy) or has come (not busy). */
	busy(on: boolean): void;
	/** Routes a client event through the engine, which defers it while a command runs. */
	post(target: AtDialect, client: any, event: string, data: any, payload: any, metas: any): void;
	readonly create: AtCreate;
	readonly rxSize: number;
}

export interface AtDialect {
	/** Handles a command whose name it owns; returns false when the name is not its own. */
	command(name: string, kind: number, line: string, at: number): boolean;
	/** Handles a client event (called by the engine, never re-entrantly). */
	event(client: any, event: string, data: any, payload: any, metas: any): void;
	/** Drops the dialect's client, if any, without answering anything. */
	close(): void;
}
