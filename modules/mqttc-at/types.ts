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
}

/** Makes a client; mqttc-at (the entry module) passes one built on mqtt.create. */
export type AtCreate = (host: string, port: number, ssl: AtSsl, opts: AtCreateOptions) => AtClient | null;

export interface AtEngineOptions {
	/** Sends bytes to the serial line: responses, echo, prompts and URCs. */
	write(bytes: ArrayBuffer | string): void;
	/** Client factory; required for mqttc-at/engine, defaulted by the "mqttc-at" entry module. */
	create?: AtCreate;
	/** Longest command line in bytes, terminator excluded (default 2048, minimum 64). */
	lineMax?: number;
	/** Largest ECMTPUB data-mode payload in bytes (default 4096, minimum 16). */
	dataMax?: number;
	/** Bytes of unsolicited result codes held back while in data mode (default 4096). */
	urcMax?: number;
	/** Receive buffer of each client (mqtt.create rxSize; default 4096). A larger PUBLISH is skipped. */
	rxSize?: number;
	/** Echo on at start (default true, like a modem after power-up). */
	echo?: boolean;
	/** The line ATI and AT+GMR print (default "mqttc-at <version>"). */
	version?: string;
}

/** What the engine offers a dialect. */
export interface AtIo {
	/** Writes one response line (CRLF appended). */
	line(text: string): void;
	/** Writes an unsolicited result code made of parts (CRLF appended); held back in data mode. */
	urc(parts: (string | ArrayBuffer)[]): void;
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
