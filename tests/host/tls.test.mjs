// SecureSocket over Node tls against a local TLS server with an openssl-made PKI.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { startApp } from "../../hosts/xs/host.mjs";
import { readFileSync } from "node:fs";
import { makeCerts } from "../lib/certs.mjs";
import { recordingServer, until } from "../helpers/net.mjs";

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/probe");

/** @type {ReturnType<typeof makeCerts>} */
let certs;
/** The PKI in the shape these tests use: PEM and DER of each certificate and key. */
let pki;
/** @type {any} */
let app;
before(async () => {
	certs = makeCerts();
	pki = {
		ca: certs.ca,
		otherCa: certs.other,
		server: { cert: certs.server, key: { pem: readFileSync(certs.server.key, "utf8") } },
		client: { cert: certs.client, key: { der: certs.client.keyDer } },
	};
	app = await startApp(PROBE, { stdout: false });
});
after(async () => {
	await app?.stop();
	certs?.cleanup();
});

/** @param {tls.TlsOptions} [extra] @param {(s: import("node:net").Socket) => void} [onConnection] */
function tlsServer(extra = {}, onConnection) {
	return recordingServer({
		createServer: listener => tls.createServer({ key: pki.server.key.pem, cert: pki.server.cert.pem, ...extra }, listener),
		onConnection,
	});
}

const waitEvent = (/** @type {(e: any) => boolean} */ match, what = "event") =>
	until(async () => (await app.call("events")).find(match), { timeout: 10000, what });

// Each test opts out of the SDK's TLS session cache (cache: false) so that it checks a full
// handshake; the last test shows what the cache does.

test("connects with the CA certificate (DER), exchanges data, reports free space minus 128", async () => {
	const server = await tlsServer({}, s => s.on("data", d => s.write(`echo:${d}`)));
	try {
		assert.equal(await app.call("connectSecure", server.port, { cache: false, certificate: pki.ca.der, protocolVersion: 0x303 }), 1024 - 128);
		await waitEvent(e => e.message === 1, "TLS connected");
		assert.deepEqual(await app.call("write", { s: "ping" }), { result: "(undefined)", free: 1024 - 128 - 4 });
		const data = await waitEvent(e => e.message === 2, "echo");
		assert.equal(data.reads[0][1], "echo:ping");
		const sent = await waitEvent(e => e.message === 3, "message 3");
		assert.equal(sent.value, 1024 - 128);
		const conn = await server.connection();
		assert.equal(/** @type {tls.TLSSocket} */ (conn.socket).getProtocol(), "TLSv1.2", "protocolVersion 0x303 is TLS 1.2");
		assert.equal(/** @type {tls.TLSSocket} */ (conn.socket).servername, "localhost", "SNI is the host name");
	}
	finally {
		await app.call("close");
		await server.close();
	}
});

test("a server certificate from another CA fails with -2 and the reason in lastError", async () => {
	const server = await tlsServer();
	try {
		await app.call("connectSecure", server.port, { cache: false, certificate: pki.otherCa.der });
		const failed = await waitEvent(e => e.message === -2, "-2");
		assert.match(failed.lastError.code, /UNABLE_TO_VERIFY|SELF_SIGNED|CERT/);
		assert.deepEqual((await app.call("events")).map(e => e.message), [-2], "never connected");
	}
	finally {
		await server.close();
	}
});

test("the server name (serverName, else host) must match the certificate; verify: false skips the checks", async () => {
	const server = await tlsServer({}, s => s.write("hi"));
	try {
		await app.call("connectSecure", server.port, { cache: false, certificate: pki.ca.der, serverName: "wrong.example" }, "127.0.0.1");
		const failed = await waitEvent(e => e.message === -2, "-2 for a wrong host name");
		assert.equal(failed.lastError.code, "ERR_TLS_CERT_ALTNAME_INVALID");

		await app.call("connectSecure", server.port, { cache: false, certificate: pki.otherCa.der, verify: false });
		const data = await waitEvent(e => e.message === 2, "data with verify: false");
		assert.equal(data.reads[0][1], "hi");
	}
	finally {
		await app.call("close");
		await server.close();
	}
});

test("client certificate and key (DER) for mutual TLS, ALPN; TLS 1.2 even when the server offers 1.3, as the SDK", async () => {
	const server = await tlsServer({ ca: pki.ca.pem, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ["mqtt"] },
		s => s.write(`client=${/** @type {tls.TLSSocket} */ (s).getPeerCertificate().subject?.CN}`));
	try {
		await app.call("connectSecure", server.port, { cache: false,
			certificate: pki.ca.der, clientKey: pki.client.key.der, clientCertificates: [pki.client.cert.der],
			applicationLayerProtocolNegotiation: "mqtt",
		});
		const data = await waitEvent(e => e.message === 2, "data over mutual TLS");
		assert.equal(data.reads[0][1], "client=mqttc-device");
		const conn = await server.connection();
		assert.equal(/** @type {tls.TLSSocket} */ (conn.socket).alpnProtocol, "mqtt");
		assert.equal(/** @type {tls.TLSSocket} */ (conn.socket).getProtocol(), "TLSv1.2");
	}
	finally {
		await app.call("close");
		await server.close();
	}
});

test("the SDK's TLS limits: a TLS 1.3-only server is refused, protocolVersion 0x304 is not supported", async () => {
	const server = await tlsServer({ minVersion: "TLSv1.3" });
	try {
		await app.call("connectSecure", server.port, { cache: false, certificate: pki.ca.der });
		const failed = await waitEvent(e => e.message === -2, "-2 from a TLS 1.3-only server");
		assert.ok((await app.call("events")).every(e => e.message !== 1 && e.message !== 2), String(failed));
		await app.call("connectSecure", server.port, { cache: false, certificate: pki.ca.der, protocolVersion: 0x304 });
		const unsupported = await waitEvent(e => e.message === -2, "-2 for protocolVersion 0x304");
		assert.match(JSON.stringify(unsupported.lastError), /protocolVersion: not supported/);
	}
	finally {
		await server.close();
	}
});

// A server that prefers DHE_RSA (as mosquitto 2.0.11 does by its cipher list's @STRENGTH) and
// asks for a client certificate: the SDK cannot sign CertificateVerify for DHE_RSA and ends
// the handshake; its config.tls.DHE_RSA false (mqttc's manifest_tls.json) avoids the suite.
const DHE_SERVER = { requestCert: true, rejectUnauthorized: false, honorCipherOrder: true, dhparam: "auto", maxVersion: /** @type {const} */ ("TLSv1.2"),
	ciphers: "DHE-RSA-AES256-SHA256:DHE-RSA-AES128-SHA256:AES256-SHA256:AES128-SHA" };

test("the SDK's TLS with DHE_RSA on (its default) fails a handshake whose server asks for a client certificate and picks DHE", async () => {
	const server = await tlsServer(DHE_SERVER, s => s.write("in"));
	try {
		await app.call("connectSecure", server.port, { cache: false, certificate: pki.ca.der, clientKey: pki.client.key.der, clientCertificates: [pki.client.cert.der] });
		const failed = await waitEvent(e => e.message === -2, "-2: certificateVerify unimplemented");
		assert.ok((await app.call("events")).every(e => e.message !== 1 && e.message !== 2));
		assert.match(JSON.stringify(failed.lastError), /certificateVerify: unimplemented/);
	}
	finally {
		await server.close();
	}
	// without a client certificate DHE_RSA is fine: no CertificateVerify is sent
	const plain = await tlsServer({ ...DHE_SERVER, requestCert: false }, s => s.write("in"));
	try {
		await app.call("connectSecure", plain.port, { cache: false, certificate: pki.ca.der });
		assert.equal((await waitEvent(e => e.message === 2, "data over DHE_RSA")).reads[0][1], "in");
		assert.match(/** @type {tls.TLSSocket} */ ((await plain.connection()).socket).getCipher().name, /^DHE-RSA/);
	}
	finally {
		await app.call("close");
		await plain.close();
	}
});

test("with config.tls.DHE_RSA false the same server picks RSA key exchange and mutual TLS works", async () => {
	const noDhe = await startApp(PROBE, { stdout: false, config: { tls: { DHE_RSA: false } } });
	const server = await tlsServer(DHE_SERVER, s => s.write("in"));
	try {
		await noDhe.call("connectSecure", server.port, { cache: false, certificate: pki.ca.der, clientKey: pki.client.key.der, clientCertificates: [pki.client.cert.der] });
		const data = await until(async () => (await noDhe.call("events")).find((/** @type {any} */ e) => e.message === 2), { timeout: 10000, what: "data" });
		assert.equal(data.reads[0][1], "in");
		assert.equal(/** @type {tls.TLSSocket} */ ((await server.connection()).socket).getCipher().name, "AES256-SHA256");
	}
	finally {
		await noDhe.stop();
		await server.close();
	}
});

test("without a client certificate a server that requires one ends the connection", async () => {
	const server = await tlsServer({ ca: pki.ca.pem, requestCert: true, rejectUnauthorized: true });
	try {
		await app.call("connectSecure", server.port, { cache: false, certificate: pki.ca.der });
		const failed = await waitEvent(e => e.message < 0, "-1 or -2");
		assert.ok(failed.message === -2 || failed.message === -1);
		assert.ok((await app.call("events")).every(e => e.message !== 2));
	}
	finally {
		await server.close();
	}
});

test("the SDK's TLS session cache: a second socket to the same host name resumes and is not verified, unless cache: false", async () => {
	const server = await tlsServer({}, s => s.write("hi"));
	try {
		await app.call("connectSecure", server.port, { certificate: pki.ca.der });
		await waitEvent(e => e.message === 2, "first connection, verified");
		await app.call("close");
		await app.call("connectSecure", server.port, { certificate: pki.otherCa.der });
		const data = await waitEvent(e => e.message === 2 || e.message === -2, "second connection");
		assert.equal(data.message, 2, "a wrong CA connects: the cached session of this host name was resumed");
		await app.call("close");
		await app.call("connectSecure", server.port, { certificate: pki.otherCa.der, cache: false });
		const refused = await waitEvent(e => e.message === 2 || e.message === -2, "third connection");
		assert.equal(refused.message, -2, "with cache: false the handshake is full and the wrong CA is refused");
	}
	finally {
		await app.call("close");
		await server.close();
	}
});
