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
 *
 * This module reads the commands and publishes, subscribes and unsubscribes; the settings are
 * mqttc-at/ecmtcfg's, the connection mqttc-at/ecmtconn's, the acknowledgements awaited
 * mqttc-at/ecmtacks'.
 */

import type {AtDialect, AtIo} from "mqttc-at/types";
import {splitArgs, argInt, argQuoted, hasWildcard, KIND_READ, KIND_SET, KIND_TEST, TOPIC_MAX, type Arg} from "mqttc-at/parser";
import {EcmtConfig} from "mqttc-at/ecmtcfg";
import {EcmtAcks, OP_PUB, OP_SUB, OP_UNS} from "mqttc-at/ecmtacks";
import {EcmtConnection} from "mqttc-at/ecmtconn";

export {statCode} from "mqttc-at/ecmtconn";

const TOPICS_MAX = 8;

export class Ecmt implements AtDialect {
	private readonly io: AtIo;
	private readonly cfg = new EcmtConfig();
	private readonly acks: EcmtAcks;
	private readonly link: EcmtConnection;

	constructor(io: AtIo) {
		this.io = io;
		this.acks = new EcmtAcks(io);
		this.link = new EcmtConnection(io, this, this.cfg, this.acks);
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
			this.link.readConn();
			return true;
		}
		if (name === "+ECMTOPEN" && kind === KIND_READ) {
			this.link.readOpen();
			return true;
		}
		if (kind !== KIND_SET) return false; // the engine answers ERROR
		const args = splitArgs(line, at);
		let ok: boolean;
		switch (name) {
			case "+ECMTCFG": ok = !!args && this.cfg.set(io, args); break;
			case "+ECMTOPEN": ok = !!args && this.link.open(args); break;
			case "+ECMTCLOSE": ok = !!args && this.link.closeCmd(args); break;
			case "+ECMTCONN": ok = !!args && this.link.conn(args); break;
			case "+ECMTSUB": ok = !!args && this.sub(args); break;
			case "+ECMTUNS": ok = !!args && this.uns(args); break;
			case "+ECMTPUB": ok = !!args && this.pub(args); break;
			case "+ECMTDISC": ok = !!args && this.link.disc(args); break;
			default: return false;
		}
		if (!ok) io.line("ERROR");
		return true;
	}

	// Each handler returns false (-> ERROR) before it has written anything.

	private ready(): boolean {
		return this.link.connected && !this.acks.full;
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
		const c = this.link.client!;
		const id = n === 1 ? c.subscribe(topics[0], first) : c.subscribe(map);
		if (typeof id !== "number") return false;
		this.acks.track(OP_SUB, id, mid, this.cfg.pktTimeout, topics);
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
		const id = this.link.client!.unsubscribe(topics.length === 1 ? topics[0] : topics);
		if (typeof id !== "number") return false;
		this.acks.track(OP_UNS, id, mid, this.cfg.pktTimeout);
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
		const id = this.link.client!.publish(topic, data, qos, retain);
		if (typeof id !== "number") return false;
		this.acks.track(OP_PUB, id, mid, this.cfg.pktTimeout);
		this.io.line("OK");
		return true;
	}

	close(): void {
		this.link.close();
	}

	event(c: any, event: string, data: any, payload: any, metas: any): void {
		if (c !== this.link.client || !c) return;
		switch (event) {
			case "open":
			case "conack":
			case "error":
			case "disconnect":
				this.link.event(event, data, payload);
				return;
			case "sent":
				this.acks.resolve(OP_PUB, data, "0");
				return;
			case "suback":
				this.acks.suback(payload, metas);
				return;
			case "unsuback":
				this.acks.resolve(OP_UNS, data, "0");
				return;
			case "recv": {
				const mid = metas && typeof metas.message_id === "number" ? metas.message_id : 0;
				const qos = metas && typeof metas.qos === "number" ? metas.qos : 0;
				const body = typeof payload === "string" ? payload : payload instanceof ArrayBuffer ? payload : "";
				this.io.message(c, qos, mid, ["+ECMTRECV: 0," + mid + ',"' + String(data) + '","', body, '"'], "+ECMTDROPPED: 0,");
				return;
			}
		}
	}
}

/** The lines of a test form (AT+<cmd>=?), undefined for a name this dialect does not know. */
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
