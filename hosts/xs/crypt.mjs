// @ts-check
/**
 * The parent's half of the desktop XS host's `crypt` model (guest: hosts/xs/guest/crypt.js):
 * digests and block ciphers run by Node's crypto. Records arrive as OP.CRYPT with the
 * object id and a payload `u8 operation | bytes`; closing a digest and running a cipher
 * answer with bytes, the other operations answer nothing.
 */
import crypto from "node:crypto";

const DIGEST_NEW = 1, DIGEST_WRITE = 2, DIGEST_RESET = 3, DIGEST_CLOSE = 4, DIGEST_CLOSE_MORE = 5, CIPHER = 6;

/** @type {Record<string, string>} the SDK's digest names -> Node's */
const NODE_DIGESTS = { MD5: "md5", SHA1: "sha1", SHA224: "sha224", SHA256: "sha256", SHA384: "sha384", SHA512: "sha512" };

const AES = 3, DES = 1, TDES = 2;
const ECB = 0;

export class CryptModel {
	constructor() {
		/** @type {Map<number, {algorithm: string, hash: crypto.Hash | undefined}>} */
		this.digests = new Map();
	}

	/**
	 * Applies one record; returns the answer for a close or a cipher call.
	 * @param {number} id @param {Uint8Array} payload
	 * @returns {Uint8Array | undefined}
	 */
	apply(id, payload) {
		const operation = payload[0];
		const bytes = payload.subarray(1);
		if (operation === CIPHER)
			return this.cipher(bytes);
		if (operation === DIGEST_NEW) {
			const algorithm = NODE_DIGESTS[new TextDecoder().decode(bytes)];
			if (!algorithm)
				throw new Error("xs host protocol error: unknown digest");
			this.digests.set(id, { algorithm, hash: crypto.createHash(algorithm) });
			return undefined;
		}
		const digest = this.digests.get(id);
		if (!digest)
			throw new Error(`xs host protocol error: no digest ${id}`);
		switch (operation) {
			case DIGEST_WRITE:
				(digest.hash ??= crypto.createHash(digest.algorithm)).update(bytes);
				return undefined;
			case DIGEST_RESET:
				digest.hash = crypto.createHash(digest.algorithm);
				return undefined;
			case DIGEST_CLOSE_MORE:
				return (digest.hash ??= crypto.createHash(digest.algorithm)).copy().digest();
			case DIGEST_CLOSE: {
				const result = (digest.hash ?? crypto.createHash(digest.algorithm)).digest();
				digest.hash = undefined;
				return result;
			}
			default:
				throw new Error(`xs host protocol error: unknown crypt operation ${operation}`);
		}
	}

	/**
	 * Whole blocks through a cipher: kind, chaining, encrypt, key length, key, iv length, iv, data.
	 * DES is DES-EDE3 with K1 = K2 = K3 (the same cipher), as OpenSSL 3 keeps single DES
	 * in its legacy provider only. TDES decryption is modCrypt.c's, see tdesDecrypt().
	 * @param {Uint8Array} bytes
	 */
	cipher(bytes) {
		const [kind, chaining, encrypt, keyLength] = bytes;
		let key = bytes.subarray(4, 4 + keyLength);
		const ivLength = bytes[4 + keyLength];
		const iv = bytes.subarray(5 + keyLength, 5 + keyLength + ivLength);
		const data = bytes.subarray(5 + keyLength + ivLength);
		if (kind === TDES && !encrypt)
			return tdesDecrypt(key, chaining === ECB ? undefined : iv, data);
		const mode = chaining === ECB ? "ecb" : "cbc";
		let algorithm;
		if (kind === AES)
			algorithm = `aes-${keyLength * 8}-${mode}`;
		else if (kind === TDES)
			algorithm = `des-ede3-${mode}`;
		else if (kind === DES) {
			algorithm = `des-ede3-${mode}`;
			key = Buffer.concat([key, key, key]);
		}
		else
			throw new Error(`xs host protocol error: unknown cipher ${kind}`);
		const run = encrypt
			? crypto.createCipheriv(algorithm, key, chaining === ECB ? null : iv)
			: crypto.createDecipheriv(algorithm, key, chaining === ECB ? null : iv);
		run.setAutoPadding(false);
		return Buffer.concat([run.update(data), run.final()]);
	}
}

/** @param {Uint8Array} key 8 bytes @param {boolean} encrypt @param {Uint8Array} data whole blocks */
function des(key, encrypt, data) {
	const k = Buffer.concat([key, key, key]);
	const run = encrypt ? crypto.createCipheriv("des-ede3-ecb", k, null) : crypto.createDecipheriv("des-ede3-ecb", k, null);
	run.setAutoPadding(false);
	return Buffer.concat([run.update(data), run.final()]);
}

/**
 * TDES decryption as modCrypt.c does it (SDK 8.2.3, unchanged since 2019): its key schedules
 * are K1 decrypting, K2 encrypting, K3 decrypting, applied in that order, so a block is
 * D_K3(E_K2(D_K1(c))), where DES-EDE3 decryption is D_K1(E_K2(D_K3(c))): the two agree only
 * when K1 = K3 (8- and 16-byte keys). Encryption (E_K1, D_K2, E_K3) is the standard one.
 * CBC chains over the result as modCrypt.c's Mode does: plain = block XOR previous ciphertext.
 * @param {Uint8Array} key 24 bytes @param {Uint8Array | undefined} iv @param {Uint8Array} data
 */
function tdesDecrypt(key, iv, data) {
	const blocks = des(key.subarray(16, 24), false, des(key.subarray(8, 16), true, des(key.subarray(0, 8), false, data)));
	if (iv)
		for (let i = 0; i < blocks.length; i++)
			blocks[i] ^= i < 8 ? iv[i] : data[i - 8];
	return blocks;
}
