/*
 * mqttc/pem (part of the TLS feature, manifest_tls.json): the LuatOS `ssl` argument turned
 * into a Moddable SecureSocket `secure` dictionary.
 * Moddable's TLS wants DER bytes; LuatOS apps pass PEM text read from files, so PEM is
 * converted here once, at create(). Moddable trusts exactly one CA certificate per
 * connection (the client rotates through a bundle) and parses client keys as RSA PKCS#8:
 * an RSA key in PKCS#1 form (PEM "RSA PRIVATE KEY" or DER) is wrapped into PKCS#8; an
 * encrypted key is decrypted with client_password (mqttc/keys); non-RSA keys, and keys that
 * do not decrypt, are refused with a reason, at create(), rather than failing later inside
 * the handshake.
 */

import type { SslOptions, SecureDictionary, TlsSettings } from "mqttc/types";
import { isEncryptedKeyInfo, decryptPkcs8, decryptTraditional } from "mqttc/keys";


/** One PEM block: its label, its header lines (Proc-Type, DEK-Info; "" when none) and DER bytes. */
interface PemBlock { label: string; headers: string; der: Uint8Array; encrypted: boolean }

/** Value of a base64 character, or -1 for characters that are skipped (white space). */
function sextet(c: number): number {
	if (c >= 65 && c <= 90) return c - 65;
	if (c >= 97 && c <= 122) return c - 71;
	if (c >= 48 && c <= 57) return c + 4;
	if (c === 43) return 62;
	if (c === 47) return 63;
	return -1;
}

type FromBase64 = (text: string) => Uint8Array;

/** Decodes the base64 text in text[start, end), skipping line breaks and padding. (No
 * variable may be called `native`: the SDK's compiler takes `native(...)` for its own host
 * function syntax.) XS on a device (SDK 8.x) has Uint8Array.fromBase64, which takes PEM's line breaks as they are;
 * the desktop engine does not, and gets the loop below. */
function base64(text: string, start: number, end: number): Uint8Array {
	const fromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;
	if (fromBase64) {
		try {
			return fromBase64(text.slice(start, end));
		}
		catch {
			// not strict base64 (stray characters): the tolerant loop below decides
		}
	}
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
		let headers = "";
		if (header >= 0 && header < end) {
			const blank = text.slice(bodyStart, end).search(/\r?\n\r?\n/);
			if (blank >= 0) {
				headers = text.slice(bodyStart, bodyStart + blank);
				bodyStart += blank;
			}
		}
		const encrypted = label.indexOf("ENCRYPTED") >= 0 || headers.indexOf("ENCRYPTED") >= 0;
		blocks.push({ label, headers, der: base64(text, bodyStart, end), encrypted });
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

type Binary = ArrayBuffer | ArrayBufferView;

/**
 * Bytes given directly: an ArrayBuffer, a typed array or DataView, or a Moddable host
 * buffer (what `new Resource("ca.der")` returns: not an ArrayBuffer, but it has a
 * byteLength and SecureSocket reads it in place, from flash).
 */
function isBinary(value: unknown): value is Binary {
	if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return true;
	return typeof value === "object" && value !== null && typeof (value as { byteLength?: unknown }).byteLength === "number";
}

function bytesOf(value: Binary): Uint8Array {
	if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
	return new Uint8Array(value as ArrayBuffer);
}

/** Offset just past the DER tag and length at `at`, and the content length; or undefined. */
function derHeader(der: Uint8Array, at: number): { body: number; length: number } | undefined {
	if (at + 2 > der.length) return undefined;
	const first = der[at + 1];
	if (first < 0x80) return { body: at + 2, length: first };
	const count = first & 0x7F;
	if (count < 1 || count > 3 || at + 2 + count > der.length) return undefined;
	let length = 0;
	for (let i = 0; i < count; i++) length = length * 256 + der[at + 2 + i];
	return { body: at + 2 + count, length };
}

/** Offset just past the DER tag and length at `at`, or -1. */
function derBody(der: Uint8Array, at: number): number {
	return derHeader(der, at)?.body ?? -1;
}

/**
 * DER certificates: one, or several concatenated (`cat a.der b.der`), split at the
 * SEQUENCE boundaries. Bytes that do not tile into SEQUENCEs are handed over as they are
 * and left to the TLS stack to judge.
 */
function derCertificates(value: Binary): ArrayBuffer[] {
	if (!(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) return [value as ArrayBuffer];   // host buffer: keep in place
	const bytes = bytesOf(value);
	const parts: ArrayBuffer[] = [];
	for (let at = 0; at < bytes.length;) {
		const header = bytes[at] === 0x30 ? derHeader(bytes, at) : undefined;
		const end = header ? header.body + header.length : -1;
		if (!header || end > bytes.length) return [value instanceof ArrayBuffer ? value : copy(bytes)];
		parts.push(copy(bytes.subarray(at, end)));
		at = end;
	}
	if (parts.length === 1 && value instanceof ArrayBuffer) return [value];
	return parts.length ? parts : [copy(bytes)];
}

/** Certificates from PEM text or DER bytes, or a reason. */
function certificates(value: unknown, what: string): ArrayBuffer[] | string {
	if (typeof value === "string") {
		const certs = pemBlocks(value).filter((block) => block.label === "CERTIFICATE");
		if (!certs.length) return `${what}: no PEM CERTIFICATE block found`;
		return certs.map((block) => copy(block.der));
	}
	if (isBinary(value)) {
		if (!value.byteLength) return `${what} is empty`;
		return derCertificates(value);
	}
	return `${what} must be PEM text or DER bytes`;
}

const RSA_ENCRYPTION: readonly number[] = Object.freeze([0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]);

/** "pkcs8-rsa", "pkcs8-other", "pkcs1", "sec1" or "unknown" for DER private key bytes. */
function keyKind(der: Uint8Array): string {
	// PKCS#8: SEQUENCE { INTEGER 0, SEQUENCE { OID, ... }, OCTET STRING }
	// PKCS#1: SEQUENCE { INTEGER 0, INTEGER modulus, ... }
	// SEC1 (EC): SEQUENCE { INTEGER 1, OCTET STRING, ... }
	if (der[0] !== 0x30) return "unknown";
	const version = derBody(der, 0);
	if (version < 0 || der[version] !== 0x02 || der[version + 1] !== 0x01) return "unknown";
	const next = version + 3;
	if (der[version + 2] === 1 && der[next] === 0x04) return "sec1";
	if (der[next] === 0x02) return "pkcs1";
	if (der[next] !== 0x30) return "unknown";
	const oid = derBody(der, next);
	if (oid < 0) return "unknown";
	for (let i = 0; i < RSA_ENCRYPTION.length; i++)
		if (der[oid + i] !== RSA_ENCRYPTION[i]) return "pkcs8-other";
	return "pkcs8-rsa";
}

const ONLY_RSA = "Moddable's TLS signs with RSA keys only; use an RSA device key";

/** An unencrypted RSA key in DER as PKCS#8, or a reason. */
function rsaPkcs8(der: Uint8Array): ArrayBuffer | string {
	switch (keyKind(der)) {
	case "pkcs8-rsa": return copy(der);
	case "pkcs1": return copy(pkcs1ToPkcs8(der));
	case "pkcs8-other":
	case "sec1": return `client_key: not an RSA key (${ONLY_RSA})`;
	default: return "client_key: not a DER private key (PKCS#8 or PKCS#1)";
	}
}

/** A decrypted key as PKCS#8 DER, or the reason it did not decrypt. */
function decrypted(result: Uint8Array | string): ArrayBuffer | string {
	return typeof result === "string" ? result : rsaPkcs8(result);
}

/**
 * The private key as PKCS#8 DER, or a reason. An encrypted key (PEM "ENCRYPTED PRIVATE KEY"
 * or its DER, or traditional PEM with "Proc-Type: 4,ENCRYPTED") is decrypted here, once,
 * with `password` (Moddable's own PKCS8 module knows one RC4 scheme only); a password next
 * to an unencrypted key is ignored, as mbedTLS does on LuatOS.
 */
function privateKey(value: unknown, password: string | undefined): ArrayBuffer | string {
	if (isBinary(value)) {
		const der = bytesOf(value);
		return isEncryptedKeyInfo(der) ? decrypted(decryptPkcs8(der, password)) : rsaPkcs8(der);
	}
	if (typeof value !== "string") return "client_key must be PEM text or DER bytes";
	const block = pemBlocks(value).find((b) => b.label.endsWith("PRIVATE KEY"));
	if (!block) return "client_key: no PEM PRIVATE KEY block found";
	if (block.label === "ENCRYPTED PRIVATE KEY") return decrypted(decryptPkcs8(block.der, password));
	if (block.label !== "PRIVATE KEY" && block.label !== "RSA PRIVATE KEY") return `client_key: "${block.label}" is not supported (${ONLY_RSA})`;
	if (block.encrypted) return decrypted(decryptTraditional(block.der, block.headers, password));
	return rsaPkcs8(block.der);
}

/** The `secure` dictionary for an `ssl` argument, or the reason it cannot be used. */
export function tlsSettings(ssl: true | SslOptions): TlsSettings | string {
	const secure: SecureDictionary = { verify: true, cache: false };
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
		if (ssl.client_password !== undefined && typeof ssl.client_password !== "string") return "client_password must be a string";
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
