// @ts-check
/**
 * Manifest reading and staging for the desktop XS host, the way mcconfig reads
 * what matters to us: include, modules, preload, config, platforms ("lin", else "..."),
 * build (variables). `creation`, `strip`, `typescript`, `resources`, `data`, `defines`
 * are ignored.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const GUEST_DIR = path.join(HERE, "guest");

/** Variables that point into the Moddable SDK: manifests and modules under them are provided by this host. */
const SDK_VARIABLES = ["MODDABLE", "MODULES", "BUILD", "BUILD_SIMULATOR", "COMMODETTO", "PIU"];

/** SDK manifests whose content this host provides (or that have nothing we need). */
const KNOWN_SDK_INCLUDES = [
	"examples/manifest_base.json",
	"examples/manifest_net.json",
	"examples/manifest_typings.json",
	"crypt/tls.json",
	"crypt/tls_common.json",
	"crypt/digest/manifest.json",
	"network/socket/manifest.json",
	"base/timer/manifest.json",
	"network/net/manifest.json",
	"network/sntp/manifest.json",
	"network/wifi/manifest.json",
	"files/resource/manifest.json",
	"base/modules/manifest.json",
	"files/file/manifest.json",
	"files/file/manifest_littlefs.json",
	"data/crc/manifest.json",
	"modules/io/manifest.json",
	"crypt/tls_419.json",
	"examples/io/tcp/tlssocket/manifest.json",
];

/** Modules the host itself provides (hosts/xs/guest). */
export const HOST_MODULES = {
	"xs-host/bridge": "bridge.js",
	"xs-host/net": "net.js",
	"xs-host/boot": "boot.js",
	"socket": "socket.js",
	"securesocket": "securesocket.js",
	"timer": "timer.js",
};

/**
 * Modules the host provides only to apps that include the SDK manifest that brings them,
 * as a real build has them only then: name -> [guest file, pattern of the SDK includes].
 * `crypt` (Digest, BlockCipher, Mode) comes with crypt/digest/manifest.json, which
 * crypt/tls.json includes through tls_common.json.
 * @type {Record<string, [string, RegExp]>}
 */
export const SDK_HOST_MODULES = {
	// (the ECMA-419 TLS socket's manifest includes tls_419.json and modules/io/manifest.json)
	"crypt": ["crypt.js", /crypt\/(tls|tls_common|tls_419|digest\/manifest)\.json$|examples\/io\/tcp\/tlssocket\/manifest\.json$/],
	"file": ["file.js", /files\/file\/manifest(_littlefs)?\.json$/],
	"crc": ["crc.js", /data\/crc\/manifest\.json$/],
	// the ECMA-419 TCP socket (TCP client only: the manifest's listener and udp are not modelled)
	"embedded:io/socket/tcp": ["tcp419.js", /(\$\(MODDABLE\)\/modules|\$\(MODULES\))\/io\/manifest\.json$|examples\/io\/tcp\/tlssocket\/manifest\.json$/],
	// the ECMA-419 TLS socket (the SDK's examples/io/tcp/tlssocket over tls_419.json's session)
	"embedded:io/socket/tcp/tls": ["tls419.js", /examples\/io\/tcp\/tlssocket\/manifest\.json$/],
	// no manifest of its own in the SDK: an app names the module ("logical": "$(MODULES)/data/logical/*")
	"logical": ["logical.js", /^$/],
};

const PLATFORM = "lin";

/**
 * @typedef {object} Manifest
 * @property {string} file                 the top manifest
 * @property {Map<string, {file: string, manifest: string}>} modules   module name -> source file
 * @property {string[]} preload
 * @property {Record<string, unknown>} config
 * @property {string[]} includes           project manifests read, in order
 * @property {string[]} sdkIncludes        SDK manifests satisfied by the host
 * @property {string[]} sdkModules         SDK modules named in `modules` (e.g. "logical": "$(MODULES)/data/logical/*")
 * @property {string[]} warnings
 */

/**
 * Read `<appDir>/manifest.json` (or a manifest file path) and everything it includes.
 * @param {string} appDirOrFile
 * @param {{env?: Record<string, string|undefined>}} [options]
 * @returns {Manifest}
 */
export function readManifest(appDirOrFile, options = {}) {
	const env = options.env ?? process.env;
	let file = path.resolve(appDirOrFile);
	if (fs.existsSync(file) ? fs.statSync(file).isDirectory() : !file.endsWith(".json"))
		file = path.join(file, "manifest.json");
	if (!fs.existsSync(file))
		throw new Error(`manifest not found: ${file}`);
	/** @type {Manifest} */
	const result = { file, modules: new Map(), preload: [], config: {}, includes: [], sdkIncludes: [], sdkModules: [], warnings: [] };
	/** @type {Record<string, string>} */
	const variables = {};
	for (const [k, v] of Object.entries(env))
		if (typeof v === "string")
			variables[k] = v;
	const seen = new Set();
	readOne(file, result, variables, seen);
	return result;
}

/**
 * @param {string} file
 * @param {Manifest} result
 * @param {Record<string, string>} variables
 * @param {Set<string>} seen
 */
function readOne(file, result, variables, seen) {
	const real = fs.realpathSync(file);
	if (seen.has(real))
		return;
	seen.add(real);
	let json;
	try {
		json = JSON.parse(fs.readFileSync(real, "utf8"));
	}
	catch (e) {
		throw new Error(`cannot read manifest ${file}: ${/** @type {Error} */ (e).message}`);
	}
	result.includes.push(file);
	applyManifest(json, file, result, variables, seen);
}

/**
 * @param {any} json
 * @param {string} file
 * @param {Manifest} result
 * @param {Record<string, string>} variables
 * @param {Set<string>} seen
 */
function applyManifest(json, file, result, variables, seen) {
	const dir = path.dirname(file);
	if (json.error)
		throw new Error(`${file}: ${json.error}`);
	if (json.warning)
		result.warnings.push(`${file}: ${json.warning}`);
	if (json.build && typeof json.build === "object") {
		for (const [k, v] of Object.entries(json.build)) {
			if (typeof v !== "string")
				continue;
			if (isSdkPath(v) && !(k in variables))
				continue;
			try {
				variables[k] = expand(v, variables, file);
			}
			catch {
				// a build variable we cannot expand is only an error when used
			}
		}
	}
	for (const include of toArray(json.include)) {
		if (typeof include !== "string")
			throw new Error(`${file}: include entries must be strings`);
		if (isSdkPath(include)) {
			const rest = include.replace(/^\$\((\w+)\)\//, "");
			result.sdkIncludes.push(include);
			if (!KNOWN_SDK_INCLUDES.some(known => rest === known || rest.endsWith("/" + known) || known.endsWith(rest)))
				result.warnings.push(`${file}: SDK manifest ${include} is not emulated by the XS host; ignored`);
			continue;
		}
		const target = path.resolve(dir, expand(include, variables, file));
		if (!fs.existsSync(target))
			throw new Error(`manifest not found: ${target} (included by ${file} as "${include}")`);
		readOne(target, result, variables, seen);
	}
	if (json.config && typeof json.config === "object")
		mergeConfig(result.config, json.config);
	if (json.modules && typeof json.modules === "object")
		addModules(json.modules, file, dir, result, variables);
	for (const name of toArray(json.preload))
		if (typeof name === "string" && !result.preload.includes(name))
			result.preload.push(name);
	if (json.platforms && typeof json.platforms === "object") {
		const entry = json.platforms[PLATFORM] ?? json.platforms["..."];
		if (entry && typeof entry === "object")
			applyManifest(entry, file, result, variables, seen);
	}
}

/** @param {unknown} value @returns {unknown[]} */
function toArray(value) {
	if (value === undefined || value === null)
		return [];
	return Array.isArray(value) ? value : [value];
}

/** @param {string} value */
function isSdkPath(value) {
	const m = /^\$\((\w+)\)/.exec(value);
	return !!m && SDK_VARIABLES.includes(m[1]);
}

/**
 * Expand $(NAME) from the manifests' build variables and the environment.
 * @param {string} value @param {Record<string, string>} variables @param {string} file
 */
function expand(value, variables, file) {
	return value.replace(/\$\((\w+)\)/g, (_, name) => {
		if (!(name in variables))
			throw new Error(`${file}: undefined variable $(${name}) in "${value}"`);
		return variables[name];
	});
}

/** @param {Record<string, any>} into @param {Record<string, any>} from */
function mergeConfig(into, from) {
	for (const [k, v] of Object.entries(from)) {
		if (v && typeof v === "object" && !Array.isArray(v) && into[k] && typeof into[k] === "object" && !Array.isArray(into[k]))
			mergeConfig(into[k], v);
		else
			into[k] = v && typeof v === "object" ? structuredClone(v) : v;
	}
}

const SOURCE = /\.(ts|js|mjs)$/;

/** @param {string} name */
function isSource(name) {
	return SOURCE.test(name) && !name.endsWith(".d.ts");
}

/**
 * A module file: "x.ts"/"x.js" as is; "x" -> x.ts, then x.js.
 * @param {string} base @param {string} file @param {string} spec
 */
function resolveSource(base, file, spec) {
	if (isSource(base)) {
		if (fs.existsSync(base))
			return base;
		throw new Error(`${file}: module file not found: ${base} (from "${spec}")`);
	}
	const tried = [base + ".ts", base + ".js"];
	for (const candidate of tried)
		if (fs.existsSync(candidate))
			return candidate;
	throw new Error(`${file}: module not found for "${spec}"; looked for ${tried.join(", ")}`);
}

/** @param {string} dir @param {string} file @param {string} spec */
function listSources(dir, file, spec) {
	if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
		throw new Error(`${file}: directory not found: ${dir} (from "${spec}")`);
	return fs.readdirSync(dir).filter(isSource).sort().map(name => path.join(dir, name));
}

/** @param {string} p */
function stem(p) {
	return path.basename(p).replace(SOURCE, "");
}

/**
 * @param {Record<string, unknown>} modules @param {string} file @param {string} dir
 * @param {Manifest} result @param {Record<string, string>} variables
 */
function addModules(modules, file, dir, result, variables) {
	const add = (/** @type {string} */ name, /** @type {string} */ source) => {
		result.modules.set(name, { file: source, manifest: file });
	};
	for (const [key, value] of Object.entries(modules)) {
		const specs = toArray(value).filter(v => typeof v === "string").map(v => /** @type {string} */ (v));
		const own = specs.filter(spec => !isSdkPath(spec));
		if (own.length < specs.length && own.length === 0) {
			if (key !== "*" && !(key in HOST_MODULES) && !(key in SDK_HOST_MODULES))
				result.warnings.push(`${file}: module "${key}" comes from the Moddable SDK and is not emulated by the XS host`);
			else if (key in SDK_HOST_MODULES)
				result.sdkModules.push(key);
			continue;
		}
		if (key === "*") {
			for (const spec of own) {
				if (/\.(c|h|cpp)$/.test(spec))
					continue;
				const p = path.resolve(dir, expand(spec, variables, file));
				if (spec.endsWith("/*")) {
					for (const source of listSources(path.dirname(p), file, spec))
						add(stem(source), source);
				}
				else {
					const source = resolveSource(p, file, spec);
					add(stem(source), source);
				}
			}
		}
		else if (key.endsWith("/*")) {
			const prefix = key.slice(0, -1);
			for (const spec of own) {
				const p = path.resolve(dir, expand(spec, variables, file));
				const from = spec.endsWith("/*") ? path.dirname(p) : p;
				for (const source of listSources(from, file, spec))
					add(prefix + stem(source), source);
			}
		}
		else {
			/** @type {string[]} */
			const candidates = [];
			for (const spec of own) {
				if (/\.(c|h|cpp)$/.test(spec))
					continue;
				const p = path.resolve(dir, expand(spec, variables, file));
				if (spec.endsWith("/*"))
					candidates.push(...listSources(path.dirname(p), file, spec));
				else
					candidates.push(resolveSource(p, file, spec));
			}
			if (candidates.length === 0)
				throw new Error(`${file}: no JavaScript or TypeScript source for module "${key}" in ${JSON.stringify(value)}`);
			if (candidates.length > 1)
				throw new Error(`${file}: module "${key}" has several sources: ${candidates.join(", ")}`);
			add(key, candidates[0]);
		}
	}
}

/**
 * Parse a CLI `key=value` config override. Values stay strings unless they are
 * JSON numbers or the booleans true/false: `port=1883` -> 1883, `tls=true` -> true,
 * `host=localhost` -> "localhost", `id=007` -> "007" (not a JSON number).
 * Dotted keys set nested properties: `mqtt.port=1883`.
 * @param {string} arg
 * @returns {[string, string|number|boolean]}
 */
export function parseConfigArg(arg) {
	const at = arg.indexOf("=");
	if (at <= 0)
		throw new Error(`config override must be key=value: "${arg}"`);
	const key = arg.slice(0, at);
	const raw = arg.slice(at + 1);
	/** @type {string|number|boolean} */
	let value = raw;
	if (raw === "true")
		value = true;
	else if (raw === "false")
		value = false;
	else if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(raw))
		value = Number(raw);
	return [key, value];
}

/**
 * @param {Record<string, any>} config @param {Record<string, unknown>} overrides
 */
export function applyConfigOverrides(config, overrides) {
	for (const [key, value] of Object.entries(overrides)) {
		const parts = key.split(".");
		let target = config;
		for (const part of parts.slice(0, -1)) {
			if (!target[part] || typeof target[part] !== "object")
				target[part] = {};
			target = target[part];
		}
		target[parts[parts.length - 1]] = value;
	}
	return config;
}

/** @type {any} */
let typescript;
async function loadTypeScript() {
	if (!typescript)
		typescript = (await import("typescript")).default;
	return typescript;
}

/**
 * Stage the app into a temporary directory the XS worker runs in: every module is
 * written as `<name>.js` (so "mqttc" and "mqttc/packet" can coexist) and import
 * specifiers are rewritten to those file names. `.ts` is transpiled (ES2022, ESM).
 * @param {Manifest} manifest
 * @param {{config?: Record<string, unknown>, tmpDir?: string}} [options]
 * @returns {Promise<{dir: string, modules: string[], config: Record<string, unknown>, sources: Map<string, string>}>}
 */
export async function stageApp(manifest, options = {}) {
	const ts = await loadTypeScript();
	/** @type {Map<string, {file: string, text?: string}>} */
	const sources = new Map();
	for (const [name, file] of Object.entries(HOST_MODULES))
		sources.set(name, { file: path.join(GUEST_DIR, file) });
	for (const [name, [file, includes]] of Object.entries(SDK_HOST_MODULES))
		if (manifest.sdkIncludes.some((include) => includes.test(include)) || manifest.sdkModules.includes(name))
			sources.set(name, { file: path.join(GUEST_DIR, file) });
	for (const [name, entry] of manifest.modules) {
		if (name.startsWith("xs-host/"))
			throw new Error(`${entry.manifest}: module name "${name}" is reserved by the XS host`);
		sources.set(name, { file: entry.file });
	}
	if (!sources.has("main"))
		throw new Error(`${manifest.file}: no "main" module (add "modules": {"*": ["./main"]})`);
	const config = applyConfigOverrides(structuredClone(manifest.config), options.config ?? {});
	sources.set("mc/config", { file: "(generated mc/config)", text: `const config = ${deepFreezeSource(config)};\nexport default config;\n` });
	if (!sources.has("modules"))
		sources.set("modules", { file: "(generated modules)", text: modulesSource(manifest, [...sources.keys()]) });

	const dir = fs.mkdtempSync(path.join(options.tmpDir ?? os.tmpdir(), "mqttc-xs-"));
	try {
		for (const [name, entry] of sources) {
			let text = entry.text ?? fs.readFileSync(entry.file, "utf8");
			if (entry.file.endsWith(".ts")) {
				const out = ts.transpileModule(text, {
					fileName: entry.file,
					reportDiagnostics: true,
					compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, sourceMap: false, removeComments: false },
				});
				const errors = (out.diagnostics ?? []).filter((/** @type {any} */ d) => d.category === ts.DiagnosticCategory.Error);
				if (errors.length)
					throw new Error(`${entry.file}: ${errors.map((/** @type {any} */ d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; ")}`);
				text = out.outputText;
			}
			text = rewriteSpecifiers(ts, text, name, entry.file, sources);
			const target = path.join(dir, name + ".js");
			fs.mkdirSync(path.dirname(target), { recursive: true });
			fs.writeFileSync(target, text);
		}
	}
	catch (e) {
		fs.rmSync(dir, { recursive: true, force: true });
		throw e;
	}
	return { dir, modules: [...sources.keys()], config, sources: new Map([...sources].map(([name, entry]) => [name, entry.file])) };
}

/**
 * The Moddable `modules` module (Modules.has / Modules.importNow) over the staged modules.
 * XS has no synchronous import, so the generated module imports every module it can hand
 * out; importNow returns a module's default export, as on the device. `securesocket` is
 * there only when the app included the SDK's crypt/tls.json, as in a real build.
 * @param {Manifest} manifest @param {string[]} names
 */
function modulesSource(manifest, names) {
	const tls = manifest.sdkIncludes.some((include) => /crypt\/tls\.json$/.test(include));
	const importable = names.filter((name) => name !== "main" && name !== "mc/config" && !name.startsWith("xs-host/")
		&& (name !== "securesocket" || tls));
	const lines = importable.map((name, i) => `import * as m${i} from ${JSON.stringify(name)};`);
	lines.push(`const table = Object.freeze({${importable.map((name, i) => `${JSON.stringify(name)}: m${i}`).join(", ")}});`);
	lines.push(`export default class Modules {`);
	lines.push(`\tstatic has(name) { return Object.hasOwn(table, name); }`);
	lines.push(`\tstatic importNow(name) { if (!Object.hasOwn(table, name)) throw new Error(\`module "\${name}" not found\`); return table[name].default; }`);
	lines.push(`}`);
	return lines.join("\n") + "\n";
}

/** @param {unknown} value @returns {string} */
function deepFreezeSource(value) {
	if (value && typeof value === "object") {
		if (Array.isArray(value))
			return `Object.freeze([${value.map(deepFreezeSource).join(", ")}])`;
		return `Object.freeze({${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${deepFreezeSource(v)}`).join(", ")}})`;
	}
	return JSON.stringify(value) ?? "undefined";
}

/**
 * @param {any} ts @param {string} text @param {string} name @param {string} file
 * @param {Map<string, unknown>} known
 */
function rewriteSpecifiers(ts, text, name, file, known) {
	const info = ts.preProcessFile(text, true, true);
	/** @type {{pos: number, end: number, spec: string}[]} */
	const edits = [];
	for (const imported of info.importedFiles) {
		const spec = imported.fileName;
		if (!known.has(spec)) {
			const hint = spec.startsWith(".") ? " (relative specifiers are not supported: use the module's manifest name)" : "";
			throw new Error(`module "${spec}" imported by "${name}" (${file}) not found${hint}; known modules: ${[...known.keys()].filter(k => !k.startsWith("xs-host/")).sort().join(", ")}`);
		}
		// preProcessFile's pos is the opening quote (or the first character, depending on version)
		const start = /["'`]/.test(text[imported.pos]) ? imported.pos + 1 : imported.pos;
		edits.push({ pos: start, end: start + spec.length, spec });
	}
	edits.sort((a, b) => b.pos - a.pos);
	for (const edit of edits) {
		if (text.slice(edit.pos, edit.end) !== edit.spec)
			throw new Error(`internal error rewriting "${edit.spec}" in ${file}`);
		text = text.slice(0, edit.pos) + edit.spec + ".js" + text.slice(edit.end);
	}
	return text;
}
