// The npm package (docs/npm-package.md): `npm pack` in a temporary copy of the checkout,
// then what an app gets from `npm install <tarball>`:
//  - the tarball holds every module the manifests list, as JavaScript, and the typings;
//    no TypeScript source and no manifest.json at its root (mcpack would include it);
//  - every module is an exports entry (mcpack resolves the modules' bare imports with it);
//  - mqttc/tls has a package scope of its own whose manifest.json is manifest_tls.json's
//    SDK part (what mcpack includes only in an app that imports "mqttc/tls");
//  - a TypeScript app type-checks against the installed package, bundler and nodenext
//    resolution, and a misuse does not;
//  - the installed JavaScript runs in the XS host (a manifest naming node_modules/mqttc/dist
//    files, module by module) against mosquitto: subscribe, publish QoS 1, recv, DONE; and
//    with the package's TLS manifest, the same over mutual TLS.
// No network: npm pack and npm install --offline of a package without dependencies.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { startApp, readManifest } from "../hosts/xs/host.mjs";
import { startBroker, startTlsBroker } from "./lib/broker.mjs";
import { makeCerts } from "./lib/certs.mjs";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const NODE_MODULES = fs.realpathSync(path.join(ROOT, "node_modules"));
const MODDABLE_TYPINGS = path.join(NODE_MODULES, "@moddable/typings");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };

let tmp;            // everything of this test
let tarball;        // path of the .tgz
let packed;         // npm pack --json's entry: {files: [{path}], ...}
let app;            // the app folder with node_modules/mqttc installed from the tarball
let installed;      // app/node_modules/mqttc

/** "mqttc-at" -> "mqttc/at", "mqttc-at/x" -> "mqttc/at/x": the AT front end's names in the package. */
const packageName = (name) => name.replace(/^mqttc-at(?=\/|$)/, "mqttc/at");
/** Where a module is in the package: dist/<its package name>.js, but mqttc/tls and mqttc/store
 * in scopes of their own, dist/tls/ and dist/store/. */
const SCOPED = { "mqttc/tls": "dist/tls/tls.js", "mqttc/store": "dist/store/store.js", "mqttc/ws": "dist/ws/ws.js", "mqttc/io": "dist/io/io.js" };
const distFile = (name) => SCOPED[packageName(name)] ?? `dist/${packageName(name)}.js`;

/** Every module of the three manifests: [{name, file}], name as in the manifests. */
function manifestModules() {
	const all = new Map();
	for (const file of ["manifest_tls.json", "manifest_at.json", "manifest_store.json", "manifest_ws.json", "manifest_io.json"])
		for (const [name, entry] of readManifest(path.join(ROOT, file), { env: {} }).modules)
			all.set(name, entry.file);
	return [...all].map(([name, file]) => ({ name, file }));
}

/** The app: subscribes, publishes 5 messages at QoS 1, traces each recv, then DONE; over TLS
 * when config has the certificates (ca, cert, key). */
const APP_TS = `import mqtt from "mqttc";
import config from "mc/config";

const COUNT = 5;
const topic = "npm-pack/test";
let received = 0;
let sent = 0;

const ssl = config.ca ? { server_cert: config.ca, client_cert: config.cert, client_key: config.key } : undefined;
const client = mqtt.create(null, String(config.host), Number(config.port), ssl);
if (!client) throw new Error("create failed");
client.on((c, event, data, payload, metas) => {
	switch (event) {
	case "conack":
		c.subscribe(topic, 1);
		break;
	case "suback":
		for (let i = 0; i < COUNT; i++) c.publish(topic, "message " + i, 1);
		break;
	case "sent":
		sent++;
		break;
	case "recv":
		received++;
		trace("recv " + data + " " + String(payload) + " qos=" + metas.qos + "\\n");
		break;
	case "error":
	case "disconnect":
		trace(event + " " + data + "\\n");
		return;
	}
	if (received === COUNT && sent === COUNT) {
		received++;
		trace("DONE\\n");
		c.disconnect();
	}
});
client.connect();
`;

before(async () => {
	tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mqttc-npm-pack-"));
	// The checkout without its build output, node_modules shared: prepack writes dist/ there.
	const source = path.join(tmp, "source");
	const skip = new Set(["node_modules", ".git", "dist", "build"].map((name) => path.join(ROOT, name)));
	fs.cpSync(ROOT, source, { recursive: true, filter: (from) => !skip.has(from) });
	fs.symlinkSync(NODE_MODULES, path.join(source, "node_modules"), "dir");
	const out = execFileSync(NPM, ["pack", "--json", "--pack-destination", tmp], { cwd: source, env: npmEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
	packed = JSON.parse(out)[0];
	tarball = path.join(tmp, packed.filename);
	assert.ok(fs.existsSync(tarball), `npm pack wrote ${tarball}`);

	app = path.join(tmp, "app");
	fs.mkdirSync(app);
	fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "pack-test-app", version: "1.0.0", private: true, type: "module", main: "main.js" }, null, 2));
	execFileSync(NPM, ["install", tarball, "--offline", "--no-audit", "--no-fund", "--no-package-lock"], { cwd: app, env: npmEnv, stdio: ["ignore", "pipe", "pipe"] });
	installed = path.join(app, "node_modules/mqttc");
	fs.mkdirSync(path.join(app, "src"));
	fs.writeFileSync(path.join(app, "src/main.ts"), APP_TS);
});

after(() => {
	if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("npm pack: the tarball holds every module the manifests list, as JavaScript, and the typings; no TypeScript source, no root manifest.json", () => {
	const files = new Set(packed.files.map((f) => f.path));
	const modules = manifestModules();
	assert.ok(modules.length >= 20 && modules.some((m) => m.name === "mqttc/tls") && modules.some((m) => m.name === "mqttc-at/engine"),
		`the manifests were read: ${modules.map((m) => m.name)}`);
	const missing = modules.map((m) => distFile(m.name)).filter((file) => !files.has(file));
	assert.deepEqual(missing, [], "modules missing from the tarball");
	// Each source under modules/ is a module of the package, whatever the manifests say.
	const sources = fs.readdirSync(path.join(ROOT, "modules"), { recursive: true }).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
	assert.deepEqual(sources.map((f) => distFile(f.split(path.sep).join("/").slice(0, -3))).filter((f) => !files.has(f)), []);
	for (const typings of ["dist/mqttc.d.ts", "dist/mqttc/at.d.ts", "dist/tls/tls.d.ts"])
		assert.ok(files.has(typings), `${typings} is in the tarball`);
	assert.deepEqual([...files].filter((f) => /\.ts$/.test(f) && !/\.d\.ts$/.test(f)), [], "no TypeScript sources");
	// mcpack includes the manifest.json at a package's root in every app that imports it:
	// the checkout's (TypeScript sources under modules/) must not be in the package. The one
	// manifest is mqttc/tls's (below).
	assert.deepEqual([...files].filter((f) => /(^|\/)manifest[^/]*\.json$/.test(f)).sort(), ["dist/io/manifest.json", "dist/store/manifest.json", "dist/tls/manifest.json", "dist/ws/manifest.json"]);
	// The installed package is the tarball's.
	for (const m of modules)
		assert.ok(fs.existsSync(path.join(installed, distFile(m.name))), `${m.name} installed`);
});

test("npm pack: each module is an exports entry (mcpack resolves the bare imports between them with it), each target is in the tarball", () => {
	const pkg = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"));
	const files = new Set(packed.files.map((f) => f.path));
	assert.equal(pkg.type, "module", "mcpack takes .js files as modules only in a \"type\": \"module\" package");
	const targets = (value) => (typeof value === "string" ? [value] : Object.values(value).flatMap(targets));
	for (const [key, value] of Object.entries(pkg.exports)) {
		assert.ok(!key.includes("*"), `${key}: the SDK's mcpack cannot resolve pattern exports`);
		for (const target of targets(value))
			assert.ok(files.has(target.replace(/^\.\//, "")), `exports ${key} -> ${target} is in the tarball`);
	}
	for (const { name } of manifestModules()) {
		const key = name === "mqttc" ? "." : "./" + packageName(name).slice("mqttc/".length);
		assert.ok(key in pkg.exports, `exports has ${key} (for ${name})`);
	}
	// Each module is the file its name says.
	for (const [key, value] of Object.entries(pkg.exports)) {
		const main = targets(value).find((t) => t.endsWith(".js"));
		assert.equal(main, "./" + distFile(key === "." ? "mqttc" : "mqttc" + key.slice(1)), `exports ${key}`);
	}
	assert.deepEqual(pkg.exports["."], { types: "./dist/mqttc.d.ts", default: "./dist/mqttc.js" });
	assert.deepEqual(pkg.moddable, { manifest: { preload: ["mqttc", "mqttc/*"] } });
});

test("npm pack: mqttc/tls is in a package scope of its own (named mqttc), whose manifest is manifest_tls.json's SDK part; nothing else imports TLS", () => {
	// mcpack names a module by its scope's package name and its path there, and includes the
	// manifest.json of each scope an app reaches: dist/tls/tls.js is "mqttc/tls", and its
	// manifest (the SDK's TLS, the preload, manifest_tls.json's config) comes only with it.
	const scope = JSON.parse(fs.readFileSync(path.join(installed, "dist/tls/package.json"), "utf8"));
	assert.equal(scope.name, "mqttc");
	assert.equal(scope.type, "module");
	const ours = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest_tls.json"), "utf8"));
	const manifest = JSON.parse(fs.readFileSync(path.join(installed, "dist/tls/manifest.json"), "utf8"));
	const sdk = [ours.include].flat().filter((entry) => entry.startsWith("$("));
	assert.ok(sdk.includes("$(MODDABLE)/modules/crypt/tls.json"));
	// manifest_base.json first: it defines $(MODULES), which tls.json uses, and mcpack puts
	// package manifests before it in the app's includes.
	assert.deepEqual(manifest.include, ["$(MODDABLE)/examples/manifest_base.json", ...sdk]);
	assert.deepEqual(manifest.preload, ours.preload);
	assert.deepEqual(manifest.config, ours.config);
	// manifest_tls.json's typescript section names the checkout's typings (mcpack: "directory not found")
	assert.equal(manifest.typescript, undefined, "no typescript section: the package holds JavaScript");
	assert.equal(manifest.modules, undefined, "mcpack adds the module; the manifest brings no other");
	// No module imports TLS at run time (the client loads it with Modules.importNow): a plain
	// app carries none of it.
	for (const file of fs.readdirSync(path.join(installed, "dist"), { recursive: true }).filter((f) => f.endsWith(".js"))) {
		const specifiers = ts.preProcessFile(fs.readFileSync(path.join(installed, "dist", file), "utf8"), true, true).importedFiles.map((f) => f.fileName);
		assert.ok(!specifiers.some((spec) => /securesocket|tls/.test(spec)), `${file} imports ${specifiers}`);
	}
});

test("npm pack: mqttc/store is in a package scope of its own, whose manifest is manifest_store.json's SDK part (File, LittleFS on ESP32, crc)", () => {
	const scope = JSON.parse(fs.readFileSync(path.join(installed, "dist/store/package.json"), "utf8"));
	assert.equal(scope.name, "mqttc");
	const ours = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest_store.json"), "utf8"));
	const manifest = JSON.parse(fs.readFileSync(path.join(installed, "dist/store/manifest.json"), "utf8"));
	assert.deepEqual(manifest.include, ["$(MODDABLE)/examples/manifest_base.json", "$(MODULES)/data/crc/manifest.json"]);
	assert.deepEqual(manifest.platforms, ours.platforms);
	assert.deepEqual(manifest.preload, ours.preload);
	assert.equal(manifest.modules, undefined, "mcpack adds the modules");
	// Only the store's modules import the SDK's file and crc: a plain app carries neither.
	for (const file of fs.readdirSync(path.join(installed, "dist"), { recursive: true }).filter((f) => f.endsWith(".js"))) {
		const specifiers = ts.preProcessFile(fs.readFileSync(path.join(installed, "dist", file), "utf8"), true, true).importedFiles.map((f) => f.fileName);
		if (!/^(store\/store|mqttc\/stored|mqttc\/storelog)\.js$/.test(file.split(path.sep).join("/")))
			assert.ok(!specifiers.some((spec) => spec === "file" || spec === "crc"), `${file} imports ${specifiers}`);
	}
	assert.match(fs.readFileSync(path.join(installed, "dist/store/store.d.ts"), "utf8"), /export default class Store implements SessionStore/);
});

test("npm pack: mqttc/ws is in a package scope of its own, whose manifest brings the SDK's digest and names the SDK's logical module", () => {
	const manifest = JSON.parse(fs.readFileSync(path.join(installed, "dist/ws/manifest.json"), "utf8"));
	const ours = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest_ws.json"), "utf8"));
	assert.deepEqual(manifest.include, ["$(MODDABLE)/examples/manifest_base.json", "$(MODULES)/crypt/digest/manifest.json"]);
	assert.deepEqual(manifest.modules, { logical: ours.modules.logical }, "the SDK module only: mcpack adds the package's");
	assert.deepEqual(manifest.preload, ours.preload);
	assert.equal(manifest.typescript, undefined);
});

test("npm pack: mqttc/io is in a package scope of its own, whose manifest brings the SDK's ECMA-419 IO", () => {
	const manifest = JSON.parse(fs.readFileSync(path.join(installed, "dist/io/manifest.json"), "utf8"));
	assert.deepEqual(manifest.include, ["$(MODDABLE)/examples/manifest_base.json", "$(MODDABLE)/modules/io/manifest.json"]);
	assert.deepEqual(manifest.preload, ["mqttc/io"]);
	assert.equal(manifest.modules, undefined, "no SDK module of its own: mcpack adds the package's");
});

test("npm pack: the AT entry imports the feature modules manifest_at.json includes (an npm app has no manifests: these imports bring them)", () => {
	const at = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest_at.json"), "utf8"));
	const features = at.include.filter((file) => /^\.\/manifest_\w+\.json$/.test(file))
		.flatMap((file) => Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8")).modules ?? {}));
	assert.ok(features.includes("mqttc/acks") && features.includes("mqttc/open"), `features of manifest_at.json: ${features}`);
	const specifiers = ts.preProcessFile(fs.readFileSync(path.join(installed, "dist/mqttc/at.js"), "utf8"), true, true).importedFiles.map((f) => f.fileName);
	for (const feature of features) assert.ok(specifiers.includes(feature), `dist/mqttc/at.js imports ${specifiers}, not ${feature}`);
});

/** Type-check `files` of the app with the resolution an app's tsconfig would use. */
function typeCheck(files, moduleKind) {
	const options = {
		target: ts.ScriptTarget.ES2022, lib: ["lib.es2022.d.ts"], strict: true, noEmit: true, skipLibCheck: false,
		module: moduleKind, moduleResolution: moduleKind === ts.ModuleKind.NodeNext ? ts.ModuleResolutionKind.NodeNext : ts.ModuleResolutionKind.Bundler,
		types: [], noUncheckedSideEffectImports: true,
	};
	const roots = [...files, path.join(MODDABLE_TYPINGS, "xs.d.ts"), path.join(MODDABLE_TYPINGS, "mc/config.d.ts")];
	const program = ts.createProgram(roots, options);
	return ts.getPreEmitDiagnostics(program).map((d) => {
		const where = d.file ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : "";
		return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
	});
}

test("npm pack: a TypeScript app type-checks against the installed package (its exports' types), bundler and nodenext resolution; a misuse does not", () => {
	const src = path.join(app, "src");
	// The typings tests' apps (every method and event; the AT engine), as an npm app imports them.
	fs.copyFileSync(path.join(ROOT, "tests/typings/app.ts"), path.join(src, "every.ts"));
	const at = fs.readFileSync(path.join(ROOT, "tests/typings/at-app.ts"), "utf8");
	assert.match(at, /from "mqttc-at"/);
	fs.writeFileSync(path.join(src, "at.ts"), at.replaceAll(`from "mqttc-at"`, `from "mqttc/at"`));
	fs.writeFileSync(path.join(src, "tls.ts"), `import "mqttc/tls";\nimport mqtt from "mqttc";\nexport const client = mqtt.create(null, "127.0.0.1", 8883, { server_cert: "PEM", verify: 2 });\n`);
	const good = ["main.ts", "every.ts", "at.ts", "tls.ts"].map((f) => path.join(src, f));
	for (const kind of [ts.ModuleKind.Preserve, ts.ModuleKind.NodeNext])
		assert.deepEqual(typeCheck(good, kind), [], `module ${ts.ModuleKind[kind]}`);
	// The types are the package's, not `any`: a wrong argument fails, and so does a module
	// the package does not have.
	fs.writeFileSync(path.join(src, "bad.ts"), `import mqtt from "mqttc";\nmqtt.create(null, "127.0.0.1", "1883");\n`);
	const bad = typeCheck([path.join(src, "bad.ts")], ts.ModuleKind.Preserve);
	assert.equal(bad.length, 1, bad.join("\n"));
	assert.match(bad[0], /^bad\.ts:2: TS2345 /);
	fs.writeFileSync(path.join(src, "missing.ts"), `import { nothing } from "mqttc/nothing";\nvoid nothing;\n`);
	assert.match(typeCheck([path.join(src, "missing.ts")], ts.ModuleKind.Preserve).join("\n"), /TS2307/);
});

/** Runs the app of `manifest` in the XS host until DONE; returns the trace and the module sources. */
async function runInHost(manifest, config) {
	const running = await startApp(manifest, { config, stdout: !!process.env.MQTTC_TRACE });
	try {
		await running.waitFor(/^DONE$/m, 20000);
		return { output: running.output, sources: running.sources };
	}
	finally {
		await running.stop();
	}
}

/** Every mqttc module of the run came from node_modules/mqttc/dist, as JavaScript. */
function fromPackage(sources) {
	for (const [name, file] of sources)
		if (name.startsWith("mqttc"))
			assert.ok(file.startsWith(path.join(app, "node_modules/mqttc/dist") + path.sep) && file.endsWith(".js"), `${name}: ${file}`);
}

test("npm pack: the installed JavaScript runs in the XS host against mosquitto (subscribe, 5 x publish QoS 1, recv, DONE), and over mutual TLS with the package's TLS manifest", async () => {
	// A manifest like mqttc's own, each module named as there but taken from the package.
	const ours = JSON.parse(fs.readFileSync(path.join(ROOT, "manifest.json"), "utf8"));
	const modules = { "*": ["./src/main"] };
	for (const [name, spec] of Object.entries(ours.modules)) {
		assert.match(spec, /^\.\/modules\//);
		modules[name] = "./node_modules/mqttc/" + distFile(name).slice(0, -3);
	}
	fs.writeFileSync(path.join(app, "manifest.json"), JSON.stringify({ include: ours.include, modules, preload: ours.preload }, null, "\t"));
	// TLS as mcpack builds it: the package's dist/tls/manifest.json and manifest_tls.json's
	// modules ("mqttc/tls" from dist/tls/, the others as every module).
	const tlsModules = {};
	for (const name of Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, "manifest_tls.json"), "utf8")).modules))
		tlsModules[name] = "./node_modules/mqttc/" + distFile(name).slice(0, -3);
	fs.writeFileSync(path.join(app, "manifest_tls.json"), JSON.stringify({
		include: ["./manifest.json", "./node_modules/mqttc/dist/tls/manifest.json"],
		modules: tlsModules,
	}, null, "\t"));
	const recvLines = (output) => output.match(/^recv npm-pack\/test message \d qos=1$/gm) ?? [];

	const broker = await startBroker();
	try {
		const plain = await runInHost(path.join(app, "manifest.json"), { host: "127.0.0.1", port: broker.port });
		fromPackage(plain.sources);
		assert.ok(plain.sources.has("mqttc/client") && !plain.sources.has("mqttc/tls"));
		assert.equal(recvLines(plain.output).length, 5, plain.output);
	}
	finally {
		await broker.stop();
	}

	// A broker that requires a client certificate: the SDK's TLS (and the host, as it) cannot
	// prove the key after a DHE_RSA key exchange, which mosquitto prefers; manifest_tls.json's
	// config turns DHE_RSA off, and the package's TLS manifest must carry that.
	const certs = makeCerts();
	const openssl = process.env.OPENSSL_CONF;
	process.env.OPENSSL_CONF = certs.tls12Config;   // mosquitto at TLS 1.2, as Moddable's TLS
	let tlsBroker;
	try {
		tlsBroker = await startTlsBroker(certs, { listeners: [{ requireCertificate: true }] });
		const port = tlsBroker.port;
		const secure = await runInHost(path.join(app, "manifest_tls.json"),
			{ host: "127.0.0.1", port, ca: certs.ca.pem, cert: certs.client.pem, key: certs.client.key });
		fromPackage(secure.sources);
		assert.equal(secure.sources.get("mqttc/tls"), path.join(app, "node_modules/mqttc/dist/tls/tls.js"));
		assert.equal(recvLines(secure.output).length, 5, secure.output);
	}
	finally {
		if (openssl === undefined) delete process.env.OPENSSL_CONF;
		else process.env.OPENSSL_CONF = openssl;
		await tlsBroker?.stop();
		certs.cleanup();
	}
});
