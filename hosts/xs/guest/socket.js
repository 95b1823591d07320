/*
 * socket — Moddable's classic TCP socket, for the desktop XS host.
 * Client TCP only (no UDP/RAW, no Listener). See xs-host/net for the behaviour.
 */
import {open, read, write, close, remoteAddress, lastError} from "xs-host/net";

export class Socket {
	constructor(dictionary) {
		open(this, dictionary, false);
	}
	read(type, limit) {
		return read(this, arguments.length, type, limit);
	}
	write(...items) {
		return write(this, items);
	}
	close() {
		close(this);
	}
	get(name) {
		if (name === "REMOTE_IP")
			return remoteAddress(this);
	}
	suspend() {
		throw new Error("unimplemented");
	}
	/** Host diagnostic (not on devices): {code, message} of the last failure reported with -2. */
	get lastError() {
		return lastError(this);
	}
}
Socket.connected = 1;
Socket.readable = 2;
Socket.writable = 3;
Socket.error = -2;
Socket.disconnected = -1;

export class Listener {
	constructor() {
		throw new Error("Listener is not supported by the desktop XS host");
	}
}

Object.freeze(Socket.prototype);
Object.freeze(Listener.prototype);

export default Object.freeze({
	Socket,
	Listener,
});
