#!/usr/bin/env node
// Checks mqttc's behaviour in the real Moddable simulator (mcsim), against a real mosquitto
// on 127.0.0.1: the apps under tests/sdk/ are built with the SDK's mcconfig and run under
// xvfb-run; their trace lines (and the broker's side) decide each scenario. Not part of
// `node --test tests/`: it needs a built Moddable SDK, which the project never installs.
//
//   node tests/sdk/mcsim-check.mjs [--mqttc DIR] [--out DIR] [--only 1,4,6a]
//
//   --mqttc DIR  the mqttc checkout to test (default: the one holding this script)
//   --out DIR    mcconfig's output folder, reused between runs (default: a fresh temporary
//                folder, removed afterwards). A first build compiles XS: ~2 min on 2 cores.
//   --only LIST  run only these scenarios ("6" selects 6a-6d, "6a" also 6b (one app run),
//                "9" all AT scenarios 9a-9d, "11" 11 and 11b)
//
//   MCSIM_TRACE=1           echo the apps' trace lines
//
// Prints `PASS name` or `FAIL name: why` per scenario and `N passed, N failed`; exits 1
// when one failed, 2 when it could not run at all. See tests/sdk/README.md.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve, basename } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import { startBroker, mosquittoSub, mosquittoPub, freePort, startTlsBroker } from "../lib/broker.mjs";
import { makeCerts } from "../lib/certs.mjs";
import { usage as runnerUsage, requireSimulator, cleanupOnExit, parseArguments, run, launch, simulate, find } from "./runner.mjs";
// the AT helper (it loads hosts/xs/host.mjs and its npm packages) only for 9a-9d, in main()
let startModem, burst, waitCount;

const here = dirname(fileURLToPath(import.meta.url));

const usage = (message) => runnerUsage("mcsim-check", message);

/**
 * Builds the app in tests/sdk/<app> (or in the directory `app`, when absolute) with
 * mcconfig; throws with the build's tail on failure.
 */
async function build(app, config, { mqttc, out }) {
	const dir = resolve(here, app);
	const name = basename(dir);
	const args = ["-m", "-p", "lin", "-t", "build", "-o", out, ...Object.entries(config).map(([k, v]) => `${k}=${v}`)];
	const { code, output } = await run("mcconfig", args, { cwd: dir, env: { ...process.env, MQTTC: mqttc } });
	if (code !== 0) throw new Error(`mcconfig of ${name} failed (${code}): ${output.trim().split("\n").slice(-6).join(" | ")}`);
	return join(out, "bin", "lin", "mc", "release", name, "mc.so");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tail = (lines) => lines.slice(-6).join(" | ") || "(no trace)";

// Each check returns undefined (pass) or the reason it failed.

function checkSentAfterReturn(lines) {
	const returned = find(lines, /^publish returned \d+ \(qos 0\)/);
	if (returned < 0) return `no "publish returned <id> (qos 0)" line: ${tail(lines)}`;
	const id = /^publish returned (\d+)/.exec(lines[returned])[1];
	const sent = find(lines, new RegExp(`^sent ${id}$`));
	if (sent < 0) return `no "sent ${id}" line: ${tail(lines)}`;
	if (sent < returned) return `"sent ${id}" was traced before publish() returned ${id}`;
}

function checkDisconnectAfterReturn(lines) {
	const returned = find(lines, /^disconnect returned/);
	const event = find(lines, /^disconnect event/);
	if (event < 0) return `no disconnect event: ${tail(lines)}`;
	if (returned < 0) return `no "disconnect returned" line: ${tail(lines)}`;
	if (event < returned) return `the disconnect event (${lines[event]}) came before disconnect() returned`;
}

function checkNoNestedEvent(lines) {
	const nested = lines.filter((line) => line.startsWith("NESTED"));
	if (nested.length) return `${nested.length} nested event(s): ${nested.slice(0, 3).join("; ")}`;
	if (find(lines, /^disconnect event/) < 0) return `the flow did not complete: ${tail(lines)}`;
}

async function checkGracefulDisconnect(so, broker, { topic, will, id }) {
	const onTopic = await mosquittoSub(broker.port, ["-t", topic]);
	const onWill = await mosquittoSub(broker.port, ["-t", will]);
	let lines;
	try {
		lines = await simulate(so, 40);
		await sleep(1500); // a will would be published once mcsim is gone
	} finally {
		onTopic.stop();
		onWill.stop();
	}
	const why = [];
	const big = `${topic} ${"A".repeat(20480)}`;
	if (!onTopic.lines.includes(big)) why.push(`the 20 KB message never reached a subscriber (${onTopic.lines.length} message(s) did)`);
	if (!onTopic.lines.includes(`${topic} qos1`)) why.push("the QoS 1 message never reached a subscriber");
	const log = broker.log();
	if (!log.includes(`Received DISCONNECT from ${id}`)) {
		const ended = log.split("\n").filter((line) => line.includes(id) && /disconnect|closed|error/i.test(line));
		why.push(`the broker logged no DISCONNECT from ${id} (${ended.map((l) => l.replace(/^\d+: /, "")).join("; ") || "nothing"})`);
	}
	if (onWill.lines.length) why.push(`the will was published (${onWill.lines.join("; ")})`);
	const errors = lines.filter((line) => line.startsWith("error"));
	if (errors.length) why.push(`the app got ${errors.join("; ")}`);
	return { lines, why: why.length ? why.join("; ") : undefined };
}

/** The broker's PUBACK, sent before it saw DISCONNECT, settles the QoS 1 message. */
function checkQos1Settled(lines) {
	const published = lines.find((line) => line.startsWith("published "));
	if (!published) return `the app never published: ${tail(lines)}`;
	const id = / and (\d+) \(qos 1\)/.exec(published)?.[1];
	const sent = find(lines, new RegExp(`^sent ${id}$`));
	const event = find(lines, /^disconnect event/);
	if (sent < 0) return `no "sent ${id}" for the QoS 1 message: ${tail(lines)}`;
	if (event >= 0 && event < sent) return `"sent ${id}" came after the disconnect event`;
}

function checkRefused(lines) {
	const error = lines.find((line) => line.startsWith("error "));
	const event = lines.find((line) => line.startsWith("disconnect event"));
	if (!error?.startsWith("error connect") || event !== "disconnect event connect")
		return `got [${error ?? "no error"}] and [${event ?? "no disconnect"}], want error connect and disconnect connect`;
}

function checkTls(lines, expected) {
	const why = [];
	for (const [step, want] of Object.entries(expected)) {
		const line = lines.find((l) => l.startsWith(`tls ${step} `));
		if (!line) why.push(`${step}: no outcome traced`);
		else if (!line.slice(`tls ${step} `.length).startsWith(want)) why.push(`${step} ${line.slice(4 + step.length + 1)} (want ${want})`);
	}
	if (why.length) return `${why.join("; ")}; trace: ${lines.filter((l) => l.startsWith("tls ")).join(" | ") || tail(lines)}`;
}

/*
 * Scenarios 6c and 6d: mutual TLS (app tests/sdk/mtls). The app gets `files` (name → base64
 * of the file; ".der" handed to create() as bytes, anything else as PEM text) and `forms`
 * (one client each, in order) through the config. A form is {name, ca?, cert?, key?,
 * password?, port?}: ca → ssl.server_cert, cert → client_cert, key → client_key, password →
 * client_password; port defaults to the mutual-TLS listener.
 */
const MTLS_PASSWORD = "123456";

/** The files the forms may name, from makeCerts() (encrypted keys made on first use). */
function mtlsFiles(certs) {
	const key = join(certs.dir, "client.key");
	const openssl = (...args) => execFileSync(process.env.OPENSSL ?? "openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
	return {
		"ca.pem": () => certs.ca.pem,
		"ca.der": () => certs.ca.der,
		"client.pem": () => certs.client.pem,
		"client.der": () => certs.client.der,
		"client.pkcs8.pem": () => certs.client.key,          // "PRIVATE KEY"
		"client.pkcs1.pem": () => certs.client.keyPkcs1,     // "RSA PRIVATE KEY"
		"client.pkcs8.der": () => certs.client.keyDer,
		"client.pkcs1.der": () => certs.client.keyPkcs1Der,
		// "ENCRYPTED PRIVATE KEY" (PKCS#8, PBES2: PBKDF2 2048 iterations), password MTLS_PASSWORD
		"client.pbes2-sha256-aes256.pem": () => openssl("pkcs8", "-topk8", "-in", key, "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-passout", `pass:${MTLS_PASSWORD}`),
		"client.pbes2-sha1-aes128.pem": () => openssl("pkcs8", "-topk8", "-in", key, "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1", "-passout", `pass:${MTLS_PASSWORD}`),
		"client.pbes2-des3.pem": () => openssl("pkcs8", "-topk8", "-in", key, "-v2", "des3", "-passout", `pass:${MTLS_PASSWORD}`),
		"client.pbes2-sha256-aes256.der": () => openssl("pkcs8", "-topk8", "-in", key, "-v2", "aes-256-cbc", "-outform", "DER", "-passout", `pass:${MTLS_PASSWORD}`),
		// "RSA PRIVATE KEY" with "Proc-Type: 4,ENCRYPTED" and "DEK-Info: <cipher>,<iv>"
		"client.traditional-aes256.pem": () => openssl("rsa", "-in", key, "-traditional", "-aes256", "-passout", `pass:${MTLS_PASSWORD}`),
		"client.traditional-des3.pem": () => openssl("rsa", "-in", key, "-traditional", "-des3", "-passout", `pass:${MTLS_PASSWORD}`),
	};
}

/** The seed's ssl table in each form; every one must connect and round-trip (6c). */
const MTLS_FORMS = [
	{ name: "pem-pkcs8", ca: "ca.pem", cert: "client.pem", key: "client.pkcs8.pem" },
	{ name: "pem-pkcs1", ca: "ca.pem", cert: "client.pem", key: "client.pkcs1.pem" },
	{ name: "der-pkcs8", ca: "ca.der", cert: "client.der", key: "client.pkcs8.der" },
	{ name: "der-pkcs1", ca: "ca.der", cert: "client.der", key: "client.pkcs1.der" },
	// encrypted keys, decrypted by create() with client_password (openssl's forms)
	{ name: "pbes2-sha256-aes256", ca: "ca.pem", cert: "client.pem", key: "client.pbes2-sha256-aes256.pem", password: MTLS_PASSWORD },
	{ name: "pbes2-sha1-aes128", ca: "ca.pem", cert: "client.pem", key: "client.pbes2-sha1-aes128.pem", password: MTLS_PASSWORD },
	{ name: "pbes2-des3", ca: "ca.pem", cert: "client.pem", key: "client.pbes2-des3.pem", password: MTLS_PASSWORD },
	{ name: "pbes2-der", ca: "ca.der", cert: "client.der", key: "client.pbes2-sha256-aes256.der", password: MTLS_PASSWORD },
	{ name: "traditional-aes256", ca: "ca.pem", cert: "client.pem", key: "client.traditional-aes256.pem", password: MTLS_PASSWORD },
	{ name: "traditional-des3", ca: "ca.pem", cert: "client.pem", key: "client.traditional-des3.pem", password: MTLS_PASSWORD },
];


/** mcconfig key=value config for the mtls app: the forms and the files they name. */
function mtlsConfig(certs, forms, extra) {
	const makers = mtlsFiles(certs);
	const files = {};
	for (const form of forms) {
		for (const name of [form.ca, form.cert, form.key].filter(Boolean)) {
			if (!makers[name]) throw new Error(`form ${form.name}: no file ${name}`);
			files[name] ??= Buffer.from(makers[name]()).toString("base64");
		}
	}
	return { ...extra, files: JSON.stringify(files), forms: JSON.stringify(forms) };
}

/** The app's outcome for one form: {line, conack, recv, end, error} or {line, refused}. */
function mtlsOutcome(lines, form) {
	const prefix = `mtls ${form.name} `;
	const index = lines.findIndex((l) => l.startsWith(prefix));
	if (index < 0) return undefined;
	const line = lines[index];
	if (line.startsWith(`${prefix}refused by create()`) || line.startsWith(`${prefix}bad form`)) {
		// mqttc traces the reason ("mqttc: create: ...") just before
		const reason = index > 0 && lines[index - 1].startsWith("mqttc: create: ") ? lines[index - 1].slice(15) : line.slice(prefix.length);
		return { line, refused: reason };
	}
	const m = /^conack (none|(\d+) ms), recv (none|(\d+) ms), end ([^,]*)(?:, error (\S+) (.*))?$/.exec(line.slice(prefix.length));
	if (!m) return { line, refused: `unreadable: ${line}` };
	return { line, conack: m[2] && Number(m[2]), recv: m[4] && Number(m[4]), end: m[5], error: m[6] && `${m[6]} ${m[7]}`, kind: m[6] };
}

/** The form connected (conack), got its QoS 1 message back and disconnected on request. */
function roundTripped(outcome) {
	return outcome && !outcome.refused && outcome.conack !== undefined && outcome.recv !== undefined && outcome.end === "disconnect user" && !outcome.error;
}

/** The form did not connect, and mqttc said so with an `error` "connect". */
function refusedAtConnect(outcome) {
	return outcome && !outcome.refused && outcome.conack === undefined && outcome.kind === "connect";
}

/** The distinct TLS errors mosquitto logged (with counts): who ended the handshake. */
function opensslErrors(log) {
	const counts = new Map();
	for (const [, error] of log.matchAll(/OpenSSL Error\[\d+\]: (?:error:[0-9A-F]+:)?(.*)/g)) counts.set(error, (counts.get(error) ?? 0) + 1);
	return [...counts].map(([error, n]) => `${n} x "${error}"`).join(", ") || "no TLS error";
}

const describe = (form, outcome) => {
	if (!outcome) return `${form.name}: no outcome traced`;
	if (outcome.refused) return `${form.name}: refused by create() (${outcome.refused})`;
	return `${form.name}: ${outcome.line.slice(`mtls ${form.name} `.length)}`;
};

/**
 * 6c: every key form connects and round-trips (conack time from connect()); `control`, which
 * offers no client certificate, comes last and must be refused (the broker requires one, and
 * the sessions before it are not resumed without it).
 */
function checkMutualTls(lines, forms, control) {
	const why = [];
	const times = [];
	for (const form of forms) {
		const outcome = mtlsOutcome(lines, form);
		if (roundTripped(outcome)) times.push(`${form.name} conack ${outcome.conack} ms`);
		else why.push(describe(form, outcome));
	}
	const outcome = mtlsOutcome(lines, control);
	if (!refusedAtConnect(outcome)) why.push(`${describe(control, outcome)} (want refused: the broker requires a client certificate)`);
	if (why.length) return { why: `${why.join("; ")}${lines.some((l) => l.startsWith("mtls ")) ? "" : `; trace: ${tail(lines)}`}` };
	return { summary: `${times.join(", ")}; ${control.name} refused (error ${outcome.error})` };
}

/**
 * 6d: with the SDK's DHE_RSA suites on, mosquitto picks DHE_RSA and the SDK cannot sign
 * CertificateVerify for it: every key form fails at connect; `control`, the same client
 * on a listener that asks for no client certificate, connects (the DHE_RSA build works
 * otherwise: what fails is client authentication).
 */
function checkDheRsaLimit(lines, forms, control) {
	const why = [];
	const failures = [];
	for (const form of forms) {
		const outcome = mtlsOutcome(lines, form);
		if (refusedAtConnect(outcome)) failures.push(`${form.name} after ${/after (\d+) ms/.exec(outcome.error)?.[1] ?? "?"} ms`);
		else if (outcome?.conack !== undefined)
			why.push(`${form.name} connected with DHE_RSA on (conack ${outcome.conack} ms): the SDK (or mosquitto's choice) changed, manifest_tls.json's DHE_RSA false may no longer be needed`);
		else why.push(describe(form, outcome));
	}
	const outcome = mtlsOutcome(lines, control);
	if (!roundTripped(outcome)) why.push(`${describe(control, outcome)} (want connected: without client authentication the DHE_RSA build must work)`);
	if (why.length) return { why: `${why.join("; ")}${lines.some((l) => l.startsWith("mtls ")) ? "" : `; trace: ${tail(lines)}`}` };
	const error = mtlsOutcome(lines, forms[0]).error.replace(/ after \d+ ms$/, "");
	return { summary: `error ${error}: ${failures.join(", ")}; ${control.name} conack ${outcome.conack} ms` };
}

/**
 * Scenario 7: the app publishes QoS 1 on broker A; A is stopped after m5 and killed after
 * m7; the client must come back on B (backup), with its subscription, and settle every id.
 */
async function checkFailover(so, brokerA, brokerB, { topic }) {
	const onA = await mosquittoSub(brokerA.port, ["-t", topic, "-q", "1"]);
	const onB = await mosquittoSub(brokerB.port, ["-t", topic, "-q", "1"]);
	const app = launch(so, 60);
	const why = [];
	let lines;
	let killedAt = -1;
	try {
		// A stops answering after m5, so m6 and m7 are in flight, unacknowledged, when it dies
		if (await app.waitFor(/^publish m5 /, 30000) >= 0) {
			process.kill(brokerA.pid, "SIGSTOP");
			await app.waitFor(/^publish m7 /, 5000);
			await brokerA.kill();
			killedAt = app.lines.length;
		}
		lines = await app.done;
		await sleep(500);
	} finally {
		onA.stop();
		onB.stop();
	}
	if (killedAt < 0) return { lines, why: `the app never published m5 on A: ${tail(lines)}` };
	const payloadOf = new Map();
	for (const line of lines) {
		const m = /^publish (m\d+) id (\S+)/.exec(line);
		if (m) payloadOf.set(m[2], m[1]);
	}
	const second = find(lines, /^conack 2$/);
	if (second < 0) why.push(`no second conack after A was killed: ${tail(lines)}`);
	const seen = (sub, payload) => sub.lines.includes(`${topic} ${payload}`);
	// on B: messages published after the second conack reach B's subscriber and come back to the app
	const afterSwitch = lines.slice(Math.max(second, 0)).map((l) => /^publish (m\d+) id \d+/.exec(l)?.[1]).filter(Boolean);
	if (second >= 0) {
		if (!afterSwitch.length) why.push("nothing was published after the second conack");
		else if (!afterSwitch.every((p) => seen(onB, p))) why.push(`B's subscriber missed ${afterSwitch.filter((p) => !seen(onB, p)).join(",")}`);
		if (afterSwitch.some((p) => seen(onA, p))) why.push("A saw messages published after the switch");
		const back = lines.filter((l) => /^recv 2 m\d+$/.test(l));
		if (!back.length) why.push("the subscription was not restored on B: no recv after the second conack");
	}
	const nulls = lines.filter((l) => /^publish m\d+ id null/.test(l));
	if (nulls.length) why.push(`publish() refused ${nulls.length} message(s): ${nulls.slice(0, 3).join("; ")}`);
	const unsettled = lines.find((l) => l.startsWith("unsettled "));
	if (!unsettled?.startsWith("unsettled none")) why.push(`not every id settled: ${unsettled ?? tail(lines)}`);
	// a `sent` id reached one of the brokers (A before the kill, B after); a lost one was reported
	const sentIds = lines.map((l) => /^sent (\d+)$/.exec(l)?.[1]).filter(Boolean);
	const missing = sentIds.map((id) => payloadOf.get(id)).filter((p) => p && !seen(onA, p) && !seen(onB, p));
	if (missing.length) why.push(`sent but seen by neither broker: ${missing.join(",")}`);
	const lost = lines.filter((l) => l.startsWith("lost "));
	const onBoth = [...payloadOf.values()].filter((p) => seen(onA, p) && seen(onB, p));
	const summary = `${payloadOf.size} published, ${sentIds.length} sent, ${lost.length} lost` +
		`${lost.length ? ` (${lost.join("; ")})` : ""}, A saw ${onA.lines.length}, B saw ${onB.lines.length}` +
		`${onBoth.length ? ` (${onBoth.join(",")} on both: resent after the switch)` : ""}, ` +
		`recv on B ${lines.filter((l) => /^recv 2 /.test(l)).length}`;
	return { lines, why: why.length ? `${why.join("; ")} [${summary}]` : undefined, summary };
}

/**
 * Scenario 8: a server that answers CONNACK and closes at once. Resolves the number of
 * connections it took while the app ran, and the app's trace.
 */
async function countConnectionsDroppedAfterConnack(build) {
	const accepted = [];
	const server = net.createServer((socket) => {
		accepted.push(Date.now());
		socket.on("error", () => {});
		socket.once("data", () => socket.end(Buffer.from([0x20, 0x02, 0x00, 0x00])));
	});
	await new Promise((r) => server.listen(0, "127.0.0.1", r));
	try {
		const so = await build(server.address().port);
		if (!so) return undefined;
		const t0 = Date.now();
		accepted.length = 0;
		const lines = await simulate(so, 40);
		return { lines, connections: accepted.length, gaps: accepted.map((t, i) => (i ? t - accepted[i - 1] : t - t0)) };
	} finally {
		server.close();
	}
}

function checkBackoff({ lines, connections, gaps }, seconds, period) {
	const conacks = lines.filter((l) => /^conack \d+$/.test(l)).length;
	const summary = `${connections} connections, ${conacks} conacks in ${seconds} s; gaps ${gaps.join(",")} ms`;
	if (conacks < 3) return { why: `the app got ${conacks} conack(s): the server's CONNACK was not seen [${summary}]` };
	const fixed = seconds * 1000 / period;
	if (connections > fixed / 2) return { why: `${connections} connections: the backoff was reset at CONNACK (fixed period gives ~${fixed}) [${summary}]` };
	return { summary };
}

/*
 * Scenarios 11 and 11b: MQTT over the SDK's ECMA-419 sockets (opts.io; apps tests/sdk/io and
 * tests/sdk/iotls). The apps trace "<client> <event> ..." lines; the broker's log and a
 * mosquitto_sub on the apps' topics give the broker's side.
 */
const IO_BIG = 10000;

/**
 * A name /etc/hosts maps to 127.0.0.1 only (not localhost: GLib's resolver answers that one
 * itself, ::1 first, and the SDK's lin Net.resolve takes the first address only), for the
 * io app's Net.resolve round trip; undefined when there is none.
 */
function etcHostsAlias() {
	let text = "";
	try { text = readFileSync("/etc/hosts", "utf8"); } catch { return undefined; }
	const addresses = new Map();
	for (const line of text.split("\n")) {
		const [address, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
		for (const name of names) {
			if (!addresses.has(name)) addresses.set(name, new Set());
			addresses.get(name).add(address);
		}
	}
	for (const [name, set] of addresses)
		if (set.size === 1 && set.has("127.0.0.1") && !/localhost/i.test(name) && /^[a-z0-9][a-z0-9.-]*$/i.test(name)) return name;
	return undefined;
}

/** What the bare-socket probes of the io app traced, for the summary (not judged). */
function ioProbes(lines) {
	const probe = (name) => lines.filter((l) => l.startsWith(`probe ${name} `)).map((l) => l.slice(`probe ${name} `.length).replace(/^end /, "total: "));
	return `probe refused [${probe("refused").join("; ")}], probe peer [${probe("peer").join("; ")}]`;
}

/** The client `label` round-tripped (its done line), ended by disconnect() and got no error
 * but those `expected` matches. */
function ioRoundTrip(lines, label, done, why, expected = /^$/) {
	if (!lines.includes(`${label} ${done}`)) why.push(`${label}: no "${label} ${done}" (${lines.filter((l) => l.startsWith(`${label} `)).slice(-4).join(" | ") || "nothing traced"})`);
	const end = lines.find((l) => l.startsWith(`${label} end `) || l.startsWith(`${label} finish `));
	const user = lines.some((l) => l.startsWith(`${label} disconnect user`));
	if (!user) why.push(`${label}: not ended by disconnect() (${end ?? "no end"})`);
	const errors = lines.filter((l) => l.startsWith(`${label} error `) && !expected.test(l));
	if (errors.length) why.push(`${label}: ${errors.join("; ")}`);
}

/** The broker saw `id` disconnect with DISCONNECT (log) and the subscriber every message of `topic`. */
function ioBrokerSide(log, sub, id, topic, payloads, why) {
	if (!log.includes(`Received DISCONNECT from ${id}`)) why.push(`the broker logged no DISCONNECT from ${id}`);
	for (const payload of payloads) {
		if (!sub.lines.includes(`${topic} ${payload}`)) why.push(`the broker's subscriber missed ${payload.length > 20 ? `the ${payload.length}-byte message` : `"${payload}"`} on ${topic}`);
	}
}

/** Scenario 11's verdict from the io app's trace, the broker's log and the subscriber's lines. */
function checkIo(lines, log, sub, { topic, id, alias }) {
	const why = [];
	const aborted = lines.find((l) => l.startsWith("XS abort"));
	if (aborted) why.push(aborted);
	// c1: the refused port first (error, disconnect), then the backup: conack
	const error = find(lines, /^c1 error connect /);
	const lost = find(lines, /^c1 disconnect connect /);
	const conack = find(lines, /^c1 conack /);
	if (error < 0 || lost < 0) why.push(`c1: the refused port gave no error connect / disconnect connect (${lines.filter((l) => l.startsWith("c1 ")).slice(0, 3).join(" | ")})`);
	if (conack < 0) why.push("c1: no conack from the backup");
	else if (lost > conack) why.push("c1: conack before the refused port's disconnect");
	ioRoundTrip(lines, "c1", `done recv 4 bytes ${IO_BIG + 21} sent 4`, why, /^c1 error connect /);
	if (lines.filter((l) => l.startsWith("c1 error ")).length > 1) why.push(`c1: more than the refused port's error: ${lines.filter((l) => l.startsWith("c1 error ")).join("; ")}`);
	const pieces = lines.filter((l) => /^c1 recv 1 \d+ \d+$/.test(l)).length;
	if (pieces < 3) why.push(`c1: the ${IO_BIG}-byte message came in ${pieces} piece(s), want 3 through rxSize 4096`);
	ioBrokerSide(log, sub, `${id}-1`, topic, ["small 0", "small 1", "small 2", "z".repeat(IO_BIG)], why);
	// by name: localhost through Net.resolve (a round trip, or "cannot resolve localhost")
	const netLocalhost = lines.includes("net-localhost finish round trip") && lines.some((l) => l.startsWith("net-localhost disconnect user")) ? "round trip"
		: lines.some((l) => l.startsWith("net-localhost error connect cannot resolve localhost")) && lines.some((l) => l.startsWith("net-localhost disconnect connect")) ? "cannot resolve localhost (error connect, disconnect connect)"
		: undefined;
	if (!netLocalhost) why.push(`net-localhost: neither a round trip nor "cannot resolve localhost" (${lines.filter((l) => l.startsWith("net-localhost ")).slice(0, 4).join(" | ")})`);
	if (alias) {
		ioRoundTrip(lines, "net-alias", "finish round trip", why);
		if (!lines.some((l) => l.startsWith("net-alias conack"))) why.push(`net-alias: ${alias} did not connect`);
	}
	// localhost through opts.io.dns, keepalive: a pong, then disconnect
	if (!lines.includes("dns resolve localhost")) why.push("dns-localhost: the app's resolver was not asked");
	ioRoundTrip(lines, "dns-localhost", "finish pong", why);
	if (!log.includes(`Received PINGREQ from ${id}-dns-localhost`)) why.push("the broker logged no PINGREQ from dns-localhost");
	if (!log.includes(`Received DISCONNECT from ${id}-dns-localhost`)) why.push("the broker logged no DISCONNECT from dns-localhost");
	const pong = lines.find((l) => l.startsWith("dns-localhost pong "));
	const counts = (label) => lines.find((l) => l.startsWith(`${label} socket `))?.slice(`${label} socket `.length);
	const summary = `c1: ${lines[error]?.slice(3)}, conack ${lines[conack]?.split(" ")[2]} ms, ${pieces} pieces; ` +
		`net-localhost: ${netLocalhost}; net-alias: ${alias ? `${alias} ${lines.some((l) => l.startsWith("net-alias conack")) ? "round trip" : "failed"} (socket ${counts("net-alias")})` : "no /etc/hosts alias of 127.0.0.1"}; ` +
		`dns-localhost: ${pong?.slice(14) ?? "no pong"} (socket ${counts("dns-localhost")}); ${ioProbes(lines)}`;
	return { why: why.length ? `${why.join("; ")}; trace: ${tail(lines)}` : undefined, summary };
}

/** Scenario 11b's verdict: cbc and gcm round-trip QoS 0/1/2 and 10 KB, localhost one QoS 1, a wrong CA is refused. */
function checkIoTls(lines, log, sub, { topic, id }) {
	const why = [];
	const aborted = lines.find((l) => l.startsWith("XS abort"));
	if (aborted) why.push(`${aborted} (after: ${lines.slice(Math.max(0, lines.indexOf(aborted) - 2), lines.indexOf(aborted)).join(" | ")})`);
	for (const label of ["cbc", "gcm"]) {
		ioRoundTrip(lines, label, `done recv 4 bytes ${IO_BIG + 21} sent 4`, why);
		ioBrokerSide(log, sub, `${id}-${label}`, `${topic}/${label}`, ["small 0", "small 1", "small 2", "z".repeat(IO_BIG)], why);
	}
	ioRoundTrip(lines, "localhost", "done recv 1 bytes 15 sent 1", why);
	const wrong = lines.filter((l) => l.startsWith("wrong-ca "));
	if (!wrong.some((l) => l.startsWith("wrong-ca error connect")) || !wrong.includes("wrong-ca end disconnect connect") || wrong.some((l) => l.startsWith("wrong-ca conack")))
		why.push(`wrong-ca: want error connect and disconnect connect, got ${wrong.join(" | ") || "nothing"}`);
	const conack = (label) => lines.find((l) => l.startsWith(`${label} conack `))?.split(" ")[2];
	const summary = `conack cbc ${conack("cbc")} ms, gcm ${conack("gcm")} ms, localhost ${conack("localhost")} ms; ` +
		`localhost socket ${lines.find((l) => l.startsWith("localhost socket "))?.slice(17)}; ${wrong.find((l) => l.startsWith("wrong-ca error")) ?? ""}`;
	return { why: why.length ? `${why.join("; ")}; trace: ${tail(lines)}` : undefined, summary };
}

/** mosquitto with two TLS listeners (the first with mosquitto's default suites, the second
 * with AES-GCM only) and a plain one for mosquitto_sub; TLS 1.2 as Moddable's TLS. */
async function startIoTlsBroker(certs) {
	const [port, gcm, plain] = [await freePort(), await freePort(), await freePort()];
	const tls = (p, extra = []) => [`listener ${p} 127.0.0.1`, `cafile ${certs.ca.path}`, `certfile ${certs.server.chain}`, `keyfile ${certs.server.key}`, "tls_version tlsv1.2", ...extra];
	const lines = [...(process.getuid?.() === 0 ? ["user root"] : []), `listener ${plain} 127.0.0.1`, ...tls(port), ...tls(gcm, ["ciphers ECDHE-RSA-AES128-GCM-SHA256"])];
	const broker = await startBroker({ listener: false, port, lines });
	return Object.assign(broker, { gcm, plain });
}

const OK = /\r\nOK\r\n/;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const atLine = (s) => new RegExp("\\r\\n" + escape(s) + "\\r\\n");
const lastLines = (m, n = 6) => m.linesSince(Math.max(0, m.received - 400)).slice(-n).join(" | ");

/**
 * Runs `steps(modem, broker)` against the at-modem app in mcsim, its UART a TCP connection
 * from here on `uartPort` (fixed at build time); resolves undefined or why it failed.
 */
async function atSession(so, uartPort, steps) {
	const broker = await startBroker();
	let sim;
	const modem = await startModem({
		port: uartPort,
		connectMs: 20000,
		launch: () => {
			sim = launch(so, 180);
			return { get output() { return `: ${tail(sim.lines)}`; }, stop: async () => { sim.stop(); await sim.done; } };
		},
	}).catch((error) => error);
	try {
		if (modem instanceof Error) return { why: modem.message };
		try {
			return (await steps(modem, broker)) ?? {};
		} catch (error) {
			return { why: `${error.message.slice(0, 400)}; app trace: ${tail(sim.lines)}` };
		}
	} finally {
		if (!(modem instanceof Error)) await modem.stop();
		await broker.stop();
	}
}

/** Dialect A up to a subscription: OPEN, CONN as `id`, SUB `topic` at QoS 1 (message id 1). */
async function atSubscribed(m, port, id, topic) {
	await m.cmd("ATE0", OK);
	await m.cmd("AT", OK);
	await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${port}`, OK);
	await m.expect(atLine("+ECMTOPEN: 0,0"));
	await m.cmd(`AT+ECMTCONN=0,"${id}"`, OK);
	await m.expect(atLine("+ECMTCONN: 0,0,0"));
	await m.cmd(`AT+ECMTSUB=0,1,"${topic}",1`, OK);
	await m.expect(atLine("+ECMTSUB: 0,1,0,1"));
}

/** Seed 002's sequence (dialect A), a message from mosquitto_pub included. */
async function atSeed002(m, broker) {
	await atSubscribed(m, broker.port, "sdkcheck-at", "test");
	await m.cmd('AT+ECMTPUB=0,0,0,0,"test","hello"', OK);
	await m.expectAll([atLine("+ECMTPUB: 0,0,0"), atLine('+ECMTRECV: 0,0,"test","hello"')]);
	await mosquittoPub(broker.port, ["-t", "test", "-q", "1", "-m", "from mosquitto_pub"]);
	await m.expect(/\r\n\+ECMTRECV: 0,\d+,"test","from mosquitto_pub"\r\n/);
	await m.cmd("AT+ECMTDISC=0", OK);
	await m.expect(atLine("+ECMTDISC: 0,0"));
}

/** 40 × 900 B at QoS 1 from one mosquitto_pub -l through the 115200-baud UART. */
async function atBurst(m, broker) {
	await atSubscribed(m, broker.port, "sdkcheck-burst", "burst");
	const t0 = Date.now();
	await burst(broker.port, "burst", 40, 900);
	const re = /\r\n\+ECMTRECV: 0,\d+,"burst","(\d\d)p{898}"\r\n/g;
	const took = (await waitCount(m, re, 40, 40000)).length >= 40 ? Date.now() - t0 : undefined;
	await sleep(1500); // nothing more may come
	const found = [...m.text.matchAll(re)].map((f) => Number(f[1]));
	const distinct = new Set(found);
	const dropped = /ECMTDROPPED[^\r]*/.exec(m.text)?.[0];
	const summary = `${found.length} +ECMTRECV (${distinct.size} distinct)${took ? ` in ${took} ms` : ""}${dropped ? `, ${dropped}` : ""}`;
	if (found.length !== 40 || distinct.size !== 40 || dropped) return { why: summary };
	await m.cmd("AT", OK);
	return { summary };
}

/**
 * OPEN to a closed port, then CONN (packet time 2 s): records every line the modem wrote
 * from OPEN on. A device answers `+ECMTOPEN: 0,1`; the Linux simulator's socket reports the
 * refused connect as connected, so OPEN answers 0,0 there and the failure must come next,
 * unasked (`+ECMTSTAT`) or as CONN's `+ECMTCONN: 0,2`. PASS when the failure was reported
 * one of these ways, the modem then answers AT, and OPEN + CONN to mosquitto then work;
 * the lines seen are the summary.
 */
async function atOpenClosed(m, broker) {
	await m.cmd("ATE0", OK);
	await m.cmd('AT+ECMTCFG="timeout",0,2', OK);
	const port = await freePort();
	const from = m.received;
	await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${port}`, OK);
	const [, open] = await m.expect(/\r\n\+ECMTOPEN: (0,\d)\r\n/, 15000);
	await sleep(1000); // whatever the socket reports after "connected" comes now
	const beforeConn = m.linesSince(from).join(" | ");
	if (open === "0,0") {
		await m.cmd('AT+ECMTCONN=0,"sdkcheck-closed"', /\r\n(OK|ERROR)\r\n/);
		await sleep(3000); // the packet time (2 s) and a margin
	}
	await m.cmd("AT", OK);
	const summary = `modem wrote: ${m.linesSince(from).slice(0, -1).join(" | ")}`;
	const reported = open === "0,1" || /\+ECMTSTAT: 0,\d/.test(beforeConn) || /\+ECMTCONN: 0,2/.test(m.linesSince(from).join(" | "));
	if (!reported) return { why: `the failure was never reported; ${summary}` };
	// what a user does next: OPEN again (CLOSE first if the client is still there), to a broker
	if (!/\+ECMTSTAT|\+ECMTOPEN: 0,1/.test(m.linesSince(from).join(" | "))) await m.cmd("AT+ECMTCLOSE=0", OK);
	await m.cmd(`AT+ECMTOPEN=0,"127.0.0.1",${broker.port}`, OK);
	await m.expect(atLine("+ECMTOPEN: 0,0"));
	await m.cmd('AT+ECMTCONN=0,"sdkcheck-late"', OK);
	await m.expect(atLine("+ECMTCONN: 0,0,0"));
	return { summary: `${summary}; then OPEN and CONN to mosquitto: 0,0 and 0,0,0` };
}

/** Dialect B against a SIGSTOPped broker: +MQTTSUB:8 within 5 s (+ slack), then AT → OK. */
async function atStoppedBroker(m, broker) {
	await m.cmd("ATE0", OK);
	await m.cmd(`AT+MQTTCONFIG=127.0.0.1,${broker.port},sdkcheck-stopped,1,60`, OK);
	await m.cmd("AT+MQTTCONNECT", atLine("+MQTTCONNECT:0"));
	await m.expect(OK);
	process.kill(broker.pid, "SIGSTOP");
	try {
		const t0 = Date.now();
		await m.cmd('AT+MQTTSUB="quiet",1', atLine("+MQTTSUB:8"), 12000);
		await m.expect(/\r\nERROR\r\n/);
		const took = Date.now() - t0;
		const t1 = Date.now();
		await m.cmd("AT", OK, 3000);
		const summary = `+MQTTSUB:8 ERROR after ${took} ms, then AT OK after ${Date.now() - t1} ms`;
		return took <= 5000 + 2000 ? { summary } : { why: `${summary}: over the 5 s bound` };
	} finally {
		process.kill(broker.pid, "SIGCONT");
	}
}

async function main() {
	const options = parseArguments("mcsim-check", process.argv.slice(2), resolve(here, "../.."));
	requireSimulator("mcsim-check");
	if (!existsSync(join(options.mqttc, "manifest.json"))) usage(`${options.mqttc} holds no mqttc manifest.json`);

	const out = options.out ?? mkdtempSync(join(tmpdir(), "mqttc-mcsim-"));
	mkdirSync(out, { recursive: true });
	// "--only 6" selects 6a-6d; "--only 4b" selects the graceful app (4 and 4b), "6a" the tls
	// app (6a and 6b); 6c and 6d are apps of their own
	const family = (name) => name.replace(/[a-z]$/, "");
	const group = (name) => (/^(6[cd]|11b)$/.test(name) ? name : family(name));
	const wanted = (name) => !options.only || [...options.only].some((o) => o === name || o === family(name) || group(o) === group(name));
	const results = [];
	const report = (name, why, note) => {
		results.push(!why);
		console.log(why ? `FAIL ${name}: ${why}` : `PASS ${name}${note ? ` (${note})` : ""}`);
	};
	const cleanups = cleanupOnExit();
	const buildOrFail = async (app, config, names) => {
		try {
			return await build(app, config, { mqttc: options.mqttc, out });
		} catch (error) {
			for (const name of names) report(name, error.message);
		}
	};
	console.log(`mcsim-check: mqttc ${options.mqttc}, SDK ${process.env.MODDABLE}, out ${out}`);
	try {
		const broker = await startBroker();
		cleanups.push(() => broker.stop());
		const host = "127.0.0.1";

		const eventNames = ["1 sent of a QoS 0 publish after publish() returned its id",
			"2 disconnect event after disconnect() returned",
			"3 no nested event in a handler that calls the API"];
		if (["1", "2", "3"].some(wanted)) {
			const so = await buildOrFail("events", { host, port: broker.port, topic: "mqttc/sdkcheck/events" }, eventNames);
			if (so) {
				const lines = await simulate(so, 40);
				report(eventNames[0], checkSentAfterReturn(lines));
				report(eventNames[1], checkDisconnectAfterReturn(lines));
				report(eventNames[2], checkNoNestedEvent(lines));
			}
		}

		if (wanted("4")) {
			const name = "4 graceful disconnect with 20 KB queued: delivered, DISCONNECT logged, no will";
			const config = { host, port: broker.port, topic: "mqttc/sdkcheck/graceful", will: "mqttc/sdkcheck/will", id: "sdkcheck-graceful" };
			const settled = "4b graceful disconnect: the QoS 1 message is settled (sent) before the disconnect event";
			const so = await buildOrFail("graceful", config, [name, settled]);
			if (so) {
				const { lines, why } = await checkGracefulDisconnect(so, broker, config);
				report(name, why);
				report(settled, checkQos1Settled(lines));
			}
		}

		if (wanted("5")) {
			const name = "5 refused connect gives error connect and disconnect connect";
			const so = await buildOrFail("refused", { host, port: await freePort() }, [name]);
			if (so) report(name, checkRefused(await simulate(so, 30)));
		}

		const tlsNames = ["6a TLS: wrong CA refused before and after a verified session",
			"6b TLS: wrong CA refused after a verify:0 session"];
		if (wanted("6a") || wanted("6b")) {
			const certs = makeCerts();
			cleanups.push(() => certs.cleanup());
			const tlsBroker = await startTlsBroker(certs);
			const port = tlsBroker.port;
			cleanups.push(() => tlsBroker.stop());
			const config = { host, port, otherHost: "localhost", ca: certs.ca.der.toString("base64"), wrong: certs.other.der.toString("base64") };
			const so = await buildOrFail("tls", config, tlsNames);
			if (so) {
				// a full RSA handshake in the simulator takes about a second
				const lines = await simulate(so, 90);
				if (wanted("6a")) report(tlsNames[0], checkTls(lines, { "wrong-ca-first": "failed", "right-ca": "connected", "wrong-ca-after-right": "failed" }));
				if (wanted("6b")) report(tlsNames[1], checkTls(lines, { "verify0": "connected", "wrong-ca-after-verify0": "failed" }));
			}
		}
		const mtlsNames = {
			"6c": "6c mutual TLS: the ssl table in each key form (PEM/DER, PKCS#8/PKCS#1) connects and round-trips; no client certificate is refused",
			"6d": "6d mutual TLS with the SDK's DHE_RSA on fails at connect (CertificateVerify), server-only TLS still connects",
		};
		if (wanted("6c") || wanted("6d")) {
			const certs = makeCerts();
			cleanups.push(() => certs.cleanup());
			// one mosquitto: `port` requires a client certificate, `open` asks for none
			const mtlsBroker = await startTlsBroker(certs, { listeners: [{ requireCertificate: true }, {}] });
			const [port, open] = mtlsBroker.ports;
			cleanups.push(() => mtlsBroker.stop());
			const control = { name: "no-client-cert", ca: "ca.pem" };
			if (wanted("6c")) {
				const forms = MTLS_FORMS;
				const so = await buildOrFail("mtls", mtlsConfig(certs, [...forms, control], { host, port, id: "sdkcheck-mtls" }), [mtlsNames["6c"]]);
				if (so) {
					const before = mtlsBroker.log().length;
					// each form ends within its 30 s guard in the app: on a loaded machine ten TLS
					// handshakes (RSA in XS) can take longer than a fixed two minutes
					const { why, summary } = checkMutualTls(await simulate(so, 35 * (forms.length + 1)), forms, control);
					report(mtlsNames["6c"], why, summary && `${summary}; broker: ${opensslErrors(mtlsBroker.log().slice(before))}`);
				}
			}
			if (wanted("6d")) {
				// the same app with config.tls.DHE_RSA true (mtls/dhe_rsa/manifest.json: mcconfig's
				// key=value sets top-level strings only, not tls.DHE_RSA)
				// the unencrypted forms suffice: the key's form does not change the handshake
				const plainForms = MTLS_FORMS.filter((form) => !form.password);
				const serverOnly = { ...plainForms[0], name: `server-only-${plainForms[0].name}`, port: open };
				const so = await buildOrFail("mtls/dhe_rsa", mtlsConfig(certs, [...plainForms, serverOnly], { host, port, id: "sdkcheck-mtls-dhe" }), [mtlsNames["6d"]]);
				if (so) {
					const before = mtlsBroker.log().length;
					const { why, summary } = checkDheRsaLimit(await simulate(so, 120), plainForms, serverOnly);
					report(mtlsNames["6d"], why, summary && `${summary}; broker: ${opensslErrors(mtlsBroker.log().slice(before))}`);
				}
			}
		}

		if (wanted("7")) {
			const name = "7 failover to the backup broker";
			const brokerB = await startBroker();
			cleanups.push(() => brokerB.stop());
			const brokerA = await startBroker();
			cleanups.push(() => brokerA.stop());
			const config = { host, port: brokerA.port, backupPort: brokerB.port, topic: "mqttc/sdkcheck/failover", id: "sdkcheck-failover" };
			const so = await buildOrFail("failover", config, [name]);
			if (so) {
				const { why, summary } = await checkFailover(so, brokerA, brokerB, config);
				report(name, why, summary);
			}
		}

		if (wanted("8")) {
			const name = "8 backoff across connections dropped after CONNACK";
			const seconds = 8;
			const counted = await countConnectionsDroppedAfterConnack((port) =>
				buildOrFail("backoff", { host, port, seconds, id: "sdkcheck-backoff" }, [name]));
			if (counted) {
				const { why, summary } = checkBackoff(counted, seconds, 200);
				report(name, why, summary);
			}
		}

		if (wanted("10")) {
			const name = "10 MQTT over WebSocket (Aedes behind ws): QoS 0/1/2 and a 10 KB message through a 4 KB rxSize";
			const { startAedesWs } = await import("../lib/ws-broker.mjs");
			const wsBroker = await startAedesWs();
			cleanups.push(() => wsBroker.stop());
			const so = await buildOrFail("ws", { host, port: wsBroker.port, path: "/mqtt", topic: "mqttc/sdkcheck/ws" }, [name]);
			if (so) {
				const lines = await simulate(so, 30);
				const done = lines.find((line) => line.startsWith("DONE recv"));
				const upgrade = wsBroker.upgrades[0];
				const why = !done ? `no DONE: ${tail(lines)}`
					: done !== "DONE recv 4 bytes 10021 sent 3" && done !== "DONE recv 4 bytes 10021 sent 2" ? `counts: ${done}`
					: upgrade?.["sec-websocket-protocol"] !== "mqtt" ? "the upgrade did not ask for mqtt" : undefined;
				report(name, why, done && `${done}; ${lines.filter((l) => l.startsWith("recv")).length} recv events; upgrade ${upgrade?.["sec-websocket-version"]}`);
			}
		}

		if (wanted("11")) {
			const name = "11 MQTT over the ECMA-419 TCP socket (opts.io): refused port then backup, QoS 0/1/2 and 10 KB through 4 KB rxSize, names (Net.resolve, io.dns), keepalive, disconnect";
			const alias = etcHostsAlias();
			const config = { host, port: broker.port, refused: await freePort(), topic: "mqttc/sdkcheck/io", id: "sdkcheck-io", ...(alias ? { alias } : {}) };
			const so = await buildOrFail("io", config, [name]);
			if (so) {
				const sub = await mosquittoSub(broker.port, ["-t", "mqttc/sdkcheck/io/#", "-q", "2"]);
				const before = broker.log().length;
				let lines;
				try {
					lines = await simulate(so, 60);
					await sleep(300);
				} finally {
					sub.stop();
				}
				const { why, summary } = checkIo(lines, broker.log().slice(before), sub, { ...config, alias });
				report(name, why, summary);
			}
		}

		if (wanted("11b")) {
			const name = "11b MQTT over TLS over the ECMA-419 sockets (opts.io with ssl): AES-CBC and AES-GCM listeners with QoS 0/1/2 and 10 KB, localhost through io.dns, a wrong CA refused";
			const certs = makeCerts();
			cleanups.push(() => certs.cleanup());
			const tlsBroker = await startIoTlsBroker(certs);
			cleanups.push(() => tlsBroker.stop());
			const config = { host, port: tlsBroker.port, gcmPort: tlsBroker.gcm, ca: certs.ca.der.toString("base64"), wrong: certs.other.der.toString("base64"), topic: "mqttc/sdkcheck/iotls", id: "sdkcheck-iotls" };
			const so = await buildOrFail("iotls", config, [name]);
			if (so) {
				const sub = await mosquittoSub(tlsBroker.plain, ["-t", "mqttc/sdkcheck/iotls/#", "-q", "2"]);
				let lines;
				try {
					// four clients one after the other, each within its 20 s guard in the app
					lines = await simulate(so, 100);
					await sleep(300);
				} finally {
					sub.stop();
				}
				const { why, summary } = checkIoTls(lines, tlsBroker.log(), sub, config);
				report(name, why, summary);
			}
		}

		const atNames = {
			"9a": ["9a AT: seed 002 sequence (OPEN, CONN, SUB, PUB, +ECMTRECV from mosquitto_pub)", atSeed002],
			"9b": ["9b AT: 40 x 900 B QoS 1 through a 115200-baud UART give exactly 40 +ECMTRECV", atBurst],
			"9c": ["9c AT: AT+ECMTOPEN to a closed port: the failure is reported (OPEN 0,1, an unasked +ECMTSTAT, or CONN 0,2), then AT OK and OPEN+CONN to a broker work", atOpenClosed],
			"9d": ["9d AT: dialect B AT+MQTTSUB against a SIGSTOPped broker gives +MQTTSUB:8, then AT OK", atStoppedBroker],
		};
		// one build serves them all, so each can be chosen alone ("--only 9c") or all ("--only 9")
		const atWanted = Object.keys(atNames).filter((key) => !options.only || options.only.has(key) || options.only.has("9"));
		if (atWanted.length) {
			({ startModem, burst, waitCount } = await import("../at/_uart.mjs"));
			const uartPort = await freePort();
			const so = await buildOrFail(join(options.mqttc, "hosts/examples/at-modem"), { uart_port: uartPort, uart_baud: 115200 }, atWanted.map((k) => atNames[k][0]));
			if (so) {
				for (const key of atWanted) {
					const [name, steps] = atNames[key];
					const { why, summary } = await atSession(so, uartPort, steps);
					report(name, why, summary);
				}
			}
		}
	} finally {
		for (const cleanup of cleanups.reverse()) await cleanup();
		if (!options.out) rmSync(out, { recursive: true, force: true });
	}
	const passed = results.filter(Boolean).length;
	console.log(`${passed} passed, ${results.length - passed} failed`);
	process.exitCode = passed === results.length ? 0 : 1;
}

main().catch((error) => {
	console.error(`mcsim-check: ${error.stack ?? error}`);
	process.exit(2);
});
