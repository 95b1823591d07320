// Test PKI made with the openssl CLI in a temporary directory (nothing secret, one run).
//   ca, otherCa          self-signed CAs ("otherCa" signs nothing we use)
//   server               CN=localhost, SAN DNS:localhost + IP:127.0.0.1, signed by ca
//   client               CN=test-client, signed by ca (for mutual TLS)
// Each certificate: {pem, der}; each key: {pem, der (PKCS#8)}. Call cleanup() when done.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const OPENSSL = process.env.OPENSSL ?? "openssl";

/** DER bytes of the first PEM block. @param {string} pem */
export function pemToDer(pem) {
	const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END/.exec(pem);
	if (!m)
		throw new Error("no PEM block");
	return Buffer.from(m[1].replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
}

/**
 * @param {{keyType?: "rsa"|"ec"}} [options]  rsa (2048) by default, as devices use
 */
export function makePki(options = {}) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xs-host-pki-"));
	const at = (/** @type {string} */ name) => path.join(dir, name);
	const run = (/** @type {string[]} */ ...args) => execFileSync(OPENSSL, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
	const keyArgs = options.keyType === "ec" ? ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
	const key = (/** @type {string} */ name) => run("genpkey", ...keyArgs, "-out", at(`${name}.key`));
	const selfSigned = (/** @type {string} */ name, /** @type {string} */ cn) => {
		key(name);
		run("req", "-x509", "-new", "-key", at(`${name}.key`), "-subj", `/CN=${cn}`, "-days", "2",
			"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
			"-out", at(`${name}.crt`));
	};
	const issue = (/** @type {string} */ name, /** @type {string} */ cn, /** @type {string} */ ext) => {
		key(name);
		run("req", "-new", "-key", at(`${name}.key`), "-subj", `/CN=${cn}`, "-out", at(`${name}.csr`));
		fs.writeFileSync(at(`${name}.ext`), ext);
		run("x509", "-req", "-in", at(`${name}.csr`), "-CA", at("ca.crt"), "-CAkey", at("ca.key"), "-CAcreateserial",
			"-days", "2", "-sha256", "-extfile", at(`${name}.ext`), "-out", at(`${name}.crt`));
	};
	try {
		selfSigned("ca", "xs host test CA");
		selfSigned("otherCa", "unrelated test CA");
		issue("server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
		issue("client", "test-client", "extendedKeyUsage=clientAuth\n");
	}
	catch (e) {
		fs.rmSync(dir, { recursive: true, force: true });
		const error = /** @type {any} */ (e);
		throw new Error(`openssl failed: ${error.stderr?.toString() ?? error.message}`);
	}
	const cert = (/** @type {string} */ name) => {
		const pem = fs.readFileSync(at(`${name}.crt`), "utf8");
		return { pem, der: pemToDer(pem), path: at(`${name}.crt`) };
	};
	const privateKey = (/** @type {string} */ name) => {
		const pem = fs.readFileSync(at(`${name}.key`), "utf8");
		return { pem, der: pemToDer(pem), path: at(`${name}.key`) };
	};
	return {
		dir,
		ca: cert("ca"),
		otherCa: cert("otherCa"),
		server: { cert: cert("server"), key: privateKey("server") },
		client: { cert: cert("client"), key: privateKey("client") },
		cleanup() {
			fs.rmSync(dir, { recursive: true, force: true });
		},
	};
}
