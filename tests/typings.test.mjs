// typings/mqttc.d.ts: an app that uses every method and event type-checks against it in the
// configuration mcconfig generates (target es2025, module preserve) plus strict, with the
// project's TypeScript; deliberate misuses fail, line by line; the sources conform to it;
// and every event and disconnect reason the client emits is declared.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIR = join(ROOT, "tests/typings");
const TYPINGS = join(ROOT, "typings/mqttc.d.ts");

/** Diagnostics of a program made from a tsconfig, with `files` replaced when given. */
function check(configFile, files) {
	const read = ts.readConfigFile(configFile, ts.sys.readFile);
	assert.equal(read.error, undefined, read.error && ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
	const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(configFile), undefined, configFile);
	assert.deepEqual(parsed.errors, []);
	const program = ts.createProgram(files ?? parsed.fileNames, parsed.options);
	return { options: parsed.options, diagnostics: ts.getPreEmitDiagnostics(program) };
}

function format(diagnostics) {
	return diagnostics.map((d) => {
		const where = d.file ? `${relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : "";
		return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
	}).join("\n");
}

/** The string literals of a union type alias `name` in the typings. */
function unionMembers(name) {
	const text = readFileSync(TYPINGS, "utf8");
	const match = new RegExp(`export type ${name} =([^;]*);`).exec(text);
	assert.ok(match, `typings declare ${name}`);
	return new Set([...match[1].replace(/\/\/.*$/gm, "").matchAll(/"([^"]+)"/g)].map((m) => m[1]));
}

test("the TypeScript in node_modules is one mcconfig can use (>= 6: target/lib es2025)", () => {
	assert.ok(Number(ts.versionMajorMinor.split(".")[0]) >= 6, `TypeScript ${ts.version}`);
});

test("an app using every method and event type-checks against the typings (es2025, module preserve, strict)", () => {
	const { options, diagnostics } = check(join(DIR, "tsconfig.json"));
	assert.equal(options.target, ts.ScriptTarget.ES2025);
	assert.equal(options.module, ts.ModuleKind.Preserve);
	assert.equal(options.strict, true);
	assert.equal(diagnostics.length, 0, format(diagnostics));
	// "every": each client method and each event name appears in the app.
	const app = readFileSync(join(DIR, "app.ts"), "utf8");
	const methods = [...readFileSync(TYPINGS, "utf8").matchAll(/^\t\t(\w+)\(/gm)].map((m) => m[1]).filter((m) => m !== "constructor");
	assert.ok(methods.length >= 16, `found methods ${methods}`);
	for (const method of methods) assert.match(app, new RegExp(`\\.${method}\\(`), `app.ts calls ${method}()`);
	for (const event of unionMembers("MqttEvent")) assert.match(app, new RegExp(`case "${event}"`), `app.ts handles "${event}"`);
});

test("each deliberate misuse fails to compile, and nothing else does", () => {
	const file = join(DIR, "misuse.ts");
	const { diagnostics } = check(join(DIR, "tsconfig.json"), [file]);
	const lines = readFileSync(file, "utf8").split("\n");
	const marked = new Set(lines.flatMap((line, i) => (/\/\/ misuse:/.test(line) ? [i + 1] : [])));
	assert.ok(marked.size >= 20, "misuse.ts marks its misuses");
	const failing = new Set();
	for (const d of diagnostics) {
		assert.ok(d.file && d.file.fileName.endsWith("misuse.ts"), `error outside misuse.ts: ${format([d])}`);
		const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1;
		assert.ok(marked.has(line), `unexpected error on line ${line}: ${format([d])}`);
		failing.add(line);
	}
	const accepted = [...marked].filter((line) => !failing.has(line));
	assert.deepEqual(accepted, [], `misuses that compiled: ${accepted.map((l) => `${l}: ${lines[l - 1].trim()}`).join("\n")}`);
});

test("the sources conform to the typings (methods, options, metas, events, constants)", () => {
	const { diagnostics } = check(join(DIR, "conformance-tsconfig.json"));
	assert.equal(diagnostics.length, 0, format(diagnostics));
});

test("every event and disconnect reason the client emits is declared in the typings", () => {
	// What the client emits comes from the API (client.ts), the link (link.ts), the packet handling (inbound.ts) and open() (open.ts).
	const source = ["client", "link", "inbound", "open"].map((name) => readFileSync(join(ROOT, `modules/mqttc/${name}.ts`), "utf8")).join("\n");
	const emitted = new Set([...source.matchAll(/\bemit\("(\w+)"/g)].map((m) => m[1]));
	const reasons = new Set([...source.matchAll(/\blost\("(\w+)"/g)].map((m) => m[1]));
	const kinds = new Set([...source.matchAll(/\b(?:emit\("error", |lost\("\w+", )"(\w+)"/g)].map((m) => m[1]));
	assert.ok(emitted.size >= 6 && reasons.size >= 5, "the client source was found and parsed");
	const events = unionMembers("MqttEvent");
	const declaredReasons = unionMembers("DisconnectReason");
	const declaredKinds = unionMembers("ErrorKind");
	for (const event of emitted) assert.ok(events.has(event), `event "${event}" is emitted but not declared`);
	for (const reason of reasons) assert.ok(declaredReasons.has(reason), `disconnect reason "${reason}" is emitted but not declared`);
	for (const kind of kinds) assert.ok(declaredKinds.has(kind), `error kind "${kind}" is emitted but not declared`);
	for (const event of events) assert.ok(emitted.has(event), `event "${event}" is declared but never emitted`);
});

test("mqttc's manifest hands the typings to every app's tsconfig", () => {
	const manifest = JSON.parse(readFileSync(join(ROOT, "manifest.json"), "utf8"));
	assert.deepEqual(manifest.typescript?.tsconfig?.compilerOptions?.types, ["./typings/mqttc"]);
});

test("the AT engine's typings (typings/mqttc-at.d.ts): an app type-checks, misuses do not, and manifest_at.json hands them over", () => {
	const config = join(DIR, "tsconfig.json");
	const good = check(config, [join(DIR, "at-app.ts")]).diagnostics;
	assert.equal(good.length, 0, format(good));
	const file = join(DIR, "at-misuse.ts");
	const lines = readFileSync(file, "utf8").split("\n");
	const marked = new Set(lines.flatMap((line, i) => (/\/\/ misuse:/.test(line) ? [i + 1] : [])));
	const failing = new Set(check(config, [file]).diagnostics.map((d) => d.file.getLineAndCharacterOfPosition(d.start).line + 1));
	assert.deepEqual([...marked].filter((l) => !failing.has(l)), [], "every misuse fails");
	assert.deepEqual([...failing].filter((l) => !marked.has(l)), [], "nothing else fails");
	const manifest = JSON.parse(readFileSync(join(ROOT, "manifest_at.json"), "utf8"));
	assert.deepEqual(manifest.typescript?.tsconfig?.compilerOptions?.types, ["./typings/mqttc-at"]);
});

test("mcconfig's tsc finds a declaration for every module mqttc imports: @moddable/typings, the SDK's own, or a typings file the manifest names", () => {
	// mcconfig type-checks each .ts module with the manifests' "typescript" types; an SDK module
	// without a declaration anywhere (the SDK ships none for `logical`) fails the device build
	// (TS7016) while the XS host, which only transpiles, runs it: found in mcsim, kept here.
	const typingsDir = join(ROOT, "node_modules/@moddable/typings");
	const sdkDeclared = new Set(["crypt"]);          // the SDK's own typings/crypt.d.ts (typings/crypt-*.d.ts mirror it)
	const declared = (file) => [...readFileSync(file, "utf8").matchAll(/declare module "([^"]+)"/g)].map((m) => m[1]);
	for (const name of readdirSync(typingsDir, { recursive: true }).filter((f) => String(f).endsWith(".d.ts")))
		for (const module of declared(join(typingsDir, String(name)))) sdkDeclared.add(module);
	const manifests = ["manifest.json", ...readdirSync(ROOT).filter((f) => /^manifest_\w+\.json$/.test(f))];
	for (const file of manifests) {
		const manifest = JSON.parse(readFileSync(join(ROOT, file), "utf8"));
		const types = manifest.typescript?.tsconfig?.compilerOptions?.types ?? [];
		const own = new Set(types.flatMap((type) => declared(join(ROOT, `${type}.d.ts`))));
		for (const [name, source] of Object.entries(manifest.modules ?? {})) {
			if (typeof source !== "string" || !source.startsWith("./modules/") || source.includes("*")) continue;
			const text = readFileSync(join(ROOT, `${source}.ts`), "utf8");
			for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
				if (spec.startsWith("mqttc") || spec === "mc/config") continue;
				assert.ok(sdkDeclared.has(spec) || own.has(spec), `${file}: ${name} imports "${spec}", which no typings declare for mcconfig (add a typings file to the manifest's typescript types)`);
			}
		}
	}
});
