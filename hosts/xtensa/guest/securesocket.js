/*
 * securesocket — not on the Xtensa host (no TLS stack in this emulation).
 */
export default class SecureSocket {
	constructor() {
		throw new Error("SecureSocket is not supported by the Xtensa host");
	}
}
