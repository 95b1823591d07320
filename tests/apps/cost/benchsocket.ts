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
	private input: Uint8Array | undefined;
	private at = 0;
	private end = 0;
	/** Bytes the client wrote (counted, not kept). */
	written = 0;

	constructor(_dictionary: object) {
		Socket.last = this;
	}

	/** Hands bytes[start, end) to the client as one data callback. */
	deliver(bytes: Uint8Array, start: number, end: number): void {
		this.input = bytes;
		this.at = start;
		this.end = end;
		this.callback(2, end - start);
		this.input = undefined;
	}

	read(_type?: unknown, count?: number): ArrayBuffer | number {
		const input = this.input;
		if (!input) return 0;
		if (_type === undefined) return this.end - this.at;
		const n = count === undefined ? this.end - this.at : Math.min(count, this.end - this.at);
		const result = (input.buffer as ArrayBuffer).slice(input.byteOffset + this.at, input.byteOffset + this.at + n);
		this.at += n;
		return result;
	}

	write(...items: (ArrayBuffer | ArrayBufferView | number)[]): number {
		for (let i = 0; i < items.length; i++) {
			const item = items[i];
			this.written += typeof item === "number" ? 1 : item.byteLength;
		}
		return 1 << 20;
	}

	close(): void {
	}
}
