// The host's `crypt` model (hosts/xs/guest/crypt.js + hosts/xs/crypt.mjs) against known
// vectors and the SDK's behaviour as modules/crypt/digest/modCrypt.c has it: digests, block
// ciphers, ECB/CBC chaining, the PKCS#7 padding rules, argument checks; and that only apps
// including the SDK's crypt manifests have the module.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startApp } from "../../hosts/xs/host.mjs";
import { makeApp } from "../helpers/apps.mjs";

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/crypt");
const hex = (text) => Buffer.from(text).toString("hex");

/** @type {any} */
let app;
before(async () => {
	app = await startApp(PROBE, { stdout: false });
});
after(async () => {
	await app?.stop();
});

test("digests of \"abc\" (FIPS 180 and RFC 1321 vectors), sizes as modCrypt.c; buffers of every kind the SDK takes", async () => {
	const vectors = {
		MD5: ["900150983cd24fb0d6963f7d28e17f72", 64],
		SHA1: ["a9993e364706816aba3e25717850c26c9cd0d89d", 64],
		SHA224: ["23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7", 64],
		SHA256: ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 64],
		SHA384: ["cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", 128],
		SHA512: ["ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", 128],
	};
	for (const [name, [digest, blockSize]] of Object.entries(vectors)) {
		const r = await app.call("digest", name, [["write", { text: "abc" }], ["close"]]);
		assert.deepEqual(r, { closes: [digest], blockSize, outputSize: digest.length / 2, result: digest.length / 2 }, name);
	}
	// the same bytes as a Uint8Array, a DataView, in pieces, and through process()
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	const r = await app.call("digest", "SHA256", [
		["write", { u8: hex("abc") }], ["close"], ["reset"],
		["write", { view: hex("a") }], ["write", hex("bc")], ["close"],
		["process", [{ text: "a" }, hex("b"), { u8: hex("c") }]],
	]);
	assert.deepEqual(r.closes, [abc, abc, abc]);
});

test("Digest: close(true) gives the digest so far and goes on; a string is written up to its first NUL; reset() starts again", async () => {
	const sha = (text) => crypto.createHash("sha256").update(text).digest("hex");
	const r = await app.call("digest", "SHA256", [
		["write", { text: "ab" }], ["close", true], ["write", { text: "c" }], ["close"],
		["reset"], ["write", { text: "ab\u0000cd" }], ["close"],
		["reset"], ["write", { text: "pässwörd-密码-🔑" }], ["close"],
		["reset"], ["close"],
	]);
	assert.deepEqual(r.closes, [sha("ab"), sha("abc"), sha("ab"), sha("pässwörd-密码-🔑"), sha("")]);
});

// NIST SP 800-38A, F.1 (ECB) and F.2 (CBC): the same four plaintext blocks under each key.
const PLAIN = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const IV = "000102030405060708090a0b0c0d0e0f";
const AES = {
	128: ["2b7e151628aed2a6abf7158809cf4f3c",
		"7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
		"3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4"],
	192: ["8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
		"4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd",
		"bd334f1d6e45f25ff712a214571fa5cc974104846d0ad3ad7734ecb3ecee4eefef7afd2270e2e60adce0ba2face6444e9a4b41ba738d6c72fb16691603c18e0e"],
	256: ["603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		"f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
		"f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870b6ed21b99ca6f4f9f153e7b1beafed1d23304b7a39f9f3ff067d8d8f9e24ecc7"],
};

test("AES-128/192/256 in CBC and ECB: the NIST SP 800-38A vectors, both ways, chained across calls", async () => {
	for (const [bits, [key, cbc, ecb]] of Object.entries(AES)) {
		const whole = await app.call("mode", "CBC", "AES", key, IV, undefined, [["encrypt", PLAIN]]);
		assert.equal(whole[0].hex, cbc, `AES-${bits}-CBC encrypt`);
		// two calls chain through the IV the mode keeps (the last ciphertext block)
		const halves = await app.call("mode", "CBC", "AES", key, IV, undefined, [["decrypt", cbc.slice(0, 64)], ["decrypt", cbc.slice(64)]]);
		assert.equal(halves[0].hex + halves[1].hex, PLAIN, `AES-${bits}-CBC decrypt in two calls`);
		const e = await app.call("mode", "ECB", "AES", key, undefined, undefined, [["encrypt", PLAIN], ["decrypt", ecb]]);
		assert.deepEqual([e[0].hex, e[1].hex], [ecb, PLAIN], `AES-${bits}-ECB`);
		const block = await app.call("block", "AES", key, "encrypt", PLAIN);
		assert.deepEqual(block, { hex: ecb.slice(0, 32), keySize: Number(bits) / 8, blockSize: 16, isResult: false }, "BlockCipher: the first block only");
		assert.equal((await app.call("block", "AES", key, "decrypt", ecb.slice(0, 32), "00".repeat(20))).hex, PLAIN.slice(0, 32) + "00000000", "into a given result");
	}
	// setIV restarts the chain
	const again = await app.call("mode", "CBC", "AES", AES[128][0], IV, undefined, [["encrypt", PLAIN.slice(0, 32)], ["setIV", IV], ["encrypt", PLAIN.slice(0, 32)]]);
	assert.equal(again[0].hex, again[2].hex);
	// an IV shorter than the block is zero-filled; none at all is zeros
	const zeros = await app.call("mode", "CBC", "AES", AES[128][0], "", undefined, [["encrypt", PLAIN.slice(0, 32)]]);
	const noIv = await app.call("mode", "CBC", "AES", AES[128][0], undefined, undefined, [["encrypt", PLAIN.slice(0, 32)]]);
	const expected = crypto.createCipheriv("aes-128-cbc", Buffer.from(AES[128][0], "hex"), Buffer.alloc(16)).setAutoPadding(false).update(Buffer.from(PLAIN.slice(0, 32), "hex")).toString("hex");
	assert.deepEqual([zeros[0].hex, noIv[0].hex], [expected, expected]);
});

test("DES (FIPS 81 \"Now is t\"); TDES with 24-, 16- and 8-byte keys as modCrypt.c expands them, and its decryption order", async () => {
	assert.deepEqual(await app.call("block", "DES", "0123456789abcdef", "encrypt", hex("Now is t")),
		{ hex: "3fa40e8a984d4815", keySize: 8, blockSize: 8, isResult: false });
	assert.equal((await app.call("block", "DES", "0123456789abcdef0011", "decrypt", "3fa40e8a984d4815")).hex, hex("Now is t"), "DES uses the first 8 key bytes");
	const k1 = "0123456789abcdef", k2 = "23456789abcdef01", k3 = "456789abcdef0123";
	const data = hex("The quick brown fox jumps over t");
	const iv = "f69f2445df4f9b17";
	const node = (cipher, key) => crypto.createCipheriv(cipher, Buffer.from(key, "hex"), cipher.endsWith("ecb") ? null : Buffer.from(iv, "hex")).setAutoPadding(false).update(Buffer.from(data, "hex")).toString("hex");
	for (const [key, reference, keySize] of [[k1 + k2 + k3, node("des-ede3-cbc", k1 + k2 + k3), 24], [k1 + k2, node("des-ede-cbc", k1 + k2), 16], [k1, node("des-ede3-cbc", k1 + k1 + k1), 8]]) {
		const r = await app.call("mode", "CBC", "TDES", key, iv, undefined, [["encrypt", data], ["setIV", iv], ["decrypt", reference]]);
		assert.equal(r[0].hex, reference, `TDES with a ${keySize}-byte key encrypts as DES-EDE3`);
		if (keySize < 24)
			assert.equal(r[2].hex, data, `and, K3 being K1, decrypts what it encrypted`);
		else
			assert.notEqual(r[2].hex, data, "with three keys, modCrypt.c's decryption (D_K1, E_K2, D_K3, in that order) is not DES-EDE3's");
		assert.equal((await app.call("block", "TDES", key, "encrypt", data)).keySize, keySize);
	}
	// it is DES-EDE3 decryption with the keys in reverse order
	const reversed = await app.call("mode", "CBC", "TDES", k3 + k2 + k1, iv, undefined, [["decrypt", node("des-ede3-cbc", k1 + k2 + k3)]]);
	assert.equal(reversed[0].hex, data);
	assert.equal((await app.call("block", "TDES", k3 + k2 + k1, "decrypt", node("des-ede3-ecb", k1 + k2 + k3).slice(0, 16))).hex, data.slice(0, 16));
});

test("CBC decrypt returns a resizable ArrayBuffer; PKCS#7 padding goes only with padding true AND eof, unchecked, and never past a block", async () => {
	const [key] = AES[128];
	// "abc" padded with 13 bytes of 0x0d, as openssl writes it
	const cipher = crypto.createCipheriv("aes-128-cbc", Buffer.from(key, "hex"), Buffer.from(IV, "hex"));
	const full = Buffer.concat([cipher.update("abc"), cipher.final()]).toString("hex");
	const abc = hex("abc") + "0d".repeat(13);
	const run = (pad, steps) => app.call("mode", "CBC", "AES", key, IV, pad, steps);
	assert.deepEqual(await run(true, [["decrypt", full]]), [{ hex: abc, byteLength: 16, resizable: true, isArrayBuffer: true, same: false }], "padding true, eof not set: kept");
	assert.deepEqual((await run(true, [["eof", true], ["decrypt", full]]))[1], { hex: hex("abc"), byteLength: 3, resizable: true, isArrayBuffer: true, same: false }, "padding true and eof: removed");
	assert.deepEqual((await run(undefined, [["eof", true], ["decrypt", full]]))[1].hex, abc, "no padding argument: kept even at eof");
	// a last byte above the block size removes nothing; wrong pad bytes are not noticed
	const encrypt = (plain) => crypto.createCipheriv("aes-128-cbc", Buffer.from(key, "hex"), Buffer.from(IV, "hex")).setAutoPadding(false).update(Buffer.from(plain, "hex")).toString("hex");
	assert.equal((await run(true, [["eof", true], ["decrypt", encrypt("00".repeat(15) + "20")]]))[1].hex, "00".repeat(15) + "20");
	assert.equal((await run(true, [["eof", true], ["decrypt", encrypt("00".repeat(12) + "ff000004")]]))[1].hex, "00".repeat(12), "4 bytes removed although they are not 4 × 0x04");
	// whole blocks only: 20 bytes in, 16 out
	assert.deepEqual((await run(undefined, [["decrypt", full + "0102030405060708"]]))[0].byteLength, 16);
	// into a given result: written there; a fixed-length one that would have to shrink is refused here
	assert.deepEqual((await run(undefined, [["decrypt", full, { u8: 16 }]]))[0], { hex: abc, byteLength: 16, resizable: false, isArrayBuffer: false, same: true });
	assert.deepEqual((await run(true, [["eof", true], ["decrypt", full, { resizable: 16 }]]))[1], { hex: hex("abc"), byteLength: 3, resizable: true, isArrayBuffer: true, same: true });
	assert.match((await run(true, [["eof", true], ["decrypt", full, 16]]))[1], /would shrink a fixed-length result/);
	assert.match((await run(undefined, [["decrypt", full, 8]]))[0], /^Error: output too small$/);
});

test("CBC encrypt with padding and eof appends the PKCS#7 block openssl writes, into a result that has room for it", async () => {
	const [key] = AES[256];
	const reference = (plain) => {
		const c = crypto.createCipheriv("aes-256-cbc", Buffer.from(key, "hex"), Buffer.from(IV, "hex"));
		return Buffer.concat([c.update(Buffer.from(plain, "hex")), c.final()]).toString("hex");
	};
	for (const plain of [hex("twenty bytes of text"), hex("exactly sixteen!")]) {
		const room = (Math.floor(plain.length / 32) + 1) * 16;
		const r = await app.call("mode", "CBC", "AES", key, IV, true, [["eof", true], ["encrypt", plain, room]]);
		assert.deepEqual(r[1], { hex: reference(plain), byteLength: room, resizable: false, isArrayBuffer: true, same: true });
		assert.match((await app.call("mode", "CBC", "AES", key, IV, true, [["eof", true], ["encrypt", plain]]))[1], /writes a block past the result/);
	}
	// without eof, the tail that is not a whole block is left out (zeros in the new buffer)
	const r = await app.call("mode", "CBC", "AES", key, IV, true, [["encrypt", hex("twenty bytes of text")]]);
	assert.equal(r[0].byteLength, 20);
	assert.equal(r[0].hex.slice(32), "00000000");
});

test("argument checks and errors as modCrypt.c gives them; what the host does not model says so", async () => {
	assert.deepEqual(await app.call("misuse"), {
		digestName: "Error: crypt: unsupported digest",
		digestGhash: "Error: crypt: GHASH is not modelled by the XS host",
		writeNumber: "TypeError: invalid buffer",
		writeWords: "TypeError: invalid buffer",
		writeAfterClose: "Error: crypt: Digest written after close() without reset() (the XS host does not model hashing on from a finished state)",
		keyView: "TypeError: not an ArrayBuffer instance",
		keySize: "Error: bad key size",
		desShort: "Error: key too short",
		cipherName: "Error: unsupported cipher",
		modeName: "Error: unsupported mode",
		modeCtr: "Error: crypt: Mode CTR is not modelled by the XS host",
		modeCipher: "TypeError: crypt: not a BlockCipher",
		ivView: "TypeError: not an ArrayBuffer instance",
		blockView: "TypeError: not an ArrayBuffer instance",
		blockShort: "Error: bad size",
		blockResult: "Error: buffer too small",
	});
});

test("`crypt` exists only for apps that include the SDK's crypt manifests (tls.json, or digest/manifest.json as here)", async () => {
	assert.equal(await app.call("available"), true);
	assert.ok(app.sources.has("crypt"));
	const main = `import Modules from "modules";\nexport function has() { return Modules.has("crypt"); }\n`;
	const withTls = makeApp({
		"manifest.json": { include: ["$(MODDABLE)/examples/manifest_base.json", "$(MODULES)/crypt/tls.json"], modules: { "*": ["./main"] } },
		"main.js": main,
	});
	const without = makeApp({
		"manifest.json": { include: ["$(MODDABLE)/examples/manifest_base.json"], modules: { "*": ["./main"] } },
		"main.js": main,
	});
	const importing = makeApp({
		"manifest.json": { include: ["$(MODDABLE)/examples/manifest_base.json"], modules: { "*": ["./main"] } },
		"main.js": `import {Digest} from "crypt";\nexport function f() { return new Digest("MD5"); }\n`,
	});
	try {
		const tlsApp = await startApp(withTls.dir, { stdout: false });
		try {
			assert.equal(await tlsApp.call("has"), true);
		}
		finally {
			await tlsApp.stop();
		}
		const plain = await startApp(without.dir, { stdout: false });
		try {
			assert.equal(await plain.call("has"), false);
			assert.ok(!plain.sources.has("crypt"));
		}
		finally {
			await plain.stop();
		}
		await assert.rejects(startApp(importing.dir, { stdout: false }), /module "crypt" imported by "main" .* not found/);
	}
	finally {
		withTls.cleanup();
		without.cleanup();
		importing.cleanup();
	}
});
