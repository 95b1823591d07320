/*
 * The cost bench's stand-in for Moddable's `socket`: no network, no host round trip, so the
 * XS meter counts the client's own work. It behaves as a device socket does where the
 * client can tell: read(ArrayBuffer) returns a fresh buffer of what arrived, write() takes
 * several buffers and numbers and returns the free space, data comes one callback per piece.
 * The bench reaches the socket the client opened through `BenchSocket.last`.
 */
export class Socket {
	static last: Socket | undefined;
	callback: (message: number, value?: number) => void = () => {};
	/** What the current data callback offers: source[at, end). */
	private source: ArrayBuffer | undefined;
	private at = 0;
	private end = 0;

	constructor(_dictionary: object) {
		Socket.last = this;
	}

	/** Hands bytes[start, end) to the client as one data callback (`bytes` must start at the
	 * beginning of its buffer, as the bench's packets do). */
	deliver(bytes: Uint8Array, start: number, end: number): void {
		this.source = bytes.buffer as ArrayBuffer;
		this.at = start;
		this.end = end;
		this.callback(2, end - start);
		this.source = undefined;
	}

	/** As a device's read: () the bytes left, (ArrayBuffer[, count]) a fresh buffer of them.
	 * Kept to a few bytecodes: the bench counts the client's work, not the stand-in's. */
	read(type?: unknown, count?: number): ArrayBuffer | number {
		const at = this.at;
		let n = this.end - at;
		if (type === undefined || this.source === undefined) return this.source === undefined ? 0 : n;
		if (count !== undefined && count < n) n = count;
		this.at = at + n;
		return this.source.slice(at, at + n);
	}

	/** Takes any number of buffers and numbers, as Moddable's does; declares none, as a native
	 * function would, so that the meter charges the call and not a parameter list. */
	write(): number {
		return 1048576;
	}

	close(): void {
	}
}
