/*
 * A stand-in for Moddable's `socket` module for fuzzing: no network. The fuzz driver reaches
 * the socket the client opened through `LoopSocket.last(owner)` and plays the broker's side:
 * it connects it, hands it bytes (message 2) and sees what the client writes. The "last
 * socket" lives on an object the app passes in, not at module level.
 */
export interface LoopRegistry { socket?: Socket; written: number; closed: number }

export class Socket {
	callback: (message: number, value?: number) => void = () => {};
	private pending: Uint8Array | undefined;
	private open = true;
	static registry: LoopRegistry | undefined;

	constructor(_dictionary: object) {
		const registry = Socket.registry;
		if (registry) registry.socket = this;
	}

	/** Delivers bytes as one data callback. */
	deliver(bytes: Uint8Array): void {
		if (!this.open) return;
		this.pending = bytes;
		this.callback(2, bytes.length);
		this.pending = undefined;
	}

	read(_type: unknown): ArrayBuffer {
		const bytes = this.pending;
		if (!bytes) throw new Error("read outside a data callback");
		this.pending = undefined;
		return bytes.slice().buffer;
	}

	write(...items: (ArrayBuffer | ArrayBufferView)[]): number {
		if (!this.open) throw new Error("write on closed socket");
		const registry = Socket.registry;
		for (const item of items) if (registry) registry.written += item.byteLength;
		return 1 << 20;
	}

	close(): void {
		if (this.open && Socket.registry) Socket.registry.closed++;
		this.open = false;
	}

	get isOpen(): boolean {
		return this.open;
	}
}
