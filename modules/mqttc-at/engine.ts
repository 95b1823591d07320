/*
 * mqttc-at/engine: the transport-independent AT command engine.
 *
 * Bytes of the serial stream go in through input() in pieces of any size; responses,
 * echo, the data-mode prompt and unsolicited result codes (URCs) go out through the
 * `write` callback, via a bounded queue (mqttc-at/serial): `write` returns how many bytes
 * the transport took (or nothing for all), and the app calls writable() when it has room
 * again. Lines end with CR, LF or CRLF. Every response and URC is framed as a modem does
 * in verbose mode: "\r\n" + text + "\r\n". Echo (ATE1, the default) returns the command
 * bytes exactly as received; data-mode bytes are not echoed.
 *
 * Flow control of received messages: a message URC is written only when the serial queue
 * accepts it; a QoS 1/2 message is acknowledged to the broker (client.ack, mqttc's
 * manual_ack) only then. Until then it waits in the hold list, in arrival order, and its
 * acknowledgement waits with it, so the broker's own window holds the rest. A message the
 * hold list cannot take either is reported by a URC (<dialect>DROPPED) and counted.
 *
 * Bounds (all per engine instance):
 *   lineMax   command line bytes (default 2048): a longer line is discarded up to its
 *             terminator and answered with ERROR.
 *   dataMax   ECMTPUB data-mode payload bytes (default 4096): more bytes before Ctrl-Z are
 *             dropped and the publish is answered with ERROR when Ctrl-Z arrives.
 *   txMax     bytes waiting for the serial line (default 8192), of which RESERVE (2048) are
 *             kept for echo, answers and final results (see mqttc-at/serial).
 *   holdMax   bytes of messages waiting for room (default 32768), at most HOLD_COUNT (40)
 *             messages, of which at most HOLD_QOS0 (8) QoS 0 ones.
 *   EVENT_MAX client events deferred while a command runs (32).
 * Nothing thrown inside reaches the caller of input(): a failing command answers ERROR.
 */

import type {AtClient, AtCreate, AtDialect, AtEngineOptions, AtIo, AtTimer} from "mqttc-at/types";
import {parseLine, KIND_EXEC} from "mqttc-at/parser";
import {SerialQueue, AREA_MESSAGE, AREA_ECHO, AREA_INFO, AREA_FINAL} from "mqttc-at/serial";
import {Ecmt} from "mqttc-at/ecmt";
import {MqttSet} from "mqttc-at/mqttset";

export const VERSION = "0.1.0";

const MODE_CMD = 0;
const MODE_DATA = 1;
const EVENT_MAX = 32;
/** Bytes of the serial queue kept for echo, answers and final results. */
export const RESERVE = 2048;
/** Messages the hold list keeps at most, and how many of them may be QoS 0. */
export const HOLD_COUNT = 40;
export const HOLD_QOS0 = 8;
/** Bytes of result URCs kept while in data mode. */
const LATE_MAX = 1024;
const CR = 0x0d, LF = 0x0a, BS = 0x08, DEL = 0x7f, CTRL_Z = 0x1a, ESC = 0x1b;

function clampSize(v: number | undefined, dflt: number, min: number, max: number): number {
	if (typeof v !== "number" || !(v >= min)) return dflt;
	return v > max ? max : Math.floor(v);
}

/** A received message waiting for room in the serial queue. */
interface Held {
	client: AtClient;
	qos: number;
	mid: number;
	bytes: ArrayBuffer;
	drop: string;
}

/** Timers from the host when it has setTimeout (Node, tests); the entry module passes Moddable's. */
function defaultTimer(): AtTimer | undefined {
	const g = globalThis as any;
	if (typeof g.setTimeout !== "function") return undefined;
	return {set: (cb, ms) => g.setTimeout(cb, ms), clear: (h) => g.clearTimeout(h)};
}

export class AtEngine implements AtIo {
	readonly create: AtCreate;
	readonly rxSize: number;
	/** Whether command bytes are echoed (ATE0/ATE1). */
	echo: boolean;

	private readonly queue: SerialQueue;
	private readonly timer: AtTimer | undefined;
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
	private readonly holdMax: number;
	private held: Held[] = [];
	private heldBytes = 0;
	private heldQos0 = 0;
	/** Lost-message counts not yet reported, by report prefix. */
	private dropReports: Record<string, number> = {};
	private infoLost = false;
	/** Result URCs that came during data mode (at most LATE_MAX bytes), written after its result. */
	private late: ArrayBuffer[] = [];
	private lateBytes = 0;
	/** Received messages dropped because neither the serial queue nor the hold list had room (reported by URC). */
	messagesDropped = 0;
	/** Echo bytes dropped because the serial queue was full (a real UART never outruns its own echo). */
	echoDropped = 0;
	/** Result URCs and information lines dropped because the reserve was full. */
	linesDropped = 0;
	private events: any[][] = [];
	/** Client events dropped because the deferral queue was full (for diagnostics). */
	eventsDropped = 0;
	private depth = 0;
	private isBusy = false;
	private readonly dialects: AtDialect[];

	constructor(options: AtEngineOptions) {
		this.create = options.create ?? (() => null);
		this.lineBuf = new Uint8Array(clampSize(options.lineMax, 2048, 64, 65536));
		this.dataBuf = new Uint8Array(clampSize(options.dataMax, 4096, 16, 1 << 20));
		const txMax = clampSize(options.txMax, 8192, RESERVE + 512, 1 << 20);
		this.queue = new SerialQueue(options.write, txMax, RESERVE);
		this.holdMax = clampSize(options.holdMax, 32768, 0, 1 << 22);
		this.rxSize = clampSize(options.rxSize, 4096, 256, 1 << 20);
		this.timer = options.timer ?? defaultTimer();
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

	/** The transport has room again: writes what waits, then messages held back. Never throws. */
	writable(): void {
		try {
			this.queue.pump();
			this.release();
		} catch {
			// only reachable through a bug; the next call tries again
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
				this.erase();
				continue;
			}
			if (this.lineLen < this.lineBuf.length) this.lineBuf[this.lineLen++] = b;
			else this.overflow = true;
		}
		if (this.echo && this.mode === MODE_CMD && echoFrom < n) this.echoBytes(u8, echoFrom, n);
	}

	/** Backspace: removes the last character, all the bytes of a UTF-8 sequence (at most 4). */
	private erase(): void {
		const len = this.lineLen, buf = this.lineBuf;
		if (len === 0) return;
		const stop = len > 4 ? len - 4 : 0;
		let n = len - 1;
		while (n > stop && (buf[n] & 0xc0) === 0x80) n--;
		if (n < len - 1 && buf[n] < 0xc0) n = len - 1; // continuation bytes without a lead byte: one byte
		this.lineLen = n;
	}

	private echoBytes(u8: Uint8Array, from: number, to: number): void {
		const copy = new Uint8Array(to - from);
		copy.set(u8.subarray(from, to));
		if (!this.queue.offer(copy.buffer, AREA_ECHO)) this.echoDropped += to - from;
	}

	private endLine(): void {
		const len = this.lineLen, overflow = this.overflow;
		this.lineLen = 0;
		this.overflow = false;
		this.infoLost = false;
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
		this.infoLost = false;
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
		// what waited during data mode goes out now, after the data-mode result
		const late = this.late;
		this.late = [];
		this.lateBytes = 0;
		for (const bytes of late) if (!this.queue.offer(bytes, AREA_INFO)) this.linesDropped++;
		this.writable();
		this.drain();
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

	/** Moves held messages into the serial queue while it accepts them, acknowledging each. */
	private release(): void {
		const held = this.held;
		if (this.mode === MODE_DATA) return;
		while (held.length && this.queue.offer(held[0].bytes, AREA_MESSAGE)) {
			const h = held.shift()!;
			this.heldBytes -= h.bytes.byteLength;
			if (h.qos === 0) this.heldQos0--;
			else this.acknowledge(h.client, h.mid);
		}
		this.reportDrops();
	}

	private acknowledge(client: AtClient, mid: number): void {
		try {
			client.ack?.(mid);
		} catch {
			// a client that is gone acknowledges nothing; the broker keeps the message
		}
	}

	private reportDrops(): void {
		const reports = this.dropReports;
		for (const prefix in reports) {
			if (this.queue.offer("\r\n" + prefix + reports[prefix] + "\r\n", AREA_INFO)) delete reports[prefix];
		}
	}

	// AtIo

	line(text: string): void {
		const final = text === "OK" || text === "ERROR";
		// an answer that lost a line to a full reserve is not complete: say ERROR, not OK
		if (final && this.infoLost) text = "ERROR";
		if (this.queue.offer("\r\n" + text + "\r\n", final ? AREA_FINAL : AREA_INFO)) return;
		this.linesDropped++;
		if (!final) this.infoLost = true;
	}

	urc(parts: (string | ArrayBuffer)[]): void {
		const bytes = frame(parts);
		if (this.mode === MODE_DATA) {
			if (this.lateBytes + bytes.byteLength > LATE_MAX) this.linesDropped++;
			else {
				this.late.push(bytes);
				this.lateBytes += bytes.byteLength;
			}
			return;
		}
		if (!this.queue.offer(bytes, AREA_INFO)) this.linesDropped++;
	}

	message(client: AtClient, qos: number, mid: number, parts: (string | ArrayBuffer)[], drop: string): void {
		const bytes = frame(parts);
		// in data mode messages wait in the hold list: nothing may come before the result
		if (!this.held.length && this.mode !== MODE_DATA && this.queue.offer(bytes, AREA_MESSAGE)) {
			if (qos) this.acknowledge(client, mid);
			return;
		}
		const size = bytes.byteLength;
		if (this.held.length >= HOLD_COUNT || (qos === 0 && this.heldQos0 >= HOLD_QOS0) || (this.held.length && this.heldBytes + size > this.holdMax)) {
			// no room anywhere: say so (a QoS 1/2 message stays unacknowledged at the broker)
			this.messagesDropped++;
			this.dropReports[drop] = (this.dropReports[drop] ?? 0) + 1;
			this.reportDrops();
			return;
		}
		this.held.push({client, qos, mid, bytes, drop});
		this.heldBytes += size;
		if (qos === 0) this.heldQos0++;
	}

	dataMode(done: (data: ArrayBuffer | null) => void): void {
		this.dataDone = done;
		this.dataLen = 0;
		this.dataOverflow = false;
		this.mode = MODE_DATA;
		this.queue.offer("\r\n> ", AREA_FINAL);
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

	later(ms: number, cb: () => void): unknown {
		const t = this.timer;
		if (!t) return undefined;
		return t.set(() => {
			this.depth++;
			try {
				cb();
			} catch {
				// a failing timeout handler must not escape the timer callback
			} finally {
				this.depth--;
			}
			this.drain();
		}, ms);
	}

	cancel(handle: unknown): void {
		if (handle !== undefined && this.timer) this.timer.clear(handle);
	}
}

/** One URC as bytes: "\r\n" + parts + "\r\n". */
function frame(parts: (string | ArrayBuffer)[]): ArrayBuffer {
	let strings = true;
	for (const p of parts) if (typeof p !== "string") strings = false;
	if (strings) return ArrayBuffer.fromString("\r\n" + parts.join("") + "\r\n");
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
	return all.buffer;
}
