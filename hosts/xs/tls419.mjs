// @ts-check
/**
 * The parent's half of the desktop XS host's ECMA-419 TLS socket (`embedded:io/socket/tcp/tls`;
 * guest: hosts/xs/guest/tls419.js). The guest runs the SDK's TLSSocket and the I/O half of its
 * session (modules/crypt/ssl/session_419.js): it reads whole records from its TCP socket and
 * writes the records it is given. Here each session's TLS is computed: Node's TLS (OpenSSL)
 * over an in-memory stream, fed one record at a time, produces the records the client writes
 * (ClientHello, its second flight, application data) and the plaintext of the records it
 * reads. Limited as the SDK is: TLS 1.2 only, its cipher suites (config.tls), no session
 * tickets, encrypt-then-MAC or extended master secret (the SDK offers none of them).
 *
 * What Node's TLS would decide differently is decided here as the SDK decides it:
 * - the server's certificate chain is checked when its Certificate message arrives, by the
 *   rules of modules/crypt/ssl/ssl_cert.js (`verify()`: the name against the subjectAltName
 *   dNSName and IPv4 entries only, dates, each signature with the next certificate's key,
 *   then a trusted certificate found by the authority key identifier); a refusal is the
 *   SDK's TLSError "certificate: auth err", thrown in the guest;
 * - `certificate` (one DER certificate, "registered") is date-checked when the session is
 *   made (Error "date validation failed" from the TLSSocket's constructor);
 * - a DHE_RSA suite chosen by a server that asked for a client certificate, with one given:
 *   the SDK writes its Certificate and ClientKeyExchange and throws "certificateVerify:
 *   unimplemented";
 * - alerts: a close_notify is reported (the guest then ends the connection with onError); any
 *   other alert is the SDK's TLSError "alert: <level>, <description>".
 *
 * Calls: OPEN (options; answers an error or nothing), HELLO (answers the ClientHello), RECORD
 * (a received record; answers records to write, plaintext, handshake finished, alert, error),
 * WRITE (plaintext; answers its record), CLOSE (no answer). Each answer is JSON with its byte
 * strings appended (as the guest's socket options travel), see encodeAnswer.
 */
import crypto from "node:crypto";
import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";

export const TLS_OPEN = 1, TLS_HELLO = 2, TLS_RECORD = 3, TLS_WRITE = 4, TLS_CLOSE = 5;

const CHANGE_CIPHER_SPEC = 20, ALERT = 21, HANDSHAKE = 22, APPLICATION_DATA = 23;
const SERVER_HELLO = 2, CERTIFICATE = 11, CERTIFICATE_REQUEST = 13, CERTIFICATE_VERIFY = 15;
/** DHE_RSA suites (the SDK offers 0x0067, 0x006B, 0x009E); the SDK cannot sign CertificateVerify for them */
const DHE_SUITES = new Set([0x0033, 0x0039, 0x0067, 0x006B, 0x009E, 0x009F]);
/** OpenSSL reports a received alert as reason 1000 + its description (SSL_AD_REASON_OFFSET). */
const ALERT_REASON = 1000;
/** secureOptions: no session ticket, no encrypt-then-MAC, no extended master secret (OpenSSL 3's SSL_OP_NO_EXTENDED_MASTER_SECRET is bit 0) */
const SECURE_OPTIONS = crypto.constants.SSL_OP_NO_TICKET | (crypto.constants.SSL_OP_NO_ENCRYPT_THEN_MAC ?? 0x80000) | 1;
/** event-loop rounds without news after which Node's TLS has done all a record asks of it */
const QUIET_ROUNDS = 3;
const MAX_ROUNDS = 200;

/**
 * @typedef {object} TlsHelpers   what host.mjs lends the model
 * @property {() => number} now                                 the app's clock (virtual time too)
 * @property {() => string} ciphers                             the SDK's suites for the app's config.tls, OpenSSL names
 * @property {(payload: Uint8Array) => any} decodeOptions        the guest's JSON-with-blobs options
 * @property {(der: Uint8Array, label: string) => string} derToPem
 * @property {(der: Uint8Array) => string} keyToPem
 * @property {{get(): string|undefined, set(name: string): void}} cache  the SDK's ssl/cache: one host name (shared with SecureSocket)
 */

export class Tls419Model {
	/** @param {TlsHelpers} helpers */
	constructor(helpers) {
		this.helpers = helpers;
		/** @type {Map<number, Session>} */
		this.sessions = new Map();
	}

	/** A CLOSE needs no answer: applied with the turn's other records. @param {Uint8Array} payload */
	static queued(payload) {
		return payload[0] === TLS_CLOSE;
	}

	/** @param {number} id */
	close(id) {
		this.sessions.get(id)?.destroy();
		this.sessions.delete(id);
	}

	closeAll() {
		for (const session of this.sessions.values())
			session.destroy();
		this.sessions.clear();
	}

	/**
	 * One call of the guest. @param {number} id @param {Uint8Array} payload
	 * @returns {Promise<Uint8Array>}
	 */
	async call(id, payload) {
		const operation = payload[0];
		const bytes = payload.subarray(1);
		if (operation === TLS_OPEN) {
			const session = new Session(this.helpers, this.helpers.decodeOptions(bytes));
			this.sessions.set(id, session);
			return encodeAnswer(session.open());
		}
		const session = this.sessions.get(id);
		if (!session)
			return encodeAnswer({ error: { name: "Error", message: "XS host: no such TLS session (closed)" } });
		if (operation === TLS_HELLO)
			return encodeAnswer(await session.hello());
		if (operation === TLS_RECORD)
			return encodeAnswer(await session.record(Buffer.from(bytes)));
		if (operation === TLS_WRITE)
			return encodeAnswer(await session.write(Buffer.from(bytes)));
		throw new Error(`xs host protocol error: unknown TLS operation ${operation}`);
	}
}

/**
 * @typedef {{name: string, message: string}} Thrown
 * @typedef {object} Answer
 * @property {Uint8Array[]} [records]   records to write, one TCP write each
 * @property {Uint8Array} [data]         the plaintext of an application_data record (maybe empty)
 * @property {boolean} [finished]        the server's Finished came: the handshake is done
 * @property {{level: number, description: number}} [alert]  a close_notify came
 * @property {Thrown} [error]            what the SDK throws processing this record
 * @property {Thrown} [failure]          what it throws after writing `records` (its next handshake step)
 * @property {string[]} [traces]         what the SDK traces
 */

/** JSON with byte strings as {"$blob": n}, the blobs after it (u32 length, bytes each). @param {Answer} answer */
function encodeAnswer(answer) {
	/** @type {Uint8Array[]} */
	const blobs = [];
	const json = Buffer.from(JSON.stringify(answer, function (key, value) {
		const original = this[key];		// (a Buffer's toJSON already ran on `value`)
		if (original instanceof Uint8Array) {
			blobs.push(original);
			return { $blob: blobs.length - 1 };
		}
		return value;
	}));
	let length = 4 + json.length;
	for (const blob of blobs)
		length += 4 + blob.length;
	const out = Buffer.alloc(length);
	out.writeUInt32LE(json.length, 0);
	json.copy(out, 4);
	let at = 4 + json.length;
	for (const blob of blobs) {
		out.writeUInt32LE(blob.length, at);
		out.set(blob, at + 4);
		at += 4 + blob.length;
	}
	return out;
}

/** @param {string} message @returns {Thrown} */
const tlsError = (message) => ({ name: "TLS", message });

class Session {
	/** @param {TlsHelpers} helpers @param {any} options the session's options as the SDK's constructor sees them */
	constructor(helpers, options) {
		this.helpers = helpers;
		this.options = options;
		/** `tls_server_name` (serverName, by default the TLSSocket's host) */
		this.name = typeof options.serverName === "string" ? options.serverName : undefined;
		this.verify = options.verify ?? true;
		this.cached = options.cache === undefined || !!options.cache;
		/** @type {tls.TLSSocket | undefined} */
		this.node = undefined;
		/** @type {Duplex | undefined} */
		this.wire = undefined;
		/** bytes Node wrote (the client's records), not yet handed out */
		this.output = Buffer.alloc(0);
		/** @type {Buffer[]} plaintext Node read */
		this.plain = [];
		this.activity = 0;
		this.secure = false;
		this.ended = false;
		this.closeNotified = false;
		/** @type {any} */
		this.nodeError = undefined;
		/** @type {Thrown | undefined} a failure already thrown: the session is dead */
		this.dead = undefined;
		/** the server's messages before its ChangeCipherSpec are plaintext: read here too */
		this.serverEncrypted = false;
		this.handshakeBytes = Buffer.alloc(0);
		this.suite = -1;
		this.certificateRequested = false;
		/** the SDK would resume the cached session of this name: no certificate is exchanged */
		this.resumed = false;
	}

	/** The SDK's constructor: CertificateManager registers `certificate`, checking its dates. @returns {Answer} */
	open() {
		const certificate = this.options.certificate;
		if (certificate !== undefined && certificate !== null) {
			if (!(certificate instanceof Uint8Array))
				return { error: { name: "Error", message: "XS host: secure.certificate must be one DER certificate (an ArrayBuffer): ssl_cert.js registers it whole" } };
			const cert = parse(certificate);
			if (!cert)
				return { error: { name: "Error", message: "XS host: secure.certificate is not a DER certificate" } };
			if (this.verify && !inDate(cert, this.helpers.now()))
				return { error: { name: "Error", message: "date validation failed" } };
		}
		return {};
	}

	/** @returns {Promise<Answer>} */
	async hello() {
		const cache = this.helpers.cache;
		this.resumed = this.cached && !!this.name && cache.get() === this.name;
		// allowHalfOpen: after the server's close_notify the SDK's session still encrypts what it is given
		/** @type {tls.ConnectionOptions} */
		const options = /** @type {tls.ConnectionOptions} */ ({
			allowHalfOpen: true, rejectUnauthorized: false, checkServerIdentity: () => undefined,
			minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: this.helpers.ciphers(), secureOptions: SECURE_OPTIONS,
		});
		// The SDK sends any tls_server_name as SNI; Node refuses an IP literal there.
		if (this.name && !net.isIP(this.name))
			options.servername = this.name;
		const s = this.options;
		try {
			if (s.clientCertificates)
				options.cert = (Array.isArray(s.clientCertificates) ? s.clientCertificates : [s.clientCertificates]).map((/** @type {Uint8Array} */ c) => this.helpers.derToPem(c, "CERTIFICATE")).join("");
			if (s.clientKey)
				options.key = this.helpers.keyToPem(s.clientKey);
			const alpn = s.applicationLayerProtocolNegotiation;
			if (alpn)
				options.ALPNProtocols = Array.isArray(alpn) ? alpn.map(String) : [String(alpn)];
		}
		catch (e) {
			return this.fail({ name: "Error", message: /** @type {Error} */ (e).message });
		}
		const wire = this.wire = new Duplex({
			read() {},
			write: (chunk, _encoding, callback) => {
				this.output = Buffer.concat([this.output, chunk]);
				this.activity++;
				callback();
			},
		});
		wire.on("error", () => {});
		let node;
		try {
			node = this.node = tls.connect({ ...options, socket: wire });
		}
		catch (e) {
			return this.fail({ name: "Error", message: /** @type {Error} */ (e).message });
		}
		node.on("secureConnect", () => { this.secure = true; this.activity++; });
		node.on("data", (/** @type {Buffer} */ data) => { this.plain.push(data); this.activity++; });
		node.on("end", () => { this.ended = true; this.activity++; });
		node.on("error", (error) => { this.nodeError ??= error; this.activity++; });
		await this.settle();
		if (this.nodeError)
			return this.fail(this.mapError(this.nodeError));
		return { records: this.takeRecords() };
	}

	/** Lets Node's TLS do what the last input asked: until nothing happened for a few event-loop rounds. */
	async settle() {
		let quiet = 0;
		let seen = this.activity;
		for (let round = 0; quiet < QUIET_ROUNDS && round < MAX_ROUNDS; round++) {
			await new Promise(resolve => setImmediate(resolve));
			if (this.activity !== seen) {
				seen = this.activity;
				quiet = 0;
			}
			else
				quiet++;
		}
	}

	/** The whole records Node wrote since the last call. */
	takeRecords() {
		/** @type {Uint8Array[]} */
		const records = [];
		let at = 0;
		const out = this.output;
		while (at + 5 <= out.length) {
			const end = at + 5 + out.readUInt16BE(at + 3);
			if (end > out.length)
				break;
			records.push(out.subarray(at, end));
			at = end;
		}
		this.output = out.subarray(at);
		return records;
	}

	/** @param {Thrown} thrown @param {Answer} [answer] @returns {Answer} */
	fail(thrown, answer = {}) {
		this.dead = thrown;
		this.destroy();
		return { ...answer, error: thrown };
	}

	/**
	 * What Node's error means in the SDK's words, as far as it can be told.
	 * @param {any} error @returns {Thrown}
	 */
	mapError(error) {
		const reason = /error:[0-9A-Fa-f]{2}([0-9A-Fa-f]{6}):/.exec(String(error.message ?? ""));
		const code = reason ? parseInt(reason[1], 16) : 0;
		if (code >= ALERT_REASON && code < ALERT_REASON + 256)
			return tlsError(`alert: 2, ${code - ALERT_REASON}`);
		if (/BAD_RECORD_MAC|DECRYPTION_FAILED/.test(error.code ?? ""))
			return tlsError("recordProtocol: auth failed");
		return tlsError(`${error.code ?? "handshake"}: ${error.message} (Node's TLS; the SDK's message differs)`);
	}

	/**
	 * One record the guest read whole from its TCP socket. @param {Buffer} record
	 * @returns {Promise<Answer>}
	 */
	async record(record) {
		if (this.dead)
			return { error: this.dead };
		const type = record[0];
		if (type < CHANGE_CIPHER_SPEC || type > APPLICATION_DATA)
			return this.fail(tlsError("recordProtocol: bad data"));
		/** @type {string[]} */
		const traces = [];
		if (!this.serverEncrypted) {
			if (type === ALERT && record.length >= 7)
				return this.alert(record[5], record[6], traces);
			if (type === HANDSHAKE) {
				const thrown = this.handshakeMessages(record.subarray(5), traces);
				if (thrown)
					return this.fail(thrown, { traces });
			}
			if (type === CHANGE_CIPHER_SPEC)
				this.serverEncrypted = true;
		}
		if (!this.node || !this.wire)
			return this.fail(tlsError("recordProtocol: bad data"));		// nothing was sent: no session to read it
		const wasSecure = this.secure;
		this.wire.push(Buffer.from(record));
		this.activity++;
		await this.settle();
		if (this.nodeError)
			return this.fail(this.mapError(this.nodeError), { traces });
		/** @type {Answer} */
		const answer = { traces };
		if (this.ended && !this.closeNotified) {
			this.closeNotified = true;
			return this.alert(1, 0, traces);
		}
		const data = this.plain.splice(0);
		if (type === APPLICATION_DATA)
			answer.data = data.length === 1 ? data[0] : Buffer.concat(data);
		if (this.secure && !wasSecure) {
			answer.finished = true;
			if (this.cached && this.name)
				this.helpers.cache.set(this.name);
		}
		const records = this.takeRecords();
		if (records.length) {
			const verify = this.certificateRequested && DHE_SUITES.has(this.suite) && this.options.clientCertificates
				? records.findIndex(r => r[0] === HANDSHAKE && r[5] === CERTIFICATE_VERIFY) : -1;
			if (verify >= 0) {
				// the SDK writes Certificate and ClientKeyExchange, then cannot sign for DHE_RSA
				answer.records = records.slice(0, verify);
				answer.failure = tlsError("certificateVerify: unimplemented");
				this.dead = answer.failure;
				this.destroy();
			}
			else
				answer.records = records;
		}
		return answer;
	}

	/** A received alert (ssl_alert.js): close_notify is traced and reported, any other thrown. @param {number} level @param {number} description @param {string[]} traces @returns {Answer} */
	alert(level, description, traces) {
		if (description !== 0)
			return this.fail(tlsError(`alert: ${level}, ${description}`), { traces });
		traces.push("SSL: close notify\n");
		return { traces, alert: { level, description } };
	}

	/**
	 * The server's handshake messages before its ChangeCipherSpec, as the SDK reads them: the
	 * chosen suite, the certificate chain (verified here), a certificate request.
	 * @param {Buffer} fragment @param {string[]} traces @returns {Thrown | undefined}
	 */
	handshakeMessages(fragment, traces) {
		let bytes = Buffer.concat([this.handshakeBytes, fragment]);
		while (bytes.length >= 4) {
			const length = bytes.readUIntBE(1, 3);
			if (bytes.length < 4 + length)
				break;
			const type = bytes[0];
			const body = bytes.subarray(4, 4 + length);
			bytes = bytes.subarray(4 + length);
			if (type === SERVER_HELLO && body.length >= 35) {
				const at = 35 + body[34];
				if (body.length >= at + 2)
					this.suite = body.readUInt16BE(at);
			}
			else if (type === CERTIFICATE) {
				/** @type {Buffer[]} */
				const certs = [];
				let total = body.length >= 3 ? body.readUIntBE(0, 3) : 0;
				let at = 3;
				while (total > 0 && at + 3 <= body.length) {
					const size = body.readUIntBE(at, 3);
					certs.push(body.subarray(at + 3, at + 3 + size));
					at += 3 + size;
					total -= size + 3;
				}
				if (!this.resumed) {
					let ok;
					try {
						ok = verifyChain(certs, this, traces);
					}
					catch (e) {
						return /** @type {Thrown} */ (e);
					}
					if (!ok)
						return tlsError("certificate: auth err");
				}
			}
			else if (type === CERTIFICATE_REQUEST)
				this.certificateRequested = true;
		}
		this.handshakeBytes = Buffer.from(bytes);
		return undefined;
	}

	/**
	 * Plaintext to one record. Before the handshake is done the SDK's session has no cipher
	 * and writes the bytes as they are, in a record of their own (from its ChangeCipherSpec
	 * to the server's Finished the SDK would encrypt them: Node's TLS cannot yet).
	 * @param {Buffer} data @returns {Promise<Answer>}
	 */
	async write(data) {
		const node = this.node;
		if (!this.secure) {
			const record = Buffer.alloc(5 + data.length);
			record[0] = APPLICATION_DATA;
			record.writeUInt16BE(0x303, 1);
			record.writeUInt16BE(data.length, 3);
			data.copy(record, 5);
			return { records: [record] };
		}
		if (!data.length || !node || node.destroyed || node.writableEnded)
			return { records: [] };		// OpenSSL writes no record for no data; a failed session none
		node.write(data);
		this.activity++;
		await this.settle();
		return { records: this.takeRecords() };
	}

	destroy() {
		this.node?.destroy();
		this.wire?.destroy();
		this.node = this.wire = undefined;
	}
}

// ---- certificates: ssl_cert.js's verify() ---------------------------------------------------

/**
 * @typedef {object} Cert
 * @property {Buffer} der
 * @property {Buffer} tbs
 * @property {string} algorithm   the signature algorithm's OID, dotted
 * @property {Map<string, Buffer>} extensions  OID (dotted) -> extnValue's content
 * @property {Buffer} publicKeyBits
 * @property {crypto.X509Certificate} x509
 */

/** One DER element at `at`: tag, content start and end. @param {Buffer} b @param {number} at */
function element(b, at) {
	if (at + 2 > b.length)
		throw new Error("DER: truncated");
	const tag = b[at];
	let length = b[at + 1];
	let start = at + 2;
	if (length & 0x80) {
		const n = length & 0x7F;
		if (n < 1 || n > 4 || start + n > b.length)
			throw new Error("DER: bad length");
		length = b.readUIntBE(start, n);
		start += n;
	}
	if (start + length > b.length)
		throw new Error("DER: truncated");
	return { tag, start, end: start + length };
}

/** The elements inside a constructed one. @param {Buffer} b @param {{start: number, end: number}} parent */
function children(b, parent) {
	const list = [];
	for (let at = parent.start; at < parent.end;) {
		const e = element(b, at);
		list.push(e);
		at = e.end;
	}
	return list;
}

/** @param {Buffer} b */
function oid(b) {
	const parts = [Math.floor(b[0] / 40), b[0] % 40];
	let value = 0;
	for (let i = 1; i < b.length; i++) {
		value = (value * 128) + (b[i] & 0x7F);
		if (!(b[i] & 0x80)) {
			parts.push(value);
			value = 0;
		}
	}
	return parts.join(".");
}

/** @type {WeakMap<Uint8Array, Cert | null>} */
const parsed = new WeakMap();

/** @param {Uint8Array} bytes @returns {Cert | undefined} */
function parse(bytes) {
	if (parsed.has(bytes))
		return parsed.get(bytes) ?? undefined;
	let cert = null;
	try {
		const der = Buffer.from(bytes);
		const [tbsElement, algorithmElement] = children(der, element(der, 0));
		const tbs = children(der, tbsElement);
		let i = (tbs[0].tag === 0xA0) ? 1 : 0;		// [0] version
		i += 5;		// serial, signature, issuer, validity, subject
		const spki = children(der, tbs[i]);
		const bits = spki[1];
		/** @type {Map<string, Buffer>} */
		const extensions = new Map();
		for (const e of tbs.slice(i + 1)) {
			if (e.tag !== 0xA3)
				continue;
			for (const extension of children(der, children(der, e)[0])) {
				const fields = children(der, extension);
				const value = fields[fields.length - 1];
				extensions.set(oid(der.subarray(fields[0].start, fields[0].end)), der.subarray(value.start, value.end));
			}
		}
		const algorithm = children(der, algorithmElement)[0];
		cert = {
			der, tbs: der.subarray(tbsElement.start, tbsElement.end), extensions,
			algorithm: oid(der.subarray(algorithm.start, algorithm.end)),
			publicKeyBits: der.subarray(bits.start + 1, bits.end),
			x509: new crypto.X509Certificate(der),
		};
	}
	catch {
		cert = null;
	}
	parsed.set(bytes, cert);
	return cert ?? undefined;
}

/** @param {Cert} cert @param {number} now validity.from < now < validity.to, as ssl_cert.js */
function inDate(cert, now) {
	return Date.parse(cert.x509.validFrom) < now && now < Date.parse(cert.x509.validTo);
}

/** X509.decodeSKI: the extension, else SHA-1 of the public key. @param {Cert} cert */
function ski(cert) {
	const value = cert.extensions.get("2.5.29.14");
	if (value) {
		const e = element(value, 0);
		return value.subarray(e.start, e.end);
	}
	return crypto.createHash("sha1").update(cert.publicKeyBits).digest();
}

/** X509.decodeAKI: the keyIdentifier ([0]) of the extension, or undefined. @param {Cert} cert */
function aki(cert) {
	const value = cert.extensions.get("2.5.29.35");
	if (!value)
		return undefined;
	for (const e of children(value, element(value, 0)))
		if ((e.tag & 0x1F) === 0)
			return value.subarray(e.start, e.end);
	return undefined;
}

/** X509.decodeSAN: [{tag, value}] (tag 2 dNSName as text, 7 iPAddress as bytes), or undefined. @param {Cert} cert */
function san(cert) {
	const value = cert.extensions.get("2.5.29.17");
	if (!value)
		return undefined;
	return children(value, element(value, 0)).map(e => {
		const tag = e.tag & 0x7F;
		const bytes = value.subarray(e.start, e.end);
		return { tag, value: (tag === 1 || tag === 2 || tag === 6) ? bytes.toString("latin1") : bytes };
	});
}

const SIGNATURES = new Set([
	"1.2.840.113549.1.1.4", "1.2.840.113549.1.1.5", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12",
	"1.2.840.113549.1.1.13", "1.2.840.113549.1.1.14",		// PKCS#1 v1.5: MD5, SHA-1, SHA-256/384/512/224
	"1.2.840.10040.4.3", "1.3.14.3.2.27",				// DSA with SHA-1
	"1.2.840.10045.4.3.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4",	// ECDSA
]);

/** ssl_cert.js _verify: is `cert` signed by the key of `issuer`? Algorithms the SDK lacks throw. @param {Cert} issuer @param {Cert} cert */
function signedBy(issuer, cert) {
	if (!SIGNATURES.has(cert.algorithm))
		throw { name: "Error", message: `Cert: unsupported algorithm: ${cert.algorithm.split(".").join(",")}` };
	try {
		return cert.x509.verify(issuer.x509.publicKey);
	}
	catch {
		return false;
	}
}

/** @type {Map<string, Cert> | undefined} the device's CA resources (ca.ski, caN.der): Node's store stands for them */
let builtIn;
/** ssl_cert.js findCert("ca.ski", aki) @param {Buffer | undefined} id @param {boolean} verify @param {number} now @param {string[]} traces */
function findBuiltIn(id, verify, now, traces) {
	if (!id)
		return undefined;
	if (!builtIn) {
		builtIn = new Map();
		for (const pem of tls.rootCertificates) {
			const body = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END/.exec(pem);
			const cert = body ? parse(Buffer.from(body[1].replace(/\s+/g, ""), "base64")) : undefined;
			if (cert)
				builtIn.set(ski(cert).toString("hex"), cert);
		}
	}
	const cert = builtIn.get(id.toString("hex"));
	if (cert && verify && !inDate(cert, now)) {
		traces.push("date validation failed on certificate resource\n");
		return undefined;
	}
	return cert;
}

/** Bin.comp with an absent key identifier: xsmcGetBufferReadable of undefined. @param {Buffer} a @param {Buffer | undefined} b */
function sameId(a, b) {
	if (!b)
		throw { name: "TypeError", message: "invalid buffer" };
	return a.equals(b);
}

/**
 * ssl_cert.js verify(certs, options), in its order: true when the chain is trusted and the
 * name matched. Throws a Thrown where the SDK throws.
 * @param {Buffer[]} ders @param {Session} session @param {string[]} traces
 */
function verifyChain(ders, session, traces) {
	if (!session.verify)
		return true;
	const name = session.name?.toLowerCase();
	if (!name) {
		traces.push("tls_server_name required\n");
		return false;
	}
	const now = session.helpers.now();
	const certs = ders.map(der => {
		const cert = parse(der);
		if (!cert)
			throw { name: "Error", message: "XS host: the server sent a certificate that does not parse" };
		return cert;
	});
	if (!certs.length)
		return false;
	const registered = session.options.certificate instanceof Uint8Array ? [/** @type {Cert} */ (parse(session.options.certificate))] : [];
	const last = certs.length - 1;
	/** @type {boolean | undefined} */
	let match;
	const found = () => {
		if (!match)
			traces.push(`subjectAltName match failed for ${name}\n`);
		return !!match;
	};
	for (let i = 0; i < last; i++) {
		for (const entry of san(certs[i]) ?? []) {
			if (entry.tag === 2) {
				const dns = String(entry.value).toLowerCase();
				if (dns.charCodeAt(0) === 42) {		// "*"
					if (dns.indexOf("*", 1) > 0)
						continue;
					const dot = name.indexOf(".");
					if (dot < 0)
						continue;
					match = dns.slice(1) === name.slice(dot);
				}
				else
					match = dns === name;
			}
			else if (entry.tag === 7) {
				const bytes = /** @type {Buffer} */ (entry.value);
				if (bytes.length !== 4)
					continue;
				match = [...bytes].join(".") === name;
			}
			if (match)
				break;
		}
		if (!inDate(certs[i], now)) {
			traces.push("date validation failed on received certificate\n");
			continue;
		}
		if (!signedBy(certs[i + 1], certs[i]))
			continue;
		const issuerId = aki(certs[i + 1]);
		for (const trusted of registered)
			if (sameId(ski(trusted), issuerId) && signedBy(trusted, certs[i + 1]))
				return found();
		const resource = findBuiltIn(issuerId, session.verify, now, traces);
		if (resource && signedBy(resource, certs[i + 1]))
			return found();
	}
	if (!inDate(certs[last], now)) {
		traces.push("date validation failed\n");
		return false;
	}
	const resource = findBuiltIn(aki(certs[last]), session.verify, now, traces);
	if (resource && signedBy(resource, certs[last]))
		return found();
	for (const trusted of registered)
		if (signedBy(trusted, certs[last]))
			return found();
	return false;
}
