// @ts-check
/**
 * Desktop XS host for Moddable apps: runs an app (manifest + modules) in an xsnap
 * worker (the XS engine) and emulates the Moddable `socket`, `securesocket` and
 * `timer` modules (and the ECMA-419 `embedded:io/socket/tcp` and `…/tcp/tls`) over Node's net/tls and
 * timers (or a virtual clock).
 *
 *   const app = await startApp("hosts/examples/echo", {config: {port: 7}});
 *   await app.waitFor(/echo/, 5000);
 *   await app.stop();
 *
 * See hosts/xs/README.md.
 */
import "@endo/init";
import { xsnap } from "@agoric/xsnap";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { readManifest, stageApp } from "./manifest.mjs";
import { K, OP, POLL, INPUT, encodeMessage, decodeRecords } from "./protocol.mjs";
import { CryptModel } from "./crypt.mjs";
import { FileModel, PowerCut, natives, F_CRC } from "./file.mjs";
import { Tls419Model } from "./tls419.mjs";

export { readManifest, stageApp, parseConfigArg } from "./manifest.mjs";

const CHUNK = 1024;		// the simulator's socket reads at most 1024 bytes per data callback
/** The simulator's ECMA-419 TCP socket (modules/io/socket/lin/tcp.c): its read buffer and writable count. */
const LIN_TCP_BUFFER = 1536;
/** Virtual time does not jump while a reply may still be on its way: a connect in progress
 * or a write not yet answered holds the clock for up to this long in real time. */
const REPLY_GRACE_MS = 500;

/**
 * What differs between the platforms the host stands for. Each is a fact of the SDK's
 * own code (see hosts/xs/README.md, "Platform profiles").
 * @typedef {object} Platform
 * @property {number} sendBufferSize        free space of a new socket, bytes
 * @property {boolean} refusedAsConnected   a refused TCP connect is reported as message 1, the first write throws "write failed", and the next poll gives -1
 * @property {boolean} resetAsClosed        a connection reset by the peer is message -1 (as a close), not -2
 * @property {boolean} noDelay              the socket honours `noDelay`
 * @property {"posix"|"littlefs"} fileSystem  what the `file` module writes to (hosts/xs/file.mjs)
 */
/** @type {Readonly<Record<string, Readonly<Platform>>>} */
export const PLATFORMS = Object.freeze({
	// Linux simulator (modules/network/socket/lin): select() reports a refused non-blocking
	// connect as writable, so it is "connected"; send() then fails. 1024-byte send buffer.
	// A reset shows as readable, recv() fails then returns 0: message -1, as a close.
	lin: Object.freeze({ sendBufferSize: 1024, refusedAsConnected: true, resetAsClosed: true, noDelay: false, fileSystem: "posix" }),
	// ESP32 (lwIP): a refused connect is an error (-2); tcp_sndbuf is 8192 bytes.
	esp32: Object.freeze({ sendBufferSize: 8192, refusedAsConnected: false, resetAsClosed: false, noDelay: true, fileSystem: "littlefs" }),
});
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * @typedef {object} StartOptions
 * @property {Record<string, unknown>} [config]   overrides of the manifest's config (mc/config)
 * @property {boolean} [virtualTime]             timers run on a clock that only app.advance() moves
 * @property {number} [virtualStart]             virtual clock at start, ms (default: Date.now())
 * @property {"lin"|"esp32"} [platform]          which platform's socket behaviour to show (default "lin", the Linux simulator)
 * @property {number} [sendBufferSize]           socket send buffer, bytes (default: the platform's)
 * @property {boolean} [autoAdvance]             virtual time: jump the clock to the next timer whenever the app is quiet
 * @property {boolean} [stdout]                  copy trace output to process.stdout (default true)
 * @property {boolean} [stderr]                  print aborts and warnings to process.stderr (default: same as stdout)
 * @property {Record<string, string|undefined>} [env]  variables for $(NAME) in manifests (default process.env)
 * @property {boolean} [exitWhenIdle]            end (code 0) once there are no sockets, timers or turns left
 * @property {string} [storage]                  the `file` module's directory (config.file.root); default: a new
 *                                               temporary one, removed by stop()
 * @property {{bytes?: number, changes?: number}} [powerCut]  end the app as a power cut once this many more bytes
 *                                               reached storage, or right after this many changes (hosts/xs/file.mjs)
 * @property {number} [storageCapacity]          bytes the storage directory may hold: a write past it fails ("file write failed")
 */

/**
 * @typedef {{code: number, message: string, stack?: string}} ExitInfo
 */

/**
 * Build, stage and start an app. Rejects for build errors (manifest, modules, TypeScript);
 * an app that throws while starting resolves, with `app.exited` giving {code: 1, message}.
 * @param {string} appDir
 * @param {StartOptions} [options]
 */
export async function startApp(appDir, options = {}) {
	const platformName = options.platform ?? "lin";
	const platform = PLATFORMS[platformName];
	if (!platform)
		throw new Error(`platform must be one of ${Object.keys(PLATFORMS).join(", ")}, not ${platformName}`);
	const opts = {
		config: options.config ?? {},
		virtualTime: !!options.virtualTime,
		virtualStart: options.virtualStart ?? Date.now(),
		platform: platformName,
		autoAdvance: !!options.autoAdvance,
		sendBufferSize: options.sendBufferSize ?? platform.sendBufferSize,
		stdout: options.stdout ?? true,
		stderr: options.stderr ?? options.stdout ?? true,
		env: options.env ?? process.env,
		exitWhenIdle: !!options.exitWhenIdle,
		storage: options.storage ?? "",
		powerCut: options.powerCut ?? {},
		storageCapacity: options.storageCapacity ?? Infinity,
	};
	if (!Number.isInteger(opts.sendBufferSize) || opts.sendBufferSize < 1)
		throw new Error(`sendBufferSize must be a positive integer, not ${opts.sendBufferSize}`);
	const manifest = readManifest(appDir, { env: opts.env });
	if (opts.stderr)
		for (const warning of manifest.warnings)
			process.stderr.write(`xs host: warning: ${warning}\n`);
	// The `file` module's root is the storage directory (the SDK's lin manifest says /tmp/).
	const files = manifest.sdkIncludes.some((include) => /files\/file\/manifest(_littlefs)?\.json$/.test(include));
	let ownStorage = "";
	if (files && !opts.storage)
		opts.storage = ownStorage = fs.mkdtempSync(path.join(os.tmpdir(), "xs-storage-"));
	const config = files ? { ...opts.config, file: { root: path.resolve(opts.storage) + "/", ...(/** @type {any} */ (opts.config).file ?? {}) } } : opts.config;
	const staged = await stageApp(manifest, { config });
	const app = new XsApp(manifest, staged, opts, platform);
	app.ownStorage = ownStorage;
	try {
		await app._boot();
	}
	catch (e) {
		await app.stop();
		throw e;
	}
	return app;
}

/** staging directories of running apps, removed if the process exits without stop() */
const liveStageDirs = new Set();
process.on("exit", () => {
	for (const dir of liveStageDirs)
		fs.rmSync(dir, { recursive: true, force: true });
});

class XsApp {
	/**
	 * @param {import("./manifest.mjs").Manifest} manifest
	 * @param {{dir: string, modules: string[], config: Record<string, unknown>, sources: Map<string, string>}} staged
	 * @param {Required<Omit<StartOptions, "virtualStart">> & {virtualStart: number}} opts
	 * @param {Readonly<Platform>} platform
	 */
	constructor(manifest, staged, opts, platform) {
		this.platform = platform;
		/** The SDK's TLS session cache: one entry, keyed by host name, shared by every
		 * SecureSocket whose `secure.cache` is not false (modules/crypt/ssl/ssl_cache.js). */
		this.tlsSession = /** @type {string|undefined} */ (undefined);
		/** Real time of the last socket write not yet answered by data, or 0. */
		this.awaitingSince = 0;
		/** Sockets whose connect has not finished yet, and since when (real time). */
		this.connecting = 0;
		this.connectStarted = 0;
		this.manifest = manifest;
		this.stageDir = staged.dir;
		liveStageDirs.add(staged.dir);
		/** @type {Map<string, string>} module name -> source file */
		this.sources = staged.sources;
		/** the final mc/config */
		this.config = staged.config;
		/** preload list from the manifests (recorded, not enforced) */
		this.preload = manifest.preload;
		this.opts = opts;
		this.virtual = opts.virtualTime;
		this.vnow = opts.virtualStart;
		/** all trace output so far */
		this.output = "";
		/** what the XS worker wrote to its own stdout/stderr (xsnap `print`, engine reports) */
		this.diagnostics = "";
		/** @type {{compute: number|null, allocate: number|null, currentHeapCount: number|null}} */
		this.meter = { compute: null, allocate: null, currentHeapCount: null };
		/** number of XS turns run */
		this.turns = 0;
		/** @type {any} */
		this.worker = undefined;
		/** @type {import("node:child_process").ChildProcess | undefined} */
		this.child = undefined;
		/** @type {Turn[]} */
		this.queue = [];
		this.pumping = false;
		this.finished = false;
		/** @type {Map<number, HostSocket>} */
		this.sockets = new Map();
		/** @type {Set<net.Socket>} sockets closed by the app, still flushing */
		this.closing = new Set();
		/** @type {Map<number, HostTimer>} */
		this.timers = new Map();
		/** the `crypt` module's digests and ciphers (hosts/xs/crypt.mjs) */
		this.crypt = new CryptModel();
		/** the ECMA-419 TLS socket's sessions (hosts/xs/tls419.mjs) */
		this.tls419 = new Tls419Model({
			now: () => this.now(),
			ciphers: () => sdkCiphers({ DHE_RSA: true, ECDHE_RSA: true, .../** @type {any} */ (this.config).tls }),
			decodeOptions, derToPem, keyToPem,
			cache: { get: () => this.tlsSession, set: (name) => { this.tlsSession = name; } },
		});
		/** the `file` and `crc` modules' storage, and the power cut (hosts/xs/file.mjs) */
		this.files = opts.storage ? new FileModel({ root: opts.storage, system: platform.fileSystem, cut: opts.powerCut, capacity: opts.storageCapacity }) : undefined;
		/** a temporary storage directory of our own, removed by stop() */
		this.ownStorage = "";
		/** set when the app ended by a power cut */
		this.powerCut = false;
		this.timerSeq = 0;
		/** @type {Map<number, {name: string, resolve: (v: any) => void, reject: (e: Error) => void}>} */
		this.calls = new Map();
		this.callId = 0;
		/** @type {Set<{re: RegExp, resolve: (m: RegExpExecArray) => void, reject: (e: Error) => void, timer: NodeJS.Timeout}>} */
		this.waiters = new Set();
		/** @type {(() => void)[]} */
		this.idleWaiters = [];
		/** @type {(info: ExitInfo) => void} */
		let resolveExited = () => {};
		/** @type {Promise<ExitInfo>} resolves once when the app ends */
		this.exited = new Promise(resolve => { resolveExited = resolve; });
		this._resolveExited = resolveExited;
		/** @type {Promise<void> | undefined} */
		this._cleanup = undefined;
		this.started = false;
	}

	/** Virtual time now (ms), or Date.now() in real time. */
	now() {
		return this.virtual ? this.vnow : Date.now();
	}

	/** Due time of the next scheduled timer, or undefined. */
	nextTimer() {
		let next;
		for (const t of this.timers.values())
			if (t.armed && (next === undefined || t.due < next))
				next = t.due;
		return next;
	}

	/** True when no turn is queued or running. */
	get idle() {
		return !this.pumping && this.queue.length === 0;
	}

	async _boot() {
		const stageDir = this.stageDir;
		this.worker = await xsnap({
			name: `xs-host:${path.basename(path.dirname(this.manifest.file))}`,
			os: os.type(),
			spawn: (/** @type {string} */ command, /** @type {string[]} */ args, /** @type {any} */ options) => {
				const child = spawn(command, args, { ...options, cwd: stageDir });
				this.child = child;
				child.stdout?.on("data", chunk => this._diagnostic(chunk));
				child.stderr?.on("data", chunk => this._diagnostic(chunk));
				child.on("exit", (code, signal) => {
					if (!this.finished)
						this._finish(1, `XS worker exited unexpectedly (${signal ?? `code ${code}`})${this._diagnosticTail()}`);
				});
				return child;
			},
			fs,
			stdout: "pipe",
			stderr: "pipe",
			meteringLimit: 0,
			handleCommand: (/** @type {Uint8Array} */ message) => this._onGuestCommand(message),
		});
		try {
			await this.worker.import("xs-host/boot.js");
		}
		catch (e) {
			throw new Error(`XS host bootstrap failed: ${/** @type {Error} */ (e).message}${this._diagnosticTail()}`);
		}
		const settings = { virtual: this.virtual, sendBufferSize: this.opts.sendBufferSize, fileSystem: this.platform.fileSystem, platform: this.opts.platform };
		await this._run({ kind: K.INIT, payload: encoder.encode(JSON.stringify(settings)) });
		await this._run({ kind: K.START });
		this.started = true;
		this._checkIdle();
		if (this.opts.autoAdvance)
			this._autoAdvance();
	}

	/**
	 * Real-time ms to wait before virtual time may jump to the next timer: 0 when nothing is
	 * on its way. A connect in progress or a write not yet answered (a CONNACK in flight)
	 * holds the clock, up to REPLY_GRACE_MS, so that a timer never overtakes a reply that
	 * a real network would deliver at once; a silent peer only delays the jump.
	 */
	holdMs() {
		if (this.connecting || this.awaitingSince) {
			const since = this.awaitingSince || this.connectStarted;
			const hold = Math.max(0, REPLY_GRACE_MS - (Date.now() - since));
			if (hold > 0)
				return hold;
		}
		// an ECMA-419 socket on lin: what its next poll (at most 20 ms away) will deliver
		for (const s of this.sockets.values())
			if (s.tcp?.platform === "lin" && !s.guestClosed && !s.tcp.error && (s.tcp.queued || this._tcpFound(s)))
				return POLL_MS;
		return 0;
	}

	/** Virtual time, unattended (the CLI): when the app has been quiet for 10 ms and nothing
	 * is on its way, jump the clock to the next timer. */
	_autoAdvance() {
		let quietSince = Date.now();
		let advancing = false;
		const tick = setInterval(() => {
			if (this.finished) {
				clearInterval(tick);
				return;
			}
			if (advancing)
				return;
			if (!this.idle) {
				quietSince = Date.now();
				return;
			}
			const next = this.nextTimer();
			if (next === undefined || Date.now() - quietSince < 10 || this.holdMs() > 0)
				return;
			advancing = true;
			this.advance(Math.max(0, next - this.now())).finally(() => {
				advancing = false;
				quietSince = Date.now();
			});
		}, 5);
	}

	/** @param {Buffer} chunk */
	_diagnostic(chunk) {
		this.diagnostics += chunk.toString();
		if (this.diagnostics.length > 65536)
			this.diagnostics = this.diagnostics.slice(-32768);
		if (this.opts.stderr)
			process.stderr.write(chunk);
	}

	_diagnosticTail() {
		const tail = this.diagnostics.trim().split("\n").slice(-10).join("\n");
		return tail ? `\n${tail}` : "";
	}

	// ---- turns ------------------------------------------------------------------------

	/**
	 * @typedef {object} Turn
	 * @property {number} kind
	 * @property {number} [id]
	 * @property {number} [value]
	 * @property {Uint8Array} [payload]
	 * @property {() => boolean} [prepare]     false: skip the turn
	 * @property {(ran: boolean) => void} [done]
	 */

	/** @param {Turn} turn */
	_enqueue(turn) {
		if (this.finished) {
			turn.done?.(false);
			return;
		}
		this.queue.push(turn);
		this._kick();
	}

	/** Queue a turn and wait until it ran (or was skipped). @param {Turn} turn */
	_run(turn) {
		return new Promise(resolve => {
			const done = turn.done;
			turn.done = ran => {
				done?.(ran);
				resolve(ran);
			};
			this._enqueue(turn);
		});
	}

	_kick() {
		if (!this.pumping && !this.finished)
			void this._pump();
	}

	async _pump() {
		this.pumping = true;
		try {
			while (!this.finished) {
				let turn = this.queue.shift();
				if (!turn && this.virtual)
					turn = this._dueTimerTurn();
				if (!turn)
					break;
				if (turn.prepare && !turn.prepare()) {
					turn.done?.(false);
					continue;
				}
				const message = encodeMessage(turn.kind, turn.id ?? 0, turn.value ?? 0, this.virtual ? this.vnow : NaN, turn.payload);
				let result;
				try {
					result = await this.worker.issueCommand(message);
				}
				catch (e) {
					if (!this.finished)
						this._finish(1, `XS worker failed: ${/** @type {Error} */ (e).message}${this._diagnosticTail()}`);
					turn.done?.(false);
					break;
				}
				this.turns++;
				const usage = result.meterUsage ?? {};
				this.meter = { compute: usage.compute ?? null, allocate: usage.allocate ?? null, currentHeapCount: usage.currentHeapCount ?? null };
				this._applyRecords(result.reply);
				turn.done?.(true);
			}
		}
		finally {
			this.pumping = false;
		}
		const waiters = this.idleWaiters.splice(0);
		for (const resolve of waiters)
			resolve();
		this._checkIdle();
	}

	_whenIdle() {
		if (this.idle || this.finished)
			return Promise.resolve();
		return new Promise(resolve => { this.idleWaiters.push(() => resolve(undefined)); });
	}

	/** Wait until no turn is pending, letting Node deliver I/O in between. */
	async _settle() {
		for (;;) {
			await this._whenIdle();
			await new Promise(resolve => setImmediate(resolve));
			await new Promise(resolve => setImmediate(resolve));
			if (this.idle || this.finished)
				return;
		}
	}

	_checkIdle() {
		if (!this.opts.exitWhenIdle || !this.started || this.finished || !this.idle || this.calls.size)
			return;
		for (const s of this.sockets.values())
			if (!s.guestClosed)
				return;
		for (const t of this.timers.values())
			if (t.armed)
				return;
		this._finish(0, "nothing left to do");
	}

	/**
	 * Apply the records of a reply or of a synchronous guest command.
	 * @param {Uint8Array} bytes
	 * @returns {{delay?: number, answer?: Uint8Array, tls?: {id: number, payload: Uint8Array}}} a requested
	 *   blocking delay (ms); the answer to a synchronous `crypt` call (a digest, ciphered blocks);
	 *   a call of the ECMA-419 TLS socket's model, to be answered once Node's TLS did its part
	 */
	_applyRecords(bytes) {
		/** @type {number|undefined} */
		let delay;
		/** @type {Uint8Array|undefined} */
		let answer;
		/** @type {{id: number, payload: Uint8Array}|undefined} */
		let tlsCall;
		for (const { op, id, payload } of decodeRecords(bytes)) {
			if (this.finished)
				break;
			switch (op) {
				case OP.TRACE: this._trace(decoder.decode(payload)); break;
				case OP.SOCK_OPEN: this._open(id, payload); break;
				case OP.SOCK_WRITE: this._write(id, payload); break;
				case OP.SOCK_CLOSE: this._close(id, payload); break;
				case OP.TCP_STATE: this._tcpState(id, payload); break;
				case OP.TCP_POST: this._tcpPost(id); break;
				case OP.TIMER_SET: {
					const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
					this._timerSet(id, view.getFloat64(0, true), view.getFloat64(8, true));
					break;
				}
				case OP.TIMER_UNSCHEDULE: this._timerUnschedule(id); break;
				case OP.TIMER_CLEAR: this._timerClear(id); break;
				case OP.RESULT: this._result(id, payload); break;
				case OP.ABORT: {
					const info = JSON.parse(decoder.decode(payload));
					const what = info.kind === "rejection" ? "unhandled rejection" : "unhandled exception";
					this._finish(1, `${what}: ${info.message}`, info.stack);
					break;
				}
				case OP.DELAY:
					delay = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getFloat64(0, true);
					break;
				case OP.FILE:
					try {
						if (payload[0] >= F_CRC)
							answer = natives(payload);
						else if (!this.files)
							throw new Error("the app includes no file manifest");
						else
							answer = this.files.apply(payload);
					}
					catch (e) {
						if (e instanceof PowerCut) {
							this.powerCut = true;
							this._finish(137, e.message);
						}
						else
							this._finish(1, `xs host: file: ${/** @type {Error} */ (e).message}`);
					}
					break;
				case OP.CRYPT:
					try {
						answer = this.crypt.apply(id, payload) ?? answer;
					}
					catch (e) {
						this._finish(1, `xs host: crypt: ${/** @type {Error} */ (e).message}`);
					}
					break;
				case OP.TLS:
					if (Tls419Model.queued(payload))
						this.tls419.close(id);
					else
						tlsCall = { id, payload: payload.slice() };
					break;
				default:
					this._finish(1, `xs host protocol error: unknown record op ${op}`);
			}
		}
		return { delay, answer, tls: tlsCall };
	}

	/** Synchronous command from the guest (outside a turn, or a blocking call such as
	 * Timer.delay or a `crypt` digest's close()). */
	/** @param {Uint8Array} message */
	async _onGuestCommand(message) {
		const { delay, answer, tls: tlsCall } = this._applyRecords(message);
		if (answer)
			return answer;
		if (tlsCall) {
			try {
				return await this.tls419.call(tlsCall.id, tlsCall.payload);
			}
			catch (e) {
				this._finish(1, `xs host: tls: ${/** @type {Error} */ (e).message}`);
				return new Uint8Array(0);
			}
		}
		if (delay === undefined)
			return new Uint8Array(0);
		if (this.virtual)
			this.vnow += delay;
		else if (delay > 0)
			await new Promise(resolve => setTimeout(resolve, delay));
		const reply = new Uint8Array(8);
		new DataView(reply.buffer).setFloat64(0, this.now(), true);
		return reply;
	}

	// ---- output -----------------------------------------------------------------------

	/** @param {string} text */
	_trace(text) {
		this.output += text;
		if (this.opts.stdout)
			process.stdout.write(text);
		for (const waiter of this.waiters) {
			const match = waiter.re.exec(this.output);
			if (match) {
				this.waiters.delete(waiter);
				clearTimeout(waiter.timer);
				waiter.resolve(match);
			}
		}
	}

	_outputTail() {
		const tail = this.output.length > 2000 ? "…" + this.output.slice(-2000) : this.output;
		return tail ? `\n--- output tail ---\n${tail}\n---` : " (no output)";
	}

	/**
	 * Resolve with the match of `regex` over all trace output (including output already there).
	 * With `perLine`, the regex is tried on each line alone (`^`/`$` are that line's ends).
	 * @param {RegExp} regex
	 * @param {number} [timeoutMs]
	 * @param {{perLine?: boolean}} [options]
	 * @returns {Promise<RegExpExecArray>}
	 */
	waitFor(regex, timeoutMs = 5000, { perLine = false } = {}) {
		const flags = regex.flags.replace(/[gy]/g, "");
		/** @type {{exec(text: string): RegExpExecArray | null}} */
		const re = perLine ? lineMatcher(new RegExp(regex.source, flags)) : new RegExp(regex.source, flags);
		const match = re.exec(this.output);
		if (match)
			return Promise.resolve(match);
		if (this.finished)
			return this.exited.then(info => { throw new Error(`app ended (code ${info.code}: ${info.message}) before ${re} appeared${this._outputTail()}`); });
		return new Promise((resolve, reject) => {
			const waiter = {
				re, resolve, reject,
				timer: setTimeout(() => {
					this.waiters.delete(waiter);
					reject(new Error(`waitFor ${re} timed out after ${timeoutMs} ms${this._outputTail()}`));
				}, timeoutMs),
			};
			this.waiters.add(waiter);
		});
	}

	// ---- calls ------------------------------------------------------------------------

	/**
	 * Call a function exported by the app's main module, in its own turn.
	 * Arguments are JSON (Uint8Array/Buffer/ArrayBuffer become Uint8Array in XS).
	 * Resolves with the JSON result (ArrayBuffer/typed array results as Uint8Array);
	 * rejects with the guest's error (its XS stack in `error.xsStack`).
	 * @param {string} name
	 * @param {...unknown} args
	 */
	call(name, ...args) {
		if (this.finished)
			return Promise.reject(new Error(`cannot call ${name}(): app has ended`));
		const id = ++this.callId;
		const json = JSON.stringify({ name, args }, function (key, value) {
			const original = this[key];
			if (original instanceof Uint8Array || original instanceof ArrayBuffer)
				return { $bytes: Array.from(new Uint8Array(original instanceof ArrayBuffer ? original : original)) };
			return value;
		});
		return new Promise((resolve, reject) => {
			this.calls.set(id, { name, resolve, reject });
			this._enqueue({
				kind: K.CALL, id, payload: encoder.encode(json),
				done: () => {
					const call = this.calls.get(id);
					if (call) {
						this.calls.delete(id);
						call.reject(new Error(`${name}(): ${this.finished ? "app ended during the call" : "no result"}`));
					}
					this._checkIdle();
				},
			});
		});
	}

	/** @param {number} id @param {Uint8Array} payload */
	_result(id, payload) {
		const call = this.calls.get(id);
		if (!call)
			return;
		this.calls.delete(id);
		const type = payload[0];
		const body = payload.subarray(1);
		if (type === 0)
			call.resolve(undefined);
		else if (type === 1)
			call.resolve(JSON.parse(decoder.decode(body)));
		else if (type === 2)
			call.resolve(new Uint8Array(body));
		else {
			const info = JSON.parse(decoder.decode(body));
			const error = new Error(info.message);
			if (info.name)
				Object.defineProperty(error, "name", { value: info.name, configurable: true });
			Object.defineProperty(error, "xsStack", { value: info.stack, enumerable: false });
			call.reject(error);
		}
	}

	// ---- sockets ----------------------------------------------------------------------

	/**
	 * @typedef {object} HostSocket
	 * @property {number} id
	 * @property {net.Socket | undefined} node
	 * @property {boolean} guestClosed
	 * @property {boolean} terminal      -1/-2 queued
	 * @property {number} pendingChunks
	 * @property {number} unreported     bytes flushed but not yet reported with message 3
	 * @property {boolean} sentQueued
	 * @property {boolean} connecting   connect in progress (holds virtual time)
	 * @property {boolean} connected
	 * @property {boolean} broken       reported connected although the connect failed (lin)
	 * @property {TcpSocket} [tcp]       an ECMA-419 socket (guest/tcp419.js)
	 */

	/** @param {number} id @param {Uint8Array} payload */
	_open(id, payload) {
		/** @type {HostSocket} */
		const s = { id, node: undefined, guestClosed: false, terminal: false, pendingChunks: 0, unreported: 0, sentQueued: false, connecting: false, connected: false, broken: false };
		this.sockets.set(id, s);
		let options;
		this._connectStarted(s);
		try {
			options = decodeOptions(payload);
			if (options.io) {
				this._openTcp(s, options);
				return;
			}
			const secure = options.secure;
			/** @type {net.Socket} */
			let node;
			if (secure) {
				// The SDK resumes the cached session of this host name: no certificate is
				// exchanged, so none is verified, whatever this socket's settings say.
				const cached = secure.cache !== false;
				const name = secure.serverName ?? options.host;
				const resumed = cached && this.tlsSession === name;
				const sdkTls = { DHE_RSA: true, ECDHE_RSA: true, .../** @type {any} */ (this.config).tls };
				const tlsNode = tls.connect(tlsOptions(options, resumed, sdkTls));
				node = tlsNode;
				node.on("secureConnect", () => {
					const failure = sdkHandshakeFailure(tlsNode, secure);
					if (failure) {
						// The SDK ends such a handshake itself, after its Certificate and ClientKeyExchange.
						tlsNode.destroy();
						this._terminal(s, K.ERROR, failure);
						return;
					}
					if (cached)
						this.tlsSession = name;
					this._connected(s);
				});
			}
			else {
				node = net.connect({ host: options.host, port: options.port, family: 4 });
				node.on("connect", () => this._connected(s));
			}
			s.node = node;
			if (options.noDelay && this.platform.noDelay)
				node.setNoDelay(true);
			if (options.keepalive)
				node.setKeepAlive(true, options.keepalive.idle || 0);
			node.on("data", data => this._data(s, data));
			node.on("end", () => this._terminal(s, K.PEER_CLOSED));
			node.on("error", error => {
				const code = /** @type {any} */ (error).code;
				if (!s.connected && !secure && this.platform.refusedAsConnected && CONNECT_ERRORS.has(code)) {
					// Message 1 now; a write throws "write failed"; the simulator's next poll
					// (20 ms) finds the socket readable, recv() fails, then gives 0: message -1.
					s.broken = true;
					this._connected(s, true);
					setTimeout(() => this._terminal(s, K.PEER_CLOSED), POLL_MS).unref();
					return;
				}
				if (s.connected && this.platform.resetAsClosed && (code === "ECONNRESET" || code === "EPIPE")) {
					this._terminal(s, K.PEER_CLOSED);
					return;
				}
				this._terminal(s, K.ERROR, error);
			});
			node.on("close", () => {
				if (!s.broken)
					this._terminal(s, K.PEER_CLOSED);
			});
		}
		catch (e) {
			// invalid options (e.g. an unreadable key): reported like a connection failure
			if (s.tcp)
				this._tcpFailed(s);
			else
				this._terminal(s, K.ERROR, /** @type {Error} */ (e));
		}
	}

	/** @param {HostSocket} s */
	_connectStarted(s) {
		if (!this.connecting)
			this.connectStarted = Date.now();
		this.connecting++;
		s.connecting = true;
	}

	/** @param {HostSocket} s */
	_connectEnded(s) {
		if (s.connecting) {
			s.connecting = false;
			this.connecting--;
		}
	}

	/**
	 * @param {HostSocket} s
	 * @param {boolean} [broken] the platform reports a failed connect as connected: the guest's first write throws
	 */
	_connected(s, broken = false) {
		this._connectEnded(s);
		s.connected = true;
		const remote = broken ? "" : s.node?.remoteAddress ?? "";
		this._enqueue({ kind: K.CONNECTED, id: s.id, value: broken ? 1 : 0, payload: encoder.encode(remote), prepare: () => !s.guestClosed && this.sockets.has(s.id) });
	}

	/** @param {HostSocket} s @param {Buffer} data */
	_data(s, data) {
		if (s.guestClosed)
			return;
		this.awaitingSince = 0;
		s.node?.pause();
		for (let at = 0; at < data.length; at += CHUNK) {
			s.pendingChunks++;
			this._enqueue({
				kind: K.DATA, id: s.id, payload: data.subarray(at, at + CHUNK),
				prepare: () => !s.guestClosed && this.sockets.has(s.id),
				done: () => {
					if (--s.pendingChunks === 0 && !s.guestClosed && !s.terminal)
						s.node?.resume();
				},
			});
		}
	}

	/** @param {HostSocket} s @param {number} kind @param {any} [error] */
	_terminal(s, kind, error) {
		this._connectEnded(s);
		if (s.terminal || s.guestClosed)
			return;
		this.awaitingSince = 0;
		s.terminal = true;
		const payload = error ? encoder.encode(JSON.stringify({
			code: error.code ?? "ERROR",
			message: String(error.message ?? error),
			...(error.reason ? { reason: String(error.reason) } : {}),
		})) : undefined;
		this._enqueue({
			kind, id: s.id, payload,
			prepare: () => !s.guestClosed,
			done: () => {
				s.node?.destroy();
				this.sockets.delete(s.id);
			},
		});
	}

	/** @param {number} id @param {Uint8Array} bytes */
	_write(id, bytes) {
		const s = this.sockets.get(id);
		const node = s?.node;
		if (!s || s.guestClosed || !node || node.destroyed)
			return;
		const copy = Buffer.from(bytes);
		if (!this.awaitingSince)
			this.awaitingSince = Date.now();
		node.write(copy, error => {
			// the simulator's ECMA-419 socket learns of free space from its poll, not from a message
			if (error || s.guestClosed || s.tcp?.platform === "lin")
				return;
			s.unreported += copy.length;
			if (!s.sentQueued) {
				s.sentQueued = true;
				/** @type {Turn} */
				const turn = {
					kind: s.tcp ? K.TCP_SENT : K.SENT, id: s.id,
					prepare: () => {
						s.sentQueued = false;
						turn.value = s.unreported;
						s.unreported = 0;
						return !s.guestClosed && !s.terminal && turn.value > 0;
					},
				};
				this._enqueue(turn);
			}
		});
	}

	/** @param {number} id @param {Uint8Array} [payload] ECMA-419: u8 1 when the app left received bytes unread */
	_close(id, payload) {
		const s = this.sockets.get(id);
		if (!s)
			return;
		this._connectEnded(s);
		s.guestClosed = true;
		this.sockets.delete(id);
		const node = s.node;
		const tcp = s.tcp;
		if (tcp) {
			clearInterval(tcp.poll);
			// Received bytes nobody read make the close a reset: Linux's close(2) when its
			// receive queue holds some (the bytes still "in the kernel" here), lwIP's tcp_close
			// when its window is not all given back (bytes in the app's buffers).
			const unread = (tcp.platform === "lin") ? tcp.pendingBytes > 0 || (node?.readableLength ?? 0) > 0 : payload?.[0] === 1 || tcp.pendingBytes > 0;
			tcp.pending = [];
			tcp.pendingBytes = 0;
			if (node && !node.destroyed) {
				if (unread)
					node.resetAndDestroy();
				else {
					this.closing.add(node);
					node.on("close", () => this.closing.delete(node));
					node.end();
					node.on("end", () => node.destroy());		// allowHalfOpen: done once the peer closed too
					node.resume();
					setTimeout(() => node.destroy(), 2000).unref();
				}
			}
			return;
		}
		if (node && !node.destroyed) {
			// like close(2) on the simulator / tcp_close on lwIP: bytes already accepted are still delivered
			this.closing.add(node);
			node.on("close", () => this.closing.delete(node));
			node.end();
			setTimeout(() => node.destroy(), 2000).unref();
		}
	}

	// ---- ECMA-419 TCP (guest/tcp419.js) ------------------------------------------------

	/**
	 * The OS half of an ECMA-419 TCP socket. The guest keeps what the SDK's C keeps (unread
	 * bytes, counts, triggers); here are the Node socket, the bytes the guest has not been
	 * given yet and, for lin, the 20 ms poll of modules/io/socket/lin/tcp.c.
	 * @typedef {object} TcpSocket
	 * @property {"lin"|"esp32"} platform
	 * @property {Buffer[]} pending       received, not given to the guest: lin, still in the kernel (the
	 *                                    1536-byte buffer was full); esp32, past lwIP's receive window
	 * @property {number} pendingBytes
	 * @property {""|"eof"|"error"} end    how the received stream ended (after `pending`)
	 * @property {boolean} ended          esp32: the end went to the guest (lwIP's callbacks are gone)
	 * @property {boolean} osConnected
	 * @property {boolean} osFailed       the OS socket failed (refused, reset): writes fail
	 * @property {number} unread          the guest's counters (OP.TCP_STATE): lin bytesReadable,
	 * @property {number} writable        lwIP bytes not yet given back to the window; lin bytesWritable
	 * @property {boolean} connected
	 * @property {boolean} error
	 * @property {boolean} queued         a poll (lin) or lwIP's input (esp32) is on its way to the guest
	 * @property {boolean} scheduled      esp32: the input turn is asked for, once Node's events of this I/O phase came
	 * @property {NodeJS.Timeout|undefined} poll  lin: the 20 ms task
	 */

	/** @param {HostSocket} s @param {{host: string, port: number, io: "lin"|"esp32", noDelay?: boolean}} options */
	_openTcp(s, options) {
		/** @type {TcpSocket} */
		const tcp = {
			platform: options.io, pending: [], pendingBytes: 0, end: "", ended: false, osConnected: false, osFailed: false,
			unread: 0, writable: 0, connected: false, error: false, queued: false, scheduled: false, poll: undefined,
		};
		s.tcp = tcp;
		const lwip = tcp.platform === "esp32";
		if (options.port === 0) {
			this._tcpFailed(s);		// both stacks send the SYN; the answer is a reset (Node refuses port 0)
			return;
		}
		// allowHalfOpen: neither platform closes its side when the peer closes
		const node = net.connect({ host: options.host, port: options.port, family: 4, allowHalfOpen: true });
		s.node = node;
		if (options.noDelay !== undefined)
			node.setNoDelay(options.noDelay);		// both honour it (setsockopt TCP_NODELAY; tcp_nagle_disable)
		node.on("connect", () => {
			tcp.osConnected = true;
			if (lwip)
				this._enqueue({ kind: K.TCP_CONNECTED, id: s.id, prepare: () => { this._connectEnded(s); return this._tcpLive(s); } });
		});
		node.on("data", (/** @type {Buffer} */ data) => {
			if (s.guestClosed)
				return;
			tcp.pending.push(data);
			tcp.pendingBytes += data.length;
			// more than the guest can take now: leave the rest in the kernel, whose full
			// buffers hold the peer back (resumed once the guest took them all)
			if (tcp.pendingBytes > this._tcpRoom(s))
				node.pause();
			if (lwip)
				this._tcpPump(s);
		});
		node.on("end", () => {
			if (!tcp.end)
				tcp.end = "eof";
			if (lwip)
				this._tcpPump(s);
		});
		node.on("error", () => this._tcpFailed(s));
		if (!lwip)
			tcp.poll = setInterval(() => this._tcpPoll(s), POLL_MS);
	}

	/** The OS socket failed (refused, reset, unreachable). @param {HostSocket} s */
	_tcpFailed(s) {
		const tcp = /** @type {TcpSocket} */ (s.tcp);
		const failed = tcp.osFailed;
		tcp.osFailed = true;
		if (s.guestClosed || failed)
			return;
		if (tcp.platform === "esp32") {
			if (!tcp.ended) {
				tcp.end = "error";		// tcp_err, after the bytes the window took
				this._tcpPump(s);
			}
		}
		else {
			// write(2) fails from now on; read(2) gives -1 after the bytes already received
			if (!tcp.end)
				tcp.end = "error";
			this._enqueue({ kind: K.TCP_FAILED, id: s.id, prepare: () => this._tcpLive(s) });
			if (!tcp.poll)
				tcp.poll = setInterval(() => this._tcpPoll(s), POLL_MS);
		}
	}

	/** @param {HostSocket} s */
	_tcpLive(s) {
		return !s.guestClosed && this.sockets.get(s.id) === s;
	}

	/**
	 * lin: what tcpTask's select() and read() would find now, as K.TCP_POLL bits (0: the poll
	 * does nothing). Writable is asked for until connected and while the count is not 1536;
	 * readable while the buffer has room. A failed socket is writable and readable.
	 * @param {HostSocket} s
	 */
	_tcpFound(s) {
		const tcp = /** @type {TcpSocket} */ (s.tcp);
		let found = 0;
		if ((!tcp.connected || tcp.writable !== LIN_TCP_BUFFER) && (tcp.osFailed || (tcp.osConnected && s.node?.writableLength === 0)))
			found |= POLL.WRITABLE;
		if (tcp.unread < LIN_TCP_BUFFER) {
			if (tcp.pendingBytes)
				found |= POLL.DATA;
			else if (tcp.end)
				found |= (tcp.end === "eof") ? POLL.EOF : POLL.ERROR;
		}
		return found;
	}

	/** lin: the 20 ms task of one socket. @param {HostSocket} s */
	_tcpPoll(s) {
		const tcp = /** @type {TcpSocket} */ (s.tcp);
		if (s.guestClosed || tcp.error || this.finished) {
			clearInterval(tcp.poll);		// the task returns at once from now on
			return;
		}
		if (tcp.queued)
			return;
		const found = this._tcpFound(s);
		if (!found)
			return;
		const payload = (found & POLL.DATA) ? this._tcpTake(s, LIN_TCP_BUFFER - tcp.unread) : undefined;
		tcp.queued = true;
		this._enqueue({
			kind: K.TCP_POLL, id: s.id, value: found, payload,
			prepare: () => {
				if (!this._tcpLive(s))
					return false;
				if (tcp.osConnected || tcp.osFailed)
					this._connectEnded(s);
				if (found & (POLL.DATA | POLL.EOF | POLL.ERROR))
					this.awaitingSince = 0;
				return true;
			},
			done: () => { tcp.queued = false; },
		});
	}

	/** What the guest takes now: lin, the room in its 1536-byte buffer; esp32, lwIP's receive
	 * window (TCP_WND, which the SDK's sdkconfig sets equal to TCP_SND_BUF: the send buffer
	 * size here) less the bytes the app holds unread. @param {HostSocket} s */
	_tcpRoom(s) {
		const tcp = /** @type {TcpSocket} */ (s.tcp);
		return ((tcp.platform === "lin") ? LIN_TCP_BUFFER : this.opts.sendBufferSize) - tcp.unread;
	}

	/** Up to `max` of the pending bytes, taken off the queue. @param {HostSocket} s @param {number} max */
	_tcpTake(s, max) {
		const tcp = /** @type {TcpSocket} */ (s.tcp);
		/** @type {Buffer[]} */
		const parts = [];
		let taken = 0;
		while (taken < max && tcp.pending.length) {
			const head = tcp.pending[0];
			const use = Math.min(head.length, max - taken);
			parts.push(head.subarray(0, use));
			if (use === head.length)
				tcp.pending.shift();
			else
				tcp.pending[0] = head.subarray(use);
			taken += use;
		}
		tcp.pendingBytes -= taken;
		if (!tcp.pendingBytes && !s.guestClosed)
			s.node?.resume();
		return parts.length === 1 ? parts[0] : Buffer.concat(parts, taken);
	}

	/**
	 * esp32: what lwIP's input gives the socket before the machine runs its delivery: the bytes
	 * its receive window takes, then the peer's close (once every byte went) or a failure
	 * (tcp_err; bytes past the window are lost with it). One turn takes all that came by the
	 * time it runs (asked for after Node's events of this I/O phase), as one tcpDeliver on a
	 * device takes all its triggers: data and a FIN in one segment reach the app together.
	 * @param {HostSocket} s
	 */
	_tcpPump(s) {
		const tcp = /** @type {TcpSocket} */ (s.tcp);
		if (tcp.scheduled)
			return;
		tcp.scheduled = true;
		setImmediate(() => {
			tcp.scheduled = false;
			this._tcpInput(s);
		});
	}

	/** @param {HostSocket} s */
	_tcpInput(s) {
		const tcp = /** @type {TcpSocket} */ (s.tcp);
		if (s.guestClosed || tcp.queued || tcp.ended || this.finished)
			return;
		const room = () => this._tcpRoom(s);
		const due = () => (tcp.pendingBytes > 0 && room() > 0) || tcp.end === "error" || (tcp.end === "eof" && !tcp.pendingBytes);
		if (!due())
			return;
		tcp.queued = true;
		/** @type {Turn} */
		const turn = {
			kind: K.TCP_INPUT, id: s.id,
			prepare: () => {
				if (!this._tcpLive(s) || !due())
					return false;
				turn.payload = (tcp.pendingBytes && room() > 0) ? this._tcpTake(s, room()) : undefined;
				turn.value = 0;
				if (tcp.end === "error") {
					turn.value = INPUT.ERROR;
					tcp.pending = [];
					tcp.pendingBytes = 0;
				}
				else if (tcp.end === "eof" && !tcp.pendingBytes)
					turn.value = INPUT.END;
				if (turn.value) {
					tcp.ended = true;
					this._connectEnded(s);
				}
				this.awaitingSince = 0;
				return true;
			},
			done: () => {
				tcp.queued = false;
				this._tcpInput(s);
			},
		};
		this._enqueue(turn);
	}

	/** The guest's counters after a turn that changed them. @param {number} id @param {Uint8Array} payload */
	_tcpState(id, payload) {
		const s = this.sockets.get(id);
		const tcp = s?.tcp;
		if (!s || !tcp || payload.length < 9)
			return;
		const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
		tcp.unread = view.getUint32(0, true);
		tcp.writable = view.getUint32(4, true);
		tcp.connected = (payload[8] & 1) !== 0;
		tcp.error = (payload[8] & 2) !== 0;
		if (tcp.platform === "esp32")
			this._tcpInput(s);
		else if (tcp.error)
			clearInterval(tcp.poll);
	}

	/** esp32: the guest's tcpTrigger posted a delivery (from app code): a later turn. @param {number} id */
	_tcpPost(id) {
		const s = this.sockets.get(id);
		if (s?.tcp)
			this._enqueue({ kind: K.TCP_DELIVER, id, prepare: () => this._tcpLive(s) });
	}

	// ---- timers -----------------------------------------------------------------------

	/**
	 * @typedef {object} HostTimer
	 * @property {number} id
	 * @property {number} due
	 * @property {number} interval
	 * @property {boolean} armed
	 * @property {number} seq
	 * @property {number} gen
	 * @property {number} queuedGen   real time: the gen a turn was queued for
	 * @property {NodeJS.Timeout | undefined} handle
	 */

	/** @param {number} id @param {number} first @param {number} interval */
	_timerSet(id, first, interval) {
		let t = this.timers.get(id);
		if (!t) {
			t = { id, due: 0, interval: 0, armed: false, seq: 0, gen: 0, queuedGen: -1, handle: undefined };
			this.timers.set(id, t);
		}
		t.gen++;
		t.armed = true;
		t.interval = Math.max(0, interval);
		t.due = this.now() + Math.max(0, first);
		t.seq = ++this.timerSeq;
		if (!this.virtual)
			this._armReal(t);
	}

	/**
	 * Real time: a Node timer per host timer only wakes the host; which timers fire, and in
	 * what order, is decided from their due times (earliest first, creation order on a tie),
	 * as modTimer does on a device. Node alone could fire two timers set for the same due
	 * time out of order: each delay is measured against a clock read a moment later.
	 * @param {HostTimer} t
	 */
	_armReal(t) {
		clearTimeout(t.handle);
		t.handle = setTimeout(() => this._realTimersDue(t), Math.max(0, t.due - Date.now()));
	}

	/** @param {HostTimer} woken the timer whose Node timer fired */
	_realTimersDue(woken) {
		const now = Date.now();
		const due = [];
		for (const t of this.timers.values())
			if (t.armed && t.due <= now && t.queuedGen !== t.gen)
				due.push(t);
		due.sort((x, y) => x.due - y.due || x.seq - y.seq);
		for (const t of due) {
			t.queuedGen = t.gen;		// one turn per firing, however many Node timers woke us
			this._enqueue(this._timerTurn(t, t.gen));
		}
		if (woken.armed && woken.due > now && this.timers.get(woken.id) === woken)
			this._armReal(woken);		// Node's loop clock ran a little behind Date.now()
	}

	/** @param {HostTimer} t @param {number} gen @returns {Turn} */
	_timerTurn(t, gen) {
		return {
			kind: K.TIMER, id: t.id,
			prepare: () => {
				if (!t.armed || t.gen !== gen || this.timers.get(t.id) !== t)
					return false;
				t.gen++;
				if (t.interval > 0) {
					t.due += t.interval;		// non-drifting, like modTimer on devices
					if (!this.virtual)
						this._armReal(t);
				}
				else
					t.armed = false;
				return true;
			},
		};
	}

	/** Virtual time: the earliest armed timer already due. */
	_dueTimerTurn() {
		/** @type {HostTimer|undefined} */
		let best;
		for (const t of this.timers.values())
			if (t.armed && t.due <= this.vnow && (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)))
				best = t;
		return best ? this._timerTurn(best, best.gen) : undefined;
	}

	/** @param {number} id */
	_timerUnschedule(id) {
		const t = this.timers.get(id);
		if (!t)
			return;
		t.armed = false;
		t.gen++;
		clearTimeout(t.handle);
	}

	/** @param {number} id */
	_timerClear(id) {
		const t = this.timers.get(id);
		if (!t)
			return;
		clearTimeout(t.handle);
		this.timers.delete(id);
	}

	/**
	 * Virtual time only: move the clock by `ms`, firing due timers in time order, each in
	 * its own turn, and letting Node deliver I/O between fires.
	 * @param {number} ms
	 */
	async advance(ms) {
		if (!this.virtual)
			throw new Error("advance() needs startApp(..., {virtualTime: true})");
		if (!(ms >= 0))
			throw new Error(`advance(ms): ms must be >= 0, not ${ms}`);
		const target = this.vnow + ms;
		for (;;) {
			await this._settle();
			for (let hold; !this.finished && (hold = this.holdMs()) > 0;) {
				await new Promise(resolve => setTimeout(resolve, Math.min(hold, 20)));
				await this._settle();
			}
			if (this.finished)
				return;
			let next;
			for (const t of this.timers.values())
				if (t.armed && t.due <= target && (next === undefined || t.due < next))
					next = t.due;
			if (next === undefined)
				break;
			if (next > this.vnow)
				this.vnow = next;
			this._kick();
		}
		if (target > this.vnow)
			this.vnow = target;
		this._kick();
		await this._settle();
	}

	// ---- end --------------------------------------------------------------------------

	/** @param {number} code @param {string} message @param {string} [stack] */
	_finish(code, message, stack) {
		if (this.finished)
			return;
		this.finished = true;
		for (const s of this.sockets.values()) {
			clearInterval(s.tcp?.poll);
			s.node?.destroy();
		}
		this.sockets.clear();
		this.tls419.closeAll();
		for (const node of this.closing)
			node.destroy();
		this.closing.clear();
		for (const t of this.timers.values())
			clearTimeout(t.handle);
		this.timers.clear();
		const queued = this.queue.splice(0);
		for (const turn of queued)
			turn.done?.(false);
		for (const waiter of this.waiters) {
			clearTimeout(waiter.timer);
			waiter.reject(new Error(`app ended (code ${code}: ${message}) before ${waiter.re} appeared${this._outputTail()}`));
		}
		this.waiters.clear();
		for (const [id, call] of this.calls) {
			this.calls.delete(id);
			call.reject(new Error(`${call.name}(): app ended (code ${code}: ${message})`));
		}
		if (stack)
			stack = this._sourceStack(stack);
		if (code !== 0 && this.opts.stderr)
			process.stderr.write(`XS abort: ${message}\n${stack ? stack.trimEnd() + "\n" : ""}`);
		const worker = this.worker;
		this._cleanup = (async () => {
			try {
				await worker?.terminate();
			}
			catch {
			}
			fs.rmSync(this.stageDir, { recursive: true, force: true });
			liveStageDirs.delete(this.stageDir);
			if (this.ownStorage)
				fs.rmSync(this.ownStorage, { recursive: true, force: true });
		})();
		const idle = this.idleWaiters.splice(0);
		for (const resolve of idle)
			resolve();
		/** @type {ExitInfo} */
		const info = { code, message };
		if (stack)
			info.stack = stack;
		this._resolveExited(info);
	}

	/** Show XS stack frames with the app's source paths instead of the staging directory. @param {string} stack */
	_sourceStack(stack) {
		return stack.replace(/\(([^()]*?):(\d+)\)/g, (frame, file, line) => {
			if (!file.startsWith(this.stageDir + "/"))
				return frame;
			const name = file.slice(this.stageDir.length + 1).replace(/\.js$/, "");
			const source = this.sources.get(name);
			return source ? `(${source}:${line}${source.endsWith(".ts") ? " of its JS" : ""})` : frame;
		});
	}

	/** Close sockets and timers, end the worker, remove the staging directory. Idempotent. */
	async stop() {
		this._finish(0, "stopped");
		await this._cleanup;
	}
}

/** @param {Uint8Array} payload */
function decodeOptions(payload) {
	const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
	const jsonLength = view.getUint32(0, true);
	/** @type {Uint8Array[]} */
	const blobs = [];
	let at = 4 + jsonLength;
	while (at < payload.length) {
		const length = view.getUint32(at, true);
		blobs.push(Buffer.from(payload.subarray(at + 4, at + 4 + length)));
		at += 4 + length;
	}
	return JSON.parse(decoder.decode(payload.subarray(4, 4 + jsonLength)), (key, value) => {
		if (value && typeof value === "object" && typeof value.$blob === "number")
			return blobs[value.$blob];
		return value;
	});
}

/** @param {Uint8Array} der @param {string} label */
function derToPem(der, label) {
	const text = Buffer.from(der).toString("latin1");
	if (text.startsWith("-----BEGIN"))
		return text;		// tolerate PEM
	const base64 = Buffer.from(der).toString("base64").replace(/.{1,64}/g, "$&\n");
	return `-----BEGIN ${label}-----\n${base64}-----END ${label}-----\n`;
}

/** @param {Uint8Array} der */
function keyToPem(der) {
	const text = Buffer.from(der).toString("latin1");
	if (text.startsWith("-----BEGIN"))
		return text;
	/** @type {Error|undefined} */
	let last;
	for (const type of /** @type {const} */ (["pkcs8", "pkcs1", "sec1"])) {
		try {
			return crypto.createPrivateKey({ key: Buffer.from(der), format: "der", type }).export({ format: "pem", type: "pkcs8" });
		}
		catch (e) {
			last = /** @type {Error} */ (e);
		}
	}
	const error = new Error(`clientKey is not a DER private key (PKCS#8, PKCS#1 or SEC1): ${last?.message}`);
	Object.assign(error, { code: "ERR_HOST_CLIENT_KEY" });
	throw error;
}

/** The Linux simulator polls its sockets every 20 ms. */
const POLL_MS = 20;

/** Connect failures that the Linux simulator reports as a successful connect. */
const CONNECT_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT"]);

/**
 * Matches a regex against each line of a text alone; exec returns the first line's match.
 * @param {RegExp} re
 */
function lineMatcher(re) {
	return {
		/** @param {string} text */
		exec(text) {
			for (const line of text.split("\n")) {
				const match = re.exec(line);
				if (match)
					return match;
			}
			return null;
		},
		toString: () => `${re} (per line)`,
	};
}

/**
 * The cipher suites the SDK's TLS offers (modules/crypt/ssl/ssl_ciphersuites.js), in its
 * order, as OpenSSL names them: RSA key exchange always, DHE_RSA and ECDHE_RSA (with one
 * ECDSA suite) when the app's `config.tls` enables them (crypt/tls_common.json: both on).
 * @param {{DHE_RSA?: boolean, ECDHE_RSA?: boolean}} sdkTls
 */
function sdkCiphers(sdkTls) {
	const suites = ["AES128-SHA", "AES256-SHA", "AES128-SHA256", "AES256-SHA256"];
	if (sdkTls.DHE_RSA)
		suites.push("DHE-RSA-AES128-SHA256", "DHE-RSA-AES256-SHA256", "DHE-RSA-AES128-GCM-SHA256");
	if (sdkTls.ECDHE_RSA)
		suites.push("ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256");
	return suites.join(":");
}

/**
 * Why the SDK's TLS would fail a handshake that Node completed, or undefined. The SDK signs
 * its CertificateVerify only for RSA and ECDHE_RSA key exchanges (ssl_handshake.js): when
 * the server asked for a client certificate (a TLS 1.2 CertificateRequest, which is what
 * gives the client shared signature algorithms) and chose DHE_RSA, it throws and closes.
 * @param {tls.TLSSocket} node @param {any} secure
 */
function sdkHandshakeFailure(node, secure) {
	if (!secure.clientCertificates || !secure.clientKey)
		return undefined;
	if (!/^DHE-/.test(node.getCipher()?.name ?? "") || node.getSharedSigalgs().length === 0)
		return undefined;
	return Object.assign(new Error("certificateVerify: unimplemented (the SDK's TLS cannot sign for a DHE_RSA key exchange; manifest_tls.json sets config.tls.DHE_RSA false)"), { code: "ERR_SDK_TLS_DHE_CLIENT_CERT" });
}

/**
 * @param {any} options @param {boolean} resumed the SDK would resume a cached session: nothing is verified
 * @param {{DHE_RSA?: boolean, ECDHE_RSA?: boolean}} sdkTls the app's config.tls over the SDK's defaults
 */
function tlsOptions(options, resumed, sdkTls) {
	const secure = options.secure;
	// The SDK speaks TLS 1.0 to 1.2 (ssl_constants.js), with its own short list of suites.
	/** @type {tls.ConnectionOptions} */
	const result = { host: options.host, port: options.port, family: 4, maxVersion: "TLSv1.2", ciphers: sdkCiphers(sdkTls) };
	const serverName = secure.serverName ?? options.host;
	if (serverName && !net.isIP(serverName))
		result.servername = serverName;
	else if (secure.serverName)
		result.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(secure.serverName, cert);
	if (secure.certificate)
		result.ca = (Array.isArray(secure.certificate) ? secure.certificate : [secure.certificate]).map((/** @type {Uint8Array} */ c) => derToPem(c, "CERTIFICATE"));
	if (secure.clientCertificates)
		result.cert = (Array.isArray(secure.clientCertificates) ? secure.clientCertificates : [secure.clientCertificates]).map((/** @type {Uint8Array} */ c) => derToPem(c, "CERTIFICATE")).join("");
	if (secure.clientKey)
		result.key = keyToPem(secure.clientKey);
	if (secure.verify === false || resumed)
		result.rejectUnauthorized = false;
	if (resumed)
		result.checkServerIdentity = () => undefined;
	if (secure.protocolVersion) {
		// The SDK throws at construction for anything outside 0x301..0x303 (session_original.js).
		const version = { 0x301: "TLSv1", 0x302: "TLSv1.1", 0x303: "TLSv1.2" }[/** @type {number} */ (secure.protocolVersion)];
		if (!version) {
			const error = new Error("protocolVersion: not supported");
			Object.assign(error, { code: "ERR_HOST_PROTOCOL_VERSION" });
			throw error;
		}
		result.minVersion = /** @type {tls.SecureVersion} */ (version);
		result.maxVersion = /** @type {tls.SecureVersion} */ (version);
	}
	const alpn = secure.applicationLayerProtocolNegotiation;
	if (alpn)
		result.ALPNProtocols = Array.isArray(alpn) ? alpn.map(String) : [String(alpn)];
	return result;
}
