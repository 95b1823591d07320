/*
 * Digest of the Moddable SDK's `crypt` module, declared with the same signatures as the
 * SDK's typings/crypt.d.ts (SDK 5.10 and later), for type-checking without the SDK: the
 * @moddable/typings package this project pins has no crypt.d.ts. Used by tsconfig.json
 * only; never given to mcconfig, whose builds have the SDK's declaration (declaring the
 * class twice would not compile there). Code type-checked against this file therefore
 * passes strings or ArrayBuffers to write(), as the SDK's typings require.
 */

declare module "crypt" {
	export class Digest {
		/** "MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512" */
		constructor(type: "MD5" | "SHA1" | "SHA224" | "SHA256" | "SHA384" | "SHA512");
		write(message: string | ArrayBuffer): void;
		/** The digest as a new ArrayBuffer; reset() before writing again. */
		close(): ArrayBuffer;
		reset(): void;
		get blockSize(): number;
		get outputSize(): number;
		update(message: string | ArrayBuffer): void;
	}
}
