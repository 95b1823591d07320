// Preload safety of mqttc, two ways:
//  - statically: every module mqttc's manifest preloads, compiled as xsc sees it, has no
//    module-level let/var, mutable containers, import-time code or writes to module state
//    (tests/apps/preload/check.mjs); a module-level counter is reported;
//  - at run time in the XS host: tests/apps/preload freezes everything the preloaded
//    modules can reach (as XS keeps it in ROM) before any client exists, then the core
//    scenarios run against a real mosquitto and must not write to that state.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApp, readManifest } from "../hosts/xs/host.mjs";
import { startBroker, mosquittoPub } from "./lib/broker.mjs";
import { checkTypeScript } from "./apps/preload/check.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const APP = join(ROOT, "tests/apps/preload");

/** mqttc's feature manifests: each adds its own modules to manifest.json's core. */
const FEATURES = ["manifest_tls.json", "manifest_failover.json", "manifest_acks.json", "manifest_open.json", "manifest_debug.json", "manifest_store.json", "manifest_ws.json", "manifest_io.json", "manifest_io_tls.json"];

/** The modules a manifest preloads (default: the preload app's, which includes manifest.json
 * and every feature manifest): [{name, file}]. */
function preloadedModules(manifestFile = join(APP, "manifest.json")) {
	const manifest = readManifest(manifestFile, { env: {} });
	const matches = (name) => manifest.preload.some((p) => (p.endsWith("/*") ? name.startsWith(p.slice(0, -1)) : name === p));
	return [...manifest.modules].filter(([name]) => matches(name)).map(([name, entry]) => ({ name, file: entry.file }));
}

test("manifest: every mqttc module is preloaded by its own name (mcconfig expands preload wildcards over .js only, not .ts)", () => {
	// manifest.json preloads the core; each feature manifest adds and preloads its own modules.
	const manifest = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8"));
	const features = FEATURES.map((file) => JSON.parse(readFileSync(join(ROOT, file), "utf8")));
	const files = readdirSync(join(ROOT, "modules/mqttc")).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
	const expected = ["mqttc", ...files.map((f) => `mqttc/${f.slice(0, -3)}`)].sort();
	// (an SDK module a feature brings, such as manifest_ws.json's logical, is preloaded there too)
	// (manifest_io_tls.json preloads the TLS modules manifest_tls.json does: each counts once)
	assert.deepEqual([...new Set([...manifest.preload, ...features.flatMap((f) => f.preload)])].filter((name) => name.startsWith("mqttc")).sort(), expected);
	for (const feature of features)
		for (const name of Object.keys(feature.modules))
			assert.ok(!manifest.preload.includes(name) && !(name in manifest.modules), `plain apps carry no ${name}`);
});

// ---- static check -------------------------------------------------------------------

test("static check: every module mqttc preloads is free of module-level mutable state", () => {
	// The preload app cannot include manifest_io_tls.json beside manifest_tls.json (mqttc refuses
	// TLS in such an app): its own module is read from its manifest.
	const modules = [...preloadedModules(), ...preloadedModules(join(ROOT, "manifest_io_tls.json")).filter((m) => m.name === "mqttc/iotls")];
	assert.ok(modules.some((m) => m.name === "mqttc") && modules.some((m) => m.name === "mqttc/client") && modules.length >= 8,
		`preloaded: ${modules.map((m) => m.name)}`);
	const findings = modules.flatMap(({ name, file }) => checkTypeScript(readFileSync(file, "utf8"), name));
	assert.deepEqual(findings, []);
});

test("static check: no module calls a function named native (the SDK's xsc takes native(...) for its host-function syntax and refuses the build)", () => {
	// Found in the real simulator: "tls.js:31: error: native: argument is no string literal!".
	const files = [...preloadedModules(), ...preloadedModules(join(ROOT, "manifest_at.json"))].map((m) => m.file);
	const offenders = files.filter((file) => /\bnative\s*\(/.test(readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "")));
	assert.deepEqual(offenders, []);
});

test("static check: the AT engine's modules (manifest_at.json) are free of module-level mutable state too", () => {
	const modules = preloadedModules(join(ROOT, "manifest_at.json")).filter((m) => m.name.startsWith("mqttc-at"));
	assert.ok(modules.length >= 5, `preloaded: ${modules.map((m) => m.name)}`);
	const findings = modules.flatMap(({ name, file }) => checkTypeScript(readFileSync(file, "utf8"), name));
	assert.deepEqual(findings, []);
});

test("static check: the fixture's module-level counter and other mutable state are reported, line by line", () => {
	const source = readFileSync(join(APP, "fixtures/mutable.ts"), "utf8");
	const findings = checkTypeScript(source, "fixture/mutable");
	assert.ok(findings.some((f) => f.message === "module-level let connects"), JSON.stringify(findings, null, 1));
	const lines = source.split("\n");
	const marked = new Set(lines.flatMap((line, i) => (/\/\/ preload:/.test(line) ? [i + 1] : [])));
	const reported = new Set(findings.map((f) => f.line));
	assert.deepEqual([...marked].filter((l) => !reported.has(l)), [], "every marked line is reported");
	assert.deepEqual(findings.filter((f) => !marked.has(f.line)), [], "nothing else is reported");
});

test("static check: a module-level counter added to mqttc/client makes it fail", () => {
	const file = join(ROOT, "modules/mqttc/client.ts");
	const source = readFileSync(file, "utf8");
	assert.deepEqual(checkTypeScript(source, "mqttc/client"), []);
	const withCounter = source
		.replace(/export class MqttClient[^{]*\{/, "let connections = 0;\nconst registry = new Set<unknown>();\n\n$&")
		.replace("\tconnect(): boolean {\n", "\tconnect(): boolean {\n\t\tconnections++;\n\t\tregistry.add(this);\n");
	assert.notEqual(withCounter, source);
	const findings = checkTypeScript(withCounter, "mqttc/client").map((f) => f.message);
	assert.ok(findings.includes("module-level let connections"), findings.join("\n"));
	assert.ok(findings.some((m) => m.startsWith("module-level const registry is new Set")), findings.join("\n"));
	assert.ok(findings.some((m) => m.startsWith("mutates module-level registry")), findings.join("\n"));
});

// ---- run-time emulation ---------------------------------------------------------------

let broker;
let app;
let parsed = 0;
const events = [];

function pump() {
	const output = app.output;
	for (;;) {
		const end = output.indexOf("\n", parsed);
		if (end < 0) return;
		const line = output.slice(parsed, end);
		parsed = end + 1;
		const match = /^EVT (\S+) (.*)$/.exec(line);
		if (match) events.push({ client: match[1], ...JSON.parse(match[2]), taken: false });
	}
}

async function waitEvent(client, event, predicate = () => true, ms = 10000) {
	const deadline = Date.now() + ms;
	for (;;) {
		pump();
		const found = events.find((e) => !e.taken && e.client === client && e.event === event && predicate(e));
		if (found) {
			found.taken = true;
			return found;
		}
		if (Date.now() > deadline) {
			const seen = events.filter((e) => e.client === client).slice(-8).map((e) => `${e.event}:${JSON.stringify(e.data)}`);
			throw new Error(`${client}: no "${event}" within ${ms} ms; last: ${seen.join(" | ")}\n${app.output.slice(-1500)}`);
		}
		await new Promise((r) => setTimeout(r, 5));
	}
}

const call = (name, method, ...args) => app.call("call", name, method, ...args);

/** Advances virtual time in steps, letting socket I/O through in between. */
async function advance(ms, step = 500) {
	for (let left = ms; left > 0; left -= step) {
		await app.advance(Math.min(step, left));
		await new Promise((r) => setTimeout(r, 10));
	}
}

before(async () => {
	broker = await startBroker();
	app = await startApp(APP, { stdout: !!process.env.MQTTC_TRACE, virtualTime: true });
});
after(async () => {
	await app?.stop();
	await broker?.stop();
});

test("emulation: every preloaded mqttc module was frozen before main ran, with no violations", async () => {
	const report = await app.call("report");
	assert.deepEqual([...report.mqttc].sort(), preloadedModules().map((m) => m.name).sort(), "the app romifies exactly what the manifest preloads");
	assert.deepEqual(report.violations, []);
	assert.ok(report.frozen > 50, `${report.frozen} objects frozen`);
});

test("emulation: a durable session (mqttc/store) works with its modules in ROM", async () => {
	const result = await app.call("storeRoundTrip");
	assert.equal(result.id, 1);
	assert.deepEqual(result.restored, [1]);
});

test("emulation: writes and JSON.stringify on preloaded state throw, as in ROM (and the fixture's counter fails)", async () => {
	const probe = await app.call("probe");
	assert.equal(probe.defaultsFrozen, "true");
	assert.match(probe.writeDefaults, /TypeError: .*not writable/);
	assert.match(probe.writeExport, /TypeError: .*not writable/);
	assert.match(probe.addToPrototype, /TypeError: .*not extensible/);
	assert.match(probe.writeStatic, /TypeError: .*not writable/);
	assert.match(probe.stringifyPreloaded, /TypeError: read only value/);
	assert.equal(probe.stringifyRuntime, "no error");
	assert.match(probe.fixtureCounter, /TypeError: .*set sent: not writable/);
	assert.match(probe.fixtureStaticSet, /TypeError: add: read only collection/);
});

test("emulation: encrypted keys (PBES2 PKCS#8 and traditional PEM) decrypt with mqttc/keys and mqttc/tls in ROM", async () => {
	const rsa = (privateKeyEncoding) => generateKeyPairSync("rsa", { modulusLength: 1024, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding }).privateKey;
	const keys = [
		rsa({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "rom" }),
		rsa({ type: "pkcs1", format: "pem", cipher: "des-ede3-cbc", passphrase: "rom" }),
	];
	// create() decrypts at once; the certificate is not looked into before a connection
	const client_cert = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
	for (const [i, client_key] of keys.entries()) {
		assert.match(client_key, i ? /Proc-Type: 4,ENCRYPTED/ : /BEGIN ENCRYPTED PRIVATE KEY/);
		assert.equal(await app.call("create", `key${i}`, "127.0.0.1", broker.port, { client_cert, client_key, client_password: "rom" }, null), true, `key ${i}`);
		assert.equal(await app.call("create", `wrong${i}`, "127.0.0.1", broker.port, { client_cert, client_key, client_password: "mor" }, null), false);
	}
	assert.match(app.output, /mqttc: create: client_password is wrong/);
	for (const sign of ["not writable", "not extensible", "read only"]) assert.ok(!app.output.includes(sign), sign);
	assert.deepEqual(await app.call("changed"), [], "no exported binding of mqttc changed");
});

test("emulation: the core scenarios run with mqttc in ROM and never write to it", async () => {
	const port = broker.port;
	// a: the LuatOS flow; b: debug traces on, small rxSize so a large message comes in pieces,
	// over the ECMA-419 socket (mqttc/io in ROM too).
	assert.equal(await app.call("create", "a", "127.0.0.1", port, null, { rxSize: 1024, outbox: 4096 }), true);
	assert.equal(await app.call("create", "b", "127.0.0.1", port, null, { rxSize: 256, io: true }), true);
	assert.equal(await app.call("create", "bad", "127.0.0.1", 0, null, null), false, "invalid port: null");
	assert.equal(await call("a", "auth", "preload-a", "user", "secret", true), true);
	assert.equal(await call("a", "will", "preload/will", "gone", 1, 0), true);
	await call("a", "keepalive", 15);
	await call("a", "autoreconn", true, 1000);
	await call("b", "debug", true);
	assert.equal(await call("b", "auth", "preload-b"), true);
	assert.equal(await call("a", "connect"), true);
	assert.equal(await call("b", "connect"), true);
	await waitEvent("a", "conack");
	await waitEvent("b", "conack");
	assert.equal(await call("a", "ready"), true);
	assert.equal(await call("a", "state"), 3);

	const subId = await call("a", "subscribe", { "preload/t/#": 2, "preload/x": 0 });
	const suback = await waitEvent("a", "suback");
	assert.equal(suback.data, true);
	assert.deepEqual(suback.metas, { message_id: subId, topics: ["preload/t/#", "preload/x"], codes: [2, 0] });
	await call("b", "subscribe", "preload/big", 1);
	await waitEvent("b", "suback");

	for (const qos of [0, 1, 2]) {
		const id = await call("a", "publish", `preload/t/${qos}`, `message ${qos}`, qos);
		assert.ok(id > 0);
		await waitEvent("a", "sent", (e) => e.data === id);
		const recv = await waitEvent("a", "recv", (e) => e.data === `preload/t/${qos}`);
		assert.equal(recv.payload, `message ${qos}`);
		assert.equal(recv.metas.qos, qos);
	}

	// A message larger than b's rxSize arrives in pieces, each acknowledged once at the end.
	const big = "0123456789".repeat(100);
	await call("a", "publish", "preload/big", big, 1);
	let text = "";
	while (text.length < big.length) {
		const piece = await waitEvent("b", "recv", (e) => e.data === "preload/big");
		assert.equal(piece.metas.total, big.length);
		assert.equal(piece.metas.offset, text.length);
		text += piece.payload;
	}
	assert.equal(text, big);

	// Keepalive: PINGREQ after idle ticks of the virtual clock.
	await advance(12000);
	await waitEvent("a", "pong", undefined, 5000);

	const unsubId = await call("a", "unsubscribe", ["preload/x"]);
	assert.equal((await waitEvent("a", "unsuback")).data, unsubId);

	// The broker goes away and comes back: disconnect, reconnect, subscriptions restored.
	await broker.restart();
	assert.equal((await waitEvent("a", "disconnect")).data, "peer");
	await advance(1500);
	await waitEvent("a", "conack", undefined, 10000);
	await waitEvent("a", "suback", undefined, 10000);
	await mosquittoPub(port, ["-t", "preload/t/again", "-m", "back", "-q", "1"]);
	assert.equal((await waitEvent("a", "recv", (e) => e.data === "preload/t/again")).payload, "back");

	assert.equal(await call("a", "disconnect"), true);
	assert.equal((await waitEvent("a", "disconnect")).data, "user");
	await call("b", "close");
	assert.equal(await call("b", "publish", "preload/t/0", "x", 0), null);
	assert.equal(await call("b", "connect"), false);

	pump();
	const output = app.output;
	for (const sign of ["internal error", "handler threw", "not writable", "not extensible", "read only", "read-only"])
		assert.ok(!output.includes(sign), `"${sign}" in the output:\n${output.slice(Math.max(0, output.indexOf(sign) - 500), output.indexOf(sign) + 300)}`);
	assert.deepEqual(events.filter((e) => e.event === "error"), [], "no error events");
	assert.deepEqual(await app.call("changed"), [], "no exported binding of mqttc changed");
	const exited = await Promise.race([app.exited, new Promise((r) => setTimeout(() => r(null), 50))]);
	assert.equal(exited, null, "the app is still running");
});
