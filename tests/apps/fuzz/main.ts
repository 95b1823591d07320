/*
 * Fuzzing app: mutations of valid packets (from mqtt-packet, sent by the test) and random
 * bytes are fed (1) to a bare Decoder and (2) to a whole client whose socket is the loop
 * socket above. Nothing may throw out of either, the receive buffer must stay the one
 * allocated at the start, and the heap must stay flat (the test compares meter readings
 * between batches).
 */
import { Decoder } from "mqttc/decoder";
import mqtt from "mqttc";
import { Socket as AnySocket } from "socket";
import type { Socket as LoopSocket, LoopRegistry } from "./loopsocket";

// The manifest maps "socket" to the loop socket; the typings only know the real one.
const Socket = AnySocket as unknown as typeof LoopSocket;
type Socket = LoopSocket;

class Fuzzer {
	seed = 1;
	corpus: Uint8Array[] = [];
	registry: LoopRegistry = { written: 0, closed: 0 };
	decoder: Decoder | undefined;
	buffer: Uint8Array | undefined;
	client: ReturnType<typeof mqtt.create> = null;
	stats = { closes: 0, cases: 0, bytes: 0, packets: 0, parts: 0, faults: 0, escapes: 0, events: 0, reconnects: 0, errors: 0 };
	firstEscape = "";

	random(): number {
		// xorshift32: deterministic for a given seed
		let x = this.seed;
		x ^= x << 13; x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5; x >>>= 0;
		this.seed = x;
		return x / 4294967296;
	}
	int(n: number): number {
		return Math.floor(this.random() * n);
	}

	/** One test case: a mutated corpus packet, a concatenation, or random bytes. */
	makeCase(): Uint8Array {
		const kind = this.int(10);
		if (kind === 0 || !this.corpus.length) {
			const out = new Uint8Array(1 + this.int(64));
			for (let i = 0; i < out.length; i++) out[i] = this.int(256);
			return out;
		}
		const base = this.corpus[this.int(this.corpus.length)];
		let out = base.slice();
		const mutations = 1 + this.int(4);
		for (let m = 0; m < mutations; m++) {
			const what = this.int(6);
			if (what === 0 && out.length) out[this.int(out.length)] = this.int(256);                      // byte
			else if (what === 1 && out.length) out[this.int(out.length)] ^= 1 << this.int(8);             // bit
			else if (what === 2 && out.length > 1) out = out.slice(0, this.int(out.length));             // truncate
			else if (what === 3) {                                                                      // append
				const extra = this.corpus[this.int(this.corpus.length)];
				const joined = new Uint8Array(out.length + extra.length);
				joined.set(out, 0);
				joined.set(extra, out.length);
				out = joined;
			}
			else if (what === 4 && out.length > 1) out[1] = [0x7F, 0x80, 0xFF, 0, 2][this.int(5)];        // length byte
			else if (out.length) out[0] = (this.int(16) << 4) | this.int(16);                              // header
		}
		return out;
	}
}

const fuzzer = new Fuzzer();

function hexToBytes(hex: string): Uint8Array {
	const out = new Uint8Array(hex.length >> 1);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
	return out;
}

export function setup(seed: number, corpusHex: string[], rxSize: number): boolean {
	fuzzer.seed = seed >>> 0 || 1;
	fuzzer.corpus = corpusHex.map(hexToBytes);
	fuzzer.decoder = new Decoder(rxSize, {
		publishReceived: () => { fuzzer.stats.packets++; },
		ackReceived: () => { fuzzer.stats.packets++; },
		packetReceived: () => { fuzzer.stats.packets++; },
		partReceived: () => { fuzzer.stats.parts++; },
		protocolFault: () => { fuzzer.stats.faults++; },
	});
	fuzzer.buffer = fuzzer.decoder.buffer;
	Socket.registry = fuzzer.registry;
	const client = mqtt.create(null, "loop", 1883, false, { rxSize, oversize: "chunk" });
	if (!client) return false;
	client.auth("fuzz", "", "", false);
	client.on((_c, event) => {
		fuzzer.stats.events++;
		if (event === "error") fuzzer.stats.errors++;
	});
	fuzzer.client = client;
	return true;
}

const CONNACK = Uint8Array.of(0x20, 2, 0, 0);

/** Makes sure the client has a live socket that has seen CONNACK. */
function ensureConnected(): Socket {
	const client = fuzzer.client!;
	const registry = fuzzer.registry;
	if (!client.ready()) {
		if (client.state() === mqtt.STATE_DISCONNECT) {
			client.connect();
			fuzzer.stats.reconnects++;
		}
		const socket = registry.socket!;
		socket.callback(1);
		socket.deliver(CONNACK);
	}
	return registry.socket!;
}

/** Runs `count` cases against the decoder and the client; returns the running totals. */
export function run(count: number) {
	const decoder = fuzzer.decoder!;
	for (let i = 0; i < count; i++) {
		const bytes = fuzzer.makeCase();
		fuzzer.stats.cases++;
		fuzzer.stats.bytes += bytes.length;
		try {
			// Feed in one or two pieces at a random split point.
			const cut = fuzzer.int(bytes.length + 1);
			const ok = decoder.feed(bytes.subarray(0, cut)) && decoder.feed(bytes.subarray(cut));
			// After a fault a decoder must be reset; a packet left half-way is sometimes kept
			// so that the next case continues it.
			if (!ok || fuzzer.int(8) !== 0) decoder.reset();
		}
		catch (e) {
			fuzzer.stats.escapes++;
			fuzzer.firstEscape ||= `decoder: ${(e as Error).message}`;
			decoder.reset();
		}
		try {
			const socket = ensureConnected();
			socket.deliver(bytes);
			// Now and then the peer goes away: a packet that claimed a huge length would
			// otherwise swallow every case after it, as it would on a real link.
			if (fuzzer.int(64) === 0 && socket.isOpen) {
				fuzzer.stats.closes++;
				socket.callback(-1);
			}
		}
		catch (e) {
			fuzzer.stats.escapes++;
			fuzzer.firstEscape ||= `client: ${(e as Error).message}`;
		}
		if (decoder.buffer !== fuzzer.buffer || decoder.buffer.byteLength !== fuzzer.buffer!.byteLength) {
			fuzzer.stats.escapes++;
			fuzzer.firstEscape ||= "the receive buffer was replaced or resized";
		}
	}
	return { ...fuzzer.stats, firstEscape: fuzzer.firstEscape, seed: fuzzer.seed };
}

/** Collects garbage (xsnap's global gc) so that the next meter reading counts live slots only. */
export function collect(): void {
	(globalThis as unknown as { gc?: () => void }).gc?.();
}
