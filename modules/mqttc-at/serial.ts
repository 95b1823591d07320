/*
 * mqttc-at/serial: the bounded queue of bytes waiting for the serial line.
 *
 * A UART drains far slower than a network fills it (115200 baud: 11.5 KB/s), so what the
 * engine writes waits here until the transport takes it: the `write` callback returns how
 * many bytes it accepted (a number, possibly 0) or nothing for "all of them", and the app
 * calls engine.writable() when the transport has room again.
 *
 * The queue is split in two areas so that received messages can never crowd out the
 * answers to commands:
 *   message area  `max - reserve` bytes of +ECMTRECV/+MQTTSUBRECV lines (one message is
 *                 always accepted into an empty area, so a message larger than the area
 *                 is not stuck forever);
 *   reserve       `reserve` bytes for everything else: echo (at most ECHO_SHARE of it),
 *                 information lines and result URCs (all but FINAL_SHARE of it), and
 *                 final results (OK, ERROR, the data-mode prompt), which may use all of it.
 * offer() says whether bytes were queued; the caller decides what a refusal means.
 */

export const AREA_MESSAGE = 0;
export const AREA_ECHO = 1;
export const AREA_INFO = 2;
export const AREA_FINAL = 3;

/** Bytes of the reserve that only final results may use. */
export const FINAL_SHARE = 256;
/** Echo may fill at most this fraction (1/4) of the reserve. */
const ECHO_DIVISOR = 4;

export type SerialSink = (bytes: ArrayBuffer | string) => number | void;

export class SerialQueue {
	private readonly sink: SerialSink;
	private readonly messageMax: number;
	private readonly reserve: number;
	private items: ArrayBuffer[] = [];
	private areas: number[] = [];
	/** Bytes of items[0] already written. */
	private head = 0;
	private messageBytes = 0;
	private otherBytes = 0;

	constructor(sink: SerialSink, max: number, reserve: number) {
		this.sink = sink;
		this.reserve = reserve;
		this.messageMax = max - reserve;
	}

	/** Bytes waiting, both areas. */
	get queued(): number {
		return this.messageBytes + this.otherBytes;
	}

	/** Queues `data` in `area` if it fits there; writes what the transport takes. */
	offer(data: ArrayBuffer | string, area: number): boolean {
		const buf = typeof data === "string" ? ArrayBuffer.fromString(data) : data;
		const size = buf.byteLength;
		if (area === AREA_MESSAGE) {
			if (this.messageBytes > 0 && this.messageBytes + size > this.messageMax) return false;
			this.messageBytes += size;
		} else {
			const limit = area === AREA_FINAL ? this.reserve : area === AREA_INFO ? this.reserve - FINAL_SHARE : this.reserve / ECHO_DIVISOR;
			if (this.otherBytes + size > limit) return false;
			this.otherBytes += size;
		}
		this.items.push(buf);
		this.areas.push(area);
		this.pump();
		return true;
	}

	/** Hands queued bytes to the transport until it takes no more. */
	pump(): void {
		while (this.items.length) {
			const buf = this.items[0];
			const rest = buf.byteLength - this.head;
			let taken: number | void;
			try {
				taken = this.sink(this.head ? buf.slice(this.head) : buf);
			} catch {
				taken = rest; // the transport failed: these bytes are gone, go on with the rest
			}
			if (typeof taken === "number" && taken < rest) {
				if (taken > 0) this.release(taken);
				return;
			}
			this.release(rest);
		}
	}

	/** Forgets `n` written bytes of the first item (all of it when n is what is left). */
	private release(n: number): void {
		const area = this.areas[0];
		if (area === AREA_MESSAGE) this.messageBytes -= n;
		else this.otherBytes -= n;
		this.head += n;
		if (this.head >= this.items[0].byteLength) {
			this.items.shift();
			this.areas.shift();
			this.head = 0;
		}
	}
}
