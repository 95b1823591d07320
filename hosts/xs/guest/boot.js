/*
 * xs-host/boot — run first in the XS worker: installs the globals a Moddable host
 * provides (trace, ArrayBuffer.fromString, String.fromArrayBuffer), the turn
 * entry point, and the START/CALL handlers.
 */
import {state, handlers, handleCommand, trace as emit, abort, recordBytes, utf8, fromUtf8, bytesOf,
	errorMessage, K_INIT, K_START, K_CALL, OP_RESULT} from "xs-host/bridge";
import "socket";
import "securesocket";
import "timer";

function trace(...items) {
	emit(items.map(item => String(item)).join(""));
}
trace.left = trace;
trace.center = trace;
trace.right = trace;
globalThis.trace = trace;

// Both are native on a device (xsnap is built without them); here they are thin wrappers
// over xsnap's native TextEncoder and TextDecoder. Written for the XS meter, which charges
// every bytecode and each declared parameter: no default parameters, no extra step, so that
// a client is charged for little more than the call a device makes.
const encoder = new TextEncoder();
Object.defineProperty(ArrayBuffer, "fromString", {
	value: function fromString(string) {
		return encoder.encode(string).buffer;
	},
	writable: true, configurable: true,
});
// As XS on a device (xsString.c, UTF-8 build): (buffer[, byteOffset[, byteLength]]); the
// string ends at a NUL byte; malformed UTF-8 throws TypeError "invalid UTF-8". The device
// checks lead and continuation bytes only; this host refuses overlong forms and surrogates
// too (TextDecoder's fatal mode), which a device would let through.
const fatal = new TextDecoder("utf-8", {fatal: true});
Object.defineProperty(String, "fromArrayBuffer", {
	value: function fromArrayBuffer(buffer, offset, length) {
		let text;
		try {
			// new Uint8Array throws the RangeError a device gives for a range past the end
			text = fatal.decode((offset === undefined) ? buffer : new Uint8Array(buffer, offset, length));
		}
		catch (e) {
			throw (e instanceof RangeError) ? e : new TypeError("invalid UTF-8");
		}
		const nul = text.indexOf("\u0000");		// a string search, not a JS loop over bytes
		return (nul < 0) ? text : text.slice(0, nul);
	},
	writable: true, configurable: true,
});

// xsnap reports unhandled promise rejections through console.error at the end of a turn.
const hostPrint = globalThis.print;
globalThis.console = {
	log(...items) { hostPrint(items.map(String).join(" ")); },
	error(...items) {
		if ((items[0] === "UnhandledPromiseRejectionWarning:") && (items.length > 1))
			abort("rejection", items[1]);
		else if ((items[0] === "Unhandled exception:") && (items.length > 1))
			abort("exception", items[1]);
		else
			hostPrint(items.map(String).join(" "));
	},
};

const realNow = Date.now;
Date.now = function now() {
	return state.virtual ? state.now : realNow();
};

globalThis.handleCommand = handleCommand;

let main;

handlers[K_INIT] = function (id, value, payload) {
	const settings = JSON.parse(fromUtf8(payload));
	state.virtual = settings.virtual;
	state.sendBufferSize = settings.sendBufferSize;
	state.fileSystem = settings.fileSystem;
	state.platform = settings.platform;
};

handlers[K_START] = function () {
	import("main").then(namespace => {
		main = namespace;
		const start = namespace.default;
		if (typeof start === "function") {
			const result = start();
			if (result && (typeof result.then === "function"))
				result.then(undefined, e => abort("rejection", e));
		}
	}, e => abort("exception", e));
};

// Payload: {"name": string, "args": [...]} where {"$bytes": [..]} stands for a Uint8Array.
handlers[K_CALL] = function (id, value, payload) {
	const {name, args} = JSON.parse(fromUtf8(payload), (key, v) => {
		if (v && (typeof v === "object") && Array.isArray(v.$bytes) && (Object.keys(v).length === 1))
			return Uint8Array.from(v.$bytes);
		return v;
	});
	const reply = (type, bytes) => {
		const out = new Uint8Array(1 + bytes.length);
		out[0] = type;
		out.set(bytes, 1);
		recordBytes(OP_RESULT, id, out);
	};
	const fail = e => {
		let stack;
		try { stack = e?.stack; } catch {}
		reply(3, utf8(JSON.stringify({message: errorMessage(e), name: e?.name, stack: (typeof stack === "string") ? stack : undefined})));
	};
	const succeed = result => {
		if (result === undefined)
			return reply(0, new Uint8Array(0));
		const bytes = bytesOf(result);
		if (bytes)
			return reply(2, bytes);
		let json;
		try {
			json = JSON.stringify(result);
		}
		catch (e) {
			return fail(e);
		}
		reply(1, utf8(json ?? "null"));
	};
	const fn = main?.[name];
	if (typeof fn !== "function")
		return fail(new TypeError(main ? `main module exports no function "${name}"` : "main module is not loaded"));
	let result;
	try {
		result = fn(...args);
	}
	catch (e) {
		return fail(e);
	}
	if (result && (typeof result.then === "function")) {
		// xsnap runs this turn's promise jobs before it reads the reply: a promise that
		// settles by then is answered in this turn; one still pending is an error.
		const call = {done: false};
		result.then(v => { if (!call.done) { call.done = true; succeed(v); } },
			e => { if (!call.done) { call.done = true; fail(e); } });
		state.endOfTurn.push(() => {
			if (!call.done) {
				call.done = true;
				fail(new Error(`the promise returned by ${name}() did not settle within its turn`));
			}
		});
		return;
	}
	succeed(result);
};

