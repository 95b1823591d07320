/*
 * xs-host/net — what Socket and SecureSocket share: the socket record, read(),
 * write(), close() and the dispatch of parent events to `callback`.
 *
 * Behaviour follows the Moddable Linux simulator (modules/network/socket/lin/modSocket.c):
 * - data arrives in chunks of at most 1024 bytes, one callback each;
 * - bytes not read during a data callback are discarded when it returns;
 * - read() outside a data callback returns 0, read(type) returns undefined
 *   (SecureSocket throws there, as its `this.data` is gone);
 * - write(...) needing more than the free space throws "can't write all data"
 *   and sends nothing; read/write after close throw "... on closed socket".
 * Free space is released when the host OS accepted the bytes (parent side).
 */
import {state, handlers, recordWrite, recordBytes, utf8, fromUtf8, bytesOf,
	K_CONNECTED, K_DATA, K_SENT, K_PEER_CLOSED, K_ERROR, OP_SOCK_OPEN, OP_SOCK_CLOSE} from "xs-host/bridge";

export const TLS_OVERHEAD = 128;

const records = new WeakMap();		// socket object -> record
const byId = new Map();			// id -> record

function recordOf(socket, what) {
	const r = records.get(socket);
	if (!r || r.closed)
		throw new Error(`${what} on closed socket`);
	return r;
}

/** Encode options: JSON, with buffers replaced by {"$blob": index} and appended after it. */
export function encodeOptions(options) {
	const blobs = [];
	const json = JSON.stringify(options, (key, value) => {
		const bytes = bytesOf(value);
		if (bytes) {
			blobs.push(bytes);
			return {$blob: blobs.length - 1};
		}
		return value;
	});
	const text = utf8(json);
	let length = 4 + text.length;
	for (const blob of blobs)
		length += 4 + blob.length;
	const out = new Uint8Array(length);
	const view = new DataView(out.buffer);
	view.setUint32(0, text.length, true);
	out.set(text, 4);
	let at = 4 + text.length;
	for (const blob of blobs) {
		view.setUint32(at, blob.length, true);
		out.set(blob, at + 4);
		at += 4 + blob.length;
	}
	return out;
}

export function open(socket, dictionary, secure) {
	if ((dictionary === null) || (typeof dictionary !== "object"))
		throw new TypeError("socket: dictionary required");
	if (("listener" in dictionary) || (("kind" in dictionary) && (dictionary.kind !== "TCP")))
		throw new Error("socket: only TCP client sockets are supported by this host");
	const host = dictionary.host ?? dictionary.address;
	if (host === undefined)
		throw new Error("host required in dictionary");
	const options = {
		host: String(host),
		port: Number(dictionary.port ?? 0) | 0,
	};
	if (dictionary.noDelay)
		options.noDelay = true;
	if (dictionary.keepalive)
		options.keepalive = {idle: Number(dictionary.keepalive.idle ?? 0), interval: Number(dictionary.keepalive.interval ?? 0), count: Number(dictionary.keepalive.count ?? 0)};
	if (secure) {
		const s = dictionary.secure ?? {};
		options.secure = {
			certificate: s.certificate,
			clientKey: s.clientKey,
			clientCertificates: s.clientCertificates,
			verify: s.verify,
			protocolVersion: s.protocolVersion,
			applicationLayerProtocolNegotiation: s.applicationLayerProtocolNegotiation,
			serverName: s.serverName ?? s.tls_server_name,
			cache: s.cache,
		};
	}
	const r = {
		id: state.nextId++,
		socket,
		secure: !!secure,
		closed: false,
		connected: false,
		free: state.sendBufferSize,
		data: null,
		position: 0,
	};
	records.set(socket, r);
	byId.set(r.id, r);
	recordBytes(OP_SOCK_OPEN, r.id, encodeOptions(options));
	return r;
}

export function free(r) {
	return r.secure ? Math.max(0, r.free - TLS_OVERHEAD) : r.free;
}

export function read(socket, argc, type, limit) {
	const r = records.get(socket);
	if (!r || r.closed) {
		if (r && r.secure)
			throw new TypeError("read on closed socket");
		throw new Error("read on closed socket");
	}
	if (!r.data || (r.position >= r.data.length)) {
		if (r.secure && !r.data)
			throw new TypeError("securesocket: read outside of a data callback");
		return (0 === argc) ? 0 : undefined;
	}
	const data = r.data;
	let count = data.length - r.position;
	if (0 === argc)
		return count;
	if (argc > 1) {
		if (typeof limit === "number") {
			const n = limit | 0;
			if (n < count)
				count = Math.max(n, 0);
		}
		else if (typeof limit === "string") {
			const terminator = utf8(limit)[0];
			if (terminator) {
				const at = data.indexOf(terminator, r.position);
				if ((at >= 0) && (at - r.position + 1 < count))
					count = at - r.position + 1;		// terminator included
			}
		}
	}
	let result;
	if (type === null)
		result = count;
	else if (type === String)
		result = fromUtf8(data.subarray(r.position, r.position + count));
	else if (type === Number) {
		result = data[r.position];
		count = 1;
	}
	else if (type === ArrayBuffer)
		result = data.slice(r.position, r.position + count).buffer;
	else
		throw new Error("unsupported output type");
	r.position += count;
	return result;
}

export function write(socket, items) {
	const r = recordOf(socket, "write");
	const available = free(r);
	if (0 === items.length)
		return available;
	const parts = [];
	let needed = 0;
	for (const item of items) {
		if (typeof item === "string") {
			const bytes = utf8(item);
			parts.push(bytes);
			needed += bytes.length;
		}
		else if (typeof item === "number") {
			parts.push(item & 0xFF);
			needed += 1;
		}
		else {
			const bytes = ((item !== null) && (typeof item === "object")) ? bytesOf(item) : undefined;
			if (!bytes)
				throw new Error("unsupported type for write");
			parts.push(bytes);
			needed += bytes.length;
		}
	}
	if (needed > available)
		throw new Error("can't write all data");
	if (0 === needed)
		return;
	if (r.broken)
		throw new Error("write failed");		// send() = ECONNREFUSED on the Linux simulator
	r.free -= needed;
	recordWrite(r.id, parts, needed);
}

export function close(socket) {
	const r = records.get(socket);
	if (!r || r.closed)
		return;		// lwIP and SecureSocket: closing a closed socket is a no-op
	finish(r);
	recordBytes(OP_SOCK_CLOSE, r.id, new Uint8Array(0));
}

function finish(r) {
	r.closed = true;
	r.data = null;
	byId.delete(r.id);
}

export function remoteAddress(socket) {
	return records.get(socket)?.remote;
}

export function lastError(socket) {
	return records.get(socket)?.lastError;
}

function deliver(r, message, value) {
	const socket = r.socket;
	if (value === undefined)
		socket.callback(message);
	else
		socket.callback(message, value);
}

handlers[K_CONNECTED] = function (id, value, payload) {
	const r = byId.get(id);
	if (!r)
		return;
	r.connected = true;
	r.broken = (value === 1);		// Linux simulator: a refused connect looks connected until the first write
	r.remote = fromUtf8(payload);
	deliver(r, 1);
};

handlers[K_DATA] = function (id, value, payload) {
	const r = byId.get(id);
	if (!r)
		return;
	r.data = payload;
	r.position = 0;
	try {
		deliver(r, 2, payload.length);
	}
	finally {
		r.data = null;		// unread bytes are discarded, as on the Linux simulator
		r.position = 0;
	}
};

handlers[K_SENT] = function (id, value) {
	const r = byId.get(id);
	if (!r)
		return;
	r.free += value;
	if (r.free > state.sendBufferSize)
		r.free = state.sendBufferSize;
	if (r.secure) {
		if (r.free > TLS_OVERHEAD)
			deliver(r, 3, r.free - TLS_OVERHEAD);
	}
	else
		deliver(r, 3, r.free);
};

function terminal(message) {
	return function (id, value, payload) {
		const r = byId.get(id);
		if (!r)
			return;
		if (payload.length) {
			try {
				r.lastError = JSON.parse(fromUtf8(payload));
			}
			catch {
			}
		}
		finish(r);		// the parent already released the OS socket
		deliver(r, message);
	};
}
handlers[K_PEER_CLOSED] = terminal(-1);
handlers[K_ERROR] = terminal(-2);
