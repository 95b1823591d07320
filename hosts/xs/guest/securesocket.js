/*
 * securesocket — Moddable's SecureSocket for the desktop XS host, over Node's tls
 * in the parent. Same callback/read/write/close as Socket; write() and message 3
 * report the socket's free space minus 128 bytes (TLS record overhead estimate).
 * Options: {host|address, port, secure: {certificate, clientKey, clientCertificates,
 * verify, protocolVersion, applicationLayerProtocolNegotiation, serverName}}.
 */
import {open, read, write, close, lastError} from "xs-host/net";

class SecureSocket {
	constructor(dictionary) {
		open(this, dictionary, true);
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
	/** Host diagnostic (not on devices): {code, message, reason} of the failure reported with -2. */
	get lastError() {
		return lastError(this);
	}
}

export default SecureSocket;
