/*
 * xs-host/bridge — the guest half of the parent<->guest protocol.
 *
 * Parent -> guest: one `handleCommand(ArrayBuffer)` call per XS turn. Message:
 *   u8 kind | u32 id | i32 value | f64 now (NaN in real-time mode) | payload
 * Guest -> parent: a byte stream of records, returned as the turn's reply (read
 * by xsnap after the turn's promise jobs ran) or, outside a turn / for a
 * blocking call, sent at once with the synchronous global `issueCommand`:
 *   u8 op | u32 id | u32 length | payload[length]
 * All integers little-endian. Keep these numbers in sync with hosts/xs/protocol.mjs.
 */

export const K_INIT = 0, K_CONNECTED = 1, K_DATA = 2, K_SENT = 3, K_PEER_CLOSED = 4,
	K_ERROR = 5, K_TIMER = 6, K_CALL = 7, K_START = 8, K_NOP = 9,
	K_TCP_CONNECTED = 10, K_TCP_INPUT = 11, K_TCP_SENT = 12, K_TCP_FAILED = 13, K_TCP_POLL = 14,
	K_TCP_DELIVER = 15;
export const POLL_WRITABLE = 1, POLL_DATA = 2, POLL_EOF = 4, POLL_ERROR = 8;
export const INPUT_END = 1, INPUT_ERROR = 2;
export const OP_TRACE = 1, OP_SOCK_OPEN = 2, OP_SOCK_WRITE = 3, OP_SOCK_CLOSE = 4,
	OP_TIMER_SET = 5, OP_TIMER_UNSCHEDULE = 6, OP_TIMER_CLEAR = 7, OP_RESULT = 8,
	OP_ABORT = 9, OP_DELAY = 10, OP_CRYPT = 11, OP_FILE = 12, OP_TCP_STATE = 13, OP_TCP_POST = 14,
	OP_TLS = 15;
export const HEADER = 17;
const RECORD = 9;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const state = {
	inTurn: false,
	aborted: false,
	virtual: false,
	now: NaN,
	sendBufferSize: 1024,
	platform: "lin",		// whose ECMA-419 socket to model (guest/tcp419.js): "lin" or "esp32"
	fileSystem: "posix",		// the `file` model's rules: "posix" (lin) or "littlefs" (esp32)
	nextId: 1,
	endOfTurn: [],
};

/** handlers for parent messages, by kind; filled by the socket/timer modules and boot */
export const handlers = [];

let out = new Uint8Array(4096);
let outView = new DataView(out.buffer);
let outLength = 0;
let lastWrite = -1;		// offset of the last OP_SOCK_WRITE record, for coalescing
let lastWriteId = 0;

function reserve(n) {
	if (outLength + n <= out.length)
		return;
	let size = out.length * 2;
	while (size < outLength + n)
		size *= 2;
	const bigger = new Uint8Array(size);
	bigger.set(out.subarray(0, outLength));
	out = bigger;
	outView = new DataView(out.buffer);
}

/** Append a record; returns the payload offset so the caller can fill it in. */
export function record(op, id, length) {
	reserve(RECORD + length);
	const at = outLength;
	outView.setUint8(at, op);
	outView.setUint32(at + 1, id, true);
	outView.setUint32(at + 5, length, true);
	outLength += RECORD + length;
	lastWrite = -1;
	return at + RECORD;
}

export function recordBytes(op, id, bytes) {
	const at = record(op, id, bytes.length);
	out.set(bytes, at);
	afterRecord();
}

export function recordString(op, id, string) {
	recordBytes(op, id, encoder.encode(string));
}

export function recordNumbers(op, id, a, b) {
	const at = record(op, id, 16);
	outView.setFloat64(at, a, true);
	outView.setFloat64(at + 8, b, true);
	afterRecord();
}

/** Socket write: parts are Uint8Arrays (already validated); consecutive writes to one socket share a record. */
export function recordWrite(id, parts, total) {
	let at;
	if ((lastWrite >= 0) && (lastWriteId === id)) {
		reserve(total);
		at = outLength;
		outView.setUint32(lastWrite + 5, outView.getUint32(lastWrite + 5, true) + total, true);
		outLength += total;
	}
	else {
		at = record(OP_SOCK_WRITE, id, total);
		lastWrite = at - RECORD;
		lastWriteId = id;
	}
	for (const part of parts) {
		if (typeof part === "number")
			out[at++] = part;
		else {
			out.set(part, at);
			at += part.length;
		}
	}
	afterRecord(true);
}

function afterRecord(keepWrite) {
	if (!keepWrite)
		lastWrite = -1;
	if (!state.inTurn)
		flush();
}

/** Take the queued records (for the turn's reply). */
export function take() {
	const result = out.slice(0, outLength).buffer;
	outLength = 0;
	lastWrite = -1;
	if (out.length > 65536) {
		out = new Uint8Array(4096);
		outView = new DataView(out.buffer);
	}
	return result;
}

/** Send the queued records to the parent now (synchronous); returns the parent's reply. */
export function flush() {
	if (0 === outLength)
		return undefined;
	return globalThis.issueCommand(take());
}

export function trace(text) {
	if (state.aborted)
		return;
	recordString(OP_TRACE, 0, text);
}

export function errorMessage(e) {
	if ((e !== null) && (typeof e === "object") && ("message" in e))
		return String(e.message);
	try {
		return String(e);
	}
	catch {
		return "(unprintable exception)";
	}
}

/** Report an exception that escaped a callback: the parent ends the app (like fxAbort on a device). */
export function abort(kind, e) {
	if (state.aborted)
		return;
	state.aborted = true;
	let stack;
	try {
		stack = ((e !== null) && (typeof e === "object") && (typeof e.stack === "string")) ? e.stack : undefined;
	}
	catch {
	}
	recordString(OP_ABORT, 0, JSON.stringify({kind, message: errorMessage(e), stack}));
}

/**
 * A record of the `crypt` model (hosts/xs/guest/crypt.js): u8 operation, then bytes.
 * Queued with the turn's other records, in order; nothing comes back.
 */
export function recordCrypt(id, operation, bytes) {
	const at = record(OP_CRYPT, id, 1 + bytes.length);
	out[at] = operation;
	out.set(bytes, at + 1);
	afterRecord();
}

/** The same, sent at once with every record queued before it (a synchronous call, as
 * Timer.delay): returns the parent's answer, an ArrayBuffer. */
export function callCrypt(id, operation, bytes) {
	const at = record(OP_CRYPT, id, 1 + bytes.length);
	out[at] = operation;
	out.set(bytes, at + 1);
	return globalThis.issueCommand(take());
}

/**
 * A call of the ECMA-419 TLS socket's model (hosts/xs/guest/tls419.js; the parent's half in
 * hosts/xs/tls419.mjs): u8 operation, then bytes. Sent at once with every record queued
 * before it (the TCP writes of this turn reach the network first); returns the parent's
 * answer, an ArrayBuffer. `queued`: a record of the turn that expects no answer (close).
 */
export function callTls(id, operation, bytes, queued) {
	const at = record(OP_TLS, id, 1 + bytes.length);
	out[at] = operation;
	out.set(bytes, at + 1);
	if (queued) {
		afterRecord();
		return undefined;
	}
	return globalThis.issueCommand(take());
}

/** A call of the `file` and `crc` models (hosts/xs/file.mjs), sent at once with every
 * record queued before it (socket writes of this turn reach the network first, as on a
 * device): returns the parent's answer, a Uint8Array. */
export function callFile(bytes) {
	const at = record(OP_FILE, 0, bytes.length);
	out.set(bytes, at);
	return new Uint8Array(globalThis.issueCommand(take()));
}

/** Blocking sleep (Timer.delay): goes to the parent at once. */
export function delay(ms) {
	record(OP_DELAY, 0, 8);
	outView.setFloat64(outLength - 8, ms, true);
	lastWrite = -1;
	const reply = flush();
	if (reply && (reply.byteLength >= 8) && state.virtual)
		state.now = new DataView(reply).getFloat64(0, true);
}

export function utf8(string) {
	return encoder.encode(string);
}

export function fromUtf8(bytes) {
	return decoder.decode(bytes);
}

/** Bytes of a buffer-like value (ArrayBuffer, typed array, DataView) or undefined. */
export function bytesOf(value) {
	if (value instanceof ArrayBuffer)
		return new Uint8Array(value);
	if (ArrayBuffer.isView(value))
		return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
	if ((typeof SharedArrayBuffer === "function") && (value instanceof SharedArrayBuffer))
		return new Uint8Array(value);
	return undefined;
}

/** The turn entry point called by xsnap. */
export function handleCommand(buffer) {
	state.inTurn = true;
	try {
		if (!state.aborted) {
			const view = new DataView(buffer);
			const kind = view.getUint8(0);
			const id = view.getUint32(1, true);
			const value = view.getInt32(5, true);
			const now = view.getFloat64(9, true);
			if (state.virtual && (now === now))
				state.now = now;
			const handler = handlers[kind];
			if (handler)
				handler(id, value, new Uint8Array(buffer, HEADER));
		}
	}
	catch (e) {
		abort("exception", e);
	}
	return {
		get result() {
			// read by xsnap after the promise jobs of this turn ran
			const hooks = state.endOfTurn.splice(0);
			for (const hook of hooks)
				hook();
			state.inTurn = false;
			return take();
		}
	};
}
