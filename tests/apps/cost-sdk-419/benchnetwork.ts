/*
 * The ECMA-419 network stand-ins of the SDK cost bench, passed to the client as
 * `socket.io` and `dns.io` (as `device.network.mqtt` would): no network, no host round trip,
 * so the XS meter counts the client's own work. BenchTCP delivers data as mqttc's bench
 * socket (tests/apps/cost/benchsocket.ts) does, one onReadable per piece, and reads the way
 * the SDK's TCP io does (modules/io/socket/lwip/tcp.c): format "number" gives one byte;
 * "buffer" gives a fresh ArrayBuffer of `count` bytes (all available without an argument)
 * or fills the buffer given and returns its length; more than is available throws.
 * write() takes a buffer (options such as {more} are accepted and ignored) and returns the
 * free space. Bytes the client leaves unread when onReadable returns are an error: the bench
 * would otherwise measure messages that were never read.
 */
type Readable = (this: BenchTCP, count: number) => void;
type Writable = (this: BenchTCP, count: number) => void;

/** What write() reports free: more than any bench message needs. */
const FREE = 1 << 20;

export class BenchTCP {
	static last: BenchTCP | undefined;
	format: "number" | "buffer" = "buffer";
	private readonly onReadable: Readable;
	private readonly onWritable: Writable;
	private input: Uint8Array | undefined;
	private at = 0;
	private end = 0;

	constructor(options: { onReadable: Readable; onWritable: Writable }) {
		this.onReadable = options.onReadable;
		this.onWritable = options.onWritable;
		BenchTCP.last = this;
	}

	/** The connection is up: the client may write (it sends CONNECT). */
	connected(): void {
		this.onWritable(FREE);
	}

	/** Hands bytes[start, end) to the client as one onReadable. */
	deliver(bytes: Uint8Array, start: number, end: number): void {
		this.input = bytes;
		this.at = start;
		this.end = end;
		this.onReadable(end - start);
		const unread = end - this.at;
		this.input = undefined;
		this.at = this.end = 0;
		if (unread)
			throw new Error(`the client left ${unread} of ${end - start} bytes unread`);
	}

	read(what?: number | ArrayBuffer | ArrayBufferView<ArrayBuffer>): number | ArrayBuffer | undefined {
		// First and short: the client parses every header and topic byte with one call here,
		// so this path's cost (about 25 compute units) is counted once per such byte.
		if (this.format === "number")
			return this.at < this.end ? this.input![this.at++] : undefined;
		const input = this.input;
		const available = this.end - this.at;
		if (!input || !available)
			return undefined;
		const into = typeof what === "object" ? what : undefined;
		const count = typeof what === "object" ? what.byteLength : what ?? available;
		if (count <= 0 || count > available)
			throw new Error("invalid");
		const from = input.byteOffset + this.at;
		this.at += count;
		const source = input.buffer as ArrayBuffer;
		if (!into)
			return source.slice(from, from + count);
		const target = ArrayBuffer.isView(into) ? new Uint8Array(into.buffer, into.byteOffset, count) : new Uint8Array(into, 0, count);
		target.set(new Uint8Array(source, from, count));
		return count;
	}

	/** Takes the data and reports the free space; counts nothing, as mqttc's stand-in socket. */
	write(_data: ArrayBuffer | ArrayBufferView | number, _options?: object): number {
		return FREE;
	}

	close(): void {
	}
}

/** Resolves every name at once, so the client opens its socket inside its constructor. */
export class BenchDNS {
	constructor(_options: object) {
	}
	resolve(request: { host: string; onResolved: (host: string, address: string) => void }): void {
		request.onResolved(request.host, "127.0.0.1");
	}
}
