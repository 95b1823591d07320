/*
 * embedded:io/socket/tcp — the ECMA-419 TCP socket of the Moddable SDK (modules/io/socket),
 * for the desktop XS host: default export TCP, a TCP client.
 *
 * Two models, chosen by the host's platform profile (state.platform):
 * - "lin", the Linux simulator (modules/io/socket/lin/tcp.c): a task polls the socket
 *   every 20 ms (in the parent, which sends K_TCP_POLL with what select() and read() found);
 *   a fixed 1536-byte read buffer (nothing more is read from the OS while it is full) and a
 *   writable count of 1536, set again (onWritable(1536)) by a poll that finds the socket
 *   writable while the count is not 1536; once `error` is set the task does nothing more.
 * - "esp32", lwIP (modules/io/socket/lwip/tcp.c): each lwIP callback (connected, received,
 *   sent, error, peer closed) triggers a delivery, tcpDeliver; the writable count is
 *   tcp_sndbuf (the profile's send buffer, given back when Node handed bytes to the OS);
 *   an error is delivered once the receive buffers are empty.
 * The parent keeps the OS socket (hosts/xs/host.mjs, "ECMA-419 TCP"); this side keeps what
 * the C keeps: the unread bytes, the counts, the triggers, and calls the callbacks.
 *
 * Errors are the SDK's: xsUnknownError is Error, a closed instance throws XS's own
 * SyntaxError "C: xsGetHostData: invalid host data". Not modelled: the `from` option
 * (moving a socket between instances), IPv6 literals (lwIP's ipaddr_aton takes them).
 */
import {state, handlers, recordBytes, recordWrite, trace, abort, utf8,
	K_TCP_CONNECTED, K_TCP_INPUT, K_TCP_SENT, K_TCP_FAILED, K_TCP_POLL, K_TCP_DELIVER,
	POLL_WRITABLE, POLL_DATA, POLL_EOF, POLL_ERROR, INPUT_END, INPUT_ERROR,
	OP_SOCK_OPEN, OP_SOCK_CLOSE, OP_TCP_STATE, OP_TCP_POST} from "xs-host/bridge";

const LIN_BUFFER = 1536;		// lin/tcp.c kBufferSize: the read buffer and the writable count

const WRITABLE = 1, READABLE = 2, ERROR = 4;		// kTCPWritable, kTCPReadable, kTCPError

// modules/io/common/builtinCommon.c, in its order: format n is FORMATS[n - 1]
const FORMATS = ["number", "buffer", "string", "socket/tcp", "uint8", "int8", "uint16", "int16",
	"uint32", "int32", "uint64", "int64", "buffer/disposable"];
const NUMBER = 1, BUFFER = 2, INVALID = 0xFF;

const records = new WeakMap();		// TCP instance -> record (also after close: closed = true)
const byId = new Map();			// id -> record of an open socket with an OS socket

const none = new Uint8Array(0);

// ---- XS's checks, as the natives meet them ------------------------------------------------

/** xsmcGetHostDataValidate: the record of an open instance, else XS's SyntaxError. */
function live(socket) {
	const r = ((socket !== null) && ((typeof socket === "object") || (typeof socket === "function"))) ? records.get(socket) : undefined;
	if (!r)
		throw new SyntaxError("C: xsGetHostData: not a host object");
	if (r.closed)
		throw new SyntaxError("C: xsGetHostData: invalid host data");
	return r;
}

/** fxToInteger: ToInt32 (a symbol throws). */
function toInteger(value) {
	if (typeof value === "symbol")
		throw new TypeError("cannot coerce symbol to integer");
	return Number(value) | 0;
}

function toStringX(value) {
	if (typeof value === "symbol")
		throw new TypeError("cannot coerce symbol to string");
	return String(value);
}

/** xsmcHas on the dictionary: ToObject first. */
function has(dictionary, name) {
	if (dictionary === undefined)
		throw new TypeError("cannot coerce undefined to object");
	if (dictionary === null)
		throw new TypeError("cannot coerce null to object");
	return name in Object(dictionary);
}

/** _xsmcGetBuffer: the bytes of an ArrayBuffer, a 1-byte typed array or a DataView. */
function bufferBytes(value) {
	if (((typeof value === "object") && (value !== null)) || (typeof value === "function")) {
		let bytes;
		if (value instanceof ArrayBuffer)
			bytes = new Uint8Array(value);
		else if ((value instanceof Uint8Array) || (value instanceof Int8Array) || (value instanceof Uint8ClampedArray) || (value instanceof DataView))
			bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
		if (bytes) {
			if (bytes.buffer.detached === true)
				throw new TypeError("detached buffer");
			return bytes;
		}
	}
	throw new TypeError("invalid buffer");
}

function isReference(value) {
	return ((typeof value === "object") && (value !== null)) || (typeof value === "function");
}

/** xsmcToStringBuffer into the natives' char addrStr[32]: a C string of at most 31 bytes. */
function addressString(value) {
	let text = toStringX(value);
	const nul = text.indexOf("\u0000");
	if (nul >= 0)
		text = text.slice(0, nul);
	if (utf8(text).length + 1 > 32)
		throw new RangeError("cannot buffer string");
	return text;
}

const isDigit = c => (c >= 48) && (c <= 57);
const isXDigit = c => isDigit(c) || ((c >= 65) && (c <= 70)) || ((c >= 97) && (c <= 102));
const isSpace = c => (c === 32) || ((c >= 9) && (c <= 13));

/**
 * An IPv4 address in the forms of inet_aton (a, a.b, a.b.c, a.b.c.d; each part decimal,
 * 0-octal or 0x-hex; trailing white space ends it) as an unsigned 32-bit number, or -1.
 * `lwip`: lwIP's ip4addr_aton, which also takes "0x" alone (0) and wraps a part past
 * 32 bits where glibc's (the simulator's) refuses it.
 */
function aton(text, lwip) {
	const parts = [];
	let at = 0;
	let c = text.charCodeAt(at);
	let value;
	for (;;) {
		if (!isDigit(c))
			return -1;
		value = 0;
		let base = 10;
		if (c === 48) {
			c = text.charCodeAt(++at);
			if ((c === 120) || (c === 88)) {
				base = 16;
				c = text.charCodeAt(++at);
				if (!lwip && !isXDigit(c))
					return -1;		// strtoul reads "0" and stops at the "x"
			}
			else
				base = 8;
		}
		for (;;) {
			let digit;
			if (isDigit(c))
				digit = c - 48;
			else if ((base === 16) && isXDigit(c))
				digit = (c | 0x20) - 87;
			else
				break;
			if (digit >= base)
				break;
			value = (value * base) + digit;
			if (lwip)
				value %= 0x100000000;
			else if (value > 0xFFFFFFFF)
				return -1;
			c = text.charCodeAt(++at);
		}
		if (c !== 46)
			break;
		if ((parts.length >= 3) || (value > 0xFF))
			return -1;
		parts.push(value);
		c = text.charCodeAt(++at);
	}
	if ((c === c) && !isSpace(c))		// NaN: the end of the string
		return -1;
	const max = [0xFFFFFFFF, 0xFFFFFF, 0xFFFF, 0xFF][parts.length];
	if (value > max)
		return -1;
	let address = value;
	for (let i = 0; i < parts.length; i++)
		address += parts[i] * (2 ** (24 - (8 * i)));
	return address;
}

function dotted(address) {
	return `${address >>> 24}.${(address >>> 16) & 0xFF}.${(address >>> 8) & 0xFF}.${address & 0xFF}`;
}

/** builtinGetCallback: undefined and null mean none; anything else must be callable. */
function callback(dictionary, name) {
	const value = dictionary[name];
	if ((value === undefined) || (value === null))
		return undefined;
	if (typeof value !== "function")
		throw new Error("not a function");
	return value;
}

/** builtinInitializeFormat */
function initialFormat(dictionary, format) {
	if (!has(dictionary, "format"))
		return format;
	const value = dictionary.format;
	if (!value)
		return format;
	const index = FORMATS.indexOf(toStringX(value));
	return (index < 0) ? INVALID : index + 1;
}

// ---- the parent ---------------------------------------------------------------------------

function openRecord(options) {
	const json = utf8(JSON.stringify(options));
	const payload = new Uint8Array(4 + json.length);
	new DataView(payload.buffer).setUint32(0, json.length, true);
	payload.set(json, 4);
	return payload;
}

/** The counters the parent paces input and the lin poll by, sent once at the end of a turn
 * that changed them: u32 unread (lwIP: bytes of the buffers not yet given back to the
 * window), u32 writable, u8 flags (1 connected, 2 error). */
function changed(r) {
	if (r.dirty || !r.id)
		return;
	r.dirty = true;
	state.endOfTurn.push(() => {
		r.dirty = false;
		if (r.closed)
			return;
		const payload = new Uint8Array(9);
		const view = new DataView(payload.buffer);
		view.setUint32(0, r.lwip ? r.window : r.readable, true);
		view.setUint32(4, r.lwip ? r.sndbuf : r.writable, true);
		payload[8] = (r.connected ? 1 : 0) | (r.error ? 2 : 0);
		recordBytes(OP_TCP_STATE, r.id, payload);
	});
}

// ---- the two platforms --------------------------------------------------------------------

/** lin tcpTrigger: an error is set at once; only triggers with a callback are kept. */
function linTrigger(r, trigger) {
	if (trigger & ERROR)
		r.error = true;
	r.triggered |= trigger & r.triggerable;
}

/** lin reportTrigger, at the end of a poll. The triggers are taken first: a callback that
 * closes the socket does not stop those after it (they find the instance closed). */
function linReport(r) {
	const triggered = r.triggered;
	r.triggered = 0;
	if ((triggered & WRITABLE) && r.writable && !r.error)
		r.onWritable.call(r.socket, r.writable);
	if ((triggered & READABLE) && r.readable)
		r.onReadable.call(r.socket, r.readable);
	if (triggered & ERROR)
		r.onError.call(r.socket);
}

/** lwIP tcpTrigger: the first trigger posts tcpDeliver to the machine. Inside a parent
 * event (r.event) it runs at the end of that turn; elsewhere (read(), in app code) the
 * parent queues a K_TCP_DELIVER turn, a later message, as modMessagePostToMachine does. */
function lwipTrigger(r, trigger) {
	const was = r.triggered;
	r.triggered |= trigger;
	if (!was && !r.event && !r.closed)
		recordBytes(OP_TCP_POST, r.id, none);
}

function removeCallbacks(r) {
	r.removed = true;		// tcp_recv, tcp_sent, tcp_err: NULL
	r.triggerable &= ~WRITABLE;
}

/** lwIP tcpDeliver (kTCPOutput, tcp_output, is not modelled: the parent sends at once). */
function lwipDeliver(r) {
	let triggered = r.triggered;
	r.triggered = 0;
	if (triggered & ERROR) {
		triggered &= ~WRITABLE;
		r.error = true;
		r.ready = false;
		changed(r);
	}
	if ((triggered & r.triggerable & READABLE) && r.buffers.length)
		r.onReadable.call(r.socket, lwipAvailable(r));
	if (r.buffers.length && r.error)
		;		// the error is delivered once the receive buffers are empty
	else if (!r.error) {
		if ((triggered & r.triggerable & WRITABLE) && r.skt)
			r.onWritable.call(r.socket, r.sndbuf);
	}
	else if (r.triggerable & ERROR)
		r.onError.call(r.socket);
}

function lwipAvailable(r) {
	let available = 0;
	for (const buffer of r.buffers)
		available += buffer.bytes.length - buffer.offset;
	return available;
}

/** A parent event for an lwIP socket: the lwIP callback, then the delivery it posted. */
function lwipEvent(id, apply) {
	const r = byId.get(id);
	if (!r || !r.lwip)
		return;
	const posted = r.triggered !== 0;		// a delivery is already queued: it will see these triggers
	r.event = true;
	try {
		apply(r);
	}
	finally {
		r.event = false;
	}
	changed(r);
	if (!posted && r.triggered)
		lwipDeliver(r);
}

handlers[K_TCP_CONNECTED] = function (id) {
	lwipEvent(id, r => {		// tcpConnect
		r.ready = true;
		r.connected = true;
		lwipTrigger(r, WRITABLE);
	});
};

/** What lwIP's input did before the delivery ran: tcpReceive with the bytes, then
 * tcpReceive with no pbuf (the peer closed) or tcpError (the pcb is freed). */
handlers[K_TCP_INPUT] = function (id, value, payload) {
	lwipEvent(id, r => {
		if (r.removed)
			return;
		if (payload.length) {
			r.buffers.push({bytes: payload.slice(), offset: 0});
			r.window += payload.length;
			if (r.triggerable & READABLE)
				lwipTrigger(r, READABLE);
		}
		if (value & INPUT_END) {
			removeCallbacks(r);
			lwipTrigger(r, ERROR);
		}
		else if (value & INPUT_ERROR) {
			removeCallbacks(r);
			r.skt = false;
			if (r.triggerable & ERROR)
				lwipTrigger(r, ERROR);
		}
	});
};

handlers[K_TCP_SENT] = function (id, value) {
	lwipEvent(id, r => {		// the bytes were acknowledged: tcp_sndbuf grows, then tcpSent
		if (!r.skt)
			return;
		r.sndbuf = Math.min(r.sndbuf + value, state.sendBufferSize);
		if (!r.removed && r.onWritable)
			lwipTrigger(r, WRITABLE);
	});
};

/** lin: the OS socket failed (refused, reset): write() fails from now on; the poll's read() reports it. */
handlers[K_TCP_FAILED] = function (id) {
	const r = byId.get(id);
	if (r && !r.lwip)
		r.broken = true;
};

handlers[K_TCP_DELIVER] = function (id) {
	const r = byId.get(id);
	if (r && r.lwip)
		lwipDeliver(r);
};

/** lin tcpTask: one poll, with what select() and read() found in the parent. */
handlers[K_TCP_POLL] = function (id, found, payload) {
	const r = byId.get(id);
	if (!r || r.lwip || r.closed || r.error)
		return;
	if (found & POLL_WRITABLE) {
		r.connected = true;
		if (r.writable !== LIN_BUFFER) {
			r.writable = LIN_BUFFER;
			linTrigger(r, WRITABLE);
		}
	}
	if ((found & (POLL_DATA | POLL_EOF | POLL_ERROR)) && (r.readable < LIN_BUFFER)) {
		if (r.position) {
			r.buffer.copyWithin(0, r.position, r.position + r.readable);
			r.position = 0;
		}
		if ((found & POLL_DATA) && payload.length) {
			const count = Math.min(payload.length, LIN_BUFFER - r.readable);
			r.buffer.set(payload.subarray(0, count), r.readable);
			r.readable += count;
			linTrigger(r, READABLE);
		}
		else {
			r.error = true;		// read() gave 0 (the peer closed) or -1
			if (0 === r.readable)
				linTrigger(r, ERROR);
		}
	}
	changed(r);
	if (r.triggered)
		linReport(r);
};

// ---- TCP ----------------------------------------------------------------------------------

class TCP {
	constructor(dictionary) {
		const lwip = state.platform === "esp32";
		const r = {
			id: 0, socket: this, lwip, closed: false, dirty: false, event: false,
			format: BUFFER, triggerable: 0, triggered: 0, error: false, connected: false,
			onReadable: undefined, onWritable: undefined, onError: undefined,
			address: 0, port: 0,
			// lin
			buffer: undefined, position: 0, readable: 0, writable: 0, broken: false,
			// lwIP
			ready: false, skt: false, removed: false, buffers: [], window: 0, sndbuf: state.sendBufferSize,
		};
		if (0 === arguments.length) {		// an instance without a socket (for a Listener)
			records.set(this, r);
			return;
		}
		let format = initialFormat(dictionary, BUFFER);
		if ((NUMBER !== format) && (BUFFER !== format))
			throw new RangeError("unimplemented");
		const options = Object(dictionary);
		const onReadable = callback(options, "onReadable");
		const onWritable = callback(options, "onWritable");
		const onError = callback(options, "onError");
		let nodelay;
		if (has(options, "nodelay"))
			nodelay = !!options.nodelay;
		if (has(options, "from"))
			throw new Error("from: not supported by the XS host");
		const address = aton(addressString(options.address), lwip);
		if (address < 0)
			throw new Error("invalid address");
		const portValue = options.port;
		if (portValue === undefined)
			throw new Error("invalid");
		const port = toInteger(portValue);
		if ((port < 0) || (port > 65535))
			throw new RangeError("invalid port");
		if (has(options, "target"))
			this.target = options.target;
		r.format = format;
		r.onReadable = onReadable;
		r.onWritable = onWritable;
		r.onError = onError;
		r.triggerable = (onReadable ? READABLE : 0) | (onWritable ? WRITABLE : 0) | (onError ? ERROR : 0);
		r.address = address;
		r.port = port;
		r.id = state.nextId++;
		r.skt = true;
		if (!lwip)
			r.buffer = new Uint8Array(LIN_BUFFER);
		records.set(this, r);
		byId.set(r.id, r);
		const open = {host: dotted(address), port, io: lwip ? "esp32" : "lin"};
		if (nodelay !== undefined)
			open.noDelay = nodelay;
		recordBytes(OP_SOCK_OPEN, r.id, openRecord(open));
	}

	close() {
		// xsmcGetHostData: no data (closed) is a no-op
		const r = ((this !== null) && ((typeof this === "object") || (typeof this === "function"))) ? records.get(this) : undefined;
		if (!r)
			throw new SyntaxError("C: xsGetHostData: not a host object");
		if (r.closed)
			return;
		r.closed = true;
		r.triggerable = 0;
		r.triggered = 0;
		r.ready = false;
		if (r.id && byId.has(r.id)) {
			byId.delete(r.id);
			// u8: receive bytes the app never read (lwIP's tcp_close then resets the connection)
			recordBytes(OP_SOCK_CLOSE, r.id, Uint8Array.of(r.lwip && r.buffers.length ? 1 : 0));
		}
	}

	read(requested) {
		const r = live(this);
		const lwip = r.lwip;
		if (lwip ? !r.buffers.length : !r.readable)
			return undefined;
		const available = lwip ? lwipAvailable(r) : r.readable;
		let count, out, result;
		if (BUFFER === r.format) {
			if (0 === arguments.length)
				count = available;
			else if (isReference(requested)) {
				out = bufferBytes(requested);
				count = out.length;
				result = count;
			}
			else
				count = toInteger(requested);
			if ((count <= 0) || (count > available))
				throw new Error("invalid");
			if (!out) {
				out = new Uint8Array(count);
				result = out.buffer;
			}
		}
		else {
			count = 1;
			out = new Uint8Array(1);
		}
		if (lwip) {
			let at = 0;
			while (at < count) {
				const buffer = r.buffers[0];
				const use = Math.min(count - at, buffer.bytes.length - buffer.offset);
				out.set(buffer.bytes.subarray(buffer.offset, buffer.offset + use), at);
				at += use;
				buffer.offset += use;
				if (buffer.offset === buffer.bytes.length) {
					r.buffers.shift();
					r.window -= buffer.bytes.length;		// tcp_recved
					if (!r.buffers.length) {
						if (r.error)
							lwipTrigger(r, ERROR);
						break;
					}
				}
			}
		}
		else {
			out.set(r.buffer.subarray(r.position, r.position + count));
			r.position += count;
			r.readable -= count;
			if (r.error && !r.readable)
				linTrigger(r, ERROR);		// never reported: the task stopped when the error was set
		}
		changed(r);
		return (NUMBER === r.format) ? out[0] : result;
	}

	write(value) {
		const r = live(this);
		if (r.lwip) {
			if (!r.ready)
				throw new Error("not ready");
			if (r.error || !r.skt)
				return undefined;
		}
		if (0 === arguments.length)
			throw new SyntaxError("C: xsArg(0): invalid index");
		let bytes;
		if (BUFFER === r.format)
			bytes = bufferBytes(value);
		else
			bytes = Uint8Array.of(toInteger(value) & 0xFF);
		const needed = bytes.length;
		if (r.lwip) {
			if (needed > r.sndbuf)
				throw new Error("would block");
			r.sndbuf -= needed;
		}
		else {
			if (needed > r.writable)
				throw new Error("would block");
			r.writable -= needed;
			// write(2) fails on no socket, a failed one, or (0 bytes) one still connecting
			if (!r.id || r.broken || !r.connected) {
				changed(r);
				trace("write failed");
				linTrigger(r, ERROR);
				return undefined;
			}
		}
		if (needed)
			recordWrite(r.id, [bytes.slice()], needed);
		changed(r);
		return r.lwip ? r.sndbuf : r.writable;
	}

	get remoteAddress() {
		const r = live(this);
		if (r.lwip) {
			if (!r.skt)
				crash("remoteAddress");
			return dotted(r.address);
		}
		// getpeername() fails before the connect and after a failure: the simulator then
		// formats an uninitialised sockaddr; here it is 0.0.0.0
		return (r.connected && !r.broken) ? dotted(r.address) : "0.0.0.0";
	}

	get remotePort() {
		const r = live(this);
		if (r.lwip) {
			if (!r.skt)
				crash("remotePort");
			return r.port;
		}
		return (r.connected && !r.broken) ? r.port : 0;
	}

	get format() {
		return FORMATS[live(this).format - 1];
	}

	set format(value) {
		const r = live(this);
		const index = FORMATS.indexOf(toStringX(value));
		if (index < 0)
			throw new RangeError("unknown");
		if (((index + 1) !== NUMBER) && ((index + 1) !== BUFFER))
			throw new RangeError("unimplemented");
		r.format = index + 1;
	}
}

/** lwIP frees the pcb on an error (tcpError sets skt to NULL): reading its address then
 * dereferences NULL and the device resets. The app ends here, as it would there. */
function crash(what) {
	const error = new Error(`${what}: the socket's lwIP pcb is gone (NULL after a connection error); a device crashes here`);
	abort("exception", error);
	throw error;
}

Object.freeze(TCP.prototype);

export default TCP;
