/*
 * mqttc-at/engine: the transport-independent AT command engine.
 *
 * Bytes of the serial stream go in through input() in pieces of any size (assembled into
 * lines by mqttc-at/reader); responses, echo, the data-mode prompt and unsolicited result
 * codes (URCs) go out through the `write` callback, via a bounded queue (mqttc-at/serial):
 * `write` returns how many bytes the transport took (or nothing for all), and the app calls
 * writable() when it has room again. Every response and URC is framed as a modem does in
 * verbose mode: "\r\n" + text + "\r\n". Received messages wait for room in the hold list
 * (mqttc-at/hold), which also holds back their acknowledgements.
 *
 * This module answers the basic commands (AT, ATE, ATI, AT+GMR) and hands the others to the
 * dialects (mqttc-at/ecmt, mqttc-at/mqttset); client events wait while a command runs
 * (mqttc-at/events).
 *
 * Bounds (all per engine instance):
 *   lineMax   command line bytes (default 2048): a longer line is discarded up to its
 *             terminator and answered with ERROR.
 *   dataMax   ECMTPUB data-mode payload bytes (default 4096): more bytes before Ctrl-Z are
 *             dropped and the publish is answered with ERROR when Ctrl-Z arrives.
 *   txMax     bytes waiting for the serial line (default 8192), of which RESERVE (2048) are
 *             kept for echo, answers and final results (see mqttc-at/serial).
 *   holdMax   bytes of messages waiting for room (default 32768; see mqttc-at/hold).
 * Nothing thrown inside reaches the caller of input(): a failing command answers ERROR.
 */

import type {AtClient, AtCreate, AtDialect, AtEngineOptions, AtIo} from "mqttc-at/types";
import {parseLine, KIND_EXEC} from "mqttc-at/parser";
import {SerialQueue, AREA_ECHO, AREA_INFO, AREA_FINAL} from "mqttc-at/serial";
import {LineReader, type LineSink} from "mqttc-at/reader";
import {HoldList} from "mqttc-at/hold";
import {EventQueue} from "mqttc-at/events";
import {frame} from "mqttc-at/frame";
import {Ecmt} from "mqttc-at/ecmt";
import {MqttSet} from "mqttc-at/mqttset";

export {HOLD_COUNT, HOLD_QOS0} from "mqttc-at/hold";

export const VERSION = "0.1.0";

/** Bytes of the serial queue kept for echo, answers and final results. */
export const RESERVE = 2048;
/** Bytes of result URCs kept while in data mode. */
const LATE_MAX = 1024;

function clampSize(v: number | undefined, dflt: number, min: number, max: number): number {
	if (typeof v !== "number" || !(v >= min)) return dflt;
	return v > max ? max : Math.floor(v);
}

export class AtEngine implements AtIo, LineSink {
	readonly create: AtCreate;
	readonly rxSize: number;
	/** Whether command bytes are echoed (ATE0/ATE1). */
	echo: boolean;

	private readonly queue: SerialQueue;
	private readonly reader: LineReader;
	private readonly hold: HoldList;
	private readonly events: EventQueue;
	private readonly versionLine: string;
	private dataDone: ((data: ArrayBuffer | null) => void) | null = null;
	private infoLost = false;
	/** Result URCs that came during data mode (at most LATE_MAX bytes), written after its result. */
	private late: ArrayBuffer[] = [];
	private lateBytes = 0;
	/** Echo bytes dropped because the serial queue was full (a real UART never outruns its own echo). */
	echoDropped = 0;
	/** Result URCs and information lines dropped because the reserve was full. */
	linesDropped = 0;
	private isBusy = false;
	private readonly dialects: AtDialect[];

	constructor(options: AtEngineOptions) {
		this.create = options.create ?? (() => null);
		this.reader = new LineReader(this, clampSize(options.lineMax, 2048, 64, 65536), clampSize(options.dataMax, 4096, 16, 1 << 20));
		const txMax = clampSize(options.txMax, 8192, RESERVE + 512, 1 << 20);
		this.queue = new SerialQueue(options.write, txMax, RESERVE);
		this.hold = new HoldList(this.queue, clampSize(options.holdMax, 32768, 0, 1 << 22));
		this.rxSize = clampSize(options.rxSize, 4096, 256, 1 << 20);
		this.events = new EventQueue(options.timer);
		this.echo = options.echo ?? true;
		this.versionLine = options.version ?? "mqttc-at " + VERSION;
		this.dialects = [new Ecmt(this), new MqttSet(this)];
	}

	/** Received messages dropped because neither the serial queue nor the hold list had room (reported by URC). */
	get messagesDropped(): number {
		return this.hold.dropped;
	}

	/** Client events dropped because too many waited for a command (for diagnostics). */
	get eventsDropped(): number {
		return this.events.dropped;
	}

	/** Feeds a piece of the serial byte stream. Never throws. */
	input(chunk: ArrayBuffer | Uint8Array | string): void {
		try {
			let u8: Uint8Array;
			if (typeof chunk === "string") u8 = new Uint8Array(ArrayBuffer.fromString(chunk));
			else if (chunk instanceof Uint8Array) u8 = chunk;
			else u8 = new Uint8Array(chunk);
			this.reader.feed(u8);
		} catch {
			// only reachable through a bug: start over with a clean line
			this.reader.resetLine();
			this.events.reset();
			this.line("ERROR");
		}
	}

	/** The transport has room again: writes what waits, then messages held back. Never throws. */
	writable(): void {
		try {
			this.queue.pump();
			// in data mode messages stay held: nothing may come before the data-mode result
			if (!this.reader.inData) this.hold.release();
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

	// LineSink (mqttc-at/reader)

	echoBytes(u8: Uint8Array, from: number, to: number): void {
		const copy = new Uint8Array(to - from);
		copy.set(u8.subarray(from, to));
		if (!this.queue.offer(copy.buffer, AREA_ECHO)) this.echoDropped += to - from;
	}

	lineEnded(line: Uint8Array | undefined): void {
		this.infoLost = false;
		if (!line) {
			this.line("ERROR");
			return;
		}
		if (line.length === 0) return;
		let text: string;
		try {
			text = String.fromArrayBuffer(line.slice().buffer);
		} catch {
			this.line("ERROR");
			return;
		}
		this.events.enter();
		try {
			this.execute(text);
		} catch {
			this.line("ERROR");
		} finally {
			this.events.leave();
		}
		this.events.drain();
	}

	dataEnded(send: boolean, data: Uint8Array | undefined): void {
		const done = this.dataDone;
		this.dataDone = null;
		this.infoLost = false;
		this.events.enter();
		try {
			if (!send) this.line("OK"); // Esc: cancelled, nothing published
			else if (!data || !done) this.line("ERROR");
			else done(data.slice().buffer);
		} catch {
			this.line("ERROR");
		} finally {
			this.events.leave();
		}
		// what waited during data mode goes out now, after the data-mode result
		const late = this.late;
		this.late = [];
		this.lateBytes = 0;
		for (const bytes of late) if (!this.queue.offer(bytes, AREA_INFO)) this.linesDropped++;
		this.writable();
		this.events.drain();
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
		if (this.reader.inData) {
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
		this.hold.add(client, qos, mid, frame(parts), drop, !this.reader.inData);
	}

	dataMode(done: (data: ArrayBuffer | null) => void): void {
		this.dataDone = done;
		this.reader.enterData();
		this.queue.offer("\r\n> ", AREA_FINAL);
	}

	busy(on: boolean): void {
		this.isBusy = on;
	}

	post(target: AtDialect, client: any, event: string, data: any, payload: any, metas: any): void {
		this.events.post(target, client, event, data, payload, metas);
	}

	later(ms: number, cb: () => void): unknown {
		return this.events.later(ms, cb);
	}

	cancel(handle: unknown): void {
		this.events.cancel(handle);
	}
}
