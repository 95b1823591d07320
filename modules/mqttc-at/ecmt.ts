/*
 * mqttc-at/ecmt: dialect A, the AT+ECMT* command set (Eigencomm EC616 family, the same
 * shape as Quectel's AT+QMT*). One MQTT connection, <tcpconnectID> 0.
 *
 * Flow: AT+ECMTOPEN creates the mqttc client and opens the TCP connection (mqttc open()):
 * OK, then "+ECMTOPEN: 0,0" once it is up or "+ECMTOPEN: 0,1" when it cannot be opened
 * within the "timeout" packet time; AT+ECMTCONN sends CONNECT on that connection.
 * Results arrive as URCs after OK:
 *   +ECMTCONN: 0,0,<CONNACK code>   CONNACK received (code 0 accepted, 1..5 refused)
 *   +ECMTCONN: 0,2                  no CONNACK (TCP/TLS failed, timeout, link lost)
 *   +ECMTSUB: 0,<msgID>,0,<granted>[,<granted>...]   SUBACK (128 = refused)
 *   +ECMTUNS: 0,<msgID>,0           UNSUBACK
 *   +ECMTPUB: 0,<msgID>,0           QoS 0 handed to the socket / PUBACK / PUBCOMP
 *   +ECMT{PUB,SUB,UNS}: 0,<msgID>,2 no acknowledgement within the "timeout" packet time
 *                                   (AT+ECMTCFG, default 10 s), or the connection went away
 *   +ECMTRECV: 0,<msgID>,"<topic>","<payload>"   payload bytes raw, unescaped; written when
 *                                   the serial queue has room, QoS 1/2 acknowledged only then
 *   +ECMTDROPPED: 0,<count>         received messages that found no room (engine bounds)
 *   +ECMTSTAT: 0,<err>              an open connection was lost (see statCode)
 * After +ECMTSTAT, AT+ECMTDISC or AT+ECMTCLOSE the client is gone: AT+ECMTOPEN again.
 */

import type {AtClient, AtDialect, AtIo} from "mqttc-at/types";
import {splitArgs, argInt, argQuoted, KIND_READ, KIND_SET, KIND_TEST, TOPIC_MAX, ID_MAX, USER_MAX, PASS_MAX, ACK_WAIT, type Arg} from "mqttc-at/parser";

const PH_CLOSED = 0;
const PH_OPEN = 1;
const PH_CONNECTING = 2;
const PH_CONNECTED = 3;
const PH_DISCONNECTING = 4;
const PH_OPENING = 5; // reported as 1 by AT+ECMTCONN?

const HOST_MAX = 128;
const PENDING_MAX = 16;
const TOPICS_MAX = 8;

const OP_PUB = 0;
const OP_SUB = 1;
const OP_UNS = 2;

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

interface Pending {
	op: number;
	/** The id mqttc returned. */
	id: number;
	/** The msgID the host gave. */
	at: number;
	/** Date.now() after which the result is "failed" (2). */
	deadline: number;
	topics?: string[];
}

function hasWildcard(topic: string): boolean {
	return topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0;
}

export class Ecmt implements AtDialect {
	private readonly io: AtIo;
	private client: AtClient | null = null;
	private phase = PH_CLOSED;
	private connAnswered = false;
	private host = "";
	private port = 0;
	private pending: Pending[] = [];
	private timer: unknown = undefined;
	// AT+ECMTCFG values, applied at the next ECMTOPEN (timeout) or ECMTCONN (the rest)
	private keepaliveS = 120;
	private clean = 1;
	private pktTimeout = 10;
	private retries = 3;
	private report = 0;
	private willFlag = 0;
	private willQos = 0;
	private willRetain = 0;
	private willTopic = "";
	private willMsg = "";

	constructor(io: AtIo) {
		this.io = io;
	}

	command(name: string, kind: number, line: string, at: number): boolean {
		if (name.length < 5 || name.slice(0, 5) !== "+ECMT") return false;
		const io = this.io;
		if (kind === KIND_TEST) {
			const t = testForm(name);
			if (!t) return false;
			for (const l of t) io.line(l);
			io.line("OK");
			return true;
		}
		if (name === "+ECMTCONN" && kind === KIND_READ) {
			if (this.phase !== PH_CLOSED) io.line("+ECMTCONN: 0," + (this.phase === PH_OPENING ? PH_OPEN : this.phase));
			io.line("OK");
			return true;
		}
		if (name === "+ECMTOPEN" && kind === KIND_READ) {
			if (this.phase !== PH_CLOSED) io.line('+ECMTOPEN: 0,"' + this.host + '",' + this.port);
			io.line("OK");
			return true;
		}
		if (kind !== KIND_SET) return false; // the engine answers ERROR
		const args = splitArgs(line, at);
		let ok: boolean;
		switch (name) {
			case "+ECMTCFG": ok = !!args && this.cfg(args); break;
			case "+ECMTOPEN": ok = !!args && this.open(args); break;
			case "+ECMTCLOSE": ok = !!args && this.closeCmd(args); break;
			case "+ECMTCONN": ok = !!args && this.conn(args); break;
			case "+ECMTSUB": ok = !!args && this.sub(args); break;
			case "+ECMTUNS": ok = !!args && this.uns(args); break;
			case "+ECMTPUB": ok = !!args && this.pub(args); break;
			case "+ECMTDISC": ok = !!args && this.disc(args); break;
			default: return false;
		}
		if (!ok) io.line("ERROR");
		return true;
	}

	// Each handler returns false (-> ERROR) before it has written anything.

	private cfg(a: Arg[]): boolean {
		const what = argQuoted(a[0], 16);
		if (what === undefined || argInt(a[1], 0, 0) < 0) return false;
		const io = this.io, key = what.toLowerCase(), query = a.length === 2;
		switch (key) {
			case "keepalive": {
				if (query) {
					io.line('+ECMTCFG: "keepalive",' + this.keepaliveS);
					break;
				}
				const v = argInt(a[2], 0, 3600);
				if (v < 0 || a.length !== 3) return false;
				this.keepaliveS = v;
				break;
			}
			case "session": {
				if (query) {
					io.line('+ECMTCFG: "session",' + this.clean);
					break;
				}
				const v = argInt(a[2], 0, 1);
				if (v < 0 || a.length !== 3) return false;
				this.clean = v;
				break;
			}
			case "timeout": {
				if (query) {
					io.line('+ECMTCFG: "timeout",' + this.pktTimeout + "," + this.retries + "," + this.report);
					break;
				}
				const t = argInt(a[2], 1, 60);
				const r = a.length > 3 ? argInt(a[3], 1, 10) : this.retries;
				const p = a.length > 4 ? argInt(a[4], 0, 1) : this.report;
				if (t < 0 || r < 0 || p < 0 || a.length > 5) return false;
				this.pktTimeout = t;
				this.retries = r;
				this.report = p;
				break;
			}
			case "will": {
				if (query) {
					io.line('+ECMTCFG: "will",' + this.willFlag + "," + this.willQos + "," + this.willRetain + ',"' + this.willTopic + '","' + this.willMsg + '"');
					break;
				}
				const f = argInt(a[2], 0, 1);
				if (f < 0) return false;
				if (f === 0 && a.length === 3) {
					this.willFlag = 0;
					break;
				}
				const q = argInt(a[3], 0, 2), r = argInt(a[4], 0, 1);
				const topic = argQuoted(a[5], TOPIC_MAX, false), msg = argQuoted(a[6], 1024);
				if (q < 0 || r < 0 || topic === undefined || msg === undefined || a.length !== 7 || hasWildcard(topic)) return false;
				this.willFlag = f;
				this.willQos = q;
				this.willRetain = r;
				this.willTopic = topic;
				this.willMsg = msg;
				break;
			}
			case "version": {
				if (query) {
					io.line('+ECMTCFG: "version",4');
					break;
				}
				// mqttc speaks MQTT 3.1.1 (4) only; 3.1 (3) is refused
				if (argInt(a[2], 4, 4) < 0 || a.length !== 3) return false;
				break;
			}
			default:
				return false;
		}
		io.line("OK");
		return true;
	}

	private open(a: Arg[]): boolean {
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
			c = io.create(host, port, false, {conn_timeout: this.pktTimeout, binary: true, rxSize: io.rxSize, oversize: "skip", manual_ack: ACK_WAIT});
		} catch {
			c = null;
		}
		io.line("OK");
		if (!c) {
			io.urc(["+ECMTOPEN: 0,1"]);
			return true;
		}
		this.attach(c);
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

	private attach(c: AtClient): void {
		this.client = c;
		c.on((_client: any, event: string, data?: any, payload?: any, metas?: any) => this.io.post(this, c, event, data, payload, metas));
	}

	private closeCmd(a: Arg[]): boolean {
		if (argInt(a[0], 0, 0) < 0 || a.length !== 1 || this.phase === PH_CLOSED) return false;
		const opening = this.phase === PH_OPENING;
		this.io.line("OK");
		if (opening) this.io.urc(["+ECMTOPEN: 0,1"]);
		this.teardown();
		this.io.urc(["+ECMTCLOSE: 0,0"]);
		return true;
	}

	private conn(a: Arg[]): boolean {
		if (argInt(a[0], 0, 0) < 0 || a.length > 4 || this.phase !== PH_OPEN) return false;
		const id = a.length > 1 ? argQuoted(a[1], ID_MAX) : "";
		const user = a.length > 2 ? argQuoted(a[2], USER_MAX) : undefined;
		const pass = a.length > 3 ? argQuoted(a[3], PASS_MAX) : undefined;
		if (id === undefined || (a.length > 2 && user === undefined) || (a.length > 3 && pass === undefined)) return false;
		const c = this.client!;
		if (!c.auth(id, user, pass, this.clean === 1)) return false;
		c.keepalive(this.keepaliveS === 0 ? 600 : this.keepaliveS);
		if (this.willFlag && !c.will(this.willTopic, this.willMsg, this.willQos, this.willRetain)) return false;
		this.phase = PH_CONNECTING;
		this.connAnswered = false;
		if (!c.connect()) {
			this.phase = PH_OPEN;
			return false;
		}
		this.io.line("OK"); // client events are deferred by the engine until after this
		return true;
	}

	private ready(): boolean {
		return this.phase === PH_CONNECTED && this.pending.length < PENDING_MAX;
	}

	private sub(a: Arg[]): boolean {
		const mid = argInt(a[1], 1, 65535);
		const n = (a.length - 2) >> 1;
		if (argInt(a[0], 0, 0) < 0 || mid < 0 || a.length < 4 || (a.length & 1) || n > TOPICS_MAX || !this.ready()) return false;
		const topics: string[] = [], map: Record<string, number> = {};
		let first = 0;
		for (let i = 0; i < n; i++) {
			const t = argQuoted(a[2 + 2 * i], TOPIC_MAX, false), q = argInt(a[3 + 2 * i], 0, 2);
			if (t === undefined || q < 0) return false;
			if (i === 0) first = q;
			topics.push(t);
			map[t] = q;
		}
		const id = n === 1 ? this.client!.subscribe(topics[0], first) : this.client!.subscribe(map);
		if (typeof id !== "number") return false;
		this.track({op: OP_SUB, id, at: mid, deadline: 0, topics});
		this.io.line("OK");
		return true;
	}

	private uns(a: Arg[]): boolean {
		const mid = argInt(a[1], 1, 65535);
		if (argInt(a[0], 0, 0) < 0 || mid < 0 || a.length < 3 || a.length - 2 > TOPICS_MAX || !this.ready()) return false;
		const topics: string[] = [];
		for (let i = 2; i < a.length; i++) {
			const t = argQuoted(a[i], TOPIC_MAX, false);
			if (t === undefined) return false;
			topics.push(t);
		}
		const id = this.client!.unsubscribe(topics.length === 1 ? topics[0] : topics);
		if (typeof id !== "number") return false;
		this.track({op: OP_UNS, id, at: mid, deadline: 0});
		this.io.line("OK");
		return true;
	}

	private pub(a: Arg[]): boolean {
		const qos = argInt(a[2], 0, 2), retain = argInt(a[3], 0, 1);
		const mid = argInt(a[1], qos > 0 ? 1 : 0, qos > 0 ? 65535 : 0);
		const topic = argQuoted(a[4], TOPIC_MAX, false);
		if (argInt(a[0], 0, 0) < 0 || qos < 0 || retain < 0 || mid < 0 || topic === undefined || hasWildcard(topic)) return false;
		if (a.length > 6 || !this.ready()) return false;
		if (a.length === 6) {
			if (!a[5].q) return false;
			return this.publish(topic, a[5].s, qos, retain, mid);
		}
		// no payload: data mode, "> " then raw bytes until Ctrl-Z (Esc cancels)
		this.io.dataMode((data) => {
			if (!data || !this.ready() || !this.publish(topic, data, qos, retain, mid)) this.io.line("ERROR");
		});
		return true;
	}

	private publish(topic: string, data: string | ArrayBuffer, qos: number, retain: number, mid: number): boolean {
		const id = this.client!.publish(topic, data, qos, retain);
		if (typeof id !== "number") return false;
		this.track({op: OP_PUB, id, at: mid, deadline: 0});
		this.io.line("OK");
		return true;
	}

	private disc(a: Arg[]): boolean {
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
					sent = this.client!.disconnect();
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

	/** Forgets the client (its later events are ignored), closes it, fails what was pending. */
	private teardown(): void {
		const c = this.client;
		this.client = null;
		this.phase = PH_CLOSED;
		this.failPending();
		if (c) {
			try {
				c.close();
			} catch {
				// ignore
			}
		}
	}

	private failPending(): void {
		const list = this.pending;
		this.pending = [];
		this.io.cancel(this.timer);
		this.timer = undefined;
		for (const p of list) this.io.urc([opName(p.op) + p.at + ",2"]);
	}

	/** Awaits the acknowledgement of a command, for at most the "timeout" packet time. */
	private track(p: Pending): void {
		p.deadline = Date.now() + this.pktTimeout * 1000;
		this.pending.push(p);
		if (this.timer === undefined) this.timer = this.io.later(this.pktTimeout * 1000, () => this.expire());
	}

	/** Fails what waited too long; all share one timeout, so the oldest is first. */
	private expire(): void {
		this.timer = undefined;
		const now = Date.now() + 5; // timers may fire a little early
		const list = this.pending;
		while (list.length && list[0].deadline <= now) {
			const p = list.shift()!;
			this.io.urc([opName(p.op) + p.at + ",2"]);
		}
		if (list.length) this.timer = this.io.later(list[0].deadline - now + 5, () => this.expire());
	}

	close(): void {
		const c = this.client;
		this.client = null;
		this.phase = PH_CLOSED;
		this.pending = [];
		this.io.cancel(this.timer);
		this.timer = undefined;
		if (c) c.close();
	}

	event(c: any, event: string, data: any, payload: any, metas: any): void {
		if (c !== this.client || !c) return;
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
			case "sent":
				this.resolve(OP_PUB, data, "0");
				return;
			case "suback": {
				const id = metas && typeof metas.message_id === "number" ? metas.message_id : -1;
				const i = this.find(OP_SUB, id);
				if (i < 0) return;
				const p = this.pending[i];
				this.pending.splice(i, 1);
				const codes: number[] = [];
				const topics: string[] | undefined = metas.topics, got: number[] | undefined = metas.codes;
				for (const t of p.topics!) {
					let code = typeof payload === "number" ? payload : 0x80;
					if (topics && got) {
						const k = topics.indexOf(t);
						if (k >= 0 && typeof got[k] === "number") code = got[k];
					}
					codes.push(code);
				}
				io.urc(["+ECMTSUB: 0," + p.at + ",0," + codes.join(",")]);
				return;
			}
			case "unsuback":
				this.resolve(OP_UNS, data, "0");
				return;
			case "recv": {
				const mid = metas && typeof metas.message_id === "number" ? metas.message_id : 0;
				const qos = metas && typeof metas.qos === "number" ? metas.qos : 0;
				const body = typeof payload === "string" ? payload : payload instanceof ArrayBuffer ? payload : "";
				io.message(c, qos, mid, ["+ECMTRECV: 0," + mid + ',"' + String(data) + '","', body, '"'], "+ECMTDROPPED: 0,");
				return;
			}
		}
	}

	private find(op: number, id: number): number {
		const list = this.pending;
		for (let i = 0; i < list.length; i++) if (list[i].op === op && list[i].id === id) return i;
		return -1;
	}

	private resolve(op: number, id: any, result: string): void {
		const i = this.find(op, typeof id === "number" ? id : -1);
		if (i < 0) return;
		const p = this.pending[i];
		this.pending.splice(i, 1);
		this.io.urc([opName(op) + p.at + "," + result]);
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
				this.failPending();
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

function opName(op: number): string {
	return op === OP_PUB ? "+ECMTPUB: 0," : op === OP_SUB ? "+ECMTSUB: 0," : "+ECMTUNS: 0,";
}

function testForm(name: string): string[] | undefined {
	switch (name) {
		case "+ECMTCFG":
			return [
				'+ECMTCFG: "keepalive",(0),(0-3600)',
				'+ECMTCFG: "session",(0),(0,1)',
				'+ECMTCFG: "timeout",(0),(1-60),(1-10),(0,1)',
				'+ECMTCFG: "will",(0),(0,1),(0-2),(0,1),"<will_topic>","<will_msg>"',
				'+ECMTCFG: "version",(0),(4)',
			];
		case "+ECMTOPEN": return ['+ECMTOPEN: (0),"<host_name>",(1-65535)'];
		case "+ECMTCLOSE": return ["+ECMTCLOSE: (0)"];
		case "+ECMTCONN": return ['+ECMTCONN: (0),"<clientID>"[,"<username>"[,"<password>"]]'];
		case "+ECMTSUB": return ['+ECMTSUB: (0),(1-65535),"<topic>",(0-2)[,"<topic>",(0-2)...]'];
		case "+ECMTUNS": return ['+ECMTUNS: (0),(1-65535),"<topic>"[,"<topic>"...]'];
		case "+ECMTPUB": return ['+ECMTPUB: (0),(0-65535),(0-2),(0,1),"<topic>"[,"<payload>"]'];
		case "+ECMTDISC": return ["+ECMTDISC: (0)"];
	}
	return undefined;
}
