/*
 * mqttc-at/mqttconn: the connection of dialect B (mqttc-at/mqttset): the client and its
 * phase, AT+MQTTCONNECT (blocking until CONNACK), AT+MQTTDISCONNECT and AT+MQTTSTATE, and the
 * client events that move it (conack, disconnect). An established connection that is lost
 * is reported as "+MQTTDISCONNECTED:<code>"; a command waiting for the broker then fails
 * with code 5 (AT+MQTTCONNECT: the disconnect reason's code).
 */

import type {AtClient, AtDialect, AtIo} from "mqttc-at/types";
import {KIND_EXEC, KIND_READ, KIND_TEST, ACK_WAIT} from "mqttc-at/parser";
import type {MqttConfig} from "mqttc-at/mqttconfig";
import type {MqttCerts} from "mqttc-at/mqttcerts";
import {MqttWait, ok, fail, OP_NONE, OP_CONN, OP_SUB, OP_UNSUB, OP_PUB, OP_TIMEOUT_MS} from "mqttc-at/mqttreply";

const PH_CLOSED = 0;
const PH_CONNECTING = 1;
const PH_CONNECTED = 2;

/** Seed 003 error code for an mqttc disconnect reason. */
export function mqttCode(reason: string): number {
	switch (reason) {
		case "protocol": return 7;
		case "conack_timeout":
		case "ping_timeout": return 8;
		case "refused": return 9;
		case "user": return 0;
		default: return 5; // peer, connect, network, tx
	}
}

export class MqttConnection {
	private readonly io: AtIo;
	/** Where the client's events go (through the engine, which defers them). */
	private readonly dialect: AtDialect;
	private readonly cfg: MqttConfig;
	private readonly certs: MqttCerts;
	private readonly wait: MqttWait;
	private current: AtClient | null = null;
	private phase = PH_CLOSED;

	constructor(io: AtIo, dialect: AtDialect, cfg: MqttConfig, certs: MqttCerts, wait: MqttWait) {
		this.io = io;
		this.dialect = dialect;
		this.cfg = cfg;
		this.certs = certs;
		this.wait = wait;
	}

	/** The client, null when there is none: events of any other client are stale. */
	get client(): AtClient | null {
		return this.current;
	}

	/** Whether CONNACK accepted the connection and it is still up. */
	get connected(): boolean {
		return this.phase === PH_CONNECTED;
	}

	/** AT+MQTTCONNECT: a new client with the AT+MQTTCONFIG and AT+MQTTTLS settings; OK after CONNACK. */
	connect(kind: number): boolean {
		const N = "+MQTTCONNECT", io = this.io, cfg = this.cfg;
		if (kind === KIND_TEST) return ok(io);
		if (kind !== KIND_EXEC) return false;
		if (!cfg.configured) return fail(io, N, 11);
		if (this.phase === PH_CONNECTED && this.current) return ok(io, N + ":0");
		this.drop();
		let c: AtClient | null;
		try {
			c = io.create(cfg.host, cfg.port, this.certs.ssl(), {conn_timeout: OP_TIMEOUT_MS / 1000, binary: true, rxSize: io.rxSize, oversize: "skip", manual_ack: ACK_WAIT});
		} catch {
			c = null;
		}
		if (!c) return fail(io, N, 2);
		const user = cfg.user.length ? cfg.user : undefined, pass = cfg.pass.length ? cfg.pass : undefined;
		if (!c.auth(cfg.clientId, user, pass, cfg.clean === 1)) {
			c.close();
			return fail(io, N, 3);
		}
		c.keepalive(cfg.keepaliveS === 0 ? 600 : cfg.keepaliveS);
		this.current = c;
		c.on((_client: any, event: string, data?: any, payload?: any, metas?: any) => io.post(this.dialect, c, event, data, payload, metas));
		this.phase = PH_CONNECTING;
		if (!c.connect()) {
			this.drop();
			return fail(io, N, 5);
		}
		this.wait.begin(OP_CONN, -1);
		return true;
	}

	/** AT+MQTTDISCONNECT: DISCONNECT, then the client closes; OK at once. */
	disconnect(kind: number): boolean {
		if (kind === KIND_TEST) return ok(this.io);
		if (kind !== KIND_EXEC) return false;
		const c = this.current;
		this.current = null;
		this.phase = PH_CLOSED;
		if (c) {
			// the client closes itself once DISCONNECT is out; close() after its "disconnect" event
			let sent = false;
			try {
				sent = c.disconnect();
			} catch {
				sent = false;
			}
			if (!sent) c.close();
			else c.on((client: any, event: string) => {
				if (event === "disconnect") {
					try {
						c.close();
					} catch {
						// ignore
					}
				}
			});
		}
		return ok(this.io);
	}

	/** AT+MQTTSTATE: 1 when connected. */
	state(kind: number): boolean {
		const N = "+MQTTSTATE";
		if (kind === KIND_TEST) return ok(this.io, N + ":(0-1)");
		if (kind !== KIND_EXEC && kind !== KIND_READ) return false;
		return ok(this.io, N + ":" + (this.phase === PH_CONNECTED ? 1 : 0));
	}

	/** Forgets and closes the client without a word to the host. */
	drop(): void {
		const c = this.current;
		this.current = null;
		this.phase = PH_CLOSED;
		if (c) {
			try {
				c.close();
			} catch {
				// ignore
			}
		}
	}

	/** CONNACK: the waiting AT+MQTTCONNECT answers OK. */
	conack(): void {
		if (this.phase === PH_CONNECTING) {
			this.phase = PH_CONNECTED;
			if (this.wait.op === OP_CONN) {
				this.wait.end();
				ok(this.io, "+MQTTCONNECT:0");
			}
		}
	}

	/** The client is gone: the command waiting for the broker fails, a lost connection is reported. */
	lost(reason: string): void {
		const io = this.io, wait = this.wait;
		const code = mqttCode(reason);
		const was = this.phase, op = wait.op;
		this.drop();
		if (op !== OP_NONE) wait.end();
		if (op === OP_CONN) fail(io, "+MQTTCONNECT", code === 0 ? 5 : code);
		else if (op === OP_SUB) fail(io, "+MQTTSUB", 5);
		else if (op === OP_UNSUB) fail(io, "+MQTTUNSUB", 5);
		else if (op === OP_PUB) fail(io, "+MQTTPUB", 5);
		if (was === PH_CONNECTED) io.urc(["+MQTTDISCONNECTED:" + (code === 0 ? 5 : code)]);
	}
}
