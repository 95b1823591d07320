/*
 * The cost benches' count of calls into the stand-ins (manifest name "bench/calls"; used by
 * tests/apps/cost and tests/apps/cost-sdk-*, driven by tests/lib/cost.mjs countScenario and
 * calibrateCall). The counting wrappers are installed only for the counting turns, which are
 * not the measured ones: the stand-ins themselves count nothing, so the gross figures do not
 * change.
 *
 * A call is counted under a key "<stand-in>.<what>/<arguments>", e.g. "socket.write/3"; each
 * app's calibrators know the keys of its stand-ins and time each one against a native call
 * of the same shape (the same number of arguments, the same kind of result, the same
 * callback invoked), so that stand-in minus native is the stand-in's own JavaScript work.
 */

type AnyFunction = (...args: unknown[]) => unknown;

const counts: Record<string, number> = {};
const undo: (() => void)[] = [];

/** Adds `times` calls of `key`. */
export function count(key: string, times = 1): void {
	counts[key] = (counts[key] ?? 0) + times;
}

/** The counts since the last reset(), by key. */
export function counted(): Record<string, number> {
	return { ...counts };
}

/** Forgets the counts. */
export function reset(): void {
	for (const key of Object.keys(counts))
		delete counts[key];
}

/**
 * Replaces target[name] (a method or a static function, own or inherited) by one that counts
 * each call under `key(self, args)` (computed before the call: a stand-in's state may decide
 * the kind), then `after(result)` if given, and does what the original did.
 */
export function countCalls(target: object, name: string, key: (self: unknown, args: unknown[]) => string,
	after?: (result: unknown) => void): void {
	const holder = target as Record<string, AnyFunction>;
	const own = Object.getOwnPropertyDescriptor(target, name);
	const original = holder[name];
	if (typeof original !== "function")
		throw new Error(`bench/calls: ${name} is not a function`);
	Object.defineProperty(target, name, {
		value: function (this: unknown, ...args: unknown[]): unknown {
			count(key(this, args));
			const result = original.apply(this, args);
			after?.(result);
			return result;
		},
		writable: true, configurable: true, enumerable: own?.enumerable ?? false,
	});
	undo.push(own ? () => Object.defineProperty(target, name, own) : () => delete holder[name]);
}

/**
 * Counts every assignment to the own data property `name` of `object` under `key` (a device's
 * socket has an accessor there, a native call; the stand-in a plain field): an accessor for
 * the counting turns, the data property with its last value afterwards.
 */
export function countSets(object: object, name: string, key: string): void {
	const own = Object.getOwnPropertyDescriptor(object, name);
	if (!own || !("value" in own))
		throw new Error(`bench/calls: ${name} is not an own data property`);
	let value = own.value as unknown;
	Object.defineProperty(object, name, {
		get: () => value,
		set: (v: unknown) => { count(key); value = v; },
		configurable: true, enumerable: own.enumerable,
	});
	undo.push(() => Object.defineProperty(object, name, { ...own, value }));
}

/** Puts back everything countCalls and countSets replaced, last first. */
export function restore(): void {
	while (undo.length)
		undo.pop()!();
}

/** The key of a call with `args`: "<prefix>/<number of arguments>". */
export function byArity(prefix: string): (self: unknown, args: unknown[]) => string {
	return (_self, args) => `${prefix}/${args.length}`;
}

/** Runs target[name] `n` times with `args` spelled out (no spread: a call site of exactly
 * that many arguments, as the client's); up to 6 arguments. */
export function callWith(n: number, target: Record<string, AnyFunction>, name: string, args: unknown[]): void {
	const [a, b, c, d, e, f] = args;
	switch (args.length) {
	case 0: for (let i = 0; i < n; i++) target[name](); break;
	case 1: for (let i = 0; i < n; i++) target[name](a); break;
	case 2: for (let i = 0; i < n; i++) target[name](a, b); break;
	case 3: for (let i = 0; i < n; i++) target[name](a, b, c); break;
	case 4: for (let i = 0; i < n; i++) target[name](a, b, c, d); break;
	case 5: for (let i = 0; i < n; i++) target[name](a, b, c, d, e); break;
	case 6: for (let i = 0; i < n; i++) target[name](a, b, c, d, e, f); break;
	default: throw new Error(`bench/calls: ${args.length} arguments`);
	}
}

/** A native function that does nothing with any arguments (Function.prototype): the
 * reference for a stand-in call whose device counterpart is one native call. */
export const nativeNothing = Function.prototype as unknown as AnyFunction;

/** n arguments of no particular value: the stand-ins ignore them, the native reference too. */
export function someArgs(n: number): unknown[] {
	const bytes = new Uint8Array(4);
	return [bytes, bytes, 1, 2, bytes, 3].slice(0, n);
}

/**
 * How one kind of call is timed (tests/lib/cost.mjs calibrateCall): prepare(n, native) sets
 * the scene outside the measured turn, run(n, native) makes n calls of the stand-in (native
 * false) or of its native reference (true) in the measured turn, done() clears up after it.
 * run(0) is the baseline, so the loop and the dispatch do not count.
 */
export interface Calibrator {
	/** The stand-in's file, and what the native reference is, for the bench's table. */
	standIn: string;
	reference: string;
	/** The most calls one run can make (default: any number). */
	most?: number;
	/** Keys whose own cost is part of what run() measures and is not this key's: the bench
	 * subtracts their own costs from this one's. */
	minus?: string[];
	prepare?(n: number, native: boolean): void;
	run(n: number, native: boolean): void;
	done?(): void;
}

/** The functions an app exports for calibrateCall(): `find` gives a key's calibrator. */
export function calibration(find: (key: string) => Calibrator | undefined): {
	calibrateInfo(key: string): { standIn: string; reference: string; most: number | null; minus: string[] };
	calibratePrepare(key: string, native: boolean, n: number): void;
	calibrate(n: number, key: string, native: boolean): void;
	calibrateDone(): void;
} {
	let current: Calibrator | undefined;
	const calibrator = (key: string): Calibrator => {
		const found = find(key);
		if (!found)
			throw new Error(`no calibration for stand-in call ${key}`);
		return found;
	};
	return {
		calibrateInfo(key) {
			const { standIn, reference, most, minus } = calibrator(key);
			return { standIn, reference, most: most ?? null, minus: minus ?? [] };
		},
		calibratePrepare(key, native, n) {
			current = calibrator(key);
			current.prepare?.(n, native);
		},
		calibrate(n, _key, native) {
			current!.run(n, native);
		},
		calibrateDone() {
			current?.done?.();
			current = undefined;
		},
	};
}

/** The three functions an app exports for countScenario(): `install` puts the counting
 * wrappers on its stand-ins (with countCalls and countSets). */
export function counting(install: () => void): {
	countStart(): void;
	countTake(): Record<string, number>;
	countStop(): void;
} {
	return {
		countStart() {
			restore();
			reset();
			install();
		},
		countTake() {
			const taken = counted();
			reset();
			return taken;
		},
		countStop() {
			restore();
			reset();
		},
	};
}

/** A calibrator for a call whose stand-in ignores its arguments and whose device
 * counterpart is one native call: `standIn[name](...args)` against a native no-op held the
 * same way (inherited, as a class's method is). */
export function plainCall(file: string, standIn: object, name: string, nargs: number, reference = "native no-op, same arguments"): Calibrator {
	const native = Object.create({ [name]: nativeNothing }) as Record<string, AnyFunction>;
	const args = someArgs(nargs);
	return {
		standIn: file,
		reference,
		run(n, isNative) {
			callWith(n, isNative ? native : standIn as Record<string, AnyFunction>, name, args);
		},
	};
}

/** Counts the host's text conversions (ArrayBuffer.fromString, String.fromArrayBuffer): JS
 * over xsnap's TextEncoder/TextDecoder here (hosts/xs/guest/boot.js), natives on a device. */
export function countConversions(): void {
	countCalls(ArrayBuffer, "fromString", byArity("ArrayBuffer.fromString"));
	countCalls(String, "fromArrayBuffer", byArity("String.fromArrayBuffer"));
}

/** xsnap's TextEncoder and TextDecoder (the typings of this project do not have them). */
const { TextEncoder, TextDecoder } = globalThis as unknown as {
	TextEncoder: new () => object;
	TextDecoder: new (label: string, options: object) => object;
};

/** The calibrator of a conversion key, or undefined: the host's wrapper against the native
 * it wraps (xsnap's TextEncoder.encode, TextDecoder.decode) called with as many arguments. */
export function conversionCalibrator(key: string): Calibrator | undefined {
	const [name, arity] = key.split("/");
	const nargs = Number(arity);
	const text = "bench/topic/0123";
	const bytes = new Uint8Array(ArrayBuffer.fromString(text));
	if (name === "ArrayBuffer.fromString" && nargs === 1) {
		const encoder = new TextEncoder() as unknown as Record<string, AnyFunction>;
		return {
			standIn: "hosts/xs/guest/boot.js",
			reference: "TextEncoder.prototype.encode (native), same argument",
			run(n, native) {
				callWith(n, native ? encoder : ArrayBuffer as unknown as Record<string, AnyFunction>, native ? "encode" : "fromString", [text]);
			},
		};
	}
	if (name === "String.fromArrayBuffer" && nargs >= 1 && nargs <= 3) {
		const decoder = new TextDecoder("utf-8", { fatal: true }) as unknown as Record<string, AnyFunction>;
		const args = [bytes.buffer, 0, bytes.length].slice(0, nargs);
		const nativeArgs = [bytes, {}, 0].slice(0, nargs);        // decode(input, options); a third is ignored
		return {
			standIn: "hosts/xs/guest/boot.js",
			reference: "TextDecoder.prototype.decode (native, fatal) of the same bytes, as many arguments",
			run(n, native) {
				callWith(n, native ? decoder : String as unknown as Record<string, AnyFunction>, native ? "decode" : "fromArrayBuffer", native ? nativeArgs : args);
			},
		};
	}
	return undefined;
}
