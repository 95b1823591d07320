/*
 * mqttc-at/mqttset: dialect B, the AT+MQTT* command set of a Wi-Fi module (seed 003).
 *
 * Values may be written with or without quotes. AT+MQTTCONNECT, AT+MQTTSUB, AT+MQTTUNSUB
 * and AT+MQTTPUB at QoS 1/2 block: their final result waits for CONNACK, SUBACK, UNSUBACK
 * or PUBACK/PUBCOMP, for at most OP_TIMEOUT_MS (5 s, the seed's CONNECT timeout), then
 * code 8; lines that arrive meanwhile get ERROR. A failing command answers
 * "+<CMD>:<code>" with the seed's error code, then ERROR:
 *   2 client could not be made, 3 invalid parameter, 4 no room (subscription list),
 *   5 network unusable / not connected, 6 could not be scheduled (mqttc refused it),
 *   7 malformed packet from the broker, 8 no answer from the broker in time, 9 CONNECT
 *   or subscription refused, 11 AT+MQTTCONNECT before AT+MQTTCONFIG.
 * Unsolicited lines:
 *   +MQTTSUBRECV:"<topic>",<len>,<payload>   a message; <len> payload bytes follow raw.
 *                                            Written when the serial queue has room; a
 *                                            QoS 1/2 one is acknowledged only then.
 *   +MQTTDROPPED:<count>                     received messages that found no room
 *   +MQTTDISCONNECTED:<code>                 an established connection was lost
 *
 * This module reads the commands, publishes, subscribes and keeps the subscriptions; the
 * settings are mqttc-at/mqttconfig's and mqttc-at/mqttcerts's, the connection
 * mqttc-at/mqttconn's, the answers and the wait for the broker mqttc-at/mqttreply's.
 */

import type {AtDialect, AtIo} from "mqttc-at/types";
import {splitArgs, argInt, argText, hasWildcard, KIND_EXEC, KIND_READ, KIND_SET, KIND_TEST, TOPIC_MAX} from "mqttc-at/parser";
import {MqttConfig} from "mqttc-at/mqttconfig";
import {MqttCerts} from "mqttc-at/mqttcerts";
import {MqttConnection} from "mqttc-at/mqttconn";
import {MqttWait, ok, fail, OP_NONE, OP_SUB, OP_UNSUB, OP_PUB} from "mqttc-at/mqttreply";

export {OP_TIMEOUT_MS} from "mqttc-at/mqttreply";
export {mqttCode} from "mqttc-at/mqttconn";
export {normalizePem} from "mqttc-at/mqttcerts";

const SUBS_MAX = 16;

export class MqttSet implements AtDialect {
	private readonly io: AtIo;
	private readonly cfg = new MqttConfig();
	private readonly certs = new MqttCerts();
	private readonly wait: MqttWait;
	private readonly link: MqttConnection;
	/** Subscriptions the broker granted, for AT+MQTTSUB? (at most SUBS_MAX). */
	private subs: {topic: string; qos: number}[] = [];

	constructor(io: AtIo) {
		this.io = io;
		this.wait = new MqttWait(io);
		this.link = new MqttConnection(io, this, this.cfg, this.certs, this.wait);
	}

	command(name: string, kind: number, line: string, at: number): boolean {
		if (name.length < 5 || name.slice(0, 5) !== "+MQTT") return false;
		switch (name) {
			case "+MQTTTLS": return this.tlsCmd(kind, line, at);
			case "+MQTTCONFIG": return this.config(kind, line, at);
			case "+MQTTCONNECT": return this.link.connect(kind);
			case "+MQTTPUB": return this.pub(kind, line, at);
			case "+MQTTSUB": return this.sub(kind, line, at);
			case "+MQTTUNSUB": return this.unsub(kind, line, at);
			case "+MQTTSTATE": return this.link.state(kind);
			case "+MQTTDISCONNECT":
				// a clean session's subscriptions end with it
				if (kind === KIND_EXEC && this.cfg.clean) this.subs = [];
				return this.link.disconnect(kind);
		}
		return false;
	}

	private tlsCmd(kind: number, line: string, at: number): boolean {
		const N = "+MQTTTLS", io = this.io;
		if (kind === KIND_TEST) return ok(io, N + ":(0-1)");
		if (kind === KIND_READ) return ok(io, N + ":" + this.certs.tls);
		if (kind !== KIND_SET) return false;
		return this.certs.set(splitArgs(line, at, 4)) ? ok(io) : fail(io, N, 3);
	}

	private config(kind: number, line: string, at: number): boolean {
		const N = "+MQTTCONFIG", io = this.io;
		if (kind === KIND_TEST) return ok(io, N + ":<url>,<port>,<client id>,(0-1),<keepalive>,<username>,<password>");
		if (kind === KIND_READ) {
			if (!this.cfg.configured) return fail(io, N, 11);
			return ok(io, N + ":" + this.cfg.values());
		}
		if (kind !== KIND_SET) return false;
		return this.cfg.set(splitArgs(line, at, 7)) ? ok(io) : fail(io, N, 3);
	}

	private pub(kind: number, line: string, at: number): boolean {
		const N = "+MQTTPUB", io = this.io;
		if (kind === KIND_TEST) return ok(io, N + ":<topic>,(0-2),(0-1);<message>");
		if (kind !== KIND_SET) return false;
		const a = splitArgs(line, at, 4);
		if (!a || a.length !== 4) return fail(io, N, 3);
		const topic = argText(a[0], TOPIC_MAX, false), qos = argInt(a[1], 0, 2), retain = argInt(a[2], 0, 1);
		if (topic === undefined || hasWildcard(topic) || qos < 0 || retain < 0) return fail(io, N, 3);
		const c = this.link.client;
		if (!this.link.connected || !c) return fail(io, N, 5);
		const id = c.publish(topic, a[3].s, qos, retain);
		if (typeof id !== "number") return fail(io, N, 6);
		if (qos === 0) return ok(io);
		this.wait.begin(OP_PUB, id); // OK once PUBACK (QoS 1) or PUBCOMP (QoS 2) is in
		return true;
	}

	private sub(kind: number, line: string, at: number): boolean {
		const N = "+MQTTSUB", io = this.io;
		if (kind === KIND_TEST) return ok(io, N + ":<topic>,(0-2)");
		if (kind === KIND_READ) {
			for (const s of this.subs) io.line(N + ":" + s.topic + "," + s.qos);
			io.line("OK");
			return true;
		}
		if (kind !== KIND_SET) return false;
		const a = splitArgs(line, at);
		if (!a || a.length !== 2) return fail(io, N, 3);
		const topic = argText(a[0], TOPIC_MAX, false), qos = argInt(a[1], 0, 2);
		if (topic === undefined || qos < 0) return fail(io, N, 3);
		const c = this.link.client;
		if (!this.link.connected || !c) return fail(io, N, 5);
		if (this.subs.length >= SUBS_MAX && this.findSub(topic) < 0) return fail(io, N, 4);
		const id = c.subscribe(topic, qos);
		if (typeof id !== "number") return fail(io, N, 6);
		this.wait.begin(OP_SUB, id, topic);
		return true;
	}

	private unsub(kind: number, line: string, at: number): boolean {
		const N = "+MQTTUNSUB", io = this.io;
		if (kind === KIND_TEST) return ok(io, N + ":<topic>");
		if (kind !== KIND_SET) return false;
		const a = splitArgs(line, at);
		if (!a || a.length !== 1) return fail(io, N, 3);
		const topic = argText(a[0], TOPIC_MAX, false);
		if (topic === undefined) return fail(io, N, 3);
		const c = this.link.client;
		if (!this.link.connected || !c) return fail(io, N, 5);
		const id = c.unsubscribe(topic);
		if (typeof id !== "number") return fail(io, N, 6);
		this.wait.begin(OP_UNSUB, id, topic);
		return true;
	}

	private findSub(topic: string): number {
		for (let i = 0; i < this.subs.length; i++) if (this.subs[i].topic === topic) return i;
		return -1;
	}

	close(): void {
		if (this.wait.op !== OP_NONE) this.wait.end();
		this.link.drop();
	}

	event(c: any, event: string, data: any, payload: any, metas: any): void {
		if (c !== this.link.client || !c) return;
		const io = this.io, wait = this.wait;
		switch (event) {
			case "conack":
				this.link.conack();
				return;
			case "disconnect":
				this.link.lost(String(data));
				if (this.cfg.clean) this.subs = [];
				return;
			case "suback": {
				const id = metas && typeof metas.message_id === "number" ? metas.message_id : -1;
				if (wait.op !== OP_SUB || id !== wait.id) return;
				const granted = metas.codes && typeof metas.codes[0] === "number" ? metas.codes[0] : typeof payload === "number" ? payload : 0x80;
				const topic = wait.topic;
				wait.end();
				if (granted >= 0x80) {
					fail(io, "+MQTTSUB", 9);
					return;
				}
				const i = this.findSub(topic);
				if (i >= 0) this.subs[i].qos = granted;
				else this.subs.push({topic, qos: granted});
				ok(io);
				return;
			}
			case "sent": {
				if (wait.op !== OP_PUB || data !== wait.id) return;
				wait.end();
				ok(io);
				return;
			}
			case "unsuback": {
				if (wait.op !== OP_UNSUB || data !== wait.id) return;
				const i = this.findSub(wait.topic);
				if (i >= 0) this.subs.splice(i, 1);
				wait.end();
				ok(io);
				return;
			}
			case "recv": {
				let body: string | ArrayBuffer = "";
				if (payload instanceof ArrayBuffer) body = payload;
				else if (typeof payload === "string") body = ArrayBuffer.fromString(payload);
				const len = typeof body === "string" ? 0 : body.byteLength;
				const qos = metas && typeof metas.qos === "number" ? metas.qos : 0;
				const mid = metas && typeof metas.message_id === "number" ? metas.message_id : 0;
				io.message(c, qos, mid, ['+MQTTSUBRECV:"' + String(data) + '",' + len + ",", body], "+MQTTDROPPED:");
				return;
			}
		}
	}
}
