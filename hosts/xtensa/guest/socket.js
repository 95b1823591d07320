/*
 * socket — Moddable's TCP client Socket on the Xtensa host. The methods are the C host
 * functions themselves (platform/socket.c), as on a device: no JavaScript in between.
 */
const host = globalThis.xtensaHost;

export class Socket {
	constructor(dictionary) {
		host.socketOpen(this, dictionary);
	}
}
Socket.prototype.read = host.socketRead;
Socket.prototype.write = host.socketWrite;
Socket.prototype.close = host.socketClose;
Socket.prototype.get = host.socketGet;
Socket.connected = 1;
Socket.readable = 2;
Socket.writable = 3;
Socket.error = -2;
Socket.disconnected = -1;
Object.freeze(Socket.prototype);

export class Listener {
	constructor() {
		throw new Error("Listener is not supported by the Xtensa host");
	}
}

export default Object.freeze({Socket, Listener});
