// MQTTS: the LuatOS `ssl` argument of mqtt.create on SecureSocket, in the XS host, against
// mosquitto TLS listeners (and a recording TLS server) set up here with openssl-made
// certificates (tests/lib/certs.mjs). Only 127.0.0.1 is ever contacted.
//
// Every server is capped at TLS 1.2 (mosquitto through OPENSSL_CONF, as its tls_version only
// sets a minimum): Moddable's TLS stack implements 1.0-1.2 only, and in 1.2 a rejected
// client certificate fails the handshake itself, as it does on a device. (In 1.3 the
// client sees the handshake complete and learns of the rejection after sending CONNECT.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { startApp } from "../hosts/xs/host.mjs";
import { mosquittoSub, startTlsBroker } from "./lib/broker.mjs";
import { startDriver, connected } from "./lib/driver.mjs";
import { makeCerts, crlf, PASSPHRASE, UNICODE_PASSPHRASE } from "./lib/certs.mjs";

const WAIT = 10000;
let certs;
let driver;
let main;         // server-only TLS: CA-signed 127.0.0.1 certificate
let mutual;       // the same with require_certificate true
let selfSigned;   // a self-signed server certificate
const stops = [];

/** mosquitto with a plain listener (for mosquitto_sub/pub) and a TLS listener. */
async function tlsBroker({ cert, requireCertificate = false }) {
	const broker = await startTlsBroker(certs, { cert, plain: true, listeners: [{ requireCertificate }] });
	stops.push(() => broker.stop());
	return broker;
}

/**
 * A TLS server that records what reaches it: TCP connections, completed handshakes and
 * application bytes. It answers nothing; a client that trusted it would send CONNECT.
 */
async function recordingServer(cert) {
	const record = { connections: 0, handshakes: 0, bytes: 0, clientErrors: [] };
	const options = { key: readFileSync(cert.key), cert: readFileSync(cert.chain), maxVersion: "TLSv1.2" };
	const server = tls.createServer(options, (socket) => {
		record.handshakes++;
		socket.on("data", (data) => { record.bytes += data.length; });
		socket.on("error", () => {});
	});
	server.on("connection", () => { record.connections++; });
	server.on("tlsClientError", (error) => { record.clientErrors.push(error.message); });
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	stops.push(() => new Promise((resolve) => server.close(resolve)));
	return { port: server.address().port, record };
}

before(async () => {
	certs = makeCerts();
	process.env.OPENSSL_CONF = certs.tls12Config;   // read by the mosquitto processes started below
	[main, mutual, selfSigned, driver] = await Promise.all([
		tlsBroker({ cert: certs.server }),
		tlsBroker({ cert: certs.server, requireCertificate: true }),
		tlsBroker({ cert: certs.selfSigned }),
		startDriver(),
	]);
});

after(async () => {
	await driver?.stop();
	for (const stop of stops) await stop();
	certs?.cleanup();
});

/** Creates `name` and connects it; expects the TLS connection to fail as a user sees it. */
async function refused(name, port, ssl, { host = "127.0.0.1" } = {}) {
	assert.equal(await driver.create(name, host, port, ssl), true, `create(${name})`);
	await driver.call(name, "auth", name);
	assert.equal(await driver.call(name, "connect"), true);
	const error = await driver.waitEvent(name, "error", () => true, WAIT);
	assert.equal(error.data, "connect", "the error says the connection could not be made");
	assert.equal(typeof error.payload, "string", "with a reason");
	const gone = await driver.waitEvent(name, "disconnect", () => true, WAIT);
	assert.equal(gone.data, "connect");
	assert.equal(driver.seen(name, "conack").length, 0, "never a conack");
	assert.equal(await driver.call(name, "state"), 0, "back to STATE_DISCONNECT");
	await driver.call(name, "close");
	return error;
}

/** Lines of create() refusals traced so far. */
function createReasons() {
	return driver.app.output.split("\n").filter((line) => line.startsWith("mqttc: create: "));
}

/** Publishes over TLS and receives it back, and checks the broker delivered it to a plain subscriber. */
async function roundTrip(name, broker, topic) {
	const sub = await mosquittoSub(broker.plain, ["-t", topic]);
	try {
		await driver.call(name, "subscribe", topic, 1);
		const suback = await driver.waitEvent(name, "suback", () => true, WAIT);
		assert.equal(suback.data, true);
		const big = "x".repeat(5000);   // several 1024-byte SecureSocket reads, several writes
		const id = await driver.call(name, "publish", topic, big, 1);
		assert.ok(id > 0);
		await driver.waitEvent(name, "sent", (e) => e.data === id, WAIT);
		const recv = await driver.waitEvent(name, "recv", (e) => e.data === topic, WAIT);
		assert.equal(recv.payload, big);
		const lines = await sub.waitFor(1, WAIT);
		assert.equal(lines[0], `${topic} ${big}`);
	}
	finally {
		sub.stop();
	}
}

test("server-only TLS with the broker's CA as PEM text (the seed's server_cert=io.readFile): conack, publish and receive", async () => {
	await connected(driver, "pem", main.port, { ssl: { server_cert: certs.ca.pem } });
	assert.equal(await driver.call("pem", "ready"), true);
	await roundTrip("pem", main, "tls/pem");
	await driver.call("pem", "disconnect");
	assert.equal((await driver.waitEvent("pem", "disconnect", () => true, WAIT)).data, "user");
	await driver.call("pem", "close");
});

test("the CA as DER bytes, and as PEM with CRLF line ends, connect the same", async () => {
	await connected(driver, "der", main.port, { ssl: { server_cert: certs.ca.der } });
	await connected(driver, "crlf", main.port, { ssl: { server_cert: crlf(certs.ca.pem), verify: 2 } });
	await roundTrip("crlf", main, "tls/crlf");
	await driver.call("der", "close");
	await driver.call("crlf", "close");
});

/** Creates `name` for host:port with `ssl`, connects it and waits for conack. */
async function connectTo(name, host, port, ssl) {
	assert.equal(await driver.create(name, host, port, ssl), true, `create(${name})`);
	await driver.call(name, "auth", name);
	assert.equal(await driver.call(name, "connect"), true);
	await driver.waitEvent(name, "conack", () => true, WAIT);
}

test("a host name the certificate lists (SAN DNS:localhost) is accepted; a server_name it does not list is rejected before any MQTT byte", async () => {
	await connectTo("dns", "localhost", main.port, { server_cert: certs.ca.pem });
	await driver.call("dns", "close");
	const server = await recordingServer(certs.server);
	const error = await refused("othername", server.port, { server_cert: certs.ca.pem, server_name: "broker.example" });
	assert.match(error.payload, /TLS/);
	assert.ok(server.record.connections >= 1, "the TLS connection was attempted");
	assert.equal(server.record.bytes, 0, "no MQTT byte reached the server");
});

test("a broker whose certificate another CA signed: error, disconnect, and mosquitto never sees a CONNECT", async () => {
	const before = main.log().split("\n").filter((l) => / New connection from /.test(l)).length;
	const error = await refused("wrongca", main.port, { server_cert: certs.other.pem });
	assert.match(error.payload, /TLS/);
	// mosquitto logs every TCP connection and every CONNECT it receives ("... as <client id>").
	const deadline = Date.now() + 2000;
	let log = main.log();
	while (log.split("\n").filter((l) => / New connection from /.test(l)).length <= before && Date.now() < deadline) {
		await new Promise((r) => setTimeout(r, 50));
		log = main.log();
	}
	assert.ok(log.split("\n").filter((l) => / New connection from /.test(l)).length > before, "the broker saw the TCP connection");
	assert.doesNotMatch(log, /wrongca/, "the broker never received CONNECT from the client");
});

test("ssl = true checks the server against the device's CA store: a private CA's broker is refused, not trusted blindly", async () => {
	await refused("storeonly", main.port, true);
	const server = await recordingServer(certs.server);
	await refused("storeonly2", server.port, true);
	assert.equal(server.record.bytes, 0);
});

test("an expired server certificate is refused before any MQTT byte", async () => {
	const server = await recordingServer(certs.expired);
	const error = await refused("expired", server.port, { server_cert: certs.ca.pem });
	assert.match(error.payload, /TLS/);
	assert.ok(server.record.connections >= 1, "the TLS connection was attempted");
	assert.equal(server.record.bytes, 0, "no MQTT byte reached the server");
});

test("verify 0 connects to a self-signed server; verify 2 (default) refuses it; verify 1 is not checked on Moddable", async () => {
	await connectTo("v0", "127.0.0.1", selfSigned.port, { verify: 0 });
	await roundTrip("v0", selfSigned, "tls/v0");
	await driver.call("v0", "close");
	await refused("v2", selfSigned.port, { server_cert: certs.ca.pem });
	await refused("vdefault", selfSigned.port, {});
	await connectTo("v1", "127.0.0.1", selfSigned.port, { server_cert: certs.ca.pem, verify: 1 });
	await driver.call("v1", "close");
});

test("mutual TLS (require_certificate): the device pair connects as PEM PKCS#8, as PKCS#1 with CRLF, and as DER", async () => {
	const forms = {
		pkcs8: { server_cert: certs.ca.pem, client_cert: certs.client.pem, client_key: certs.client.key },
		pkcs1: { server_cert: crlf(certs.ca.pem), client_cert: crlf(certs.client.pem), client_key: crlf(certs.client.keyPkcs1) },
		der: { server_cert: certs.ca.der, client_cert: certs.client.der, client_key: certs.client.keyDer },
		pkcs1der: { server_cert: certs.ca.der, client_cert: certs.client.der, client_key: certs.client.keyPkcs1Der },
	};
	for (const [form, ssl] of Object.entries(forms)) await connectTo(`mtls-${form}`, "127.0.0.1", mutual.port, ssl);
	await roundTrip("mtls-der", mutual, "tls/mutual");
	for (const form of Object.keys(forms)) await driver.call(`mtls-${form}`, "close");
	// the seed's example passes client_password too; with an unencrypted key it is not needed
	await connectTo("mtls-pw", "127.0.0.1", mutual.port, { ...forms.pkcs8, client_password: "123456" });
	await driver.call("mtls-pw", "close");
});

test("mutual TLS: without a client certificate the broker refuses the handshake; error, no CONNECT", async () => {
	await refused("nocert", mutual.port, { server_cert: certs.ca.pem });
	// a certificate the broker's CA did not sign is refused the same way
	await refused("selfcert", mutual.port, { server_cert: certs.ca.pem, client_cert: certs.selfSigned.pem, client_key: certs.selfSigned.keyPem });
	assert.doesNotMatch(mutual.log(), /nocert|selfcert/);
});

test("a CA bundle whose right CA comes second connects in the same attempt, without an error event", async () => {
	assert.equal(await driver.create("bundle", "127.0.0.1", main.port, { server_cert: certs.other.pem + certs.ca.pem }), true);
	await driver.call("bundle", "auth", "bundle");
	await driver.call("bundle", "connect");
	await driver.waitEvent("bundle", "conack", () => true, WAIT);
	assert.equal(driver.seen("bundle", "error").length, 0, "the failing first CA is retried with the second, silently");
	// the CA that worked stays in use: a reconnect succeeds at once
	await driver.call("bundle", "disconnect");
	await driver.waitEvent("bundle", "disconnect", () => true, WAIT);
	await driver.call("bundle", "connect");
	await driver.waitEvent("bundle", "conack", () => true, WAIT);
	assert.equal(driver.seen("bundle", "error").length, 0);
	await driver.call("bundle", "close");
});

test("create returns null, with the reason traced, for what Moddable's TLS cannot use", async () => {
	const base = { server_cert: certs.ca.pem, client_cert: certs.client.pem };
	const cases = [
		[{ ...base, client_key: certs.client.keyEncrypted }, /encrypted/],
		[{ ...base, client_key: certs.client.keyEc }, /RSA/],
		[{ ...base, client_key: certs.client.keyEcSec1 }, /RSA/],
		[{ ...base }, /client_cert and client_key go together/],
		[{ server_cert: certs.ca.pem, client_password: "123456" }, /client_password/],
		[{ server_cert: "not a certificate" }, /no PEM CERTIFICATE/],
		[{ server_cert: certs.ca.pem, verify: 3 }, /verify/],
		["yes", /ssl must be/],
	];
	for (const [i, [ssl, reason]] of cases.entries()) {
		const traced = createReasons().length;
		assert.equal(await driver.create(`bad${i}`, "127.0.0.1", main.port, ssl), false, `case ${i}`);
		const lines = createReasons().slice(traced);
		assert.equal(lines.length, 1, `case ${i}: one reason traced`);
		assert.match(lines[0], reason);
	}
});

test("ssl given to an app built without TLS: create returns null and says which manifest to include", async () => {
	const app = await startApp(fileURLToPath(new URL("./apps/client-notls/", import.meta.url)), { stdout: !!process.env.MQTTC_TRACE });
	try {
		assert.equal(await app.call("create", "plain", "127.0.0.1", main.plain, null, null), true, "plain TCP still works");
		assert.equal(await app.call("create", "tls", "127.0.0.1", main.port, { server_cert: certs.ca.pem }, null), false);
		assert.equal(await app.call("create", "tls2", "127.0.0.1", main.port, true, null), false);
		assert.match(app.output, /mqttc: create: TLS needs the securesocket module and mqttc\/tls: include mqttc's manifest_tls.json/);
		assert.ok(!app.sources.has("mqttc/tls"), "an app built without TLS carries none of mqttc's TLS code");
		assert.ok(app.sources.has("mqttc/client"));
	}
	finally {
		await app.stop();
	}
});

/** What mqttc/tls makes of `ssl` in the XS engine, as create() runs it (the client app's
 * tlsSettings): {reason} or {secure, authorities} with their buffers as {hex}, and {ms}. */
const settingsOf = (ssl) => driver.app.call("tlsSettings", ssl);
const hex = (bytes) => Buffer.from(bytes).toString("hex");

test("what SecureSocket is given is DER, byte for byte what openssl writes (a device, unlike the XS host, accepts nothing else)", async () => {
	let s = await settingsOf({ server_cert: certs.ca.pem });
	assert.equal(s.secure.certificate.hex, hex(certs.ca.der));
	assert.equal(s.secure.verify, true);
	s = await settingsOf({ server_cert: crlf(certs.other.pem + certs.ca.pem) });
	assert.deepEqual(s.authorities.map((a) => a.hex), [hex(certs.other.der), hex(certs.ca.der)], "a PEM bundle, in order");
	s = await settingsOf({ server_cert: Buffer.concat([certs.other.der, certs.ca.der]) });
	assert.deepEqual(s.authorities.map((a) => a.hex), [hex(certs.other.der), hex(certs.ca.der)], "concatenated DER, split");
	for (const key of [certs.client.key, crlf(certs.client.keyPkcs1), certs.client.keyDer, certs.client.keyPkcs1Der]) {
		s = await settingsOf({ client_cert: certs.client.pem, client_key: key });
		assert.equal(s.secure.clientKey.hex, hex(certs.client.keyDer), "every RSA key form becomes PKCS#8 DER");
		assert.deepEqual(s.secure.clientCertificates.map((c) => c.hex), [hex(certs.client.der)]);
	}
	assert.equal((await settingsOf(true)).secure.verify, true, "ssl = true verifies (with the built-in CA store)");
	assert.equal((await settingsOf(true)).secure.certificate, undefined);
	const verifies = [];
	for (const verify of [0, 1, 2, undefined]) verifies.push((await settingsOf({ verify })).secure.verify);
	assert.deepEqual(verifies, [false, false, true, true]);
	s = await settingsOf({ alpn: "mqtt", server_name: "broker.example" });
	assert.equal(s.secure.applicationLayerProtocolNegotiation, "mqtt");
	assert.equal(s.secure.serverName, "broker.example");
});

/** The mutual-TLS `ssl` table with client key `key` (a form of certs.encrypted) and `password`. */
function encryptedSsl(key, password = PASSPHRASE) {
	return { server_cert: certs.ca.pem, client_cert: certs.client.pem, client_key: key, client_password: password };
}

test("mutual TLS with an encrypted key and client_password: each form openssl writes connects, publishes and receives", async () => {
	// openssl pkcs8 -topk8 -v2 aes-256-cbc (PBES2, PBKDF2 HMAC-SHA-256, 2048 iterations);
	// -v2prf hmacWithSHA1 -v2 aes-128-cbc; -v2 des3; openssl rsa -traditional -aes256 / -des3
	const forms = ["pbes2Sha256Aes256", "pbes2Sha1Aes128", "pbes2Des3", "traditionalAes256", "traditionalDes3"];
	for (const form of forms) {
		const name = `enc-${form}`;
		await connectTo(name, "127.0.0.1", mutual.port, encryptedSsl(certs.encrypted[form]));
		await roundTrip(name, mutual, `tls/encrypted/${form}`);
		await driver.call(name, "close");
	}
	// and the DER of an EncryptedPrivateKeyInfo, as bytes
	await connectTo("enc-der", "127.0.0.1", mutual.port, encryptedSsl(certs.encrypted.der));
	await driver.call("enc-der", "close");
	for (const form of [...forms, "der"]) assert.match(mutual.log(), new RegExp(`New client connected .* as enc-${form} `), `the broker took ${form}'s CONNECT`);
});

test("every encrypted form decrypts in XS, with the SDK's crypt API, to openssl's unencrypted PKCS#8 DER byte for byte", async (t) => {
	const e = certs.encrypted;
	const cases = [
		...["pbes2Sha256Aes256", "pbes2Sha1Aes128", "pbes2Des3", "pbes2Sha512Aes192", "traditionalAes256", "traditionalAes128", "traditionalDes3", "der"]
			.map((form) => [form, e[form], PASSPHRASE]),
		["CRLF line ends", crlf(e.traditionalAes256), PASSPHRASE],
		["a non-ASCII pass phrase (UTF-8), PBES2", e.unicode, UNICODE_PASSPHRASE],
		["a non-ASCII pass phrase (UTF-8), traditional", e.unicodeTraditional, UNICODE_PASSPHRASE],
		...Object.entries(e.legacy ?? {}).map(([form, key]) => [`${form} (single DES)`, key, PASSPHRASE]),
	];
	for (const [form, key, password] of cases) {
		const s = await settingsOf({ client_cert: certs.client.pem, client_key: key, client_password: password });
		assert.equal(s.reason, undefined, `${form}: ${s.reason}`);
		assert.equal(s.secure.clientKey.hex, hex(certs.client.keyDer), form);
	}
	if (!e.legacy) t.diagnostic("single DES not checked: this openssl has no legacy provider");
});

test("create returns null with the reason traced: a wrong or missing pass phrase, a scheme mqttc cannot decrypt, a non-RSA key inside", async () => {
	const e = certs.encrypted;
	const cases = [
		[encryptedSsl(e.pbes2Sha256Aes256, "654321"), /^mqttc: create: client_password is wrong: client_key does not decrypt to a private key$/],
		[encryptedSsl(e.pbes2Des3, "12345"), /client_password is wrong/],
		[encryptedSsl(e.traditionalAes256, "654321"), /client_password is wrong/],
		[encryptedSsl(e.traditionalDes3, ""), /client_password is wrong/],
		[encryptedSsl(e.der, "1234567"), /client_password is wrong/],
		[encryptedSsl(e.unicode, "passwoerd"), /client_password is wrong/],
		[{ ...encryptedSsl(e.pbes2Sha1Aes128), client_password: undefined }, /^mqttc: create: client_key is encrypted: client_password is needed$/],
		[{ ...encryptedSsl(e.traditionalDes3), client_password: undefined }, /client_key is encrypted: client_password is needed/],
		[{ ...encryptedSsl(e.der), client_password: undefined }, /client_key is encrypted: client_password is needed/],
		[encryptedSsl(e.scrypt), /client_key: key derivation scrypt is not supported \(PBES2 with PBKDF2 and AES-CBC or DES-EDE3-CBC is/],
		[encryptedSsl(e.pbes1), /client_key: PKCS#12 PBE encryption \(1\.2\.840\.113549\.1\.12\.1\.3\) is not supported/],
		[encryptedSsl(e.camellia), /client_key: cipher 1\.2\.392\.200011\.61\.1\.1\.1\.2 is not supported/],
		[encryptedSsl(e.traditionalCamellia), /client_key: cipher CAMELLIA-128-CBC is not supported/],
		[encryptedSsl(e.tooManyIterations), /client_key: PBKDF2 iteration count 100001 is above mqttc's limit of 100000/],
		[encryptedSsl(e.ec), /client_key: not an RSA key/],
		[encryptedSsl(e.ecTraditional), /client_key: "EC PRIVATE KEY" is not supported/],
		[encryptedSsl(e.pbes2Sha256Aes256, 123456), /client_password must be a string/],
	];
	for (const [i, [ssl, reason]] of cases.entries()) {
		const traced = createReasons().length;
		assert.equal(await driver.create(`refused${i}`, "127.0.0.1", mutual.port, ssl), false, `case ${i}`);
		const lines = createReasons().slice(traced);
		assert.equal(lines.length, 1, `case ${i}: one reason traced`);
		assert.match(lines[0], reason, `case ${i}`);
	}
});

test("a wrong CA is refused every time, whatever connected before: the SDK's session cache never skips verification", async () => {
	// The Linux simulator profile models the SDK's single-entry session cache keyed by host
	// name, which resumes without any certificate check unless `secure.cache` is false.
	await refused("cache1", main.port, { server_cert: certs.other.pem });
	await connectTo("cache2", "127.0.0.1", main.port, { server_cert: certs.ca.pem });
	await driver.call("cache2", "close");
	await refused("cache3", main.port, { server_cert: certs.other.pem });
	await connectTo("cache4", "127.0.0.1", selfSigned.port, { verify: 0 });
	await driver.call("cache4", "close");
	await refused("cache5", selfSigned.port, { server_cert: certs.ca.pem });
});
