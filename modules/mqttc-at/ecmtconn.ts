/*
 * mqttc-at/ecmtconn: the one connection of dialect A (mqttc-at/ecmt), <tcpconnectID> 0: the
 * client and its phase, the commands that move it (AT+ECMTOPEN, AT+ECMTCONN, AT+ECMTDISC,
 * AT+ECMTCLOSE and their read forms) and the client events that do (open, conack, error,
 * disconnect), with their URCs (+ECMTOPEN, +ECMTCONN, +ECMTDISC, +ECMTCLOSE, +ECMTSTAT: see
 * mqttc-at/ecmt). Whenever the client goes, what still awaited an acknowledgement fails.
 */

import type {AtClient, AtDialect, AtIo} from "mqttc-at/types";
import {argInt, argQuoted, ID_MAX, USER_MAX, PASS_MAX, ACK_WAIT, type Arg} from "mqttc-at/parser";
import type {EcmtConfig} from "mqttc-at/ecmtcfg";
import type {EcmtAcks} from "mqttc-at/ecmtacks";

const PH_CLOSED = 0;
const PH_OPEN = 1;
const PH_CONNECTING = 2;
const PH_CONNECTED = 3;
const PH_DISCONNECTING = 4;
const PH_OPENING = 5; // reported as 1 by AT+ECMTCONN?

const HOST_MAX = 128;

/** +ECMTSTAT error code for an mqttc disconnect reason. */
export function statCode(reason: string): number {
	switch (reason) {
		case "peer": // connection closed by peer
		case "network": return 1; // or reset by peer (a socket error on an open connection)
		case "ping_timeout": return 2; // PINGREQ got no answer
		case "connect": return 3; // CONNECT could not be sent (TCP/TLS connect failed)
		case "conack_timeout":
		case "refused": return 4; // CONNACK missing or negative
		case "user": return 5; // client sent DISCONNECT
		case "tx": return 6; // sending failed
		default: return 7; // "protocol", anything else: link not usable
	}
}

export class EcmtConnection {
	private readonly io: AtIo;
	/** Where the client's events go (through the engine, which defers them). */
	private readonly dialect: AtDialect;
	private readonly cfg: EcmtConfig;
	private readonly acks: EcmtAcks;
	private current: AtClient | null = null;
	private phase = PH_CLOSED;
	private connAnswered = false;
	private host = "";
	private port = 0;

	constructor(io: AtIo, dialect: AtDialect, cfg: EcmtConfig, acks: EcmtAcks) {
		this.io = io;
		this.dialect = dialect;
		this.cfg = cfg;
		this.acks = acks;
	}

	/** The client, null when closed: events of any other client are stale. */
	get client(): AtClient | null {
		return this.current;
	}

	/** Whether CONNACK accepted the connection and it is still up. */
	get connected(): boolean {
		return this.phase === PH_CONNECTED;
	}

	/** AT+ECMTCONN? */
	readConn(): void {
		if (this.phase !== PH_CLOSED) this.io.line("+ECMTCONN: 0," + (this.phase === PH_OPENING ? PH_OPEN : this.phase));
		this.io.line("OK");
	}

	/** AT+ECMTOPEN? */
	readOpen(): void {
		if (this.phase !== PH_CLOSED) this.io.line('+ECMTOPEN: 0,"' + this.host + '",' + this.port);
		this.io.line("OK");
	}

	// Each command returns false (-> ERROR) before it has written anything.

	/** AT+ECMTOPEN=0,"<host>",<port>: OK, then +ECMTOPEN once TCP is up or has failed. */
	open(a: Arg[]): boolean {
		const host = argQuoted(a[1], HOST_MAX, false), port = argInt(a[2], 1, 65535);
		if (argInt(a[0], 0, 0) < 0 || host === undefined || port < 0 || a.length !== 3) return false;
		const io = this.io;
		if (this.phase !== PH_CLOSED) {
			io.line("OK");
			io.urc(["+ECMTOPEN: 0,2"]); // identifier in use
			return true;
		}
		let c: AtClient | null = null;
		try {
			c = io.create(host, port, false, {conn_timeout: this.cfg.pktTimeout, binary: true, rxSize: io.rxSize, oversize: "skip", manual_ack: ACK_WAIT});
		} catch {
			c = null;
		}
		io.line("OK");
		if (!c) {
			io.urc(["+ECMTOPEN: 0,1"]);
			return true;
		}
		this.current = c;
		c.on((_client: any, event: string, data?: any, payload?: any, metas?: any) => io.post(this.dialect, c, event, data, payload, metas));
		this.host = host;
		this.port = port;
		if (!c.open) {
			// a client that cannot open TCP apart from CONNECT: TCP comes with AT+ECMTCONN
			this.phase = PH_OPEN;
			io.urc(["+ECMTOPEN: 0,0"]);
			return true;
		}
		this.phase = PH_OPENING;
		let opening = false;
		try {
			opening = c.open();
		} catch {
			opening = false;
		}
		if (!opening) {
			this.teardown();
			io.urc(["+ECMTOPEN: 0,1"]);
		}
		return true; // "+ECMTOPEN: 0,<0/1>" follows from the client's open or disconnect event
	}

	/** AT+ECMTCLOSE=0 */
	closeCmd(a: Arg[]): boolean {
		if (argInt(a[0], 0, 0) < 0 || a.length !== 1 || this.phase === PH_CLOSED) return false;
		const opening = this.phase === PH_OPENING;
		this.io.line("OK");
		if (opening) this.io.urc(["+ECMTOPEN: 0,1"]);
		this.teardown();
		this.io.urc(["+ECMTCLOSE: 0,0"]);
		return true;
	}

	/** AT+ECMTCONN=0[,"<clientID>"[,"<username>"[,"<password>"]]]: CONNECT with the AT+ECMTCFG settings. */
	conn(a: Arg[]): boolean {
		if (argInt(a[0], 0, 0) < 0 || a.length > 4 || this.phase !== PH_OPEN) return false;
		const id = a.length > 1 ? argQuoted(a[1], ID_MAX) : "";
		const user = a.length > 2 ? argQuoted(a[2], USER_MAX) : undefined;
		const pass = a.length > 3 ? argQuoted(a[3], PASS_MAX) : undefined;
		if (id === undefined || (a.length > 2 && user === undefined) || (a.length > 3 && pass === undefined)) return false;
		const c = this.current!, cfg = this.cfg;
		if (!c.auth(id, user, pass, cfg.clean === 1)) return false;
		c.keepalive(cfg.keepaliveS === 0 ? 600 : cfg.keepaliveS);
		if (cfg.willFlag && !c.will(cfg.willTopic, cfg.willMsg, cfg.willQos, cfg.willRetain)) return false;
		this.phase = PH_CONNECTING;
		this.connAnswered = false;
		if (!c.connect()) {
			this.phase = PH_OPEN;
			return false;
		}
		this.io.line("OK"); // client events are deferred by the engine until after this
		return true;
	}

	/** AT+ECMTDISC=0: DISCONNECT when connected (or connecting), then the client goes. */
	disc(a: Arg[]): boolean {
		if (argInt(a[0], 0, 0) < 0 || a.length !== 1) return false;
		const io = this.io;
		switch (this.phase) {
			case PH_OPENING:
			case PH_OPEN:
				io.line("OK");
				if (this.phase === PH_OPENING) io.urc(["+ECMTOPEN: 0,1"]);
				this.teardown();
				io.urc(["+ECMTDISC: 0,0"]);
				return true;
			case PH_CONNECTING:
			case PH_CONNECTED: {
				this.phase = PH_DISCONNECTING;
				let sent = false;
				try {
					sent = this.current!.disconnect();
				} catch {
					sent = false;
				}
				io.line("OK");
				if (!sent) {
					// nothing will come back from the client: finish here
					this.teardown();
					io.urc(["+ECMTDISC: 0,0"]);
				}
				return true;
			}
			default:
				return false;
		}
	}

	/** Closes the client without a word, forgetting what was awaited (the engine closes). */
	close(): void {
		const c = this.current;
		this.current = null;
		this.phase = PH_CLOSED;
		this.acks.clear();
		if (c) c.close();
	}

	/** A connection event of the current client: open, conack, error or disconnect. */
	event(event: string, data: any, payload: any): void {
		const io = this.io;
		switch (event) {
			case "open":
				if (this.phase === PH_OPENING) {
					this.phase = PH_OPEN;
					io.urc(["+ECMTOPEN: 0,0"]);
				}
				return;
			case "conack":
				if (this.phase === PH_CONNECTING) {
					this.phase = PH_CONNECTED;
					this.connAnswered = true;
					io.urc(["+ECMTCONN: 0,0,0"]);
				}
				return;
			case "error":
				if (this.phase === PH_CONNECTING && !this.connAnswered) {
					this.connAnswered = true;
					if (data === "conack" && typeof payload === "number") io.urc(["+ECMTCONN: 0,0," + payload]);
					else io.urc(["+ECMTCONN: 0,2"]);
				}
				return;
			case "disconnect":
				this.lost(String(data));
				return;
		}
	}

	/** Forgets the client (its later events are ignored), closes it, fails what was pending. */
	private teardown(): void {
		const c = this.current;
		this.current = null;
		this.phase = PH_CLOSED;
		this.acks.failAll();
		if (c) {
			try {
				c.close();
			} catch {
				// ignore
			}
		}
	}

	private lost(reason: string): void {
		const io = this.io;
		switch (this.phase) {
			case PH_OPENING:
				this.teardown();
				io.urc(["+ECMTOPEN: 0,1"]); // the network could not be opened
				return;
			case PH_OPEN:
				this.teardown();
				io.urc(["+ECMTSTAT: 0," + statCode(reason)]);
				return;
			case PH_CONNECTING:
				this.acks.failAll();
				if (!this.connAnswered) io.urc(["+ECMTCONN: 0,2"]);
				this.phase = PH_OPEN; // the client stays: AT+ECMTCONN may be tried again
				return;
			case PH_DISCONNECTING:
				if (!this.connAnswered) io.urc(["+ECMTCONN: 0,2"]);
				this.teardown();
				io.urc(["+ECMTDISC: 0,0"]);
				return;
			case PH_CONNECTED:
				this.teardown();
				io.urc(["+ECMTSTAT: 0," + statCode(reason)]);
				return;
		}
	}
}
