/*
 * Encrypted private keys, decrypted once at create() with the pass phrase
 * (client_password), by the SDK's native `crypt` primitives (Digest, BlockCipher, Mode):
 * no cipher or hash in JavaScript (the only byte loops: the HMAC pads, once per key, and the
 * PKCS#7 pad check). The two forms openssl writes:
 * - PKCS#8 EncryptedPrivateKeyInfo ("ENCRYPTED PRIVATE KEY", or its DER) with PBES2:
 *   PBKDF2 with HMAC-SHA-1/224/256/384/512, and AES-128/192/256-CBC, DES-EDE3-CBC or DES-CBC;
 * - traditional PEM ("Proc-Type: 4,ENCRYPTED", "DEK-Info: <cipher>,<hex IV>"), whose key is
 *   OpenSSL's EVP_BytesToKey: MD5, one iteration, salt = the first 8 bytes of the IV.
 * A result is the decrypted DER (PKCS#8; PKCS#1 for traditional RSA PEM) or a reason. A
 * wrong pass phrase shows as bad PKCS#7 padding or bytes that are not one DER SEQUENCE.
 * Part of mqttc's TLS feature: listed in manifest_tls.json, imported by mqttc/tls only.
 */

import { Digest, BlockCipher, Mode } from "crypt";

/**
 * The most PBKDF2 iterations accepted. Each is two HMACs: four native hash blocks and nine
 * native calls. The Linux simulator takes about 2 us per iteration; an ESP32 at 240 MHz, some 50
 * times slower (an estimate), about 0.1 ms: openssl's default 2048 costs a fraction of a
 * second in create(), this bound about ten seconds of a device that does nothing else.
 */
export const MAX_ITERATIONS = 100000;

type Hash = "SHA1" | "SHA224" | "SHA256" | "SHA384" | "SHA512";
interface Cipher { readonly name: "AES" | "DES" | "TDES"; readonly keySize: number; readonly blockSize: number; readonly label: string; readonly oid: string }
interface Element { readonly tag: number; readonly body: number; readonly end: number }

const SEQUENCE = 0x30, INTEGER = 0x02, OCTET_STRING = 0x04, OID = 0x06;

// Object identifiers as strings of their DER content bytes (one character per byte).
const PKCS5 = "\x2A\x86\x48\x86\xF7\x0D\x01\x05";           // 1.2.840.113549.1.5
const PBES2 = PKCS5 + "\x0D";                               // 1.2.840.113549.1.5.13
const PBKDF2 = PKCS5 + "\x0C";                              // 1.2.840.113549.1.5.12
const PKCS12_PBE = "\x2A\x86\x48\x86\xF7\x0D\x01\x0C\x01";  // 1.2.840.113549.1.12.1
const SCRYPT = "\x2B\x06\x01\x04\x01\xDA\x47\x04\x0B";      // 1.3.6.1.4.1.11591.4.11
const HMAC = "\x2A\x86\x48\x86\xF7\x0D\x02";                // 1.2.840.113549.2: .7 SHA1 .. .11 SHA512
const NIST_AES = "\x60\x86\x48\x01\x65\x03\x04\x01";        // 2.16.840.1.101.3.4.1: .2 .22 .42 = 128/192/256-CBC
const DES_EDE3_CBC = "\x2A\x86\x48\x86\xF7\x0D\x03\x07";    // 1.2.840.113549.3.7
const DES_CBC = "\x2B\x0E\x03\x02\x07";                     // 1.3.14.3.2.7

/** The ciphers: the SDK's BlockCipher name, key and block sizes, DEK-Info name, PBES2 OID. */
const CIPHERS: readonly Cipher[] = Object.freeze([
	Object.freeze({ name: "AES", keySize: 16, blockSize: 16, label: "AES-128-CBC", oid: NIST_AES + "\x02" }),
	Object.freeze({ name: "AES", keySize: 24, blockSize: 16, label: "AES-192-CBC", oid: NIST_AES + "\x16" }),
	Object.freeze({ name: "AES", keySize: 32, blockSize: 16, label: "AES-256-CBC", oid: NIST_AES + "\x2A" }),
	Object.freeze({ name: "TDES", keySize: 24, blockSize: 8, label: "DES-EDE3-CBC", oid: DES_EDE3_CBC }),
	Object.freeze({ name: "DES", keySize: 8, blockSize: 8, label: "DES-CBC", oid: DES_CBC }),
] as const);
/** HMAC OIDs end in 7..11: SHA-1, SHA-224, SHA-256, SHA-384, SHA-512. */
const HASHES: readonly Hash[] = Object.freeze(["SHA1", "SHA224", "SHA256", "SHA384", "SHA512"] as const);

const MALFORMED = "client_key: malformed encrypted key";
const MISSING = "client_key is encrypted: client_password is needed";
const WRONG = "client_password is wrong: client_key does not decrypt to a private key";
const SUPPORTED = "PBES2 with PBKDF2 and AES-CBC or DES-EDE3-CBC is: openssl pkcs8 -topk8 -v2 aes-256-cbc";

/** The DER element at `at`, ending by `limit`, or undefined. */
function element(der: Uint8Array, at: number, limit: number): Element | undefined {
	if (at + 2 > limit) return undefined;
	let length = der[at + 1];
	let body = at + 2;
	if (length & 0x80) {
		const count = length & 0x7F;
		if (count < 1 || count > 3 || body + count > limit) return undefined;
		length = 0;
		for (let i = 0; i < count; i++) length = length * 256 + der[body + i];
		body += count;
	}
	const end = body + length;
	return end <= limit ? { tag: der[at], body, end } : undefined;
}

/** The element at `at` with `tag`; throws the MALFORMED reason otherwise. */
function take(der: Uint8Array, at: number, limit: number, tag: number): Element {
	const found = element(der, at, limit);
	if (!found || found.tag !== tag) throw MALFORMED;
	return found;
}

/** An OID's content bytes as a string, for comparison with the constants above. */
function oid(der: Uint8Array, e: Element): string {
	return String.fromCharCode.apply(null, der.subarray(e.body, e.end) as unknown as number[]);
}

/** An OID in dotted form, for reasons only. */
function dotted(der: Uint8Array, e: Element): string {
	let text = "";
	let value = 0;
	for (let i = e.body; i < e.end; i++) {
		value = value * 128 + (der[i] & 0x7F);
		if (der[i] & 0x80) continue;
		text += text ? `.${value}` : (value < 80 ? `${(value / 40) | 0}.${value % 40}` : `2.${value - 80}`);
		value = 0;
	}
	return text;
}

/** A small non-negative INTEGER; -1 when it has more than 4 bytes or is negative. */
function integer(der: Uint8Array, e: Element): number {
	if (e.end - e.body > 4 || e.end === e.body || der[e.body] & 0x80) return -1;
	let value = 0;
	for (let i = e.body; i < e.end; i++) value = value * 256 + der[i];
	return value;
}

function prfHash(id: string): Hash | undefined {
	return id.length === HMAC.length + 1 && id.startsWith(HMAC) ? HASHES[id.charCodeAt(HMAC.length) - 7] : undefined;
}

/**
 * PBKDF2 (RFC 8018) with HMAC over one native Digest: `length` bytes of key. The blocks
 * U_1 ^ U_2 ^ ... are XORed as BigInts (XS's BigInt.fromArrayBuffer and ArrayBuffer.fromBigInt),
 * natively, not byte by byte in JavaScript: half the bytecode of a Uint32Array loop.
 */
function pbkdf2(hash: Hash, password: ArrayBuffer, salt: ArrayBuffer, iterations: number, length: number): ArrayBuffer {
	const digest = new Digest(hash);
	const blockSize = digest.blockSize;
	const size = digest.outputSize;
	let secret = new Uint8Array(password);
	if (secret.length > blockSize) {
		digest.write(password);
		secret = new Uint8Array(digest.close());
	}
	const ipad = new Uint8Array(blockSize).fill(0x36);
	const opad = new Uint8Array(blockSize).fill(0x5C);
	for (let i = 0; i < secret.length; i++) {	// once per key
		ipad[i] ^= secret[i];
		opad[i] ^= secret[i];
	}
	const inner = ipad.buffer, outer = opad.buffer;
	const key = new Uint8Array(length);
	const index = new Uint8Array(4);
	for (let at = 0; at < length; at += size) {
		index[3]++;
		digest.reset(); digest.write(inner); digest.write(salt); digest.write(index.buffer);
		let u = digest.close();
		digest.reset(); digest.write(outer); digest.write(u);
		u = digest.close();
		let t = BigInt.fromArrayBuffer(u) as unknown as bigint;
		for (let n = 1; n < iterations; n++) {
			digest.reset(); digest.write(inner); digest.write(u);
			u = digest.close();
			digest.reset(); digest.write(outer); digest.write(u);
			u = digest.close();
			t ^= BigInt.fromArrayBuffer(u) as unknown as bigint;
		}
		// fromBigInt writes no leading zero bytes: align right in a block of the digest's size
		const bytes = new Uint8Array(ArrayBuffer.fromBigInt(t));
		const block = new Uint8Array(size);
		block.set(bytes.subarray(Math.max(0, bytes.length - size)), Math.max(0, size - bytes.length));
		key.set(block.subarray(0, length - at), at);
	}
	return key.buffer;
}

/** OpenSSL's EVP_BytesToKey with MD5 and one iteration: D_i = MD5(D_i-1 | password | salt). */
function bytesToKey(password: ArrayBuffer, salt: ArrayBuffer, length: number): ArrayBuffer {
	const md5 = new Digest("MD5");
	const key = new Uint8Array(length);
	let d: ArrayBuffer | undefined;
	for (let at = 0; at < length; at += 16) {
		md5.reset();
		if (d) md5.write(d);
		md5.write(password);
		md5.write(salt);
		d = md5.close();
		key.set(new Uint8Array(d).subarray(0, length - at), at);
	}
	return key.buffer;
}

/**
 * The SDK's TDES for decrypting with `key`. modCrypt.c (8.2.3) decrypts with its three key
 * schedules in encryption order, D_K1 then E_K2 then D_K3, which undoes DES-EDE3 only when
 * K1 = K3; given K3|K2|K1 it undoes it. An SDK that decrypts what it encrypts gets the key as is.
 */
function tdes(key: ArrayBuffer): BlockCipher {
	const cipher = new BlockCipher("TDES", key);
	const back = new Uint32Array(cipher.decrypt(cipher.encrypt(new ArrayBuffer(8))));
	if (!back[0] && !back[1]) return cipher;
	const k = new Uint8Array(key), reversed = new Uint8Array(24);
	reversed.set(k.subarray(16, 24), 0);
	reversed.set(k.subarray(8, 16), 8);
	reversed.set(k.subarray(0, 8), 16);
	return new BlockCipher("TDES", reversed.buffer);
}

/** CBC decryption, then the checks that tell a wrong pass phrase: PKCS#7 padding, and
 * exactly one DER SEQUENCE before it. */
function decrypt(cipher: Cipher, key: ArrayBuffer, iv: ArrayBuffer, data: Uint8Array): Uint8Array {
	if (!data.length || data.length % cipher.blockSize) throw MALFORMED;
	const block = cipher.name === "TDES" ? tdes(key) : new BlockCipher(cipher.name, key);
	const plain = new Uint8Array(new Mode("CBC", block, iv).decrypt(data));
	const pad = plain[plain.length - 1];
	const length = plain.length - pad;
	if (pad < 1 || pad > cipher.blockSize) throw WRONG;
	for (let i = length; i < plain.length; i++) if (plain[i] !== pad) throw WRONG;
	const sequence = element(plain, 0, length);
	if (!sequence || sequence.tag !== SEQUENCE || sequence.end !== length) throw WRONG;
	return plain.subarray(0, length);
}

function reason(e: unknown): string {
	if (typeof e === "string") return e;
	throw e;
}

/** Whether DER bytes are an EncryptedPrivateKeyInfo: SEQUENCE { SEQUENCE { OID, ... }, ... }
 * (an unencrypted key starts with an INTEGER). */
export function isEncryptedKeyInfo(der: Uint8Array): boolean {
	const info = element(der, 0, der.length);
	if (!info || info.tag !== SEQUENCE) return false;
	const first = element(der, info.body, info.end);
	return first !== undefined && first.tag === SEQUENCE && der[first.body] === OID;
}

/** An EncryptedPrivateKeyInfo (PKCS#8, PBES2) decrypted: the PrivateKeyInfo DER, or a reason. */
export function decryptPkcs8(der: Uint8Array, password: string | undefined): Uint8Array | string {
	try {
		const info = take(der, 0, der.length, SEQUENCE);
		const algorithm = take(der, info.body, info.end, SEQUENCE);
		const scheme = take(der, algorithm.body, algorithm.end, OID);
		const schemeId = oid(der, scheme);
		if (schemeId !== PBES2) {
			const kind = schemeId.startsWith(PKCS5) ? "PBES1" : schemeId.startsWith(PKCS12_PBE) ? "PKCS#12 PBE" : "unknown";
			throw `client_key: ${kind} encryption (${dotted(der, scheme)}) is not supported (${SUPPORTED})`;
		}
		const params = take(der, scheme.end, algorithm.end, SEQUENCE);
		const kdf = take(der, params.body, params.end, SEQUENCE);
		const kdfName = take(der, kdf.body, kdf.end, OID);
		const kdfId = oid(der, kdfName);
		if (kdfId !== PBKDF2)
			throw `client_key: key derivation ${kdfId === SCRYPT ? "scrypt" : dotted(der, kdfName)} is not supported (${SUPPORTED})`;
		const kdfParams = take(der, kdfName.end, kdf.end, SEQUENCE);
		const salt = element(der, kdfParams.body, kdfParams.end);
		if (!salt || salt.tag !== OCTET_STRING) throw `${MALFORMED} (PBKDF2 salt)`;
		const count = take(der, salt.end, kdfParams.end, INTEGER);
		let at = count.end;
		let keyLength = -1;
		if (at < kdfParams.end && der[at] === INTEGER) {
			const e = take(der, at, kdfParams.end, INTEGER);
			keyLength = integer(der, e);
			at = e.end;
		}
		let hash: Hash | undefined = "SHA1";
		if (at < kdfParams.end) {
			const prf = take(der, at, kdfParams.end, SEQUENCE);
			const prfName = take(der, prf.body, prf.end, OID);
			hash = prfHash(oid(der, prfName));
			if (!hash) throw `client_key: PBKDF2 pseudo-random function ${dotted(der, prfName)} is not supported (HMAC with SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512 is)`;
		}
		const encryption = take(der, kdf.end, params.end, SEQUENCE);
		const cipherName = take(der, encryption.body, encryption.end, OID);
		const cipherId = oid(der, cipherName);
		const cipher = CIPHERS.find((c) => c.oid === cipherId);
		if (!cipher) throw `client_key: cipher ${dotted(der, cipherName)} is not supported (AES-128/192/256-CBC, DES-EDE3-CBC and DES-CBC are)`;
		const iv = take(der, cipherName.end, encryption.end, OCTET_STRING);
		const data = take(der, algorithm.end, info.end, OCTET_STRING);
		if (iv.end - iv.body !== cipher.blockSize || (keyLength >= 0 && keyLength !== cipher.keySize)) throw MALFORMED;
		const iterations = integer(der, count);
		if (iterations === 0) throw MALFORMED;
		if (iterations < 0 || iterations > MAX_ITERATIONS)
			throw `client_key: PBKDF2 iteration count ${iterations < 0 ? "over 2^31" : iterations} is above mqttc's limit of ${MAX_ITERATIONS} (create() would block the device for too long): re-encrypt it with openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 2048`;
		if (password === undefined) throw MISSING;
		const key = pbkdf2(hash, ArrayBuffer.fromString(password), der.slice(salt.body, salt.end).buffer, iterations, cipher.keySize);
		return decrypt(cipher, key, der.slice(iv.body, iv.end).buffer, der.slice(data.body, data.end));
	}
	catch (e) {
		return reason(e);
	}
}

/** A traditional encrypted PEM body (`der`) with its `headers` (Proc-Type, DEK-Info)
 * decrypted: the inner DER (PKCS#1 for an RSA key), or a reason. */
export function decryptTraditional(der: Uint8Array, headers: string, password: string | undefined): Uint8Array | string {
	const dekInfo = /DEK-Info:[ \t]*([^ \t\r\n,]+)[ \t]*,[ \t]*([0-9A-Fa-f]*)/.exec(headers);
	if (!dekInfo) return `${MALFORMED} (no DEK-Info header)`;
	const cipher = CIPHERS.find((c) => c.label === dekInfo[1].toUpperCase());
	if (!cipher) return `client_key: cipher ${dekInfo[1]} is not supported (AES-128/192/256-CBC, DES-EDE3-CBC and DES-CBC are)`;
	const hex = dekInfo[2];
	if (hex.length !== cipher.blockSize * 2) return `${MALFORMED} (DEK-Info IV)`;
	if (password === undefined) return MISSING;
	const iv = new DataView(new ArrayBuffer(cipher.blockSize));
	for (let i = 0; i < hex.length; i += 8) iv.setUint32(i >> 1, parseInt(hex.slice(i, i + 8), 16));
	try {
		const key = bytesToKey(ArrayBuffer.fromString(password), iv.buffer.slice(0, 8), cipher.keySize);
		return decrypt(cipher, key, iv.buffer, der);
	}
	catch (e) {
		return reason(e);
	}
}
