/*
 * mqttc-at/engine: the transport-independent AT command engine.
 *
 * Bytes of the serial stream go in through input() in pieces of any size; responses,
 * echo, the data-mode prompt and unsolicited result codes (URCs) go out through the
 * `write` callback. Lines end with CR, LF or CRLF. Every response and URC is framed as a
 * modem does in verbose mode: "\r\n" + text + "\r\n". Echo (ATE1, the default) returns
 * the command bytes exactly as received; data-mode bytes are not echoed.
 *
 * Bounds (all per engine instance, allocated once in the constructor):
 *   lineMax  command line bytes (default 2048): a longer line is discarded up to its
 *            terminator and answered with ERROR.
 *   dataMax  ECMTPUB data-mode payload bytes (default 4096): more bytes before Ctrl-Z are
 *            dropped and the publish is answered with ERROR when Ctrl-Z arrives.
 *   urcMax   bytes of URCs held back while in data mode (default 4096): URCs that do not
 *            fit are dropped.
 *   EVENT_MAX client events deferred while a command runs (32).
 * Nothing thrown inside reaches the caller of input(): a failing command answers ERROR.
 */

import type {AtCreate, AtDialect, AtEngineOptions, AtIo} from "mqttc-at/types";
import {parseLine, KIND_EXEC} from "mqttc-at/parser";
import {Ecmt} from "mqttc-at/ecmt";
import {MqttSet} from "mqttc-at/mqttset";

export const VERSION = "0.1.0";

const MODE_CMD = 0;
const MODE_DATA = 1;
const EVENT_MAX = 32;
const CR = 0x0d, LF = 0x0a, BS = 0x08, DEL = 0x7f, CTRL_Z = 0x1a, ESC = 0x1b;

function clampSize(v: number | undefined, dflt: number, min: number, max: number): number {
	if (typeof v !== "number" || !(v >= min)) return dflt;
	return v > max ? max : Math.floor(v);
}

export class AtEngine implements AtIo {
	readonly create: AtCreate;
	readonly rxSize: number;
	/** Whether command bytes are echoed (ATE0/ATE1). */
	echo: boolean;

	private readonly sink: (bytes: ArrayBuffer | string) => void;
	private readonly versionLine: string;
	private readonly lineBuf: Uint8Array;
	private lineLen = 0;
	private overflow = false;
	private lastCR = false;
	private mode = MODE_CMD;
	private readonly dataBuf: Uint8Array;
	private dataLen = 0;
	private dataOverflow = false;
	private dataDone: ((data: ArrayBuffer | null) => void) | null = null;
	private readonly urcMax: number;
	private urcQueue: (string | ArrayBuffer)[] = [];
	private urcBytes = 0;
	/** URCs dropped because the data-mode queue was full (for diagnostics). */
	urcDropped = 0;
	private events: any[][] = [];
	/** Client events dropped because the deferral queue was full (for diagnostics). */
	eventsDropped = 0;
	private depth = 0;
	private isBusy = false;
	private readonly dialects: AtDialect[];

	constructor(options: AtEngineOptions) {
		this.sink = options.write;
		this.create = options.create ?? (() => null);
		this.lineBuf = new Uint8Array(clampSize(options.lineMax, 2048, 64, 65536));
		this.dataBuf = new Uint8Array(clampSize(options.dataMax, 4096, 16, 1 << 20));
		this.urcMax = clampSize(options.urcMax, 4096, 0, 1 << 20);
		this.rxSize = clampSize(options.rxSize, 4096, 256, 1 << 20);
		this.echo = options.echo ?? true;
		this.versionLine = options.version ?? "mqttc-at " + VERSION;
		this.dialects = [new Ecmt(this), new MqttSet(this)];
	}

	/** Feeds a piece of the serial byte stream. Never throws. */
	input(chunk: ArrayBuffer | Uint8Array | string): void {
		try {
			let u8: Uint8Array;
			if (typeof chunk === "string") u8 = new Uint8Array(ArrayBuffer.fromString(chunk));
			else if (chunk instanceof Uint8Array) u8 = chunk;
			else u8 = new Uint8Array(chunk);
			this.feed(u8);
		} catch {
			// only reachable through a bug: start over with a clean line
			this.lineLen = 0;
			this.overflow = false;
			this.depth = 0;
			this.line("ERROR");
		}
	}

	/** Closes the clients of both dialects. */
	close(): void {
		for (const d of this.dialects) {
			try {
				d.close();
			} catch {
				// ignore
			}
		}
	}

	private feed(u8: Uint8Array): void {
		const n = u8.length;
		let echoFrom = 0;
		for (let i = 0; i < n; i++) {
			const b = u8[i];
			if (this.mode === MODE_DATA) {
				echoFrom = i + 1;
				if (b === CTRL_Z) this.endData(true);
				else if (b === ESC) this.endData(false);
				else if (this.dataLen < this.dataBuf.length) this.dataBuf[this.dataLen++] = b;
				else this.dataOverflow = true;
				continue;
			}
			if (b === CR || b === LF) {
				if (b === LF && this.lastCR) {
					this.lastCR = false;
					continue; // the LF of a CRLF split across pieces: echoed with what follows
				}
				let end = i + 1;
				if (b === CR && end < n && u8[end] === LF) {
					end++;
					i++;
					this.lastCR = false;
				} else this.lastCR = b === CR;
				if (this.echo && end > echoFrom) this.echoBytes(u8, echoFrom, end);
				echoFrom = end;
				this.endLine();
				continue;
			}
			this.lastCR = false;
			if (b === BS || b === DEL) {
				if (this.lineLen > 0) this.lineLen--;
				continue;
			}
			if (this.lineLen < this.lineBuf.length) this.lineBuf[this.lineLen++] = b;
			else this.overflow = true;
		}
		if (this.echo && this.mode === MODE_CMD && echoFrom < n) this.echoBytes(u8, echoFrom, n);
	}

	private echoBytes(u8: Uint8Array, from: number, to: number): void {
		const copy = new Uint8Array(to - from);
		copy.set(u8.subarray(from, to));
		this.out(copy.buffer);
	}

	private endLine(): void {
		const len = this.lineLen, overflow = this.overflow;
		this.lineLen = 0;
		this.overflow = false;
		if (overflow) {
			this.line("ERROR");
			return;
		}
		if (len === 0) return;
		let text: string;
		try {
			text = String.fromArrayBuffer(this.lineBuf.slice(0, len).buffer);
		} catch {
			this.line("ERROR");
			return;
		}
		this.depth++;
		try {
			this.execute(text);
		} catch {
			this.line("ERROR");
		} finally {
			this.depth--;
		}
		this.drain();
	}

	private execute(text: string): void {
		if (this.isBusy) {
			this.line("ERROR"); // a command is still waiting for its final result
			return;
		}
		const cmd = parseLine(text);
		if (!cmd) {
			this.line("ERROR");
			return;
		}
		switch (cmd.name) {
			case "":
				this.line("OK");
				return;
			case "E":
				if (cmd.basic === "" || cmd.basic === "0") this.echo = false;
				else if (cmd.basic === "1") this.echo = true;
				else break;
				this.line("OK");
				return;
			case "I":
				if (cmd.basic !== "" && cmd.basic !== "0") break;
				this.line(this.versionLine);
				this.line("OK");
				return;
			case "+GMR":
				if (cmd.kind !== KIND_EXEC) break;
				this.line(this.versionLine);
				this.line("OK");
				return;
			default:
				for (const d of this.dialects) if (d.command(cmd.name, cmd.kind, cmd.line, cmd.at)) return;
		}
		this.line("ERROR");
	}

	private endData(send: boolean): void {
		const done = this.dataDone, len = this.dataLen, overflow = this.dataOverflow;
		this.dataDone = null;
		this.dataLen = 0;
		this.dataOverflow = false;
		this.mode = MODE_CMD;
		this.depth++;
		try {
			if (!send) this.line("OK"); // Esc: cancelled, nothing published
			else if (overflow || !done) this.line("ERROR");
			else done(this.dataBuf.slice(0, len).buffer);
		} catch {
			this.line("ERROR");
		} finally {
			this.depth--;
		}
		this.flushUrcs();
		this.drain();
	}

	private flushUrcs(): void {
		const q = this.urcQueue;
		if (!q.length) return;
		this.urcQueue = [];
		this.urcBytes = 0;
		for (const item of q) this.out(item);
	}

	private drain(): void {
		if (this.depth) return;
		while (this.events.length) {
			const e = this.events.shift()!;
			this.depth++;
			try {
				(e[0] as AtDialect).event(e[1], e[2], e[3], e[4], e[5]);
			} catch {
				// a bad event must not stop the engine
			} finally {
				this.depth--;
			}
		}
	}

	private out(bytes: ArrayBuffer | string): void {
		try {
			this.sink(bytes);
		} catch {
			// the transport's problem; the engine keeps going
		}
	}

	// AtIo

	line(text: string): void {
		this.out("\r\n" + text + "\r\n");
	}

	urc(parts: (string | ArrayBuffer)[]): void {
		let item: string | ArrayBuffer;
		let strings = true;
		for (const p of parts) if (typeof p !== "string") strings = false;
		if (strings) item = "\r\n" + parts.join("") + "\r\n";
		else {
			const bufs: ArrayBuffer[] = [ArrayBuffer.fromString("\r\n")];
			let total = 4;
			for (const p of parts) {
				const b = typeof p === "string" ? ArrayBuffer.fromString(p) : p;
				bufs.push(b);
				total += b.byteLength;
			}
			bufs.push(ArrayBuffer.fromString("\r\n"));
			const all = new Uint8Array(total);
			let o = 0;
			for (const b of bufs) {
				all.set(new Uint8Array(b), o);
				o += b.byteLength;
			}
			item = all.buffer;
		}
		if (this.mode === MODE_DATA) {
			const size = typeof item === "string" ? item.length : item.byteLength;
			if (this.urcBytes + size > this.urcMax) this.urcDropped++;
			else {
				this.urcQueue.push(item);
				this.urcBytes += size;
			}
			return;
		}
		this.out(item);
	}

	dataMode(done: (data: ArrayBuffer | null) => void): void {
		this.dataDone = done;
		this.dataLen = 0;
		this.dataOverflow = false;
		this.mode = MODE_DATA;
		this.out("\r\n> ");
	}

	busy(on: boolean): void {
		this.isBusy = on;
	}

	post(target: AtDialect, client: any, event: string, data: any, payload: any, metas: any): void {
		if (this.events.length >= EVENT_MAX) {
			this.eventsDropped++;
			return;
		}
		this.events.push([target, client, event, data, payload, metas]);
		this.drain();
	}
}
