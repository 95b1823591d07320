/*
 * The LuatOS `ssl` argument turned into a Moddable SecureSocket `secure` dictionary.
 * Moddable's TLS wants DER bytes; LuatOS apps pass PEM text read from files, so PEM is
 * converted here once, at create(). Moddable trusts exactly one CA certificate per
 * connection and parses client keys as PKCS#8: an RSA key in PKCS#1 form ("RSA PRIVATE
 * KEY") is wrapped into PKCS#8; other key forms are refused with a reason.
 */

import type { SslOptions } from "mqttc/types";

export interface SecureDictionary {
	verify: boolean;
	certificate?: ArrayBuffer;
	clientCertificates?: ArrayBuffer[];
	clientKey?: ArrayBuffer;
	applicationLayerProtocolNegotiation?: string | string[];
	serverName?: string;
	protocolVersion?: number;
}

export interface TlsSettings {
	secure: SecureDictionary;
	/** Every CA certificate given; a connection trusts one of them at a time (see client). */
	authorities: ArrayBuffer[];
}

/** One PEM block: its label and DER bytes. */
interface PemBlock { label: string; der: Uint8Array; encrypted: boolean }

/** Value of a base64 character, or -1 for characters that are skipped (white space). */
function sextet(c: number): number {
	if (c >= 65 && c <= 90) return c - 65;
	if (c >= 97 && c <= 122) return c - 71;
	if (c >= 48 && c <= 57) return c + 4;
	if (c === 43) return 62;
	if (c === 47) return 63;
	return -1;
}

/** Decodes the base64 text in text[start, end), skipping line breaks and padding. */
function base64(text: string, start: number, end: number): Uint8Array {
	const out = new Uint8Array(((end - start) * 3) >> 2);
	let bits = 0;
	let count = 0;
	let length = 0;
	for (let i = start; i < end; i++) {
		const value = sextet(text.charCodeAt(i));
		if (value < 0) continue;
		bits = (bits << 6) | value;
		count += 6;
		if (count >= 8) {
			count -= 8;
			out[length++] = (bits >> count) & 0xFF;
		}
	}
	return out.subarray(0, length);
}

/** Every PEM block in `text` (CRLF or LF line ends). */
function pemBlocks(text: string): PemBlock[] {
	const blocks: PemBlock[] = [];
	let at = 0;
	for (;;) {
		const begin = text.indexOf("-----BEGIN ", at);
		if (begin < 0) return blocks;
		const labelEnd = text.indexOf("-----", begin + 11);
		if (labelEnd < 0) return blocks;
		const label = text.slice(begin + 11, labelEnd);
		const endMarker = `-----END ${label}-----`;
		const end = text.indexOf(endMarker, labelEnd);
		if (end < 0) return blocks;
		let bodyStart = labelEnd + 5;
		// Headers such as "Proc-Type: 4,ENCRYPTED" end with a blank line.
		const header = text.indexOf(":", bodyStart);
		let encrypted = label.indexOf("ENCRYPTED") >= 0;
		if (header >= 0 && header < end) {
			encrypted ||= text.slice(bodyStart, end).indexOf("ENCRYPTED") >= 0;
			const blank = text.slice(bodyStart, end).search(/\r?\n\r?\n/);
			if (blank >= 0) bodyStart += blank;
		}
		blocks.push({ label, der: base64(text, bodyStart, end), encrypted });
		at = end + endMarker.length;
	}
}

/** DER length bytes for `length`. */
function derLength(length: number): number[] {
	if (length < 0x80) return [length];
	const bytes: number[] = [];
	for (let value = length; value > 0; value >>>= 8) bytes.unshift(value & 0xFF);
	return [0x80 | bytes.length, ...bytes];
}

/** Wraps a PKCS#1 RSAPrivateKey into a PKCS#8 PrivateKeyInfo. */
function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
	// version 0, AlgorithmIdentifier { rsaEncryption, NULL }
	const prefix = [0x02, 0x01, 0x00, 0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00];
	const octet = [0x04, ...derLength(pkcs1.length)];
	const inner = prefix.length + octet.length + pkcs1.length;
	const head = [0x30, ...derLength(inner), ...prefix, ...octet];
	const out = new Uint8Array(head.length + pkcs1.length);
	out.set(head, 0);
	out.set(pkcs1, head.length);
	return out;
}

function copy(bytes: Uint8Array): ArrayBuffer {
	return bytes.slice().buffer;
}

/** DER bytes given directly (ArrayBuffer or view). */
function derOf(value: ArrayBuffer | ArrayBufferView): ArrayBuffer {
	if (value instanceof ArrayBuffer) return value;
	return copy(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
}

/** Certificates from PEM text or DER bytes, or a reason. */
function certificates(value: unknown, what: string): ArrayBuffer[] | string {
	if (typeof value === "string") {
		const certs = pemBlocks(value).filter((block) => block.label === "CERTIFICATE");
		if (!certs.length) return `${what}: no PEM CERTIFICATE block found`;
		return certs.map((block) => copy(block.der));
	}
	if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return [derOf(value)];
	return `${what} must be PEM text or DER bytes`;
}

/** The private key as PKCS#8 DER, or a reason. */
function privateKey(value: unknown, password: unknown): ArrayBuffer | string {
	if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return derOf(value);
	if (typeof value !== "string") return "client_key must be PEM text or DER bytes";
	const block = pemBlocks(value).find((b) => b.label.endsWith("PRIVATE KEY"));
	if (!block) return "client_key: no PEM PRIVATE KEY block found";
	if (block.encrypted || password !== undefined)
		return "client_key: encrypted keys (client_password) are not supported by Moddable's TLS; decrypt it first (openssl pkcs8 -topk8 -nocrypt)";
	if (block.label === "PRIVATE KEY") return copy(block.der);
	if (block.label === "RSA PRIVATE KEY") return copy(pkcs1ToPkcs8(block.der));
	return `client_key: "${block.label}" is not supported; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)`;
}

/** The `secure` dictionary for an `ssl` argument, or the reason it cannot be used. */
export function tlsSettings(ssl: true | SslOptions): TlsSettings | string {
	const secure: SecureDictionary = { verify: true };
	const settings: TlsSettings = { secure, authorities: [] };
	if (ssl === true) return settings;
	if (typeof ssl !== "object" || ssl === null) return "ssl must be true or a table";
	const verify = ssl.verify ?? 2;
	if (verify !== 0 && verify !== 1 && verify !== 2) return "ssl.verify must be 0, 1 or 2";
	// Moddable cannot continue past a failed check and report it, so "optional" means "not checked".
	secure.verify = verify === 2;
	if (ssl.server_cert !== undefined) {
		const certs = certificates(ssl.server_cert, "server_cert");
		if (typeof certs === "string") return certs;
		settings.authorities = certs;
		secure.certificate = certs[0];
	}
	if (ssl.client_cert !== undefined || ssl.client_key !== undefined) {
		if (ssl.client_cert === undefined || ssl.client_key === undefined) return "client_cert and client_key go together";
		const certs = certificates(ssl.client_cert, "client_cert");
		if (typeof certs === "string") return certs;
		const key = privateKey(ssl.client_key, ssl.client_password);
		if (typeof key === "string") return key;
		secure.clientCertificates = certs;
		secure.clientKey = key;
	}
	else if (ssl.client_password !== undefined) return "client_password given without client_key";
	if (ssl.alpn !== undefined) secure.applicationLayerProtocolNegotiation = ssl.alpn;
	if (ssl.server_name !== undefined) secure.serverName = ssl.server_name;
	return settings;
}
