/*
 * embedded:io/socket/tcp/tls — the Moddable SDK's ECMA-419 TLS socket (TLSSocket of
 * examples/io/tcp/tlssocket, over the session of modules/crypt/ssl/session_419.js, as
 * tls_419.json has it) for the desktop XS host.
 *
 * The socket and the I/O half of its session are modelled here, call for call: the TLSSocket
 * builds its TCP socket with `new options.TCP.io({...options, onReadable, onWritable,
 * onError})` (so a wrapper the app puts there is in the path, and what the handshake throws
 * leaves through the TCP socket's callbacks), keeps `readable` and `writable` counters on that
 * socket, reads whole records off it (5-byte header, then the rest, across callbacks) and
 * writes one record per TCP write(). The records' contents are computed by the parent
 * (hosts/xs/tls419.mjs: Node's TLS, limited to what the SDK does, and the SDK's certificate
 * rules), one synchronous call per record: the handshake messages the client sends, the
 * encryption of what the app writes, the decryption of what it reads.
 *
 * Kept from the SDK:
 * - onWritable(count): the TCP count less 96, only when the TCP count is more than 96; the
 *   first one right after the handshake (the TCP count less the handshake's bytes);
 * - write(buffer, options): with `{more: true, byteLength}` the bytes are gathered (nothing is
 *   sent) and the answer is the TCP count less what is gathered less 32; without `more` what
 *   was gathered and the buffer go out as one record, and the answer is what the TCP write()
 *   returned less 32 (never below 0). A record of more than 16,384 bytes throws "too large";
 *   a TCP write() that would block throws "would block" (the record is lost: the session's
 *   sequence number moved on, so the peer will refuse the next one);
 * - the handshake runs inside the TCP socket's callbacks; what it throws (TLSError
 *   "certificate: auth err", "alert: 2, 40"...) is thrown from them;
 * - read(): the rest of the record's data; read(n) (more than is left: "invalid");
 *   read(view) fills what it can and returns the count; read(ArrayBuffer) throws (the SDK
 *   makes its target from `.buffer`); format "number": one byte. Data left unread is kept, and
 *   no more records are read until it is taken; then a timer (0 ms) reads on when the TCP
 *   socket still holds bytes;
 * - a close_notify from the peer traces "SSL: close notify" and calls onError; close() sends
 *   no close_notify.
 */
import Timer from "timer";
import {state, trace, callTls, fromUtf8} from "xs-host/bridge";
import {encodeOptions} from "xs-host/net";

// the parent's operations (hosts/xs/tls419.mjs)
const TLS_OPEN = 1, TLS_HELLO = 2, TLS_RECORD = 3, TLS_WRITE = 4, TLS_CLOSE = 5;

/** TLSSocket's estimate of a record's cost, taken off onWritable's count */
const ESTIMATE = 96;
/** session_419.js: what its write() keeps back of the TCP count */
const MARGIN = 32;
/** the largest record fragment (2^14) */
const MAX_FRAGMENT = 16384;
/** the session's gathering stream (SSLStream) grows to this at most */
const MAX_GATHER = 16896;
/** the session's packet buffer grows to this at most (header included) */
const MAX_PACKET = 32768;
const HEADER = 5;
const NONE = new Uint8Array(0);

// the session's handshake steps: what its next handshake() call does
const SEND_HELLO = 0, WAIT = -1, SEND_FLIGHT = 1, FINISHED = 2;

/** modules/crypt/ssl/ssl_error.js */
class TLSError extends Error {
}
TLSError.prototype.name = "TLS";

function thrown(what) {
	const Type = (what.name === "TLS") ? TLSError : (what.name === "TypeError") ? TypeError : (what.name === "RangeError") ? RangeError : Error;
	return new Type(what.message);
}

/** The parent's answer: JSON, byte strings as {"$blob": n} after it. */
function answer(buffer) {
	const bytes = new Uint8Array(buffer);
	const view = new DataView(buffer);
	const length = view.getUint32(0, true);
	const blobs = [];
	for (let at = 4 + length; at < bytes.length;) {
		const size = view.getUint32(at, true);
		blobs.push(bytes.slice(at + 4, at + 4 + size));
		at += 4 + size;
	}
	return JSON.parse(fromUtf8(bytes.subarray(4, 4 + length)), (key, value) =>
		((value !== null) && (typeof value === "object") && (typeof value.$blob === "number")) ? blobs[value.$blob] : value);
}

/** The session (session_419.js's part that meets the TCP socket); its TLS is the parent's. */
class Session {
	#id;
	#step = WAIT;
	#records = [];		// the client's next flight, from the parent
	#failure;		// what the SDK throws once that flight is written
	#gathered;		// {bytes, length} of writes with {more: true}
	#packet;		// the record being read: {bytes, offset}
	alert;
	applicationData;

	constructor(options) {
		// the session's own copy, its names for serverName and ALPN; protocolVersion is 0x303 (TLSSocket)
		this.#id = state.nextId++;
		const reply = this.#call(TLS_OPEN, encodeOptions({
			serverName: options.serverName, verify: options.verify, cache: options.cache,
			certificate: options.certificate, clientCertificates: options.clientCertificates, clientKey: options.clientKey,
			applicationLayerProtocolNegotiation: options.applicationLayerProtocolNegotiation,
		}));
		if (reply.error) {
			this.close();
			throw thrown(reply.error);
		}
	}

	#call(operation, bytes) {
		const reply = answer(callTls(this.#id, operation, bytes));
		for (const text of reply.traces ?? [])
			trace(text);
		return reply;
	}

	initiateHandshake() {
		this.#step = SEND_HELLO;
	}

	/** One step; true once the handshake is over (or an alert stopped it). */
	handshake(s) {
		let progress = 0;		// 0: sent, 1: read, 2: finished
		switch (this.#step) {
			case SEND_HELLO: {
				const reply = this.#call(TLS_HELLO, NONE);
				if (reply.error)
					throw thrown(reply.error);
				this.#records = reply.records;
				this.#send(s);
				break;
			}
			case SEND_FLIGHT:
				this.#send(s);
				break;
			case FINISHED:
				this.#send(s);
				progress = 2;
				break;
			default: {
				if (0 == s.readable)
					break;
				const record = this.readPacket(s);
				if (record)
					this.#unpacketize(record);
				progress = 1;
				break;
			}
		}
		if (this.alert) {
			trace(`ALERT! (${this.alert.level}, ${this.alert.description}\n`);
			return true;
		}
		if (0 === progress)
			this.#step = WAIT;
		return 2 === progress;
	}

	/** The records of a handshake step, one TCP write each; the counter goes down by each. */
	#send(s) {
		const records = this.#records;
		this.#records = [];
		for (const record of records) {
			s.write(record);
			s.writable -= record.byteLength;
		}
		const failure = this.#failure;
		if (failure) {
			this.#failure = undefined;
			throw thrown(failure);
		}
	}

	/** A record the peer sent: the parent decrypts it and runs the handshake over it. */
	#unpacketize(record) {
		const reply = this.#call(TLS_RECORD, record);
		if (reply.error)
			throw thrown(reply.error);
		if (reply.alert)
			this.alert = reply.alert;
		if (reply.records?.length || reply.failure) {
			this.#records = reply.records ?? [];
			this.#failure = reply.failure;
			this.#step = SEND_FLIGHT;
		}
		if (reply.finished)
			this.#step = FINISHED;
		if (reply.data)
			this.applicationData = reply.data;
	}

	/** The data of the next application record, undefined for none yet, null after an alert. */
	read(s) {
		while (s.readable) {
			if (!this.applicationData) {
				const record = this.readPacket(s);
				if (!record)
					return undefined;
				this.#unpacketize(record);
				if (this.alert)
					return null;
			}
			const data = this.applicationData;
			if (data) {
				this.applicationData = undefined;
				return data;
			}
		}
		return undefined;
	}

	write(s, data, options) {
		if (options?.more) {
			const gathered = this.#gathered ??= {bytes: new Uint8Array(initialSize(options.byteLength)), length: 0};
			gather(gathered, data);
			return Math.max(0, s.writable - gathered.length - MARGIN);
		}
		if (this.#gathered) {
			const gathered = this.#gathered;
			this.#gathered = undefined;
			gather(gathered, data);
			data = gathered.bytes.subarray(0, gathered.length);
		}
		else
			data = chunk(data);
		if (data.byteLength > MAX_FRAGMENT)
			throw new Error("too large");
		const reply = this.#call(TLS_WRITE, data);
		const record = reply.records[0];
		if (record)		// (no record for no data: see the README)
			s.writable = s.write(record);
		return Math.max(0, s.writable - MARGIN);
	}

	/** A whole record off the TCP socket, or undefined while it is still coming. */
	readPacket(s) {
		let packet = this.#packet;
		if (!packet)
			packet = this.#packet = {bytes: new Uint8Array(HEADER), offset: 0, header: true};
		if (packet.header) {
			const need = Math.min(HEADER - packet.offset, s.readable);
			s.read(packet.bytes.subarray(packet.offset, packet.offset + need));
			s.readable -= need;
			packet.offset += need;
			if (packet.offset < HEADER)
				return undefined;
			const size = HEADER + ((packet.bytes[3] << 8) | packet.bytes[4]);
			if (size > MAX_PACKET)
				throw new RangeError("invalid length");		// ArrayBuffer.prototype.resize past maxByteLength
			const bytes = new Uint8Array(size);
			bytes.set(packet.bytes);
			packet.bytes = bytes;
			packet.header = false;
		}
		let need = packet.bytes.length - packet.offset;
		if (need) {
			if (!s.readable)
				return undefined;
			if (need > s.readable)
				need = s.readable;
			s.read(packet.bytes.subarray(packet.offset, packet.offset + need));
			s.readable -= need;
			packet.offset += need;
			if (packet.offset < packet.bytes.length)
				return undefined;
		}
		this.#packet = undefined;
		return packet.bytes;
	}

	close() {
		callTls(this.#id, TLS_CLOSE, NONE, true);
	}
}

/** SSLStream: a resizable buffer of `initial` bytes (32 by default), 16,896 at most. */
function initialSize(initial) {
	const size = initial ?? 32;
	if (size > MAX_GATHER)
		throw new RangeError("invalid length");
	return size;
}

/** SSLStream.writeChunk: a Uint8Array as it is, anything else through new Uint8Array(). */
function chunk(value) {
	return (value instanceof Uint8Array) ? value : new Uint8Array(value);
}

function gather(gathered, value) {
	const n = value.byteLength;
	if (!(n > 0))
		return;
	const bytes = chunk(value);
	const end = gathered.length + n;
	if (end > gathered.bytes.length) {
		const size = (end + 31) & ~31;
		if (size > MAX_GATHER)
			throw new RangeError("invalid length");
		const grown = new Uint8Array(size);
		grown.set(gathered.bytes.subarray(0, gathered.length));
		gathered.bytes = grown;
	}
	gathered.bytes.set(bytes, gathered.length);
	gathered.length = end;
}

class TLSSocket {
	#tcp;
	#session;
	#callbacks;
	#ready = false;
	#data;			// the data of the last record, not all read: {bytes, position}
	#buffer = true;		// format "buffer"; false: "number"
	#rereader;		// the timer that reads on

	constructor(options) {
		this.#callbacks = {onReadable: options.onReadable, onWritable: options.onWritable, onError: options.onError};
		const session = this.#session = new Session({serverName: options.host, ...options.secure, protocolVersion: 0x303});
		session.initiateHandshake();
		let tcp;
		try {
			tcp = new options.TCP.io({
				...options,
				onReadable: count => this.#readable(count),
				onWritable: count => this.#writable(count),
				onError: () => this.#error(),
			});
		}
		catch (e) {
			session.close();		// (the host's session; the SDK's is garbage)
			throw e;
		}
		this.#tcp = tcp;
		tcp.readable = 0;
		tcp.writable = 0;
	}

	close() {
		this.#tcp?.close();
		Timer.clear(this.#rereader);
		this.#session?.close();
		this.#tcp = undefined;
		this.#session = undefined;
		this.#rereader = undefined;
	}

	read(count) {
		const data = this.#data;
		if (!data)
			return undefined;
		let result;
		const bytes = data.bytes;
		if (!this.#buffer)
			result = bytes[data.position++];
		else if (count === undefined) {
			result = bytes.slice(data.position).buffer;
			data.position = bytes.byteLength;
		}
		else if (typeof count === "object") {
			const left = bytes.byteLength - data.position;
			result = (count.byteLength > left) ? left : count.byteLength;
			// as the SDK: a view's own bytes; an ArrayBuffer's `.buffer` is undefined (an empty target)
			const target = ArrayBuffer.isView(count) ? new Uint8Array(count.buffer, count.byteOffset, result) : new Uint8Array(count.buffer);
			target.set(bytes.subarray(data.position, data.position + result));
			data.position += result;
		}
		else {
			if (count > (bytes.byteLength - data.position))
				throw new Error("invalid");
			result = bytes.slice(data.position, data.position + count).buffer;
			data.position += count;
		}
		if (data.position === bytes.byteLength)
			this.#data = undefined;
		if (!this.#data && this.#tcp.readable) {
			this.#rereader ??= Timer.set(() => {
				this.#rereader = undefined;
				if (this.#tcp.readable)
					this.#readable(this.#tcp.readable);
			});
		}
		return result;
	}

	write(buffer, options) {
		if (buffer instanceof DataView)
			buffer = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
		return this.#session.write(this.#tcp, buffer, options);
	}

	get format() {
		return this.#buffer ? "buffer" : "number";
	}

	set format(value) {
		if ((value != "buffer") && (value != "number"))
			throw new RangeError();
		this.#buffer = value == "buffer";
	}

	#writable(count) {
		this.#tcp.writable = count;
		if (!this.#ready)
			this.#handle(false);
		else if (count > ESTIMATE)
			this.#callbacks.onWritable?.(count - ESTIMATE);
	}

	#readable(count) {
		this.#tcp.readable = count;
		if (this.#data)
			return;		// the app has not taken the last record's data
		this.#handle(true);
		if (!this.#ready)
			this.#handle(false);
	}

	#error() {
		this.#callbacks.onError?.();
	}

	/** The handshake's next step (reading on, with `read`); once ready, the next record's data. */
	#handle(read) {
		const session = this.#session;
		const tcp = this.#tcp;
		if (!this.#ready) {
			if (session.handshake(tcp)) {
				this.#ready = true;
				this.#writable(tcp.writable);
			}
			if (read)
				session.read(tcp);		// (data that came with the handshake's end is dropped, as the SDK drops it)
			return;
		}
		const data = session.read(tcp);
		if (data === undefined)
			return;
		if (data === null) {
			this.#error();
			return;
		}
		if (!data.byteLength)
			return;
		this.#data = {bytes: data, position: 0};
		this.#callbacks.onReadable?.(data.byteLength);
	}
}

export default TLSSocket;
