/*
 * Counting and calibrating the calls into the bench socket (./benchsocket), for the apps
 * that use it (tests/apps/cost: mqttc; tests/apps/cost-sdk-mqtt: the SDK's mqtt.js); manifest
 * name "bench/socketcalls". Keys: "socket.write/<n>", "socket.read/<n>", "socket.close/<n>"
 * (the client's calls) and "socket.deliver/3" (the bench hands the client a piece: the
 * stand-in's deliver() calls the client's callback, where a device's event loop would).
 */
import { Socket as AnySocket } from "socket";
import type { Socket as BenchSocket } from "./benchsocket";
import { countCalls, byArity, plainCall, callWith, type Calibrator } from "bench/calls";

// The manifest maps "socket" to the bench socket; the typings only know the real one.
const Socket = AnySocket as unknown as typeof BenchSocket;

const FILE = "cost/benchsocket.ts";

type Callable = Record<string, (...args: unknown[]) => unknown>;

/** Counts every call of the bench socket's methods (all instances: they are the prototype's). */
export function countSocket(): void {
	const prototype = Socket.prototype;
	for (const name of ["write", "read", "close", "deliver"])
		countCalls(prototype, name, byArity(`socket.${name}`));
}

/** The bench socket's state as calibration sets it (private to the class). */
interface Inside {
	source?: ArrayBuffer;
	at: number;
	end: number;
}

/** A bench socket made for calibration, leaving Socket.last (the client's) as it was. */
function makeSocket(): BenchSocket {
	const last = Socket.last;
	const socket = new Socket({});
	Socket.last = last;
	return socket;
}

/** A callback that does nothing, for deliver(): what is measured is the way to it. */
function nothing(_message: number, _value?: number): void {
}

/** The calibrator of a bench socket key, or undefined. */
export function socketCalibrator(key: string): Calibrator | undefined {
	const [name, arity] = key.split("/");
	const nargs = Number(arity);
	if (!name.startsWith("socket."))
		return undefined;
	const socket = makeSocket();
	switch (name) {
	case "socket.write":
	case "socket.close":
		return plainCall(FILE, socket, name.slice(7), nargs);
	case "socket.read": {
		if (nargs === 0)
			return plainCall(FILE, socket, "read", 0, "native no-op, no arguments (returns the count)");
		// read(ArrayBuffer[, count]) returns a fresh ArrayBuffer of the bytes: against
		// ArrayBuffer.prototype.slice with as many arguments, which does just that natively.
		const source = new ArrayBuffer(64);
		const args = nargs === 1 ? [ArrayBuffer] : [ArrayBuffer, 64];
		const nativeArgs = nargs === 1 ? [0] : [0, 64];
		return {
			standIn: FILE,
			reference: "ArrayBuffer.prototype.slice, as many arguments (a fresh buffer, natively)",
			prepare() {
				const inside = socket as unknown as Inside;
				inside.source = source;
				inside.at = 0;
				inside.end = 64;
			},
			run(n, native) {
				if (native)
					callWith(n, source as unknown as Callable, "slice", nativeArgs);
				else
					callWith(n, socket as unknown as Callable, "read", args);
			},
		};
	}
	case "socket.deliver": {
		// deliver(bytes, start, end) calls socket.callback(2, end - start): against the
		// callback called natively with the same this and arguments (Function.prototype.call).
		const bytes = new Uint8Array(4);
		socket.callback = nothing;
		return {
			standIn: FILE,
			reference: "the callback called natively (Function.prototype.call), same this and arguments",
			run(n, native) {
				if (native)
					callWith(n, nothing as unknown as Callable, "call", [socket, 2, 4]);
				else
					callWith(n, socket as unknown as Callable, "deliver", [bytes, 0, 4]);
			},
		};
	}
	}
	return undefined;
}
