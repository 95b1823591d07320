// Benchmark (not a test): what decrypting an encrypted client key costs in create(), on the
// XS engine of the desktop host (tests/apps/client, real mqttc/tls + mqttc/keys + the host's
// `crypt` model), for each form openssl writes (tests/lib/certs.mjs, 2048 PBKDF2 iterations):
//   - wall time of create() as the host runs it, and as the app's Date.now() sees it;
//   - XS compute units of the call (app.meter), and the same for an unencrypted key;
//   - mqttc/keys' own compute with a stand-in `crypt` whose methods are native no-ops (bound
//     built-ins): what a device's meter would count besides the native hashing, as the
//     host's `crypt` model is JavaScript and costs ~380 units a call here.
//   node tests/keys.bench.mjs [--rounds N]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startApp } from "../hosts/xs/host.mjs";
import { makeCerts, PASSPHRASE } from "./lib/certs.mjs";
import { makeApp, REPO } from "./helpers/apps.mjs";

const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 3;
const FORMS = ["pbes2Sha256Aes256", "pbes2Sha1Aes128", "pbes2Des3", "traditionalAes256", "traditionalDes3"];
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

const certs = makeCerts();
const rows = [];
try {
	const app = await startApp(join(REPO, "tests/apps/client"), { stdout: false });
	try {
		const measure = async (label, client_key, client_password) => {
			const ssl = { server_cert: certs.ca.pem, client_cert: certs.client.pem, client_key, client_password };
			const host = [], guest = [], compute = [];
			for (let i = 0; i < rounds; i++) {
				const started = performance.now();
				if (!await app.call("create", `${label}${i}`, "127.0.0.1", 8883, ssl, null)) throw new Error(`create(${label}) returned null`);
				host.push(performance.now() - started);
				compute.push(app.meter.compute);
				await app.call("call", `${label}${i}`, "close");
				guest.push((await app.call("tlsSettings", ssl)).ms);
			}
			rows.push({ key: label, "create() ms (host)": +median(host).toFixed(1), "tlsSettings ms (XS Date.now)": median(guest), "create() compute": median(compute) });
		};
		await measure("unencrypted PKCS#8", certs.client.key, undefined);
		for (const form of FORMS) await measure(form, certs.encrypted[form], PASSPHRASE);
	}
	finally {
		await app.stop();
	}

	// mqttc/keys alone, with native no-ops for the crypt calls
	const stub = makeApp({
		"manifest.json": {
			include: ["$(MODDABLE)/examples/manifest_base.json"],
			modules: { "*": ["./main"], "crypt": "./crypt", "mqttc/keys": join(REPO, "modules/mqttc/keys") },
		},
		"crypt.js": `
// Digest/BlockCipher/Mode whose methods are built-in functions: each call costs what a native call costs.
const digest32 = new ArrayBuffer(32), digest20 = new ArrayBuffer(20), plain = new ArrayBuffer(1232);
export class Digest {
	constructor(name) {
		const size = name === "SHA1" ? 20 : name === "MD5" ? 16 : 32;
		this.blockSize = 64;
		this.outputSize = size;
		this.close = ArrayBuffer.prototype.slice.bind(size === 20 ? digest20 : digest32, 0, size);
	}
}
Digest.prototype.write = Math.abs;
Digest.prototype.reset = Math.abs;
export class BlockCipher {}
BlockCipher.prototype.encrypt = BlockCipher.prototype.decrypt = ArrayBuffer.prototype.slice.bind(new ArrayBuffer(8), 0);
export class Mode {}
Mode.prototype.decrypt = ArrayBuffer.prototype.slice.bind(plain, 0);
`,
		"main.js": `
import {decryptPkcs8, decryptTraditional} from "mqttc/keys";
export function pkcs8(der, password) { return decryptPkcs8(der, password); }
export function traditional(der, headers, password) { return decryptTraditional(der, headers, password); }
export function nothing(der, headers, password) { return der.length; }
`,
	});
	try {
		const keysApp = await startApp(stub.dir, { stdout: false });
		try {
			const body = (pem) => Buffer.from(pem.replace(/-----[^-]+-----|^[A-Za-z-]+:.*$/gm, "").replace(/\s+/g, ""), "base64");
			for (const form of FORMS) {
				const pem = certs.encrypted[form];
				const compute = [];
				const headers = /Proc-Type[\s\S]*?\n\r?\n/.exec(pem)?.[0] ?? "";
				for (let i = 0; i < rounds; i++) {
					// less the cost of the call itself (the key's bytes arrive as JSON)
					await keysApp.call("nothing", body(pem), headers, PASSPHRASE);
					const call = keysApp.meter.compute;
					if (form.startsWith("pbes2")) await keysApp.call("pkcs8", body(pem), PASSPHRASE);
					else await keysApp.call("traditional", body(pem), headers, PASSPHRASE);
					compute.push(keysApp.meter.compute - call);
				}
				rows.find((r) => r.key === form)["mqttc/keys compute, native crypt"] = median(compute);
			}
		}
		finally {
			await keysApp.stop();
		}
	}
	finally {
		stub.cleanup();
	}
}
finally {
	certs.cleanup();
}
console.log(`create() with an encrypted client key, median of ${rounds}; PBES2 keys have 2048 PBKDF2 iterations (openssl's default); @agoric/xsnap ${JSON.parse(readFileSync(join(REPO, "node_modules/@agoric/xsnap/package.json"), "utf8")).version}\n`);
console.table(rows);
