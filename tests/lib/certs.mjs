// Test certificates made with openssl, in a fresh temporary directory per run.
//
// Everything is RSA (Moddable's TLS has RSA, DHE_RSA and ECDHE_RSA suites only, and parses
// client keys as RSA PKCS#8). Nothing here is secret: the keys live for one test run.
//
//   ca          "mqttc test CA", self-signed, signs the server and client certificates
//   other       "unrelated CA", self-signed, signs nothing we use
//   server      127.0.0.1 with SAN IP:127.0.0.1 and DNS:localhost, signed by ca
//               (serverChain = server + ca: what the broker presents, see README.md, MQTTS)
//   expired     same name and key as server, valid 2020-01-01 .. 2021-01-01 only
//   selfSigned  a self-signed server certificate (SAN IP:127.0.0.1), for verify: 0
//   client      "mqttc-device" signed by ca, key as PKCS#8, PKCS#1, DER, encrypted, and
//               an EC key (which Moddable cannot use)
//   encrypted   the client key encrypted with the pass phrase PASSPHRASE in each form
//               openssl writes, and in forms mqttc refuses (see modules/mqttc/keys.ts)
//
// Each certificate comes as {pem, der, path}; keys as PEM text and paths.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync, chmodSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const OPENSSL = process.env.OPENSSL ?? "openssl";

/** PEM text with CRLF line ends (as a file edited on Windows reads). */
export function crlf(pem) {
	return pem.replace(/\r?\n/g, "\r\n");
}

/** DER bytes of the first PEM block of `pem`. */
export function pemToDer(pem) {
	const body = /-----BEGIN [^-]+-----([\s\S]*?)-----END/.exec(pem);
	if (!body) throw new Error("no PEM block");
	return Buffer.from(body[1].replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
}

/** The pass phrase of `certs.encrypted` (the seed's example); `encrypted.unicode` has UNICODE_PASSPHRASE. */
export const PASSPHRASE = "123456";
export const UNICODE_PASSPHRASE = "pässwörd-密码-🔑";

export function makeCerts() {
	const dir = mkdtempSync(join(tmpdir(), "mqttc-certs-"));
	const at = (name) => join(dir, name);
	const openssl = (...args) => execFileSync(OPENSSL, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
	const read = (name) => readFileSync(at(name), "utf8");
	const rsaKey = (name) => openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", at(name));

	mkdirSync(at("issued"));
	writeFileSync(at("index.txt"), "");
	writeFileSync(at("serial"), "1000\n");
	writeFileSync(at("ca.cnf"), [
		"[ca]",
		"default_ca = test",
		"[test]",
		`database = ${at("index.txt")}`,
		`new_certs_dir = ${at("issued")}`,
		`serial = ${at("serial")}`,
		"default_md = sha256",
		"policy = any",
		"unique_subject = no",
		"copy_extensions = none",
		"[any]",
		"commonName = supplied",
		"organizationName = optional",
		"[req]",
		"distinguished_name = dn",
		"prompt = no",
		"[dn]",
		"CN = unused",
		"[ca_ext]",
		"basicConstraints = critical, CA:TRUE",
		"keyUsage = critical, keyCertSign, cRLSign",
		"subjectKeyIdentifier = hash",
		// Moddable's TLS reads the AKI of every certificate the server sends: a CA without one
		// makes its verify() throw "invalid buffer" (seen in mcsim), so a chain ending in
		// such a CA is refused whatever the client trusts.
		"authorityKeyIdentifier = keyid:always",
		"[server_ext]",
		"basicConstraints = critical, CA:FALSE",
		"keyUsage = critical, digitalSignature, keyEncipherment",
		"extendedKeyUsage = serverAuth",
		"subjectAltName = IP:127.0.0.1, DNS:localhost",
		"subjectKeyIdentifier = hash",
		"authorityKeyIdentifier = keyid",
		"[client_ext]",
		"basicConstraints = critical, CA:FALSE",
		"keyUsage = critical, digitalSignature, keyEncipherment",
		"extendedKeyUsage = clientAuth",
		"subjectKeyIdentifier = hash",
		"authorityKeyIdentifier = keyid",
		"[self_ext]",
		"basicConstraints = critical, CA:FALSE",
		"keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign",
		"extendedKeyUsage = serverAuth",
		"subjectAltName = IP:127.0.0.1, DNS:localhost",
		"subjectKeyIdentifier = hash",
		"",
	].join("\n"));
	const cnf = at("ca.cnf");

	const selfSignedCa = (name, subject, extensions = "ca_ext") => {
		rsaKey(`${name}.key`);
		openssl("req", "-config", cnf, "-new", "-x509", "-key", at(`${name}.key`), "-subj", subject,
			"-days", "30", "-sha256", "-extensions", extensions, "-out", at(`${name}.pem`));
	};
	const issue = (name, key, subject, extensions, dates = ["-days", "30"]) => {
		openssl("req", "-config", cnf, "-new", "-key", at(key), "-subj", subject, "-out", at(`${name}.csr`));
		openssl("ca", "-batch", "-config", cnf, "-cert", at("ca.pem"), "-keyfile", at("ca.key"), "-notext",
			"-in", at(`${name}.csr`), "-out", at(`${name}.pem`), "-extensions", extensions, ...dates);
	};
	const cert = (name) => {
		const pem = read(`${name}.pem`);
		return { pem, der: pemToDer(pem), path: at(`${name}.pem`) };
	};

	selfSignedCa("ca", "/O=mqttc tests/CN=mqttc test CA");
	selfSignedCa("other", "/O=somebody else/CN=unrelated CA");
	selfSignedCa("selfsigned", "/CN=127.0.0.1", "self_ext");

	rsaKey("server.key");
	issue("server", "server.key", "/O=mqttc tests/CN=127.0.0.1", "server_ext");
	issue("expired", "server.key", "/O=mqttc tests/CN=127.0.0.1", "server_ext",
		["-startdate", "20200101000000Z", "-enddate", "20210101000000Z"]);
	writeFileSync(at("server-chain.pem"), read("server.pem") + read("ca.pem"));
	writeFileSync(at("expired-chain.pem"), read("expired.pem") + read("ca.pem"));

	rsaKey("client.key");
	issue("client", "client.key", "/O=mqttc tests/CN=mqttc-device", "client_ext");
	// (openssl 3.0 `pkey -outform DER` writes PKCS#1, hence pkcs8 -topk8)
	openssl("pkcs8", "-topk8", "-nocrypt", "-in", at("client.key"), "-outform", "DER", "-out", at("client.key.der"));
	openssl("rsa", "-in", at("client.key"), "-traditional", "-out", at("client.pkcs1.key"));
	openssl("rsa", "-in", at("client.key"), "-traditional", "-outform", "DER", "-out", at("client.pkcs1.der"));
	openssl("pkcs8", "-topk8", "-in", at("client.key"), "-v2", "aes-256-cbc", "-passout", "pass:123456", "-out", at("client.enc.key"));
	openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", at("ec.key"));
	openssl("ec", "-in", at("ec.key"), "-out", at("ec.sec1.key"));

	// The client key encrypted in each form: `openssl pkcs8 -topk8` (PKCS#8 "ENCRYPTED PRIVATE
	// KEY", PBES2; openssl 3 defaults to PBKDF2 with HMAC-SHA-256, 2048 iterations) and
	// `openssl rsa -traditional` ("RSA PRIVATE KEY" with Proc-Type/DEK-Info headers).
	const encrypt = (name, args, { key = "client.key", pass = PASSPHRASE } = {}) => {
		openssl(...args, "-in", at(key), "-passout", `pass:${pass}`, "-out", at(name));
		return name;
	};
	const pkcs8 = (name, ...args) => encrypt(name, ["pkcs8", "-topk8", ...args]);
	const traditional = (name, ...args) => encrypt(name, ["rsa", "-traditional", ...args]);
	const encrypted = {
		pbes2Sha256Aes256: pkcs8("enc-sha256-aes256.key", "-v2", "aes-256-cbc"),
		pbes2Sha1Aes128: pkcs8("enc-sha1-aes128.key", "-v2prf", "hmacWithSHA1", "-v2", "aes-128-cbc"),
		pbes2Des3: pkcs8("enc-des3.key", "-v2", "des3"),
		pbes2Sha512Aes192: pkcs8("enc-sha512-aes192.key", "-v2prf", "hmacWithSHA512", "-v2", "aes-192-cbc"),
		traditionalAes256: traditional("trad-aes256.key", "-aes256"),
		traditionalAes128: traditional("trad-aes128.key", "-aes128"),
		traditionalDes3: traditional("trad-des3.key", "-des3"),
		der: pkcs8("enc-sha256-aes256.der", "-v2", "aes-256-cbc", "-outform", "DER"),
		unicode: encrypt("enc-unicode.key", ["pkcs8", "-topk8", "-v2", "aes-256-cbc"], { pass: UNICODE_PASSPHRASE }),
		unicodeTraditional: encrypt("trad-unicode.key", ["rsa", "-traditional", "-aes256"], { pass: UNICODE_PASSPHRASE }),
		// refused
		scrypt: pkcs8("enc-scrypt.key", "-scrypt"),
		pbes1: pkcs8("enc-pbes1.key", "-v1", "PBE-SHA1-3DES"),
		camellia: pkcs8("enc-camellia.key", "-v2", "camellia-128-cbc"),
		traditionalCamellia: traditional("trad-camellia.key", "-camellia128"),
		tooManyIterations: pkcs8("enc-iter.key", "-v2", "aes-256-cbc", "-iter", "100001"),
		ec: encrypt("enc-ec.key", ["pkcs8", "-topk8", "-v2", "aes-256-cbc"], { key: "ec.key" }),
		ecTraditional: encrypt("trad-ec.key", ["ec", "-aes256"], { key: "ec.key" }),
	};
	// Single DES is in OpenSSL 3's legacy provider, which a system may lack.
	let legacy;
	try {
		legacy = {
			pbes2Des: pkcs8("enc-des.key", "-v2", "des-cbc", "-provider", "legacy", "-provider", "default"),
			traditionalDes: traditional("trad-des.key", "-des", "-provider", "legacy", "-provider", "default"),
		};
	}
	catch {
		legacy = undefined;
	}

	// An OpenSSL configuration that caps TLS at 1.2 for the processes that load it (mosquitto,
	// mosquitto_sub/pub through OPENSSL_CONF): Moddable's TLS stack speaks 1.2 at most.
	writeFileSync(at("openssl-tls12.cnf"), [
		"openssl_conf = default_conf",
		"[default_conf]",
		"ssl_conf = ssl_sect",
		"[ssl_sect]",
		"system_default = system_default_sect",
		"[system_default_sect]",
		"MaxProtocol = TLSv1.2",
		"",
	].join("\n"));

	// mosquitto started as root drops to its own user: let it read the files (test keys only).
	chmodSync(dir, 0o755);
	for (const name of readdirSync(dir)) if (name !== "issued") chmodSync(at(name), 0o644);

	const certs = {
		dir,
		tls12Config: at("openssl-tls12.cnf"),
		ca: cert("ca"),
		other: cert("other"),
		server: { ...cert("server"), chain: at("server-chain.pem"), key: at("server.key") },
		expired: { ...cert("expired"), chain: at("expired-chain.pem"), key: at("server.key") },
		selfSigned: { ...cert("selfsigned"), chain: at("selfsigned.pem"), key: at("selfsigned.key"), keyPem: read("selfsigned.key") },
		client: {
			...cert("client"),
			key: read("client.key"),                              // PKCS#8 "PRIVATE KEY"
			keyPkcs1: read("client.pkcs1.key"),                   // "RSA PRIVATE KEY"
			keyDer: readFileSync(at("client.key.der")),           // PKCS#8 DER
			keyPkcs1Der: readFileSync(at("client.pkcs1.der")),    // PKCS#1 DER
			keyEncrypted: read("client.enc.key"),                 // "ENCRYPTED PRIVATE KEY", pass 123456
			keyEc: read("ec.key"),                                // PKCS#8 EC
			keyEcSec1: read("ec.sec1.key"),                       // "EC PRIVATE KEY"
		},
		/** PEM text of each form (DER bytes for `der`), pass phrase PASSPHRASE; `legacy`
		 * (single DES) is undefined without OpenSSL's legacy provider. */
		encrypted: {
			...Object.fromEntries(Object.entries(encrypted).map(([form, name]) => [form, name.endsWith(".der") ? readFileSync(at(name)) : read(name)])),
			legacy: legacy && Object.fromEntries(Object.entries(legacy).map(([form, name]) => [form, read(name)])),
		},
		cleanup() {
			rmSync(dir, { recursive: true, force: true });
		},
	};
	return certs;
}
