/*
 * BlockCipher and Mode of the Moddable SDK's `crypt` module (modules/crypt/digest/crypt.js,
 * native in modCrypt.c), which the SDK's own typings/crypt.d.ts (Digest only) leaves out.
 * Declared as an addition to that module: mqttc's manifest_tls.json gives this file to the
 * tsconfig mcconfig generates, next to the SDK's typings; tsconfig.json uses it with
 * crypt-digest.d.ts. Only what modCrypt.c accepts is allowed here.
 */

declare module "crypt" {
	export class BlockCipher {
		/** "AES" (16, 24 or 32-byte key), "DES" (first 8 bytes), "TDES" (up to 24 bytes:
		 * 8 gives K1=K2=K3, 16 gives K3=K1). The key must be an ArrayBuffer. */
		constructor(cipher: "AES" | "DES" | "TDES", key: ArrayBuffer);
		/** The first block of `data`, into `result` when given (else a new ArrayBuffer). */
		encrypt(data: ArrayBuffer | string, result?: ArrayBuffer): ArrayBuffer;
		decrypt(data: ArrayBuffer | string, result?: ArrayBuffer): ArrayBuffer;
		get keySize(): number;
		get blockSize(): number;
	}

	export class Mode {
		/** `iv` (CBC, CTR) must be an ArrayBuffer. With `padding` true, PKCS#7 padding is added
		 * by encrypt() and removed by decrypt() only once `eof` is set; decrypt() does not
		 * check the pad bytes. */
		constructor(mode: "ECB" | "CBC" | "CTR", cipher: BlockCipher, iv?: ArrayBuffer, padding?: boolean);
		/** Whole blocks only; decrypt() returns a resizable ArrayBuffer cut to what it produced. */
		encrypt(data: ArrayBuffer | ArrayBufferView, result?: ArrayBuffer): ArrayBuffer;
		decrypt(data: ArrayBuffer | ArrayBufferView, result?: ArrayBuffer): ArrayBuffer;
		setIV(iv: ArrayBuffer): void;
		get eof(): boolean;
		set eof(value: boolean);
	}
}
