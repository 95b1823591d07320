// Manifest reading and staging: include, modules, config, platforms, preload, errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startApp, readManifest, parseConfigArg } from "../../hosts/xs/host.mjs";
import { makeApp } from "../helpers/apps.mjs";

/** @type {{dir: string, cleanup: () => void}} */
let project;
before(() => {
	project = makeApp({
		"manifest.json": { modules: {} },
		"app/manifest.json": {
			include: [
				"$(MODDABLE)/examples/manifest_base.json",
				"$(MODDABLE)/examples/manifest_net.json",
				"$(MODULES)/crypt/tls.json",
				"../lib/manifest.json",
				"$(EXTRA_DIR)/extra.json",
			],
			config: { name: "app", nested: { y: 20 } },
			modules: { "*": ["./main", "./helpers/*"] },
			platforms: { lin: { config: { platform: "lin" } }, esp32: { config: { platform: "esp32" } }, "...": { config: { platform: "other" } } },
		},
		"app/main.js": `
import config from "mc/config";
import {hello} from "mqttc";
import {encode} from "mqttc/packet";
import {twice} from "mqttc/util";
import {helperA} from "helperA";
import {helperB} from "helperB";
import {fromExtra} from "extra";
export function report() {
	let frozen;
	try { config.name = "changed"; frozen = "writable"; } catch (e) { frozen = e.constructor.name; }
	return {config, frozen, hello: hello(), packet: Array.from(encode(3)), twice: twice(4), helpers: helperA() + helperB(), extra: fromExtra};
}
`,
		"app/helpers/helperA.ts": `export function helperA(): string { return "A"; }\n`,
		"app/helpers/helperB.js": `export function helperB() { return "B"; }\n`,
		"lib/manifest.json": {
			config: { name: "lib", port: 1883, nested: { x: 1, y: 2 } },
			modules: { mqttc: "./mqttc", "mqttc/*": "./mqttc/*" },
			preload: ["mqttc", "mqttc/packet"],
			platforms: { "...": { error: "lib - unsupported platform" }, lin: {} },
		},
		"lib/mqttc.ts": `import type {Packet} from "mqttc/packet";\nexport function hello(): string { const p: Packet | null = null; return "hello " + String(p); }\n`,
		"lib/mqttc/packet.ts": `export type Packet = {type: number};\nexport function encode(type: number): Uint8Array { return Uint8Array.of(type << 4, 0); }\n`,
		"lib/mqttc/util.js": `export function twice(x) { return 2 * x; }\n`,
		"extra/extra.json": { modules: { extra: "./extra.js" } },
		"extra/extra.js": `export const fromExtra = "extra";\n`,
	});
});
after(() => project.cleanup());

const env = () => ({ EXTRA_DIR: path.join(project.dir, "extra") });

test("includes, module forms, TypeScript, config merge, lin platform entries and overrides all reach the app", async () => {
	const app = await startApp(path.join(project.dir, "app"), {
		stdout: false, env: env(),
		config: Object.fromEntries(["port=8883", "nested.z=true", "clientId=007"].map(parseConfigArg)),
	});
	try {
		const report = await app.call("report");
		assert.deepEqual(report.config, {
			name: "app", port: 8883, clientId: "007", platform: "lin",
			nested: { x: 1, y: 20, z: true },
		});
		assert.equal(report.frozen, "TypeError", "mc/config is frozen");
		assert.equal(report.hello, "hello null");
		assert.deepEqual(report.packet, [0x30, 0]);
		assert.equal(report.twice, 8);
		assert.equal(report.helpers, "AB");
		assert.equal(report.extra, "extra");
		assert.deepEqual(app.preload, ["mqttc", "mqttc/packet"]);
	}
	finally {
		await app.stop();
	}
});

test("SDK includes are satisfied by the host whether or not MODDABLE is set", () => {
	const without = readManifest(path.join(project.dir, "app"), { env: env() });
	const withSdk = readManifest(path.join(project.dir, "app"), { env: { ...env(), MODDABLE: "/nowhere/moddable" } });
	assert.deepEqual([...withSdk.modules.keys()].sort(), [...without.modules.keys()].sort());
	assert.deepEqual(without.sdkIncludes, ["$(MODDABLE)/examples/manifest_base.json", "$(MODDABLE)/examples/manifest_net.json", "$(MODULES)/crypt/tls.json"]);
	assert.deepEqual(without.warnings, []);
	assert.deepEqual([...without.modules.keys()].sort(), ["extra", "helperA", "helperB", "main", "mqttc", "mqttc/packet", "mqttc/util"]);
});

test("config values from the command line: JSON numbers and booleans, else strings", () => {
	assert.deepEqual(parseConfigArg("port=1883"), ["port", 1883]);
	assert.deepEqual(parseConfigArg("ratio=-0.5"), ["ratio", -0.5]);
	assert.deepEqual(parseConfigArg("tls=false"), ["tls", false]);
	assert.deepEqual(parseConfigArg("id=007"), ["id", "007"]);
	assert.deepEqual(parseConfigArg("url=mqtt://a?b=c"), ["url", "mqtt://a?b=c"]);
	assert.deepEqual(parseConfigArg("empty="), ["empty", ""]);
	assert.throws(() => parseConfigArg("=x"), /key=value/);
});

test("clear errors: missing manifest, missing module file, unknown import, undefined variable, platform error", async () => {
	assert.throws(() => readManifest(path.join(project.dir, "nothing")), /manifest not found: .*nothing\/manifest\.json/);
	assert.throws(() => readManifest(path.join(project.dir, "app"), { env: {} }), /undefined variable \$\(EXTRA_DIR\)/);

	const broken = makeApp({
		"manifest.json": { modules: { "*": ["./main", "./gone"] } },
		"main.js": "",
	});
	try {
		assert.throws(() => readManifest(broken.dir), error => {
			const message = /** @type {Error} */ (error).message;
			return message.includes(`module not found for "./gone"`) && message.includes(path.join(broken.dir, "gone.ts")) && message.includes(path.join(broken.dir, "gone.js"));
		});
	}
	finally {
		broken.cleanup();
	}

	const unknown = makeApp({ "main.js": `import x from "mqtt-nowhere";\n` });
	try {
		await assert.rejects(startApp(unknown.dir, { stdout: false }), /module "mqtt-nowhere" imported by "main" .* not found; known modules: (.*, )?main, mc\/config, (.*, )?socket, timer/);
	}
	finally {
		unknown.cleanup();
	}

	const other = makeApp({ "manifest.json": { platforms: { lin: { error: "no Linux here" } }, modules: { "*": "./main" } }, "main.js": "" });
	try {
		assert.throws(() => readManifest(other.dir), /no Linux here/);
	}
	finally {
		other.cleanup();
	}

	const syntax = makeApp({ "main.ts": "export const x: number = ;\n" });
	try {
		await assert.rejects(startApp(syntax.dir, { stdout: false }), /main\.ts: Expression expected/);
	}
	finally {
		syntax.cleanup();
	}
});
