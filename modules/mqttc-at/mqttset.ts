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
 */

import type {AtClient, AtDialect, AtIo, AtSsl} from "mqttc-at/types";
import {splitArgs, argInt, argText, KIND_EXEC, KIND_READ, KIND_SET, KIND_TEST, TOPIC_MAX, ID_MAX, USER_MAX, PASS_MAX, ACK_WAIT} from "mqttc-at/parser";

const PH_CLOSED = 0;
const PH_CONNECTING = 1;
const PH_CONNECTED = 2;

const OP_NONE = 0;
const OP_CONN = 1;
const OP_SUB = 2;
const OP_UNSUB = 3;
const OP_PUB = 4;

/** How long a blocking command waits for the broker (CONNECT: mqttc conn_timeout, the same). */
export const OP_TIMEOUT_MS = 5000;
/** Its name, for the code 8 line of a timeout. */
const OP_NAMES = Object.freeze(["", "+MQTTCONNECT", "+MQTTSUB", "+MQTTUNSUB", "+MQTTPUB"]);

const HOST_MAX = 128;
const CERT_MAX = 1536;
const SUBS_MAX = 16;

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

/**
 * Rebuilds a PEM block from what came in on one AT line: the base64 body between the
 * BEGIN and END lines may have lost its line breaks or carry them as literal "\n".
 * Returns undefined when there is no complete block or the body is not base64.
 */
export function normalizePem(text: string): string | undefined {
	const b = text.indexOf("-----BEGIN ");
	if (b < 0) return undefined;
	const be = text.indexOf("-----", b + 11);
	if (be < 0) return undefined;
	const label = text.slice(b + 11, be);
	const endMark = "-----END " + label + "-----";
	const e = text.indexOf(endMark, be + 5);
	if (e < 0 || label.length === 0 || label.length > 40) return undefined;
	const body = text.slice(be + 5, e);
	const keep: string[] = [];
	let from = -1;
	for (let i = 0; i < body.length; i++) {
		const c = body.charCodeAt(i);
		if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d) {
			if (from < 0) from = i;
			continue;
		}
		if (from >= 0) {
			keep.push(body.slice(from, i));
			from = -1;
		}
		if (c === 0x5c) {
			const d = body.charCodeAt(i + 1);
			if (d !== 0x6e && d !== 0x72) return undefined;
			i++; // a literal "\n" or "\r"
			continue;
		}
		if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return undefined;
	}
	if (from >= 0) keep.push(body.slice(from));
	const b64 = keep.join("");
	if (b64.length === 0) return undefined;
	const lines: string[] = ["-----BEGIN " + label + "-----"];
	for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
	lines.push(endMark);
	return lines.join("\n") + "\n";
}

function hasWildcard(topic: string): boolean {
	return topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0;
}

export class MqttSet implements AtDialect {
	private readonly io: AtIo;
	private client: AtClient | null = null;
	private phase = PH_CLOSED;
	private op = OP_NONE;
	private opId = -1;
	private opTopic = "";
	private opTimer: unknown = undefined;
	// AT+MQTTCONFIG
	private configured = false;
	private host = "";
	private port = 0;
	private clientId = "";
	private clean = 1;
	private keepaliveS = 60;
	private user = "";
	private pass = "";
	// AT+MQTTTLS
	private tls = 0;
	private certs: (string | undefined)[] = [undefined, undefined, undefined];
	/** Subscriptions the broker granted, for AT+MQTTSUB? (at most SUBS_MAX). */
	private subs: {topic: string; qos: number}[] = [];

	constructor(io: AtIo) {
		this.io = io;
	}

	command(name: string, kind: number, line: string, at: number): boolean {
		if (name.length < 5 || name.slice(0, 5) !== "+MQTT") return false;
		switch (name) {
			case "+MQTTTLS": return this.tlsCmd(kind, line, at);
			case "+MQTTCONFIG": return this.config(kind, line, at);
			case "+MQTTCONNECT": return this.connect(kind);
			case "+MQTTPUB": return this.pub(kind, line, at);
			case "+MQTTSUB": return this.sub(kind, line, at);
			case "+MQTTUNSUB": return this.unsub(kind, line, at);
			case "+MQTTSTATE": return this.state(kind);
			case "+MQTTDISCONNECT": return this.disconnect(kind);
		}
		return false;
	}

	private fail(name: string, code: number): true {
		this.io.line(name + ":" + code);
		this.io.line("ERROR");
		return true;
	}

	private ok(...lines: string[]): true {
		for (const l of lines) this.io.line(l);
		this.io.line("OK");
		return true;
	}

	private tlsCmd(kind: number, line: string, at: number): boolean {
		const N = "+MQTTTLS";
		if (kind === KIND_TEST) return this.ok(N + ":(0-1)");
		if (kind === KIND_READ) return this.ok(N + ":" + this.tls);
		if (kind !== KIND_SET) return false;
		const a = splitArgs(line, at, 4);
		if (!a) return this.fail(N, 3);
		const tls = argInt(a[0], 0, 1);
		if (tls < 0 || a.length === 2 || a.length === 3) return this.fail(N, 3);
		if (a.length === 4) {
			const type = argInt(a[1], 0, 2), size = argInt(a[3], 1, CERT_MAX);
			const content = argText(a[2], CERT_MAX, false);
			if (type < 0 || size < 0 || content === undefined) return this.fail(N, 3);
			// A block that starts like PEM but does not parse (the seed's own example elides its
			// body: "-----BEGIN CERTIFICATE-----......") is stored as given and answered OK, as
			// a modem stores a file; AT+MQTTCONNECT then fails with code 2 (mqttc refuses it).
			const pem = normalizePem(content) ?? (content.indexOf("-----BEGIN ") === 0 ? content : undefined);
			if (!pem) return this.fail(N, 3);
			this.certs[type] = pem;
		}
		this.tls = tls;
		return this.ok();
	}

	private config(kind: number, line: string, at: number): boolean {
		const N = "+MQTTCONFIG";
		if (kind === KIND_TEST) return this.ok(N + ":<url>,<port>,<client id>,(0-1),<keepalive>,<username>,<password>");
		if (kind === KIND_READ) {
			if (!this.configured) return this.fail(N, 11);
			return this.ok(N + ":" + [this.host, this.port, this.clientId, this.clean, this.keepaliveS, this.user, this.pass].join(","));
		}
		if (kind !== KIND_SET) return false;
		const a = splitArgs(line, at, 7);
		if (!a || a.length < 5) return this.fail(N, 3);
		const host = argText(a[0], HOST_MAX, false), port = argInt(a[1], 1, 65535), id = argText(a[2], ID_MAX);
		const clean = argInt(a[3], 0, 1), ka = argInt(a[4], 0, 65535);
		const user = a.length > 5 ? argText(a[5], USER_MAX) : "", pass = a.length > 6 ? argText(a[6], PASS_MAX) : "";
		if (host === undefined || port < 0 || id === undefined || clean < 0 || ka < 0 || user === undefined || pass === undefined) return this.fail(N, 3);
		this.configured = true;
		this.host = host;
		this.port = port;
		this.clientId = id;
		this.clean = clean;
		this.keepaliveS = ka;
		this.user = user;
		this.pass = pass;
		return this.ok();
	}

	private ssl(): AtSsl {
		if (!this.tls) return false;
		const [ca, cert, key] = this.certs;
		if (!ca && !cert && !key) return true;
		const t: {server_cert?: string; client_cert?: string; client_key?: string} = {};
		if (ca) t.server_cert = ca;
		if (cert) t.client_cert = cert;
		if (key) t.client_key = key;
		return t;
	}

	private connect(kind: number): boolean {
		const N = "+MQTTCONNECT";
		if (kind === KIND_TEST) return this.ok();
		if (kind !== KIND_EXEC) return false;
		if (!this.configured) return this.fail(N, 11);
		if (this.phase === PH_CONNECTED && this.client) return this.ok(N + ":0");
		this.drop();
		const io = this.io;
		let c: AtClient | null;
		try {
			c = io.create(this.host, this.port, this.ssl(), {conn_timeout: OP_TIMEOUT_MS / 1000, binary: true, rxSize: io.rxSize, oversize: "skip", manual_ack: ACK_WAIT});
		} catch {
			c = null;
		}
		if (!c) return this.fail(N, 2);
		const user = this.user.length ? this.user : undefined, pass = this.pass.length ? this.pass : undefined;
		if (!c.auth(this.clientId, user, pass, this.clean === 1)) {
			c.close();
			return this.fail(N, 3);
		}
		c.keepalive(this.keepaliveS === 0 ? 600 : this.keepaliveS);
		this.client = c;
		c.on((_client: any, event: string, data?: any, payload?: any, metas?: any) => io.post(this, c, event, data, payload, metas));
		this.phase = PH_CONNECTING;
		if (!c.connect()) {
			this.drop();
			return this.fail(N, 5);
		}
		this.begin(OP_CONN, -1);
		return true;
	}

	private begin(op: number, id: number, topic = ""): void {
		this.op = op;
		this.opId = id;
		this.opTopic = topic;
		this.io.busy(true);
		// CONNECT has mqttc's conn_timeout (the same 5 s, reported through its disconnect event)
		if (op !== OP_CONN) this.opTimer = this.io.later(OP_TIMEOUT_MS, () => this.timedOut());
	}

	private end(): void {
		this.op = OP_NONE;
		this.opId = -1;
		this.io.cancel(this.opTimer);
		this.opTimer = undefined;
		this.io.busy(false);
	}

	/** The broker did not answer in time: code 8; the client stays connected. */
	private timedOut(): void {
		this.opTimer = undefined;
		const op = this.op;
		if (op === OP_NONE) return;
		this.end();
		this.fail(OP_NAMES[op], 8);
	}

	private pub(kind: number, line: string, at: number): boolean {
		const N = "+MQTTPUB";
		if (kind === KIND_TEST) return this.ok(N + ":<topic>,(0-2),(0-1);<message>");
		if (kind !== KIND_SET) return false;
		const a = splitArgs(line, at, 4);
		if (!a || a.length !== 4) return this.fail(N, 3);
		const topic = argText(a[0], TOPIC_MAX, false), qos = argInt(a[1], 0, 2), retain = argInt(a[2], 0, 1);
		if (topic === undefined || hasWildcard(topic) || qos < 0 || retain < 0) return this.fail(N, 3);
		if (this.phase !== PH_CONNECTED || !this.client) return this.fail(N, 5);
		const id = this.client.publish(topic, a[3].s, qos, retain);
		if (typeof id !== "number") return this.fail(N, 6);
		if (qos === 0) return this.ok();
		this.begin(OP_PUB, id); // OK once PUBACK (QoS 1) or PUBCOMP (QoS 2) is in
		return true;
	}

	private sub(kind: number, line: string, at: number): boolean {
		const N = "+MQTTSUB";
		if (kind === KIND_TEST) return this.ok(N + ":<topic>,(0-2)");
		if (kind === KIND_READ) {
			for (const s of this.subs) this.io.line(N + ":" + s.topic + "," + s.qos);
			this.io.line("OK");
			return true;
		}
		if (kind !== KIND_SET) return false;
		const a = splitArgs(line, at);
		if (!a || a.length !== 2) return this.fail(N, 3);
		const topic = argText(a[0], TOPIC_MAX, false), qos = argInt(a[1], 0, 2);
		if (topic === undefined || qos < 0) return this.fail(N, 3);
		if (this.phase !== PH_CONNECTED || !this.client) return this.fail(N, 5);
		if (this.subs.length >= SUBS_MAX && this.findSub(topic) < 0) return this.fail(N, 4);
		const id = this.client.subscribe(topic, qos);
		if (typeof id !== "number") return this.fail(N, 6);
		this.begin(OP_SUB, id, topic);
		return true;
	}

	private unsub(kind: number, line: string, at: number): boolean {
		const N = "+MQTTUNSUB";
		if (kind === KIND_TEST) return this.ok(N + ":<topic>");
		if (kind !== KIND_SET) return false;
		const a = splitArgs(line, at);
		if (!a || a.length !== 1) return this.fail(N, 3);
		const topic = argText(a[0], TOPIC_MAX, false);
		if (topic === undefined) return this.fail(N, 3);
		if (this.phase !== PH_CONNECTED || !this.client) return this.fail(N, 5);
		const id = this.client.unsubscribe(topic);
		if (typeof id !== "number") return this.fail(N, 6);
		this.begin(OP_UNSUB, id, topic);
		return true;
	}

	private state(kind: number): boolean {
		const N = "+MQTTSTATE";
		if (kind === KIND_TEST) return this.ok(N + ":(0-1)");
		if (kind !== KIND_EXEC && kind !== KIND_READ) return false;
		return this.ok(N + ":" + (this.phase === PH_CONNECTED ? 1 : 0));
	}

	private disconnect(kind: number): boolean {
		if (kind === KIND_TEST) return this.ok();
		if (kind !== KIND_EXEC) return false;
		const c = this.client;
		this.client = null;
		this.phase = PH_CLOSED;
		if (this.clean) this.subs = [];
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
		return this.ok();
	}

	private findSub(topic: string): number {
		for (let i = 0; i < this.subs.length; i++) if (this.subs[i].topic === topic) return i;
		return -1;
	}

	/** Forgets and closes the client without a word to the host. */
	private drop(): void {
		const c = this.client;
		this.client = null;
		this.phase = PH_CLOSED;
		if (c) {
			try {
				c.close();
			} catch {
				// ignore
			}
		}
	}

	close(): void {
		if (this.op !== OP_NONE) this.end();
		this.drop();
	}

	event(c: any, event: string, data: any, payload: any, metas: any): void {
		if (c !== this.client || !c) return;
		const io = this.io;
		switch (event) {
			case "conack":
				if (this.phase === PH_CONNECTING) {
					this.phase = PH_CONNECTED;
					if (this.op === OP_CONN) {
						this.end();
						this.ok("+MQTTCONNECT:0");
					}
				}
				return;
			case "disconnect": {
				const code = mqttCode(String(data));
				const was = this.phase, op = this.op;
				this.drop();
				if (this.clean) this.subs = [];
				if (op !== OP_NONE) this.end();
				if (op === OP_CONN) this.fail("+MQTTCONNECT", code === 0 ? 5 : code);
				else if (op === OP_SUB) this.fail("+MQTTSUB", 5);
				else if (op === OP_UNSUB) this.fail("+MQTTUNSUB", 5);
				else if (op === OP_PUB) this.fail("+MQTTPUB", 5);
				if (was === PH_CONNECTED) io.urc(["+MQTTDISCONNECTED:" + (code === 0 ? 5 : code)]);
				return;
			}
			case "suback": {
				const id = metas && typeof metas.message_id === "number" ? metas.message_id : -1;
				if (this.op !== OP_SUB || id !== this.opId) return;
				const granted = metas.codes && typeof metas.codes[0] === "number" ? metas.codes[0] : typeof payload === "number" ? payload : 0x80;
				const topic = this.opTopic;
				this.end();
				if (granted >= 0x80) {
					this.fail("+MQTTSUB", 9);
					return;
				}
				const i = this.findSub(topic);
				if (i >= 0) this.subs[i].qos = granted;
				else this.subs.push({topic, qos: granted});
				this.ok();
				return;
			}
			case "sent": {
				if (this.op !== OP_PUB || data !== this.opId) return;
				this.end();
				this.ok();
				return;
			}
			case "unsuback": {
				if (this.op !== OP_UNSUB || data !== this.opId) return;
				const i = this.findSub(this.opTopic);
				if (i >= 0) this.subs.splice(i, 1);
				this.end();
				this.ok();
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
