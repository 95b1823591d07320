/*
 * mqttc-at/mqttcerts: AT+MQTTTLS of dialect B (mqttc-at/mqttset): whether the next
 * AT+MQTTCONNECT uses TLS, and the PEM blocks it was given (CA, client certificate, client
 * key), turned into the `ssl` argument of mqtt.create. (The module's name avoids "tls": no
 * module but mqttc/tls itself may seem to import TLS; tests/npm-pack.test.mjs checks that.)
 */

import type {AtSsl} from "mqttc-at/types";
import {argInt, argText, type Arg} from "mqttc-at/parser";

const CERT_MAX = 1536;

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

export class MqttCerts {
	/** 1: the next AT+MQTTCONNECT uses TLS. */
	tls = 0;
	/** PEM blocks by <type>: 0 CA, 1 client certificate, 2 client key. */
	private certs: (string | undefined)[] = [undefined, undefined, undefined];

	/** AT+MQTTTLS=<0|1>[,<type>,<content>,<size>]: false (-> code 3) when the arguments are wrong. */
	set(a: Arg[] | undefined): boolean {
		if (!a) return false;
		const tls = argInt(a[0], 0, 1);
		if (tls < 0 || a.length === 2 || a.length === 3) return false;
		if (a.length === 4) {
			const type = argInt(a[1], 0, 2), size = argInt(a[3], 1, CERT_MAX);
			const content = argText(a[2], CERT_MAX, false);
			if (type < 0 || size < 0 || content === undefined) return false;
			// A block that starts like PEM but does not parse (the seed's own example elides its
			// body: "-----BEGIN CERTIFICATE-----......") is stored as given and answered OK, as
			// a modem stores a file; AT+MQTTCONNECT then fails with code 2 (mqttc refuses it).
			const pem = normalizePem(content) ?? (content.indexOf("-----BEGIN ") === 0 ? content : undefined);
			if (!pem) return false;
			this.certs[type] = pem;
		}
		this.tls = tls;
		return true;
	}

	/** The `ssl` argument of mqtt.create for the next connection. */
	ssl(): AtSsl {
		if (!this.tls) return false;
		const [ca, cert, key] = this.certs;
		if (!ca && !cert && !key) return true;
		const t: {server_cert?: string; client_cert?: string; client_key?: string} = {};
		if (ca) t.server_cert = ca;
		if (cert) t.client_cert = cert;
		if (key) t.client_key = key;
		return t;
	}
}
