// Builds dist/, what the npm package holds (`npm pack` runs this as its prepack script;
// docs/npm-package.md explains the layout):
//
//   dist/mqttc.js, dist/mqttc/*.js     modules/**/*.ts compiled by the project's TypeScript
//   dist/mqttc/at.js, dist/mqttc/at/*  the AT front end (modules/mqttc-at*), named mqttc/at
//   dist/tls/                          mqttc/tls in a package scope of its own: tls.js, a
//                                      package.json and the manifest.json that mcpack includes
//                                      only in an app that imports "mqttc/tls" (the SDK's TLS
//                                      and manifest_tls.json's config)
//   dist/store/                        mqttc/store likewise, with manifest_store.json's SDK
//                                      part (File, on LittleFS for ESP32, and crc)
//   dist/ws/                           mqttc/ws likewise (the SDK's digest and logical)
//   dist/io/                           mqttc/io likewise (the SDK's ECMA-419 IO manifest; its
//                                      TLS, manifest_io_tls.json, is not offered by npm: the
//                                      tls scope brings SecureSocket's ssl/session)
//   dist/mqttc.d.ts, dist/mqttc/at.d.ts, typings/*.d.ts as module declarations (dist/store/
//   dist/store/store.d.ts, an empty    store.d.ts too), and an empty one for `import "mqttc/tls"`,
//   dist/tls/tls.d.ts                  for the `types` conditions of package.json's exports
//
// One module per file, ES2022, ESM, no bundling: the device's own build (mcconfig, through
// mcpack) compiles each file to bytecode. Imports stay bare specifiers ("mqttc/packet"), which
// mcpack resolves through package.json's exports; only "mqttc-at..." becomes "mqttc/at...",
// because an npm package named mqttc can only offer specifiers that start with "mqttc".
//
//   node scripts/build-dist.mjs [outDir]     (default: dist)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.resolve(ROOT, process.argv[2] ?? "dist");
const MODULES = path.join(ROOT, "modules");

/** "mqttc-at" -> "mqttc/at", "mqttc-at/engine" -> "mqttc/at/engine"; other specifiers as they are. */
function packageSpecifier(specifier) {
	if (specifier === "mqttc-at") return "mqttc/at";
	if (specifier.startsWith("mqttc-at/")) return "mqttc/at/" + specifier.slice("mqttc-at/".length);
	return specifier;
}

/** The feature modules that bring SDK modules of their own: each in a package scope of its own. */
const SCOPES = { "mqttc/tls": "manifest_tls.json", "mqttc/store": "manifest_store.json", "mqttc/ws": "manifest_ws.json", "mqttc/io": "manifest_io.json" };

/** Where a compiled module goes: modules/mqttc-at.ts -> mqttc/at.js, modules/mqttc-at/x.ts ->
 * mqttc/at/x.js, modules/mqttc/tls.ts -> tls/tls.js (and store), the others as under modules/. */
function outputPath(jsFile) {
	const name = packageSpecifier(path.relative(OUT, jsFile).split(path.sep).join("/").replace(/\.js$/, ""));
	return path.join(OUT, name in SCOPES ? name.replace(/^mqttc\/(\w+)$/, "$1/$1") : name) + ".js";
}

/**
 * dist/tls/, dist/store/: mcpack names a module by its package scope's name and its path
 * there, and includes the manifest.json of each scope an app's imports reach. So tls.js in a
 * scope named mqttc is the module "mqttc/tls" (the name the client loads with
 * Modules.importNow), and this manifest comes in only with it: the feature's manifest without
 * mqttc's own manifest and modules (mcpack supplies those), i.e. the SDK's part (TLS:
 * SecureSocket; store: File and crc), the preload, the config and the platforms.
 */
function featureScope(name) {
	const file = SCOPES[name];
	const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8"));
	// `typescript` names the checkout's typings for mcconfig's tsc: the package holds JavaScript.
	const { include = [], modules, typescript, ...rest } = manifest;
	const sdk = [include].flat().filter((entry) => entry.startsWith("$("));
	if (!modules || !(name in modules)) throw new Error(`${file} has no ${name} module`);
	// SDK modules the feature names itself (manifest_ws.json's `logical`, which has no SDK
	// manifest of its own) stay: mcpack supplies only the package's.
	const sdkModules = Object.fromEntries(Object.entries(modules).filter(([, source]) => String(source).startsWith("$(")));
	if (Object.keys(sdkModules).length) rest.modules = sdkModules;
	// mcpack puts package manifests first in the app's includes, before manifest_base.json, which
	// defines $(MODULES): the SDK's manifests need it, so it comes first here too (mcconfig reads
	// a manifest once, however often it is included).
	const base = "$(MODDABLE)/examples/manifest_base.json";
	const dir = path.join(OUT, name.slice("mqttc/".length));
	fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ include: [base, ...sdk.filter((e) => e !== base)], ...rest }, null, "\t") + "\n");
	fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({
		"//": `The package scope of ${name} for mcpack (docs/npm-package.md); not a package of its own.`,
		name: "mqttc", private: true, type: "module",
	}, null, 2) + "\n");
}

/** A transformer that renames the module specifiers of import and export declarations. */
function renameSpecifiers(context) {
	const { factory } = context;
	const visit = (node) => {
		const literal = node.moduleSpecifier;
		if (!literal || !ts.isStringLiteral(literal)) return node;
		const renamed = packageSpecifier(literal.text);
		if (renamed === literal.text) return node;
		if (ts.isImportDeclaration(node))
			return factory.updateImportDeclaration(node, node.modifiers, node.importClause, factory.createStringLiteral(renamed), node.attributes);
		if (ts.isExportDeclaration(node))
			return factory.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, factory.createStringLiteral(renamed), node.attributes);
		return node;
	};
	return (sourceFile) => factory.updateSourceFile(sourceFile, sourceFile.statements.map(visit));
}

function fail(diagnostics) {
	const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" };
	process.stderr.write(ts.formatDiagnostics(diagnostics, host));
	process.exit(1);
}

/** Compile modules/**\/*.ts with tsconfig.json's options (strict, ES2022), emitting JavaScript. */
function compile() {
	const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {
		noEmit: false, outDir: OUT, rootDir: MODULES, declaration: false, sourceMap: false,
		removeComments: false, newLine: ts.NewLineKind.LineFeed,
	}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) });
	if (config.errors.length) fail(config.errors);
	// The modules and the typings they are checked against (Moddable's, and the project's
	// declarations of the SDK's crypt module); not the hosts or tests.
	const inModules = (file) => !path.relative(MODULES, file).startsWith("..");
	const typings = (file) => file.endsWith(".d.ts") && (file.includes(`${path.sep}@moddable${path.sep}typings${path.sep}`) || !path.relative(path.join(ROOT, "typings"), file).startsWith(".."));
	const files = config.fileNames.filter((file) => inModules(file) || typings(file));
	const program = ts.createProgram(files, config.options);
	const diagnostics = ts.getPreEmitDiagnostics(program);
	if (diagnostics.length) fail(diagnostics);
	const written = [];
	const result = program.emit(undefined, (file, text) => {
		const target = outputPath(file);
		fs.mkdirSync(path.dirname(target), { recursive: true });
		fs.writeFileSync(target, text);
		written.push(target);
	}, undefined, false, { after: [renameSpecifiers] });
	if (result.diagnostics.length) fail(result.diagnostics);
	return written;
}

/**
 * The body of `declare module "<name>" { ... }` in an ambient typings file, as the text of a
 * module declaration file: one tab less of indent, and `declare` before top-level values
 * that had none (a .d.ts module requires it where an ambient module block implies it).
 */
function moduleTypings(file, name) {
	const text = fs.readFileSync(file, "utf8");
	const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
	const block = source.statements.find((s) => ts.isModuleDeclaration(s) && s.name.text === name);
	if (!block || !block.body || !ts.isModuleBlock(block.body)) throw new Error(`${file}: no declare module "${name}"`);
	const body = block.body;
	const inserts = [];
	for (const statement of body.statements) {
		const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) ?? [] : [];
		const exported = modifiers.some((m) => m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DeclareKeyword);
		const value = ts.isVariableStatement(statement) || ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement);
		if (value && !exported) inserts.push(statement.getStart(source));
	}
	let inner = text.slice(body.getStart(source) + 1, body.getEnd() - 1);
	const offset = body.getStart(source) + 1;
	for (const at of inserts.sort((a, b) => b - a))
		inner = inner.slice(0, at - offset) + "declare " + inner.slice(at - offset);
	inner = inner.replace(/^\n/, "").replace(/\s+$/, "\n").replace(/^\t/gm, "");
	const header = text.slice(0, source.statements[0].getStart(source)).trimEnd();   // the file's own comment
	return `${header}\n//\n// In the npm package: this file, made from ${path.relative(ROOT, file)} by scripts/build-dist.mjs.\n\n${inner}`;
}

fs.rmSync(OUT, { recursive: true, force: true });
const written = compile();
for (const name of Object.keys(SCOPES)) featureScope(name);
fs.writeFileSync(path.join(OUT, "tls/tls.d.ts"), `// "mqttc/tls": import it for its effect, \`import "mqttc/tls";\`, to build an app with TLS\n// (mqtt.create with \`ssl\`); see dist/tls/manifest.json.\nexport {};\n`);
fs.writeFileSync(path.join(OUT, "store/store.d.ts"), moduleTypings(path.join(ROOT, "typings/mqttc.d.ts"), "mqttc/store"));
fs.writeFileSync(path.join(OUT, "ws/ws.d.ts"), `// "mqttc/ws": import it for its effect, \`import "mqttc/ws";\`, to build an app with MQTT over\n// WebSocket (mqtt.create with \`websocket\`); see dist/ws/manifest.json.\nexport {};\n`);
fs.writeFileSync(path.join(OUT, "io/io.d.ts"), `// "mqttc/io": import it for its effect, \`import "mqttc/io";\`, to build an app with MQTT over\n// the ECMA-419 TCP socket (mqtt.create with \`io\`); see dist/io/manifest.json.\nexport {};\n`);
fs.writeFileSync(path.join(OUT, "mqttc.d.ts"), moduleTypings(path.join(ROOT, "typings/mqttc.d.ts"), "mqttc"));
fs.writeFileSync(path.join(OUT, "mqttc/at.d.ts"), moduleTypings(path.join(ROOT, "typings/mqttc-at.d.ts"), "mqttc-at"));
process.stderr.write(`build-dist: ${written.length} modules and the typings in ${path.relative(process.cwd(), OUT) || "."}\n`);
