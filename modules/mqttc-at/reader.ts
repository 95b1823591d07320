/*
 * mqttc-at/reader: the serial input of the AT engine, byte by byte: command lines, their
 * echo, backspace, and the raw bytes of data mode.
 *
 * Lines end with CR, LF or CRLF, also when the CRLF is split across pieces. Echo returns the
 * command bytes exactly as received, terminators included; data-mode bytes are not echoed.
 * A line longer than the line buffer, or data longer than the data buffer, is not cut short:
 * its end is still awaited, and then reported as an overflow.
 */

const MODE_CMD = 0;
const MODE_DATA = 1;
const CR = 0x0d, LF = 0x0a, BS = 0x08, DEL = 0x7f, CTRL_Z = 0x1a, ESC = 0x1b;

/** Where the reader delivers what it assembled (the engine). */
export interface LineSink {
	/** Whether command bytes are echoed; read at every piece, as a command may change it. */
	readonly echo: boolean;
	/** Command bytes to echo: a copy of from..to of `u8`. */
	echoBytes(u8: Uint8Array, from: number, to: number): void;
	/** A line ended: its bytes (a view, valid until the next input), or undefined when it was too long. */
	lineEnded(line: Uint8Array | undefined): void;
	/** Data mode ended by Ctrl-Z (send) or Esc; the bytes (a view), or undefined when too many came. */
	dataEnded(send: boolean, data: Uint8Array | undefined): void;
}

export class LineReader {
	private readonly sink: LineSink;
	private readonly lineBuf: Uint8Array;
	private lineLen = 0;
	private overflow = false;
	private lastCR = false;
	private mode = MODE_CMD;
	private readonly dataBuf: Uint8Array;
	private dataLen = 0;
	private dataOverflow = false;

	constructor(sink: LineSink, lineMax: number, dataMax: number) {
		this.sink = sink;
		this.lineBuf = new Uint8Array(lineMax);
		this.dataBuf = new Uint8Array(dataMax);
	}

	/** Whether bytes go to data mode (between the "> " prompt and Ctrl-Z or Esc). */
	get inData(): boolean {
		return this.mode === MODE_DATA;
	}

	/** Data mode from the next byte on, with an empty data buffer. */
	enterData(): void {
		this.dataLen = 0;
		this.dataOverflow = false;
		this.mode = MODE_DATA;
	}

	/** Forgets the line being assembled (after a failure inside the engine). */
	resetLine(): void {
		this.lineLen = 0;
		this.overflow = false;
	}

	feed(u8: Uint8Array): void {
		const n = u8.length, sink = this.sink;
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
				if (sink.echo && end > echoFrom) sink.echoBytes(u8, echoFrom, end);
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
		if (sink.echo && this.mode === MODE_CMD && echoFrom < n) sink.echoBytes(u8, echoFrom, n);
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

	private endLine(): void {
		const len = this.lineLen, overflow = this.overflow;
		this.lineLen = 0;
		this.overflow = false;
		this.sink.lineEnded(overflow ? undefined : this.lineBuf.subarray(0, len));
	}

	private endData(send: boolean): void {
		const len = this.dataLen, overflow = this.dataOverflow;
		this.dataLen = 0;
		this.dataOverflow = false;
		this.mode = MODE_CMD;
		this.sink.dataEnded(send, overflow ? undefined : this.dataBuf.subarray(0, len));
	}
}
