/*
 * crypt — the SDK's `crypt` module (modules/crypt/digest/crypt.js over modCrypt.c) for the
 * desktop XS host: Digest, BlockCipher and Mode (ECB, CBC), with modCrypt.c's names,
 * argument rules, results and quirks. The hashing and ciphering itself is done by Node's
 * crypto in the parent (hosts/xs/crypt.mjs): writes are queued with the turn's records,
 * close() and the cipher calls are synchronous calls (bridge callCrypt), like Timer.delay.
 * Staged only for apps that include the SDK's crypt manifests (crypt/tls.json,
 * tls_common.json or digest/manifest.json), as on a real build.
 *
 * Quirks kept from modCrypt.c:
 * - Digest.write takes a string (its UTF-8 bytes, up to a NUL) or a buffer of bytes
 *   (ArrayBuffer, Uint8Array/Int8Array/Uint8ClampedArray, DataView); anything else throws
 *   TypeError "invalid buffer". close() returns a new ArrayBuffer; close(true) returns the
 *   digest so far and lets the hash go on. After close() the hash must be reset().
 * - BlockCipher keys, Mode IVs and BlockCipher data must be ArrayBuffers (a typed array
 *   throws TypeError "not an ArrayBuffer instance"). AES keys are 16, 24 or 32 bytes; DES
 *   takes the first 8; TDES takes up to 24 (8: K1=K2=K3, 16: K3=K1).
 * - Mode.decrypt processes whole blocks only and returns a resizable ArrayBuffer cut to
 *   them. PKCS#7 padding is removed only when the Mode was made with padding true AND its
 *   `eof` is set; the pad bytes are not checked (a last byte above the block size removes
 *   nothing). Mode.encrypt with padding and eof appends a pad block after the data.
 *
 * Not modelled (they throw): GHASH, StreamCipher (RC4, ChaCha), Mode "CTR". A Digest
 * written or closed again after close() without reset() throws here, where a device would
 * hash on from a finished state (garbage). A decrypt into a given fixed-length result that
 * would have to shrink throws here (the SDK shrinks it, with a warning).
 */
import {callCrypt, recordCrypt, utf8} from "xs-host/bridge";

// operations of the parent's model (hosts/xs/crypt.mjs)
const DIGEST_NEW = 1, DIGEST_WRITE = 2, DIGEST_RESET = 3, DIGEST_CLOSE = 4, DIGEST_CLOSE_MORE = 5, CIPHER = 6;

/** digest name -> [outputSize, blockSize], as modCrypt.c's gDigests */
const DIGESTS = Object.freeze({
	MD5: [16, 64], SHA1: [20, 64], SHA224: [28, 64], SHA256: [32, 64], SHA384: [48, 128], SHA512: [64, 128],
});
const AES = 3, DES = 1, TDES = 2;
const ECB = 0, CBC = 1;
const EMPTY = new Uint8Array(0);

let nextDigest = 1;

/** Bytes of what xsmcGetBufferReadable accepts. */
function readable(value) {
	if (value instanceof ArrayBuffer)
		return new Uint8Array(value);
	if (ArrayBuffer.isView(value) && ((value instanceof DataView) || (value.BYTES_PER_ELEMENT === 1)))
		return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
	throw new TypeError("invalid buffer");
}

/** Bytes of what xsmcToArrayBuffer accepts. */
function arrayBuffer(value) {
	if (value instanceof ArrayBuffer)
		return new Uint8Array(value);
	throw new TypeError("not an ArrayBuffer instance");
}

/** UTF-8 bytes of a string up to its first NUL, as strlen on the XS string. */
function cString(string) {
	const bytes = utf8(string);
	const nul = bytes.indexOf(0);
	return (nul < 0) ? bytes : bytes.subarray(0, nul);
}

export class Digest {
	#id;
	#sizes;
	#closed = false;
	constructor(type) {
		const name = String(type);
		if (name === "GHASH")
			throw new Error("crypt: GHASH is not modelled by the XS host");
		if (!Object.hasOwn(DIGESTS, name))
			throw new Error("crypt: unsupported digest");
		this.#sizes = DIGESTS[name];
		this.#id = nextDigest++;
		recordCrypt(this.#id, DIGEST_NEW, utf8(name));
	}
	write(data) {
		const bytes = (typeof data === "string") ? cString(data) : readable(data);
		if (this.#closed)
			throw new Error("crypt: Digest written after close() without reset() (the XS host does not model hashing on from a finished state)");
		recordCrypt(this.#id, DIGEST_WRITE, bytes);
	}
	close(more) {
		if (this.#closed)
			throw new Error("crypt: Digest closed twice without reset() (the XS host does not model hashing on from a finished state)");
		if (more)
			return callCrypt(this.#id, DIGEST_CLOSE_MORE, EMPTY);
		this.#closed = true;
		return callCrypt(this.#id, DIGEST_CLOSE, EMPTY);
	}
	reset() {
		this.#closed = false;
		recordCrypt(this.#id, DIGEST_RESET, EMPTY);
	}
	get blockSize() {
		return this.#sizes[1];
	}
	get outputSize() {
		return this.#sizes[0];
	}
	// JavaScript in the SDK's crypt.js too
	process(...items) {
		this.reset();
		for (let i = 0; i < items.length; i++)
			this.write(items[i]);
		return this.close();
	}
	update(data) {
		this.write(data);
	}
}

/** Runs whole blocks through Node: [algorithm, chaining, encrypt, key length, key, iv length, iv, data]. */
function cipher(kind, key, chaining, encrypt, iv, data) {
	const message = new Uint8Array(5 + key.length + iv.length + data.length);
	message[0] = kind;
	message[1] = chaining;
	message[2] = encrypt ? 1 : 0;
	message[3] = key.length;
	message.set(key, 4);
	message[4 + key.length] = iv.length;
	message.set(iv, 5 + key.length);
	message.set(data, 5 + key.length + iv.length);
	return new Uint8Array(callCrypt(0, CIPHER, message));
}

const ciphers = new WeakMap();		// BlockCipher -> {kind, key, keySize, blockSize}

export class BlockCipher {
	constructor(name, key) {
		name = String(name);
		let bytes = arrayBuffer(key);
		let kind, keySize, blockSize;
		if (name === "AES") {
			if ((bytes.length !== 16) && (bytes.length !== 24) && (bytes.length !== 32))
				throw new Error("bad key size");
			kind = AES;
			keySize = bytes.length;
			blockSize = 16;
			bytes = bytes.slice();
		}
		else if (name === "DES") {
			if (bytes.length < 8)
				throw new Error("key too short");
			kind = DES;
			keySize = 8;
			blockSize = 8;
			bytes = bytes.slice(0, 8);
		}
		else if (name === "TDES") {
			const given = bytes.subarray(0, 24);
			const k = new Uint8Array(24);		// K1 K2 K3, zero-filled as the SDK's context
			k.set(given, 0);
			if (given.length <= 8) {
				k.set(given, 8);
				k.set(given, 16);
			}
			else if (given.length <= 16)
				k.set(given.subarray(0, 8), 16);
			kind = TDES;
			keySize = given.length;
			blockSize = 8;
			bytes = k;
		}
		else
			throw new Error("unsupported cipher");
		ciphers.set(this, {kind, key: bytes, keySize, blockSize});
	}
	encrypt(data, result) {
		return block(this, data, result, true);
	}
	decrypt(data, result) {
		return block(this, data, result, false);
	}
	get keySize() {
		return ciphers.get(this).keySize;
	}
	get blockSize() {
		return ciphers.get(this).blockSize;
	}
}

function cipherOf(value) {
	const c = ciphers.get(value);
	if (!c)
		throw new TypeError("crypt: not a BlockCipher");
	return c;
}

/** BlockCipher.encrypt/decrypt: one block of `data` (an ArrayBuffer or a string). */
function block(that, data, result, encrypt) {
	const c = cipherOf(that);
	let out;
	if (result) {
		out = arrayBuffer(result);
		if (out.length < c.blockSize)
			throw new Error("buffer too small");
	}
	const bytes = (typeof data === "string") ? cString(data) : arrayBuffer(data);
	if (bytes.length < c.blockSize)
		throw new Error("bad size");
	const processed = cipher(c.kind, c.key, ECB, encrypt, EMPTY, bytes.subarray(0, c.blockSize));
	if (!out)
		return processed.buffer;
	out.set(processed);
	return result;
}

const modes = new WeakMap();		// Mode -> {chaining, cipher, padding, eof, iv}

export class Mode {
	constructor(mode, cipher, iv, pad) {
		mode = String(mode);
		let chaining;
		if (mode === "ECB")
			chaining = ECB;
		else if (mode === "CBC")
			chaining = CBC;
		else if (mode === "CTR")
			throw new Error("crypt: Mode CTR is not modelled by the XS host");
		else
			throw new Error("unsupported mode");
		const c = cipherOf(cipher);
		const state = {chaining, cipher: c, padding: (arguments.length >= 4) && !!pad, eof: false, iv: new Uint8Array(c.blockSize)};
		modes.set(this, state);
		if ((chaining === CBC) && (arguments.length >= 3) && iv)
			setIV(state, iv);
	}
	encrypt(data, result) {
		const state = modes.get(this);
		const bs = state.cipher.blockSize;
		const bytes = readable(data);
		const count = bytes.length;
		let out;
		if (result) {
			out = arrayBuffer(result);
			if (out.length < count)
				throw new Error("output too small");
		}
		else
			out = new Uint8Array(count);
		const whole = count - (count % bs);
		const padded = state.eof && state.padding;
		let plain = bytes.subarray(0, whole);
		if (padded) {
			if (whole + bs > out.length)
				throw new Error("crypt: Mode.encrypt with padding writes a block past the result (the SDK overruns its buffer): pass a result of the data's length rounded up to the next whole block");
			plain = new Uint8Array(whole + bs);
			plain.set(bytes);
			plain.fill(bs - (count - whole), count);
		}
		if (plain.length) {
			const processed = cipher(state.cipher.kind, state.cipher.key, state.chaining, true, state.iv, plain);
			out.set(processed);
			if (state.chaining === CBC) {
				if (padded) {
					// the SDK chains the pad block in place: its IV becomes (previous block XOR pad block)
					const previous = whole ? processed.subarray(whole - bs, whole) : state.iv;
					const next = new Uint8Array(bs);
					for (let i = 0; i < bs; i++)
						next[i] = previous[i] ^ plain[whole + i];
					state.iv = next;
				}
				else
					state.iv = processed.slice(whole - bs, whole);
			}
		}
		return result ? result : out.buffer;
	}
	decrypt(data, result) {
		const state = modes.get(this);
		const bs = state.cipher.blockSize;
		const bytes = readable(data);
		const count = bytes.length;
		let out;
		if (result) {
			out = readable(result);
			if (out.length < count)
				throw new Error("output too small");
		}
		else {
			result = new ArrayBuffer(count, {maxByteLength: count});
			out = new Uint8Array(result);
		}
		const whole = count - (count % bs);
		let length = whole;
		if (whole) {
			const plain = cipher(state.cipher.kind, state.cipher.key, state.chaining, false, state.iv, bytes.subarray(0, whole));
			out.set(plain);
			if (state.chaining === CBC)
				state.iv = bytes.slice(whole - bs, whole);
		}
		if (state.eof && state.padding && whole) {
			const pad = out[whole - 1];
			if (pad <= bs)
				length -= pad;
		}
		if (length !== count) {
			if (!(result instanceof ArrayBuffer))
				throw new TypeError("not an ArrayBuffer instance");
			if (!result.resizable)
				throw new Error("crypt: Mode.decrypt would shrink a fixed-length result (the SDK does, with a warning); pass none");
			result.resize(length);
		}
		return result;
	}
	setIV(iv) {
		const state = modes.get(this);
		arrayBuffer(iv);
		if (state.chaining === CBC)
			setIV(state, iv);
	}
	get eof() {
		return modes.get(this).eof;
	}
	set eof(value) {
		modes.get(this).eof = !!value;
	}
}

/** cbc_setIV: the first blockSize bytes, zero-filled when shorter. */
function setIV(state, iv) {
	const bytes = arrayBuffer(iv);
	state.iv = new Uint8Array(state.cipher.blockSize);
	state.iv.set(bytes.subarray(0, state.iv.length));
}

export class StreamCipher {
	constructor() {
		throw new Error("crypt: StreamCipher is not modelled by the XS host");
	}
}

export class GHASH {
	constructor() {
		throw new Error("crypt: GHASH is not modelled by the XS host");
	}
}

Object.freeze(Digest.prototype);
Object.freeze(BlockCipher.prototype);
Object.freeze(Mode.prototype);

export default Object.freeze({Digest, BlockCipher, Mode, StreamCipher, GHASH});
