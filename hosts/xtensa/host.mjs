// @ts-check
/**
 * The Node side of the Xtensa host: stages a Moddable app (hosts/xs/manifest.mjs), builds
 * the guest if needed (build.mjs), runs it in qemu-system-xtensa (sim machine, lx106,
 * semihosting, -icount shift=0) and relays its sockets to 127.0.0.1 over a socketpair
 * the guest sees as fd 3. It also keeps the guest's clock (real or virtual time), and
 * serves the `file` module's storage directory over a second socketpair, fd 4 (storage.mjs).
 *
 *   const app = await startXtensa("tests/apps/xtensa-scenario", {config: {port}});
 *   const info = await app.exited;
 *
 * See hosts/xtensa/README.md.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readManifest, stageApp } from "../xs/manifest.mjs";
import { buildGuest } from "./build.mjs";
import { Storage } from "./storage.mjs";

export { parseConfigArg } from "../xs/manifest.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GUEST = path.join(HERE, "guest");
const ESP32_MANIFEST = path.join(HERE, "..", "esp32", "manifest.json");

/** Guest modules this host provides (hosts/xtensa/guest), replacing the XS host's. */
const GUEST_MODULES = { socket: "socket.js", timer: "timer.js", securesocket: "securesocket.js", xtensa: "xtensa.js" };
/**
 * Guest modules an app gets when it includes the SDK manifest that brings them, as in a real build.
 * @type {Record<string, [string, RegExp]>}
 */
const SDK_GUEST_MODULES = { file: ["file.js", /files\/file\/manifest(_littlefs)?\.json$/], crc: ["crc.js", /data\/crc\/manifest\.json$/] };

/* Channel framing, as platform/channel.h */
const HEADER = 20;
const PAYLOAD = 1460;
const RX_WINDOW = 4 * PAYLOAD;
const G = { OPEN: 1, WRITE: 2, CLOSE: 3, WAIT: 4, CONSUMED: 5, STATS: 6 };
const H = { CONNECTED: 1, DATA: 2, SENT: 3, PEER_CLOSED: 4, ERROR: 5, TICK: 6 };
const NO_TIMER = 0xFFFFFFFF;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
/** Received TCP bytes held for the guest before the host stops reading the socket. */
const PENDING_LIMIT = 64 * 1024;

/**
 * The creation values (static heap bytes, stack slots) an app declares: its manifests'
 * `creation`, the including manifest winning over what it includes; defaults are
 * hosts/esp32/manifest.json's.
 * @param {string} manifestFile
 * @returns {{static: number, stack: number}}
 */
export function readCreation(manifestFile) {
	const defaults = JSON.parse(fs.readFileSync(ESP32_MANIFEST, "utf8")).creation ?? {};
	/** @type {Record<string, unknown>} */
	const merged = {};
	const seen = new Set();
	/** @param {string} file */
	const visit = file => {
		const real = fs.realpathSync(file);
		if (seen.has(real))
			return;
		seen.add(real);
		const json = JSON.parse(fs.readFileSync(real, "utf8"));
		const includes = json.include === undefined ? [] : Array.isArray(json.include) ? json.include : [json.include];
		for (const include of includes) {
			if (typeof include !== "string" || include.startsWith("$("))
				continue;
			const target = path.resolve(path.dirname(file), include);
			if (fs.existsSync(target))
				visit(target);
		}
		if (json.creation && typeof json.creation === "object")
			Object.assign(merged, json.creation);
	};
	visit(manifestFile);
	const pick = (/** @type {string} */ key) => {
		const value = merged[key] ?? defaults[key];
		if (!Number.isInteger(value) || /** @type {number} */ (value) <= 0)
			throw new Error(`${manifestFile}: creation.${key} must be a positive integer (got ${JSON.stringify(value)})`);
		return /** @type {number} */ (value);
	};
	return { static: pick("static"), stack: pick("stack") };
}

/**
 * @typedef {object} XtensaOptions
 * @property {Record<string, unknown>} [config]   overrides of the manifest's config
 * @property {boolean} [virtualTime]             the guest's clock jumps to its next timer when all is quiet
 * @property {number} [heap]                     override creation.static (bytes)
 * @property {number} [stack]                    override creation.stack (slots)
 * @property {boolean} [stats]                   collect the guest's memory and stack figures
 * @property {string} [storage]                  the `file` module's directory (mc/config file.root);
 *                                               default a fresh temporary one, removed at the end
 * @property {(line: string) => void} [onLine]   each line of the app's output
 * @property {(text: string) => void} [onDiagnostic]  the guest's stderr and host warnings
 */

/**
 * Stage and start an app. Rejects on build and manifest errors.
 * @param {string} appDir
 * @param {XtensaOptions} [options]
 */
export async function startXtensa(appDir, options = {}) {
	const elf = await buildGuest({ log: line => options.onDiagnostic?.(line + "\n") });
	const manifest = readManifest(appDir);
	for (const warning of manifest.warnings)
		if (!/not emulated by the XS host/.test(warning))
			options.onDiagnostic?.(`xtensa host: warning: ${warning}\n`);
	const creation = readCreation(manifest.file);
	if (options.heap !== undefined)
		creation.static = options.heap;
	if (options.stack !== undefined)
		creation.stack = options.stack;
	// this host's socket, timer and securesocket replace the XS host's; `xtensa` is added
	// unless the app has a module of that name
	for (const [name, file] of Object.entries(GUEST_MODULES))
		if (name !== "xtensa" || !manifest.modules.has(name))
			manifest.modules.set(name, { file: path.join(GUEST, file), manifest: "(xtensa host)" });
	const provided = new Set();
	for (const [name, [file, include]] of Object.entries(SDK_GUEST_MODULES)) {
		if (manifest.sdkIncludes.some(sdkInclude => include.test(sdkInclude))) {
			manifest.modules.set(name, { file: path.join(GUEST, file), manifest: "(xtensa host)" });
			provided.add(name);
		}
	}
	// file.root is the storage directory, whatever the manifests or the command line say
	const storage = new Storage(provided.has("file") || options.storage ? options.storage : null);
	const config = storage.root ? { ...options.config, "file.root": storage.fileRoot } : options.config ?? {};
	let staged;
	try {
		staged = await stageApp(manifest, { config });
	}
	catch (e) {
		storage.close();
		throw e;
	}
	const preload = staged.modules.filter(name => name !== "main" && !name.startsWith("xs-host/"));
	for (const name of staged.modules.filter(name => name.startsWith("xs-host/")))
		fs.rmSync(path.join(staged.dir, name + ".js"), { force: true });
	const epoch = Date.now();
	fs.writeFileSync(path.join(staged.dir, "xtensa.cfg"), [
		`static ${creation.static}`,
		`stack ${creation.stack}`,
		`epoch ${epoch}`,
		`stats ${options.stats ? 1 : 0}`,
		...preload.map(name => `preload ${name}`),
		"main main",
		"",
	].join("\n"));
	return new XtensaApp(elf, staged.dir, creation, epoch, options, storage);
}

class XtensaApp {
	/**
	 * @param {string} elf @param {string} dir @param {{static: number, stack: number}} creation
	 * @param {number} epoch @param {XtensaOptions} options @param {Storage} storage
	 */
	constructor(elf, dir, creation, epoch, options, storage) {
		this.dir = dir;
		this.storage = storage;
		/** the `file` module's directory (mc/config file.root, without the trailing slash), if the app has one */
		this.storageDir = storage.root;
		this.creation = creation;
		this.options = options;
		this.virtual = !!options.virtualTime;
		this.started = Date.now();
		this.vnow = 0;
		/** @type {string} all output so far */
		this.output = "";
		this.stderr = "";
		/** @type {Record<string, number> | undefined} the guest's last figures (with options.stats) */
		this.stats = undefined;
		/** @type {Map<number, Relay>} */
		this.sockets = new Map();
		/** guest is blocked waiting for a frame; `waitMs` until its next timer */
		this.waiting = false;
		this.waitMs = NO_TIMER;
		/** @type {NodeJS.Timeout | undefined} */
		this.tickTimer = undefined;
		this.lastActivity = Date.now();
		this.finished = false;
		this.child = spawn("qemu-system-xtensa", ["-M", "sim", "-cpu", "lx106", "-semihosting", "-display", "none",
			"-monitor", "none", "-serial", "none", "-icount", "shift=0", "-kernel", elf],
		{ cwd: dir, stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
		const channel = /** @type {net.Socket} */ (/** @type {unknown} */ (this.child.stdio[3]));
		this.channel = channel;
		storage.attach(/** @type {net.Socket} */ (/** @type {unknown} */ (this.child.stdio[4])));
		/** @type {(info: {code: number, message: string}) => void} */
		let resolveExited = () => {};
		/** @type {Promise<{code: number, message: string}>} resolves once, when QEMU ended */
		this.exited = new Promise(resolve => { resolveExited = resolve; });
		let partial = "";
		this.child.stdout?.setEncoding("utf8");
		this.child.stdout?.on("data", (/** @type {string} */ text) => {
			this.output += text;
			partial += text;
			let at;
			while ((at = partial.indexOf("\n")) >= 0) {
				const line = partial.slice(0, at);
				partial = partial.slice(at + 1);
				options.onLine?.(line);
			}
		});
		this.child.stderr?.setEncoding("utf8");
		this.child.stderr?.on("data", (/** @type {string} */ text) => {
			this.stderr += text;
			options.onDiagnostic?.(text);
		});
		/** @type {Buffer} */
		let inbox = Buffer.alloc(0);
		channel.on("data", chunk => {
			inbox = inbox.length ? Buffer.concat([inbox, chunk]) : chunk;
			while (inbox.length >= HEADER) {
				const length = inbox.readUInt32LE(16);
				if (inbox.length < HEADER + length)
					break;
				this._onFrame(inbox.readUInt32LE(0), inbox.readUInt32LE(4), inbox.readUInt32LE(8), inbox.subarray(HEADER, HEADER + length));
				inbox = inbox.subarray(HEADER + length);
			}
		});
		channel.on("error", () => {});
		// "close", not "exit": every frame and line the guest wrote is read by then
		this.child.on("close", (code, signal) => {
			if (partial) {
				options.onLine?.(partial);
				partial = "";
			}
			this._cleanup();
			const status = code ?? 1;
			const abort = /xtensa: (abort: .*|CPU exception .*)/.exec(this.stderr);
			let message = "";
			if (signal)
				message = `QEMU ended by ${signal}`;
			else if (status === 1)
				message = abort ? abort[1] : "the app aborted";
			else if (status === 3)
				message = "the guest lost its channel to the host";
			else if (status === 70)
				message = abort ? abort[1] : "CPU exception";
			else if (status !== 0)
				message = `QEMU exited with ${status}`;
			resolveExited({ code: signal ? 1 : status === 0 ? 0 : status === 2 ? 2 : 1, message });
		});
		if (this.virtual)
			this.quietCheck = setInterval(() => this._virtualTick(), 5);
	}

	/** ms since the guest started, as the guest sees it */
	now() {
		return this.virtual ? this.vnow : Date.now() - this.started;
	}

	/**
	 * @param {number} type @param {number} id @param {number} arg @param {Uint8Array} [payload]
	 */
	_send(type, id, arg, payload) {
		if (this.finished)
			return;
		const header = Buffer.alloc(HEADER);
		header.writeUInt32LE(type, 0);
		header.writeUInt32LE(id, 4);
		header.writeUInt32LE(arg >>> 0, 8);
		header.writeUInt32LE(Math.floor(this.now()) >>> 0, 12);
		header.writeUInt32LE(payload ? payload.length : 0, 16);
		this.channel.write(payload && payload.length ? Buffer.concat([header, payload]) : header);
		this.waiting = false;
		this.lastActivity = Date.now();
		if (this.tickTimer) {
			clearTimeout(this.tickTimer);
			this.tickTimer = undefined;
		}
	}

	/**
	 * @param {number} type @param {number} id @param {number} arg @param {Buffer} payload
	 */
	_onFrame(type, id, arg, payload) {
		this.lastActivity = Date.now();
		switch (type) {
		case G.OPEN:
			this._open(id, payload.toString("utf8"));
			break;
		case G.WRITE: {
			const relay = this.sockets.get(id);
			if (!relay)
				break;
			const bytes = Buffer.from(payload);
			relay.tcp.write(bytes, () => this._send(H.SENT, id, bytes.length));
			break;
		}
		case G.CLOSE: {
			const relay = this.sockets.get(id);
			if (relay) {
				this.sockets.delete(id);
				relay.closed = true;
				relay.tcp.end();
				relay.tcp.setTimeout(2000, () => relay.tcp.destroy());
			}
			break;
		}
		case G.CONSUMED: {
			const relay = this.sockets.get(id);
			if (relay) {
				relay.inFlight = Math.max(0, relay.inFlight - arg);
				this._pump(relay);
			}
			break;
		}
		case G.WAIT:
			this.waiting = true;
			this.waitMs = arg;
			if (!this.virtual && arg !== NO_TIMER)
				this.tickTimer = setTimeout(() => {
					this.tickTimer = undefined;
					this._send(H.TICK, 0, 0);
				}, arg);
			break;
		case G.STATS: {
			/** @type {Record<string, number>} */
			const stats = {};
			for (const pair of payload.toString("utf8").split(" ")) {
				const [k, v] = pair.split("=");
				stats[k] = Number(v);
			}
			this.stats = stats;
			break;
		}
		}
	}

	/** Virtual time: when the guest waits and nothing moved for a moment, jump to its next timer. */
	_virtualTick() {
		if (this.finished || !this.waiting || this.waitMs === NO_TIMER)
			return;
		if (Date.now() - this.lastActivity < 50)		/* give the broker time to answer first */
			return;
		for (const relay of this.sockets.values())
			if (relay.pending.length || relay.tcp.writableLength)
				return;
		this.vnow += this.waitMs;
		this._send(H.TICK, 0, 0);
	}

	/** @param {number} id @param {string} target */
	_open(id, target) {
		const at = target.lastIndexOf(":");
		const host = target.slice(0, at);
		const port = Number(target.slice(at + 1));
		if (!LOOPBACK.has(host)) {
			this._send(H.ERROR, id, 0, Buffer.from(`the Xtensa host connects to 127.0.0.1 only, not ${host}`));
			return;
		}
		const tcp = net.connect({ host: host === "localhost" ? "127.0.0.1" : host, port });
		/** @type {Relay} */
		const relay = { id, tcp, pending: [], pendingBytes: 0, inFlight: 0, ended: false, closed: false, reported: false };
		this.sockets.set(id, relay);
		tcp.setNoDelay(true);
		tcp.on("connect", () => {
			if (!relay.closed)
				this._send(H.CONNECTED, id, 0, Buffer.from(tcp.remoteAddress ?? ""));
		});
		tcp.on("data", chunk => {
			if (relay.closed)
				return;
			relay.pending.push(chunk);
			relay.pendingBytes += chunk.length;
			if (relay.pendingBytes > PENDING_LIMIT)
				tcp.pause();
			this._pump(relay);
		});
		tcp.on("end", () => {
			relay.ended = true;
			this._pump(relay);
		});
		tcp.on("error", error => {
			if (relay.closed || relay.reported)
				return;
			relay.reported = true;
			this.sockets.delete(id);
			this._send(H.ERROR, id, 0, Buffer.from(error.message));
		});
		tcp.on("close", () => {
			if (!relay.closed && !relay.reported) {
				relay.ended = true;
				this._pump(relay);
			}
		});
	}

	/** Send received bytes within the guest's receive window; the close after the last byte. @param {Relay} relay */
	_pump(relay) {
		while (relay.pending.length && relay.inFlight < RX_WINDOW) {
			const room = Math.min(PAYLOAD, RX_WINDOW - relay.inFlight);
			let chunk = relay.pending[0];
			if (chunk.length > room) {
				relay.pending[0] = chunk.subarray(room);
				chunk = chunk.subarray(0, room);
			}
			else
				relay.pending.shift();
			relay.pendingBytes -= chunk.length;
			relay.inFlight += chunk.length;
			this._send(H.DATA, relay.id, 0, chunk);
		}
		if (relay.pendingBytes <= PENDING_LIMIT / 2 && relay.tcp.isPaused())
			relay.tcp.resume();
		if (relay.ended && !relay.pending.length && !relay.reported && !relay.closed) {
			relay.reported = true;
			this.sockets.delete(relay.id);
			this._send(H.PEER_CLOSED, relay.id, 0);
		}
	}

	_cleanup() {
		this.finished = true;
		if (this.quietCheck)
			clearInterval(this.quietCheck);
		if (this.tickTimer)
			clearTimeout(this.tickTimer);
		for (const relay of this.sockets.values())
			relay.tcp.destroy();
		this.sockets.clear();
		this.storage.close();
		fs.rmSync(this.dir, { recursive: true, force: true });
	}

	/** Stop the guest (QEMU) and close its connections. */
	async stop() {
		if (!this.finished && this.child.exitCode === null)
			this.child.kill("SIGKILL");
		await this.exited;
	}
}

/**
 * @typedef {object} Relay
 * @property {number} id
 * @property {net.Socket} tcp
 * @property {Buffer[]} pending      received, not yet sent to the guest
 * @property {number} pendingBytes
 * @property {number} inFlight       sent to the guest, not yet read by the app
 * @property {boolean} ended         the peer closed its side
 * @property {boolean} closed        the app closed the socket
 * @property {boolean} reported      -1 or -2 went to the guest
 */
