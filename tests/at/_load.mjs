// Loads the mqttc-at internals under Node for the fast unit tests: each
// modules/mqttc-at/*.ts is transpiled with typescript's transpileModule into a temp dir,
// and the flat Moddable specifiers "mqttc-at/<name>" are rewritten to the files there.
// The XS extensions the engine uses (ArrayBuffer.fromString, String.fromArrayBuffer)
// are provided from Node's Buffer.
import ts from "typescript";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

if (!ArrayBuffer.fromString) {
	ArrayBuffer.fromString = (s) => {
		const b = Buffer.from(String(s), "utf8");
		return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
	};
}
if (!String.fromArrayBuffer) {
	String.fromArrayBuffer = (ab) => Buffer.from(ab).toString("utf8");
}

let loaded;

export async function load() {
	if (loaded) return loaded;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttc-at-"));
	const src = path.join(root, "modules/mqttc-at");
	for (const f of fs.readdirSync(src)) {
		if (!f.endsWith(".ts")) continue;
		const out = ts.transpileModule(fs.readFileSync(path.join(src, f), "utf8"), {
			compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true},
		}).outputText.replace(/(from\s*|import\s*\(\s*)"mqttc-at\/([\w-]+)"/g, (_m, p, n) => `${p}"./${n}.mjs"`);
		fs.writeFileSync(path.join(dir, f.replace(/\.ts$/, ".mjs")), out);
	}
	const mod = (n) => import(pathToFileURL(path.join(dir, n + ".mjs")).href);
	loaded = {
		engine: await mod("engine"),
		parser: await mod("parser"),
		ecmt: await mod("ecmt"),
		mqttset: await mod("mqttset"),
	};
	return loaded;
}

/** A fake mqttc client following the contract; records calls, lets tests fire events. */
export class FakeClient {
	constructor(host, port, ssl, opts) {
		Object.assign(this, {host, port, ssl, opts});
		this.calls = [];
		this.cb = null;
		this.nextId = 1;
		this.st = 0;
		this.refuse = {};
	}
	log(...a) { this.calls.push(a); }
	auth(...a) { this.log("auth", ...a); return this.refuse.auth ? null : true; }
	keepalive(s) { this.log("keepalive", s); }
	will(...a) { this.log("will", ...a); return true; }
	on(cb) { this.cb = cb; }
	connect() { this.log("connect"); if (this.refuse.connect) return false; this.st = 1; return true; }
	open() { this.log("open"); if (this.refuse.open) return false; this.st = 1; return true; }
	ack(id) { this.log("ack", id); return true; }
	disconnect() { this.log("disconnect"); return this.st !== 0; }
	publish(...a) { this.log("publish", ...a); return this.refuse.publish ? null : this.nextId++; }
	subscribe(...a) { this.log("subscribe", ...a); return this.refuse.subscribe ? null : this.nextId++; }
	unsubscribe(...a) { this.log("unsubscribe", ...a); return this.nextId++; }
	ready() { return this.st === 3; }
	state() { return this.st; }
	close() { this.log("close"); this.st = 0; this.closed = true; }
	fire(event, data, payload, metas) {
		if (event === "conack") this.st = 3;
		if (event === "disconnect") this.st = 0;
		this.cb?.(this, event, data, payload, metas);
	}
}

/** An engine wired to a FakeClient factory and an output recorder. */
export async function rig(opts = {}) {
	const {engine} = await load();
	const out = [];
	const clients = [];
	const e = new engine.AtEngine({
		// `room` (opts.room): bytes the fake transport takes before r.drain(); unlimited by default
		write: (b) => {
			const buf = typeof b === "string" ? Buffer.from(b, "utf8") : Buffer.from(b);
			if (r.room === undefined) {
				out.push(buf);
				return undefined;
			}
			const n = Math.min(buf.length, r.room);
			out.push(buf.subarray(0, n));
			r.room -= n;
			return n;
		},
		create: (host, port, ssl, o) => {
			if (opts.createFails) return null;
			const c = new FakeClient(host, port, ssl, o);
			Object.assign(c.refuse, opts.refuse);
			clients.push(c);
			return c;
		},
		echo: opts.echo ?? false,
		...opts.engine,
	});
	let mark = 0;
	const r = {
		e, clients, out, room: opts.room,
		/** The fake transport takes `n` more bytes (undefined: all from now on), then tells the engine. */
		drain(n) {
			r.room = n === undefined ? undefined : (r.room ?? 0) + n;
			e.writable();
		},
		get client() { return clients[clients.length - 1]; },
		/** Everything written so far as one binary string. */
		raw() { return Buffer.concat(out).toString("latin1"); },
		/** Non-empty lines written since the last call. */
		take() {
			const all = Buffer.concat(out).toString("utf8");
			const s = all.slice(mark);
			mark = all.length;
			return s.split(/\r\n|\r|\n/).filter((l) => l.length);
		},
		/** Sends one command line (CR LF appended) and returns the new lines. */
		cmd(line) {
			e.input(line + "\r\n");
			return r.take();
		},
	};
	return r;
}
