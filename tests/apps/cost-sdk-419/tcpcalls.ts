/*
 * Counting and calibrating the calls into the ECMA-419 bench's TCP stand-in (./benchnetwork);
 * manifest name "cost-sdk/tcpcalls". Keys:
 * - "tcp.write/<n>", "tcp.close/<n>";
 * - "tcp.read(byte)/0": a read in format "number" (one byte; the client parses every header
 *   and topic byte so); "tcp.read(count)/1": format "buffer", a fresh ArrayBuffer of count
 *   bytes; "tcp.read(into)/1": format "buffer" into the buffer given (no calibration: the
 *   bench's app does not use it);
 * - "tcp.format=/1": the client sets `format` (a native accessor on a device's TCP socket, a
 *   plain field on the stand-in);
 * - "tcp.deliver/3": the bench hands the client a piece (the stand-in's deliver() calls the
 *   client's onReadable, where a device's event loop would).
 */
import { BenchTCP } from "cost-sdk/benchnetwork";
import { countCalls, countSets, byArity, plainCall, callWith, nativeNothing, type Calibrator } from "bench/calls";

const FILE = "cost-sdk-419/benchnetwork.ts";

/** The stand-in's state as calibration sets it (private to the class). */
interface Inside {
	input: Uint8Array | undefined;
	at: number;
	end: number;
}

type Callable = Record<string, (...args: unknown[]) => unknown>;

/** Counts every call of the TCP stand-in's methods, and every `format` set on `socket`. */
export function countTCP(socket: BenchTCP): void {
	const prototype = BenchTCP.prototype;
	for (const name of ["write", "close", "deliver"])
		countCalls(prototype, name, byArity(`tcp.${name}`));
	countCalls(prototype, "read", (self, args) => {
		const kind = (self as BenchTCP).format === "number" ? "byte" : typeof args[0] === "object" ? "into" : "count";
		return `tcp.read(${kind})/${args.length}`;
	});
	countSets(socket, "format", "tcp.format=/1");
}

/** A callback that does nothing: what is measured is the way to it. */
function nothing(_count?: number): void {
}

/** A TCP stand-in made for calibration, leaving BenchTCP.last (the client's) as it was. */
function makeTCP(): BenchTCP {
	const last = BenchTCP.last;
	const socket = new BenchTCP({ onReadable: nothing, onWritable: nothing });
	BenchTCP.last = last;
	return socket;
}

/** The calibrator of a TCP stand-in key, or undefined. */
export function tcpCalibrator(key: string): Calibrator | undefined {
	const [name, arity] = key.split("/");
	const nargs = Number(arity);
	if (!name.startsWith("tcp."))
		return undefined;
	const socket = makeTCP();
	const inside = socket as unknown as Inside;
	switch (name) {
	case "tcp.write":
	case "tcp.close":
		return plainCall(FILE, socket, name.slice(4), nargs);
	case "tcp.read(byte)":
		return {
			...plainCall(FILE, socket, "read", nargs, "native no-op, no arguments (returns the byte)"),
			prepare(n) {
				socket.format = "number";
				inside.input = new Uint8Array(n);
				inside.at = 0;
				inside.end = n;
			},
		};
	case "tcp.read(count)": {
		// a fresh ArrayBuffer of 64 bytes: against ArrayBuffer.prototype.slice(0) of a
		// 64-byte buffer, which does that natively
		const source = new ArrayBuffer(64);
		return {
			standIn: FILE,
			reference: "ArrayBuffer.prototype.slice, one argument (a fresh buffer, natively)",
			prepare(n) {
				socket.format = "buffer";
				inside.input = new Uint8Array(64 * n);
				inside.at = 0;
				inside.end = 64 * n;
			},
			run(n, native) {
				if (native)
					callWith(n, source as unknown as Callable, "slice", [0]);
				else
					callWith(n, socket as unknown as Callable, "read", [64]);
			},
		};
	}
	case "tcp.format=": {
		// a plain field on the stand-in; a device's is an accessor: against a native setter
		const native = Object.create(Object.defineProperty({}, "format", { get: nativeNothing, set: nativeNothing })) as { format: string };
		return {
			standIn: FILE,
			reference: "a native setter (an accessor whose set is a native no-op)",
			run(n, isNative) {
				const target = isNative ? native : socket;
				for (let i = 0; i < n; i++)
					target.format = "number";
			},
		};
	}
	case "tcp.deliver": {
		// deliver(bytes, start, end) calls onReadable(end - start): against onReadable called
		// natively with the same this and argument (Function.prototype.call); no bytes, so
		// none is left unread
		const bytes = new Uint8Array(4);
		return {
			standIn: FILE,
			reference: "the callback called natively (Function.prototype.call), same this and arguments",
			run(n, native) {
				if (native)
					callWith(n, nothing as unknown as Callable, "call", [socket, 0]);
				else
					callWith(n, socket as unknown as Callable, "deliver", [bytes, 0, 0]);
			},
		};
	}
	}
	return undefined;
}
